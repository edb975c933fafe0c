import Foundation

/// `progress.csv`: one row per meta-iteration, with a header of namespaced metric names (the
/// rllab/garage habit). Rows are kept in memory and written with each checkpoint (`save`), so the
/// file never runs ahead of the checkpoint by more than the rows of one save: the first save
/// writes the whole file atomically, later ones append the new rows (a run of 30,000 fast
/// iterations would otherwise rewrite megabytes every second). A crash in the middle of an append
/// can leave a torn last line; resuming drops it with every row after the checkpoint.
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
    /// Rows the file holds as this log wrote it (0 until the first save, which writes it whole).
    private var savedRows = 0

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
        // A torn line (a crash during an append) has too few fields, and comes after the checkpoint.
        let fields = columns.count
        rows = lines.filter { line in
            line.split(separator: ",", omittingEmptySubsequences: false).count == fields
                && (Int(line.prefix { $0 != "," }).map { $0 <= iteration } ?? false)
        }
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

    /// Writes the rows not yet written: the whole file atomically the first time (or with
    /// `whole`), then by appending.
    public mutating func save(whole: Bool = false) throws {
        if whole || savedRows == 0 {
            try AtomicFile.write(([columns.joined(separator: ",")] + rows).joined(separator: "\n") + "\n", to: url)
        } else if savedRows < rows.count {
            try AtomicFile.append(rows[savedRows...].joined(separator: "\n") + "\n", to: url)
        }
        savedRows = rows.count
    }
}
