import Foundation

/// `progress.csv`: one row per meta-iteration, with a header of namespaced metric names (the
/// rllab/garage habit). The whole file is rewritten atomically after each row, so a crash never
/// leaves a torn line; it is small (a few hundred rows).
public struct ProgressLog: Sendable {
    public static let fileName = "progress.csv"
    public static let columns = [
        "iteration", "returns/before", "returns/after", "losses/outer_before", "losses/outer_after",
        "kl/before", "kl/after", "line_search/trials", "line_search/accepted",
        "time/sampling", "time/meta_gradient", "time/conjugate_gradient", "time/line_search", "time/iteration",
    ]

    public let url: URL
    public private(set) var rows: [String]

    /// A new, empty log in `directory`.
    public init(directory: URL) {
        url = directory.appendingPathComponent(Self.fileName)
        rows = []
    }

    /// The log of a run being resumed, keeping only rows up to `iteration` (rows written after the
    /// last checkpoint are dropped, so the resumed run writes them again identically).
    public init(resumingIn directory: URL, upTo iteration: Int) throws {
        url = directory.appendingPathComponent(Self.fileName)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            rows = []
            return
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard lines.first == Self.columns.joined(separator: ",") else {
            throw RunError.corruptFile(path: url.path, reason: "the header is not MetaRL's progress columns")
        }
        lines.removeFirst()
        rows = lines.filter { line in Int(line.prefix { $0 != "," }).map { $0 <= iteration } ?? false }
    }

    public mutating func append(_ report: IterationReport) throws {
        let u = report.update
        let values: [String] = [
            "\(report.iteration)", "\(report.returnBefore)", "\(report.returnAfter)", "\(u.lossBefore)", "\(u.lossAfter)",
            "\(u.klBefore)", "\(u.klAfter)", "\(u.lineSearchTrials)", u.accepted ? "1" : "0",
            "\(report.secondsSampling)", "\(u.secondsMetaGradient)", "\(u.secondsConjugateGradient)",
            "\(u.secondsLineSearch)", "\(report.secondsTotal)",
        ]
        rows.append(values.joined(separator: ","))
        try AtomicFile.write(([Self.columns.joined(separator: ",")] + rows).joined(separator: "\n") + "\n", to: url)
    }
}
