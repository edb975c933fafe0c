import Foundation

/// A finished or running run as its folder records it: its settings, `progress.csv` and
/// `eval.csv`, read without taking its lock (the files are only ever replaced whole or appended).
public struct RecordedRun: Sendable {
    public let directory: URL
    public let configuration: TrainingConfiguration
    /// `progress.csv`'s rows by column (empty fields left out).
    public let progress: [[String: Double]]
    /// `eval.csv`'s rows by column.
    public let evaluations: [[String: Double]]

    /// Reads the run in `directory`.
    /// - Throws: `RunError` when it holds no run (no `config.toml` and no checkpoint) or a file is unreadable.
    public init(directory: URL) throws {
        self.directory = directory
        if Checkpoint.exists(in: directory) {
            configuration = try Checkpoint.load(from: directory).manifest.configuration
        } else {
            configuration = try TrainingConfiguration.load(file: directory.appendingPathComponent(TrainingRun.configurationFile))
        }
        progress = try Self.table(directory.appendingPathComponent(ProgressLog.fileName))
        evaluations = try Self.table(directory.appendingPathComponent(HeldOutEvaluation.fileName))
    }

    /// A CSV file's rows by column; a missing file has none, a torn last line is left out.
    static func table(_ url: URL) throws -> [[String: Double]] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw RunError.corruptFile(path: url.path, reason: "not readable as text")
        }
        let lines = text.split(separator: "\n")
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) else { return [] }
        return lines.dropFirst().compactMap { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == header.count else { return nil }
            var row: [String: Double] = [:]
            for (column, field) in zip(header, fields) { if let v = Double(field) { row[column] = v } }
            return row
        }
    }

    /// The iterations completed, as the log has them.
    public var iterations: Int { Int(progress.last?["iteration"] ?? 0) }

    /// The last evaluation in `eval.csv`: its iteration and mean return per step (or episode of a trial).
    public var lastEvaluation: (iteration: Int, returns: [Int: Double], successRates: [Int: Double])? {
        guard let last = evaluations.last?["iteration"] else { return nil }
        var returns: [Int: Double] = [:], rates: [Int: Double] = [:]
        for row in evaluations where row["iteration"] == last {
            guard let step = row["step"].map({ Int($0) }), let mean = row["mean_return"] else { continue }
            returns[step] = mean
            if let rate = row["success_rate"] { rates[step] = rate }
        }
        return (Int(last), returns, rates)
    }

    /// The mean of `column` over the last `count` rows of `progress.csv`.
    public func recentMean(_ column: String, count: Int = 10) -> Double? {
        let values = progress.suffix(count).compactMap { $0[column] }
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}

/// Runs of the same settings (seeds apart): what a report's row and a plot's curve stand for.
public struct SettingGroup: Sendable {
    /// The settings that tell this group from the others (`fast-lr=0.05`), by flag name.
    public let label: String
    public let differing: [(setting: String, value: String)]
    public let runs: [RecordedRun]
    public var seeds: [UInt64] { runs.map(\.configuration.seed) }
}

/// Finding runs and grouping them into settings.
public enum RunCollection {
    /// The runs under `paths`: each a run folder, or a folder of runs (a sweep's), searched two
    /// levels deep; in path order, each folder's runs by name.
    /// - Throws: `RunError.missingFile` for a path that does not exist or holds no run.
    public static func find(_ paths: [String]) throws -> [RecordedRun] {
        var runs: [RecordedRun] = []
        for path in paths {
            let url = URL(fileURLWithPath: path)
            guard FileManager.default.fileExists(atPath: url.path) else { throw RunError.missingFile(path: path) }
            let found = folders(under: url, depth: 2)
            guard !found.isEmpty else {
                throw RunError.corruptFile(path: path, reason: "holds no run (a folder with config.toml or a checkpoint, or folders of them)")
            }
            runs += try found.map { try RecordedRun(directory: $0) }
        }
        return runs
    }

