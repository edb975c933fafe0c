import Environments
import Foundation
import TOMLKit

extension TrainingConfiguration {
    /// Reads a run configuration from TOML (the format of a run's `config.toml`); keys left out
    /// keep their defaults.
    /// - Throws: `RunError` naming the file and the key for syntax errors, wrong types and unknown keys.
    public static func load(file url: URL) throws -> TrainingConfiguration {
        try loadGivenKeys(file: url).configuration
    }

    /// Each setting's flag and its key in a settings file, as `validate()` names the setting by
    /// its flag: one setting, one name in each place.
    public static let settingKeys: [(flag: String, key: String)] = [
        ("spec", "spec"), ("algorithm", "algorithm"), ("iterations", "iterations"),
        ("meta-batch-size", "metaBatchSize"), ("fast-batch-size", "fastBatchSize"),
        ("fast-lr", "maml.innerStepSize"), ("inner-steps", "maml.innerSteps"), ("halve-step", "maml.halvesStepAfterFirst"),
        ("first-order", "maml.firstOrder"), ("estimator", "maml.innerObjective"), ("outer-loss", "maml.outerLoss"),
        ("discount", "maml.discount"), ("gae-lambda", "maml.gaeLambda"), ("weighting", "maml.stepWeighting"),
        ("max-kl", "maml.maxKL"), ("cg-iters", "maml.conjugateGradientIterations"),
        ("cg-damping", "maml.conjugateGradientDamping"), ("ls-max-steps", "maml.lineSearchSteps"),
        ("ls-backtrack-ratio", "maml.backtrackRatio"), ("outer", "outer"), ("outer-lr", "adam.learningRate"),
        ("adam-beta1", "adam.beta1"), ("adam-beta2", "adam.beta2"), ("adam-epsilon", "adam.epsilon"),
        ("ppo-clip", "ppo.clip"), ("ppo-epochs", "ppo.epochs"),
        ("promp-clip", "promp.clip"), ("promp-kl-target", "promp.klTarget"), ("promp-initial-kl-penalty", "promp.initialKLPenalty"),
        ("promp-adaptive-kl-penalty", "promp.adaptiveKLPenalty"), ("emaml-weight", "emaml.weight"),
        ("meta-sgd-initial-step-size", "metaSGD.initialStepSize"), ("context-size", "cavia.contextSize"),
        ("context-lr", "cavia.contextStepSize"), ("reptile-step", "reptile.stepSize"), ("reptile-steps", "reptile.innerSteps"),
        ("rl2-cell", "rl2.cell"), ("rl2-hidden", "rl2.hiddenSize"), ("rl2-discount", "rl2.discount"), ("rl2-gae-lambda", "rl2.gaeLambda"),
        ("rl2-clip", "rl2.clip"), ("rl2-epochs", "rl2.epochs"), ("rl2-minibatches", "rl2.minibatches"),
        ("rl2-value-coefficient", "rl2.valueCoefficient"), ("rl2-entropy", "rl2.entropyCoefficient"), ("rl2-lr", "rl2.learningRate"),
        ("rl2-max-grad-norm", "rl2.maxGradientNorm"), ("rl2-trials-per-batch", "rl2.trialsPerBatch"),
        ("rl2-normalise-rewards", "rl2.normalisesRewards"),
        ("hidden", "hidden"), ("activation", "activation"), ("seed", "seed"), ("threads", "threads"),
        ("eval-every", "evalEvery"), ("eval-tasks", "evalTasks"), ("keep-every", "keepEvery"),
    ]

    /// The settings-file key of the setting `validate()` calls `flag`.
    public static func settingsKey(forFlag flag: String) -> String? { settingKeys.first { $0.flag == flag }?.key }

