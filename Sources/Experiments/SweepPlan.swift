import Environments
import Foundation
import TOMLKit

/// A sweep file and the runs it stands for.
///
///     base = "../configs/maml-paper-navigation.toml"   # optional: a settings file to start from
///     seeds = [1, 2, 3]                                 # default [1]
///     mode = "grid"                                     # every combination (default), or "zip"
///
///     [settings]                                        # fixed, on top of the base
///     iterations = 200
///
///     [vary]                                            # a list of values per setting
///     algorithm = ["maml-trpo", "promp"]
///     fast-lr = [0.05, 0.1]                             # a flag's name or a settings key
///
/// Each combination of the varied values and each seed becomes one ordinary run, its folder
/// named from its values (`algorithm=promp,fast-lr=0.05,seed=1`). The keys are those of a run's
/// `config.toml` or the flags `metarl train --help` lists them by; every combination is
/// resolved and checked before anything runs, so a bad value is reported with the sweep file and
/// the key, and nothing starts.
public struct SweepPlan: Sendable {
    public struct Run: Sendable {
        /// The run folder's name under the sweep's folder.
        public let name: String
        /// The varied settings and the seed, by flag name, as the name spells them.
        public let values: [(setting: String, value: String)]
        public let configuration: TrainingConfiguration
        /// The resolved settings as TOML (what the run is started with).
        public let settingsText: String
    }

    public let file: URL
    public let runs: [Run]
    /// The varied settings by flag name, in the file's order, then `seed`.
    public let variedSettings: [String]

    static let topLevelKeys: Set<String> = ["base", "seeds", "mode", "settings", "vary"]

    /// - Throws: `RunError.invalidSettings` naming the sweep file (and the run and key) for
    ///   anything it cannot run.
    public static func load(file: URL) throws -> SweepPlan {
        func fail(_ reason: String) -> RunError { .invalidSettings(path: file.path, reason: reason) }
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { throw RunError.missingFile(path: file.path) }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw fail("line \(error.source.begin.line): \(error.description)")
        }
        for key in table.keys where !topLevelKeys.contains(key) {
            throw fail("unknown key `\(key)`" + KeySuggestion.hint(for: key, among: Array(topLevelKeys))
                       + " (settings go under [settings], varied ones under [vary])")
        }
        // The starting point: the base file's table, or nothing.
        var baseURL: URL?
        var baseText = ""
        if let base = table["base"] {
            guard let path = base.string else { throw fail("key `base`: expected the path of a settings file") }
            let url = URL(fileURLWithPath: path, relativeTo: file.deletingLastPathComponent()).standardizedFileURL
            guard let contents = try? String(contentsOf: url, encoding: .utf8) else {
                throw fail("key `base`: \(url.path): no such file")
            }
            // Checked here, so that its own errors name it.
            _ = try TrainingConfiguration.loadGivenKeys(file: url)
            baseURL = url
            baseText = contents
        }
        var seeds: [UInt64] = [1]
        if let value = table["seeds"] {
            guard let array = value.array, !array.isEmpty,
                  let parsed = Optional(array.compactMap { $0.int }), parsed.count == array.count, parsed.allSatisfy({ $0 >= 0 }) else {
                throw fail("key `seeds`: expected a non-empty list of seeds (integers ≥ 0), such as [1, 2, 3]")
            }
            guard Set(parsed).count == parsed.count else { throw fail("key `seeds`: a seed is listed twice") }
            seeds = parsed.map { UInt64($0) }
        }
        let mode = table["mode"]?.string ?? "grid"
        guard mode == "grid" || mode == "zip" else {
            throw fail("key `mode`: expected \"grid\" (every combination) or \"zip\" (the lists side by side), got \"\(mode)\"")
        }

        let fixed = try flatten(table["settings"], section: "settings", fail: fail)
        let varied = try flatten(table["vary"], section: "vary", fail: fail)
        var lists: [(key: String, flag: String, values: [TOMLValueConvertible])] = []
        for (key, flag, value) in varied {
            guard let array = value.array, !array.isEmpty else {
                throw fail("key `vary.\(flag)`: expected a non-empty list of values, such as [0.05, 0.1]")
            }
            if key == "seed" { throw fail("key `vary.seed`: seeds are listed under `seeds`") }
            lists.append((key, flag, Array(array)))
        }
        if fixed.contains(where: { $0.key == "seed" }) { throw fail("key `settings.seed`: seeds are listed under `seeds`") }
        if let clash = fixed.first(where: { f in lists.contains { $0.key == f.key } }) {
            throw fail("`\(clash.flag)` is both fixed under [settings] and varied under [vary]")
        }

        // The combinations, each a list of one value per varied setting.
        var combinations: [[TOMLValueConvertible]] = [[]]
        if mode == "grid" {
            for list in lists { combinations = combinations.flatMap { c in list.values.map { c + [$0] } } }
        } else if let first = lists.first {
            guard lists.allSatisfy({ $0.values.count == first.values.count }) else {
                throw fail("mode \"zip\" takes lists of one length; got " + lists.map { "\($0.flag): \($0.values.count)" }.joined(separator: ", "))
            }
            combinations = (0..<first.values.count).map { i in lists.map { $0.values[i] } }
        }