    private static func isRun(_ url: URL) -> Bool {
        Checkpoint.exists(in: url) || FileManager.default.fileExists(atPath: url.appendingPathComponent(TrainingRun.configurationFile).path)
    }

    private static func folders(under url: URL, depth: Int) -> [URL] {
        if isRun(url) { return [url] }
        guard depth > 0, let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { return [] }
        return names.sorted().flatMap { name -> [URL] in
            let child = url.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: child.path, isDirectory: &isDirectory), isDirectory.boolValue,
                  name != Checkpoint.keptFolder else { return [] }
            return folders(under: child, depth: depth - 1)
        }
    }

    /// The settings of a run that make it a setting: all but the seed, the threads and what it records.
    static func settingIdentity(_ c: TrainingConfiguration) -> [String: String] {
        var c = c.withoutRecording
        c.seed = 0
        return c.flattenedSettings
    }

    /// Runs grouped by their settings, in the order each setting first appears, labelled by the
    /// settings in which the groups differ (by flag name where there is one).
    public static func group(_ runs: [RecordedRun]) -> [SettingGroup] {
        var identities: [[String: String]] = []
        var members: [[RecordedRun]] = []
        for run in runs {
            let identity = settingIdentity(run.configuration)
            if let index = identities.firstIndex(of: identity) { members[index].append(run) } else {
                identities.append(identity)
                members.append([run])
            }
        }
        let keys = Set(identities.flatMap(\.keys))
        let differing = keys.filter { key in Set(identities.map { $0[key] ?? "" }).count > 1 }
            .sorted { order($0) < order($1) }
        return zip(identities, members).map { identity, runs in
            let values = differing.map { key in
                (setting: TrainingConfiguration.settingKeys.first { $0.key == key }?.flag ?? key, value: display(identity[key] ?? ""))
            }
            let label = values.isEmpty
                ? "\(runs[0].configuration.algorithm) on \(URL(fileURLWithPath: runs[0].configuration.spec).deletingPathExtension().lastPathComponent)"
                : values.map { "\($0.setting)=\($0.value)" }.joined(separator: ", ")
            return SettingGroup(label: label, differing: values, runs: runs)
        }
    }

    /// Settings in the order `metarl train --help` gives them, others after.
    private static func order(_ key: String) -> (Int, String) {
        (TrainingConfiguration.settingKeys.firstIndex { $0.key == key } ?? Int.max, key)
    }

    private static func display(_ value: String) -> String {
        let unquoted = value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 ? String(value.dropFirst().dropLast()) : value
        return unquoted.contains("/") ? URL(fileURLWithPath: unquoted).deletingPathExtension().lastPathComponent : unquoted
    }
}

/// Mean, standard error and a 95% confidence interval over seeds (Student's t).
public struct SeedStatistics: Sendable, Equatable, Codable {
    public var mean: Double
    public var standardError: Double
    /// The half-width of the 95% interval: t(0.975, n − 1) · standard error; nil for one seed.
    public var confidenceHalfWidth: Double?
    public var count: Int

    enum CodingKeys: String, CodingKey {
        case mean
        case standardError = "stderr"
        case confidenceHalfWidth = "ci95_half_width"
        case count = "seeds"
    }

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        self.mean = mean
        count = values.count
        guard values.count > 1 else {
            standardError = 0
            confidenceHalfWidth = nil
            return
        }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        standardError = (variance / n).squareRoot()
        confidenceHalfWidth = Self.studentT975(degreesOfFreedom: values.count - 1) * standardError
    }

    /// The 97.5% quantile of Student's t with `dof` degrees of freedom (a table to 30, then the
    /// normal's 1.96 approached as 1.96 + 2.4/dof).
    public static func studentT975(degreesOfFreedom dof: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                               2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        precondition(dof >= 1, "t needs at least one degree of freedom")
        return dof <= table.count ? table[dof - 1] : 1.96 + 2.4 / Double(dof)
    }
}
