import Foundation

/// `progress.csv`: one row per meta-iteration, with a header of namespaced metric names (the
/// rllab/garage habit). Rows are kept in memory and the whole file is rewritten atomically with
/// each checkpoint (`save`), so a crash never leaves a torn line and the file never runs ahead of
/// the checkpoint.
public struct ProgressLog: Sendable {
    public static let fileName = "progress.csv"

    /// The columns of a run whose learner reports `metrics`: iteration and returns, the learner's
    /// figures, then the times (sampling first, the whole iteration last). For MAML-TRPO these are
    /// the columns runs have always had.
    public static func columns(learnerMetrics metrics: [String]) -> [String] {
        let times = metrics.filter { $0.hasPrefix("time/") }
        return ["iteration", "returns/before", "returns/after"] + metrics.filter { !$0.hasPrefix("time/") }
            + ["time/sampling"] + times + ["time/iteration"]
    }

    public let url: URL
    public let columns: [String]
    public private(set) var rows: [String]

    /// A new, empty log in `directory`.
    public init(directory: URL, columns: [String]) {
        url = directory.appendingPathComponent(Self.fileName)
        self.columns = columns
        rows = []
    }

    /// The log of a run being resumed, keeping only rows up to `iteration` (rows written after the
    /// last checkpoint are dropped, so the resumed run writes them again identically).
    public init(resumingIn directory: URL, columns: [String], upTo iteration: Int) throws {
        url = directory.appendingPathComponent(Self.fileName)
        self.columns = columns
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            rows = []
            return
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard lines.first == columns.joined(separator: ",") else {
            throw RunError.corruptFile(path: url.path, reason: "the header is not the progress columns of this run's learner")
        }
        lines.removeFirst()
        rows = lines.filter { line in Int(line.prefix { $0 != "," }).map { $0 <= iteration } ?? false }
    }

    /// Adds the row of `report`; `save` writes it.
    public mutating func append(_ report: IterationReport) {
        var values: [String: String] = [
            "iteration": "\(report.iteration)", "returns/before": "\(report.returnBefore)", "returns/after": "\(report.returnAfter)",
            "time/sampling": "\(report.secondsSampling)", "time/iteration": "\(report.secondsTotal)",
        ]
        for metric in report.metrics {
            // Counts and flags read as integers, as they always have.
            values[metric.name] = metric.value == metric.value.rounded() && (metric.name.hasPrefix("line_search/"))
                ? "\(Int(metric.value))" : "\(metric.value)"
        }
        rows.append(columns.map { values[$0] ?? "" }.joined(separator: ","))
    }

    /// Adds a row as written (another log's last).
    mutating func append(row: String) { rows.append(row) }

    /// Writes the header and every row, atomically.
    public func save() throws {
        try AtomicFile.write(([columns.joined(separator: ",")] + rows).joined(separator: "\n") + "\n", to: url)
    }
}
