import Foundation

/// A run's CSV file of one row per iteration (`progress.csv`, `eval.csv`), with a header of
/// namespaced column names (the rllab/garage habit). Rows are kept in memory and written with
/// each checkpoint (`save`), so the file never runs ahead of the checkpoint by more than the rows
/// of one save: the first save writes the whole file atomically, later ones append the new rows
/// (a run of 30,000 fast iterations would otherwise rewrite megabytes every second). A crash in
/// the middle of an append can leave a torn last line; resuming drops it with every row after the
/// checkpoint.
public struct CSVLog: Sendable {
    public let url: URL
    public let columns: [String]
    public private(set) var rows: [String]
    /// Rows the file holds as this log wrote it (0 until the first save, which writes it whole).
    private var savedRows = 0

    /// A new, empty log.
    public init(url: URL, columns: [String]) {
        self.url = url
        self.columns = columns
        rows = []
    }

    /// The log of a run being resumed, keeping only rows up to `iteration` (rows written after the
    /// last checkpoint are dropped, so the resumed run writes them again identically). A file
    /// written by an earlier MetaRL with other columns is carried over column by column (a column
    /// it lacked stays empty) and rewritten whole at the next save.
    public init(resuming url: URL, columns: [String], upTo iteration: Int) throws {
        self.url = url
        self.columns = columns
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            rows = []
            return
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let header = lines.first.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        guard header.first == "iteration", Set(header).count == header.count else {
            throw RunError.corruptFile(path: url.path, reason: "the header is not a list of columns starting with `iteration`")
        }
        lines.removeFirst()
        // A torn line (a crash during an append) has too few fields, and comes after the checkpoint.
        let kept = lines.filter { line in
            line.split(separator: ",", omittingEmptySubsequences: false).count == header.count
                && (Int(line.prefix { $0 != "," }).map { $0 <= iteration } ?? false)
        }
        if header == columns {
            rows = kept
        } else {
            let position = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
            rows = kept.map { line in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                return columns.map { position[$0].map { String(fields[$0]) } ?? "" }.joined(separator: ",")
            }
        }
        // The old file is rewritten whole at the next save: torn lines and other columns go.
        savedRows = 0
    }

    /// Adds a row of `values` by column; a column without a value is left empty.
    public mutating func append(_ values: [String: String]) {
        rows.append(columns.map { values[$0] ?? "" }.joined(separator: ","))
    }

    /// Adds a row as written (another log's).
    mutating func append(row: String) { rows.append(row) }

    /// Brings a copy of this log (`other`, which only ever lags behind or runs ahead by whole rows)
    /// to the same rows without copying those it already has.
    mutating func catchUp(with other: CSVLog) {
        if rows.count > other.rows.count { self = other; return }
        while rows.count < other.rows.count { rows.append(other.rows[rows.count]) }
    }

    /// The rows as numbers by column (empty fields left out), for the TensorBoard events.
    public func values(ofRows range: Range<Int>) -> [[String: Double]] {
        rows[range].map { line in
            var values: [String: Double] = [:]
            for (column, field) in zip(columns, line.split(separator: ",", omittingEmptySubsequences: false)) {
                if let value = Double(field) { values[column] = value }
            }
            return values
        }
    }

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

/// `progress.csv`: the figures of every meta-iteration.
public enum ProgressLog {
    public static let fileName = "progress.csv"

    /// The columns of a run whose learner reports `metrics` and whose trainer adds `policy`
    /// (entropy, σ, the pre-update KL): iteration and returns, the environment steps so far, the
    /// learner's figures, the policy's, then the times (sampling first, the whole iteration, the
    /// run's seconds so far and the Unix time at the end of the iteration last).
    public static func columns(learnerMetrics metrics: [String], policyMetrics policy: [String] = []) -> [String] {
        let times = metrics.filter { $0.hasPrefix("time/") }
        return ["iteration", "returns/before", "returns/after", "environment_steps"] + metrics.filter { !$0.hasPrefix("time/") }
            + policy + ["time/sampling"] + times + ["time/iteration", "time/elapsed", "time/wall"]
    }

    /// The row of `report`, with the run's totals after it.
    public static func row(_ report: IterationReport, environmentSteps: Int, elapsedSeconds: Double, wallTime: Double) -> [String: String] {
        var values: [String: String] = [
            "iteration": "\(report.iteration)", "returns/before": "\(report.returnBefore)", "returns/after": "\(report.returnAfter)",
            "environment_steps": "\(environmentSteps)",
            "time/sampling": "\(report.secondsSampling)", "time/iteration": "\(report.secondsTotal)",
            "time/elapsed": "\(elapsedSeconds)", "time/wall": String(format: "%.3f", wallTime),
        ]
        for metric in report.metrics + report.policyMetrics {
            // Counts and flags read as integers, as they always have.
            values[metric.name] = metric.value == metric.value.rounded() && (metric.name.hasPrefix("line_search/"))
                ? "\(Int(metric.value))" : "\(metric.value)"
        }
        return values
    }
}