    /// Reads a run configuration as `load(file:)` does, and also returns the dotted keys the file
    /// sets. A relative `spec` path is taken relative to the file's folder, as paths inside a spec
    /// are relative to the spec's.
    public static func loadGivenKeys(file url: URL) throws -> (configuration: TrainingConfiguration, keys: Set<String>) {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw RunError.missingFile(path: url.path) }
        return try loadGivenKeys(text: text, file: url)
    }

    /// Reads settings given as `text`, as if it were the contents of `url` (errors name it, a
    /// relative spec is taken relative to its folder).
    public static func loadGivenKeys(text: String, file url: URL) throws -> (configuration: TrainingConfiguration, keys: Set<String>) {
        let table: TOMLTable
        if let line = TOMLHeaderCheck.firstHeaderWithoutKey(in: text) {
            throw RunError.invalidSettings(path: url.path, reason: "line \(line): a table header needs a key after `[`")
        }
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw RunError.invalidSettings(path: url.path, reason: "line \(error.source.begin.line): \(error.description)")
        }
        // Start from the defaults and overlay the file, so that any subset of keys is accepted.
        let merged: TOMLTable = try TOMLEncoder().encode(TrainingConfiguration())
        var given = Set<String>()
        /// A key at the wrong level is pointed to its table; any other unknown key gets the
        /// closest known one.
        func placementHint(for key: String, at path: String) -> String {
            let name = path.isEmpty ? key : "\(path).\(key)"
            if let home = settingKeys.map(\.key).first(where: { $0.split(separator: ".").last.map(String.init) == key }), home != name {
                let table = home.split(separator: ".").dropLast().joined(separator: ".")
                return table.isEmpty ? " (`\(key)` belongs at the top level, outside [\(path)])" : " (`\(key)` belongs under [\(table)])"
            }
            let known = path.isEmpty ? merged.keys : (merged[path]?.table?.keys ?? [])
            return KeySuggestion.hint(for: key, among: known)
        }
        func overlay(_ source: TOMLTable, onto target: TOMLTable, path: String) throws {
            for key in source.keys {
                let name = path.isEmpty ? key : "\(path).\(key)"
                guard let existing = target[key] else {
                    throw RunError.invalidSettings(path: url.path, reason: "unknown key `\(name)`" + placementHint(for: key, at: path))
                }
                given.insert(name)
                if let sub = source[key]?.table, let targetSub = existing.table {
                    try overlay(sub, onto: targetSub, path: name)
                } else if let value = source[key] {
                    // TOML writes 1 and 1.0 differently; a number setting takes either.
                    if existing.type == .double, value.type == .int, let integer = value.int {
                        target[key] = Double(integer)
                    } else {
                        target[key] = value
                    }
                }
            }
        }
        try overlay(table, onto: merged, path: "")
        do {
            var configuration = try TOMLDecoder().decode(TrainingConfiguration.self, from: merged)
            if given.contains("spec") { configuration.spec = resolveSpec(configuration.spec, besides: url) }
            return (configuration, given)
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw RunError.invalidSettings(path: url.path, reason: "key `\(key)`: expected \(type)")
        } catch let DecodingError.keyNotFound(key, context) {
            // TOMLKit reports a value of the wrong type as a missing key.
            var keys = context.codingPath.map(\.stringValue)
            if keys.last != key.stringValue { keys.append(key.stringValue) }
            let path = keys.joined(separator: ".")
            throw RunError.invalidSettings(path: url.path, reason: "key `\(path)`: a value of the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw RunError.invalidSettings(path: url.path, reason: "key `\(key)`: \(context.debugDescription)")
        }
    }

    /// A spec named in a settings file: a path (it has a `/` or ends in `.toml`, or a file of that
    /// name is beside the settings file) relative to the settings file's folder; else a preset name.
    static func resolveSpec(_ spec: String, besides settings: URL) -> String {
        guard !spec.hasPrefix("/") else { return spec }
        let candidate = settings.deletingLastPathComponent().appendingPathComponent(spec).standardizedFileURL
        let looksLikePath = spec.contains("/") || spec.hasSuffix(".toml")
        return looksLikePath || FileManager.default.fileExists(atPath: candidate.path) ? candidate.path : spec
    }
}

extension TrainingConfiguration {
    /// Every setting as its dotted settings key and its value in TOML's spelling.
    public var flattenedSettings: [String: String] {
        guard let table: TOMLTable = try? TOMLEncoder().encode(self) else { return [:] }
        var out: [String: String] = [:]
        func walk(_ table: TOMLTable, prefix: String) {
            for key in table.keys {
                let name = prefix.isEmpty ? key : "\(prefix).\(key)"
                if let sub = table[key]?.table { walk(sub, prefix: name) } else if let value = table[key] { out[name] = "\(value)" }
            }
        }
        walk(table, prefix: "")
        return out
    }

    /// The configuration without what does not change a run's numbers: the threads and what it
    /// records (evaluations, kept checkpoints).
    public var withoutRecording: TrainingConfiguration {
        var c = self
        c.threads = 0
        c.evalEvery = 0
        c.evalTasks = 0
        c.keepEvery = 0
        return c
    }

    /// The settings keys whose values differ between the two, sorted.
    public func differingSettings(from other: TrainingConfiguration) -> [String] {
        let a = flattenedSettings, b = other.flattenedSettings
        return Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
    }
}