        var runs: [Run] = []
        var names = Set<String>()
        for combination in combinations {
            for seed in seeds {
                let merged = baseText.isEmpty ? TOMLTable() : try TOMLTable(string: baseText)
                for (key, _, value) in fixed { set(value, at: key, in: merged) }
                for (list, value) in zip(lists, combination) { set(value, at: list.key, in: merged) }
                merged["seed"] = Int(seed)
                // A spec path is read from the file that names it.
                if let spec = merged["spec"]?.string {
                    let fromSweep = fixed.contains { $0.key == "spec" } || lists.contains { $0.key == "spec" } || baseURL == nil
                    merged["spec"] = TrainingConfiguration.resolveSpec(spec, besides: fromSweep ? file : baseURL!)
                }
                let values = zip(lists, combination).map { (setting: $0.flag, value: label($1)) } + [(setting: "seed", value: "\(seed)")]
                let name = values.map { "\($0.setting)=\($0.value)" }.joined(separator: ",")
                guard names.insert(name).inserted else { throw fail("two runs would share the folder \(name); make the values differ") }
                let settingsText = merged.convert(to: .toml) + "\n"
                let configuration = try resolve(settingsText, run: name, sweep: file)
                runs.append(Run(name: name, values: values, configuration: configuration, settingsText: settingsText))
            }
        }
        return SweepPlan(file: file, runs: runs, variedSettings: lists.map(\.flag) + ["seed"])
    }

    /// The dotted keys and values of a table (`maml.innerStepSize`), with each key's flag name;
    /// a flag name is taken for its key.
    private static func flatten(_ value: TOMLValueConvertible?, section: String, fail: (String) -> RunError) throws
        -> [(key: String, flag: String, value: TOMLValueConvertible)] {
        guard let value else { return [] }
        guard let table = value.table else { throw fail("`\(section)` must be a table: [\(section)]") }
        var out: [(key: String, flag: String, value: TOMLValueConvertible)] = []
        func walk(_ table: TOMLTable, prefix: String) throws {
            for key in table.keys {
                let name = prefix.isEmpty ? key : "\(prefix).\(key)"
                if let sub = table[key]?.table {
                    try walk(sub, prefix: name)
                    continue
                }
                let resolved = name == "algo" ? "algorithm" : TrainingConfiguration.settingsKey(forFlag: name) ?? name
                guard let known = TrainingConfiguration.settingKeys.first(where: { $0.key == resolved }) else {
                    let all = TrainingConfiguration.settingKeys.flatMap { [$0.key, $0.flag] }
                    throw fail("unknown setting `\(section).\(name)`" + KeySuggestion.hint(for: name, among: all))
                }
                guard !out.contains(where: { $0.key == known.key }) else {
                    throw fail("`\(section)` sets `\(known.flag)` twice (as `\(name)` and its other name)")
                }
                out.append((known.key, known.flag, table[key]!))
            }
        }
        try walk(table, prefix: "")
        return out
    }

    /// Sets a dotted key, making its tables as needed.
    private static func set(_ value: TOMLValueConvertible, at key: String, in table: TOMLTable) {
        var parts = key.split(separator: ".").map(String.init)
        let leaf = parts.removeLast()
        var current = table
        for part in parts {
            if current[part]?.table == nil { current[part] = TOMLTable() }
            current = current[part]!.table!
        }
        current[leaf] = value
    }

    /// A value as a folder name spells it: strings as they are (a spec path by its file's name),
    /// lists joined with `x` ([64, 64] → 64x64).
    private static func label(_ value: TOMLValueConvertible) -> String {
        if let s = value.string {
            let name = s.contains("/") ? URL(fileURLWithPath: s).deletingPathExtension().lastPathComponent : s
            return name.replacingOccurrences(of: ",", with: "_").replacingOccurrences(of: "=", with: "_")
        }
        if let array = value.array { return array.map(label).joined(separator: "x") }
        if let b = value.bool { return b ? "true" : "false" }
        if let i = value.int { return "\(i)" }
        if let d = value.double { return "\(d)" }
        return "value"
    }

    /// The configuration of a run's settings, checked as `train --config` checks a file.
    private static func resolve(_ text: String, run: String, sweep: URL) throws -> TrainingConfiguration {
        do {
            let configuration = try TrainingConfiguration.loadGivenKeys(text: text, file: sweep).configuration
            try configuration.validate()
            return configuration
        } catch RunError.invalidSettings(_, let reason) {
            throw RunError.invalidSettings(path: sweep.path, reason: "run \(run): \(reason)")
        } catch RunError.invalidConfiguration(let key, let reason) {
            let name = TrainingConfiguration.settingsKey(forFlag: key) ?? key
            throw RunError.invalidSettings(path: sweep.path, reason: "run \(run): `\(name)` \(reason)")
        }
    }
}
