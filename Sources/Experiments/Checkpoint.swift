import Autodiff
import Environments
import Foundation
import MetaLearning

/// A saved point of a run: `checkpoint.safetensors` (the policy's parameters, then the learner's
/// state: meta-learned tensors beyond the policy, optimiser moments, under `learner.*` and
/// `optimizer.*` names) and `checkpoint.json` (iteration, configuration, environment family,
/// policy shape).
///
/// No random-generator state is stored because none is carried: every stream of iteration i is
/// derived afresh from (seed, purpose, i), so resuming at iteration i reproduces the same draws.
public struct Checkpoint: Sendable {
    public struct Manifest: Codable, Sendable, Equatable {
        public var format = "metarl-checkpoint"
        public var version = 1
        /// Meta-iterations completed when saved.
        public var iteration: Int
        public var configuration: TrainingConfiguration
        /// The environment spec's name and the family it resolved to.
        public var specName: String
        public var family: AnyEnvironmentFamily
        /// The MLP policy of a gradient-based learner …
        public var policy: Policy?
        /// … or the recurrent policy of a memory-based one.
        public var recurrentPolicy: RecurrentPolicy?
        public var randomStreams = "derived from (seed, purpose, iteration); nothing to restore"
        /// Environment steps sampled by the run so far (nil in checkpoints written before it was kept).
        public var environmentSteps: Int?

        public init(iteration: Int, configuration: TrainingConfiguration, specName: String,
                    family: AnyEnvironmentFamily, policy: PolicyDescription) {
            self.iteration = iteration
            self.configuration = configuration
            self.specName = specName
            self.family = family
            switch policy {
            case .feedForward(let p): self.policy = p
            case .recurrent(let p): recurrentPolicy = p
            }
        }

        public var policyDescription: PolicyDescription {
            if let recurrentPolicy { return .recurrent(recurrentPolicy) }
            guard let policy else { preconditionFailure("a manifest without a policy; load() refuses those") }
            return .feedForward(policy)
        }
    }

    /// The policy a checkpoint holds the parameters of.
    public enum PolicyDescription: Sendable, Equatable {
        case feedForward(Policy)
        case recurrent(RecurrentPolicy)

        public var parameterNames: [String] {
            switch self {
            case .feedForward(let p): p.parameterNames
            case .recurrent(let p): p.parameterNames
            }
        }

        public var parameterShapes: [[Int]] {
            switch self {
            case .feedForward(let p): p.parameterShapes
            case .recurrent(let p): p.parameterShapes
            }
        }

        /// In a few words, for messages.
        public var summary: String {
            switch self {
            case .feedForward(let p): p.network.summary
            case .recurrent(let p): "GRU \(p.hiddenSize) (\(p.isDiscrete ? "categorical" : "Gaussian") head)"
            }
        }

        public func initialParameters(using rng: inout SplitMix64) -> [Tensor<Float>] {
            switch self {
            case .feedForward(let p): p.initialParameters(as: Float.self, using: &rng)
            case .recurrent(let p): p.initialParameters(as: Float.self, using: &rng)
            }
        }
    }

    public var manifest: Manifest
    public var parameters: [Tensor<Float>]
    /// The learner's state beyond the policy (`MetaLearner.state`).
    public var learnerState: [StateTensor]

    public init(manifest: Manifest, parameters: [Tensor<Float>], learnerState: [StateTensor] = []) {
        self.manifest = manifest
        self.parameters = parameters
        self.learnerState = learnerState
    }

    /// The learner of the run, with its saved state: what evaluation adapts with.
    /// - Throws: `RunError` when the saved state does not fit the learner.
    /// - Precondition: the run's learner is gradient-based (its manifest has an MLP `policy`).
    public func learner(path: String) throws -> any MetaLearner {
        guard let policy = manifest.policy else { preconditionFailure("\(manifest.configuration.algorithm) adapts in memory; use trialLearner") }
        var learner = manifest.configuration.makeLearner(policy: policy)
        do {
            try learner.restore(learnerState)
        } catch let error as LearnerStateError {
            throw RunError.incompatibleCheckpoint(path: path, reason: error.description)
        }
        return learner
    }

    /// The memory-based learner of the run (RL²), with its saved state.
    /// - Throws: `RunError` when the saved state does not fit the learner.
    /// - Precondition: the manifest has a `recurrentPolicy`.
    public func trialLearner(path: String) throws -> any TrialMetaLearner {
        guard let policy = manifest.recurrentPolicy else { preconditionFailure("\(manifest.configuration.algorithm) adapts by gradient steps; use learner") }
        var learner = manifest.configuration.makeTrialLearner(policy: policy)
        do {
            try learner.restore(learnerState)
        } catch let error as LearnerStateError {
            throw RunError.incompatibleCheckpoint(path: path, reason: error.description)
        }
        return learner
    }

    public static let parametersFile = "checkpoint.safetensors"
    public static let manifestFile = "checkpoint.json"


    /// Writes both files atomically, parameters first. The parameters file carries a copy of the
    /// manifest in its metadata, so it is a whole checkpoint by itself: a process killed between
    /// the two renames leaves a newer parameters file beside an older manifest, and `load` then
    /// takes the newer one, whole, rather than a mix of the two.
    public func save(in directory: URL) throws {
        let names = manifest.policyDescription.parameterNames
        let compact = JSONEncoder()
        compact.outputFormatting = [.sortedKeys]
        let embedded = String(decoding: try compact.encode(manifest), as: UTF8.self)
        let tensors = Array(zip(names, parameters)).map { (name: $0.0, tensor: $0.1) }
            + learnerState.map { (name: $0.name, tensor: $0.tensor) }
        let data = try Safetensors.encode(tensors,
                                          metadata: ["iteration": "\(manifest.iteration)", "format": manifest.format,
                                                     "manifest": embedded])
        try AtomicFile.write(data, to: directory.appendingPathComponent(Self.parametersFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(manifest), to: directory.appendingPathComponent(Self.manifestFile))
    }

    /// The folder of a run's kept checkpoints (`--keep-every`).
    public static let keptFolder = "checkpoints"

    /// Where the checkpoint of `iteration` is kept in the run folder `run`.
    public static func keptDirectory(iteration: Int, in run: URL) -> URL {
        run.appendingPathComponent(keptFolder).appendingPathComponent(String(format: "iteration-%06d", iteration))
    }

    /// The iterations whose checkpoints `run` keeps, in order.
    public static func keptIterations(in run: URL) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent(keptFolder).path)) ?? []
        return names.compactMap { $0.hasPrefix("iteration-") ? Int($0.dropFirst("iteration-".count)) : nil }
            .filter { exists(in: keptDirectory(iteration: $0, in: run)) }.sorted()
    }

    /// The checkpoint of `iteration` of the run at `location` (a run folder or one of its
    /// checkpoint files): the latest when it is that iteration, a kept one otherwise.
    /// - Throws: `RunError.missingCheckpoint` naming the iterations the run keeps when it has no such one.
    public static func load(from location: URL, iteration: Int?) throws -> Checkpoint {
        guard let iteration else { return try load(from: location) }
        let latest = try load(from: location)
        if latest.manifest.iteration == iteration { return latest }
        var isDirectory: ObjCBool = false
        let isFolder = FileManager.default.fileExists(atPath: location.path, isDirectory: &isDirectory) && isDirectory.boolValue
        let run = isFolder ? location : location.deletingLastPathComponent()
        let kept = keptDirectory(iteration: iteration, in: run)
        guard exists(in: kept) else {
            throw RunError.missingCheckpoint(run: run.relativePath, iteration: iteration,
                                             available: Array(Set(keptIterations(in: run) + [latest.manifest.iteration])).sorted())
        }
        return try load(from: kept)
    }

    /// Whether `directory` holds a checkpoint at all (either file).
    public static func exists(in directory: URL) -> Bool {
        [parametersFile, manifestFile].contains { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
    }

    /// Reads a checkpoint from a run directory, or from the path of either of its two files.
    /// - Throws: `RunError` naming the file for anything missing, corrupt or inconsistent.
    public static func load(from location: URL) throws -> Checkpoint {
        var directory = location
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location.path, isDirectory: &isDirectory) else {
            throw RunError.missingFile(path: location.path)
        }
        if !isDirectory.boolValue {
            guard [manifestFile, parametersFile].contains(location.lastPathComponent) else {
                throw RunError.corruptFile(path: location.path, reason: "not a checkpoint: give a run directory, or its \(manifestFile) or \(parametersFile)")
            }
            directory = location.deletingLastPathComponent()
        }
        let manifestURL = directory.appendingPathComponent(manifestFile)
        let parametersURL = directory.appendingPathComponent(parametersFile)
        guard let parameterData = FileManager.default.contents(atPath: parametersURL.path) else {
            throw RunError.missingFile(path: FileManager.default.fileExists(atPath: manifestURL.path) ? parametersURL.path : manifestURL.path)
        }
        let (tensors, metadata) = try Safetensors.decode(parameterData, path: parametersURL.path)
        let manifest: Manifest
        if let embedded = metadata["manifest"] {
            manifest = try decodeManifest(Data(embedded.utf8), path: parametersURL.path)
        } else {
            // Written before the parameters file carried its manifest: the two files must agree.
            guard let manifestData = FileManager.default.contents(atPath: manifestURL.path) else {
                throw RunError.missingFile(path: manifestURL.path)
            }
            manifest = try decodeManifest(manifestData, path: manifestURL.path)
        }
        guard metadata["iteration"] == "\(manifest.iteration)" else {
            throw RunError.corruptFile(path: parametersURL.path, reason: "holds iteration \(metadata["iteration"] ?? "?"), the manifest says \(manifest.iteration)")
        }
        let policy = manifest.policyDescription
        let names = policy.parameterNames
        var parameters: [Tensor<Float>] = []
        for (name, shape) in zip(names, policy.parameterShapes) {
            guard let tensor = tensors[name] else {
                throw RunError.incompatibleCheckpoint(path: parametersURL.path, reason: "missing tensor \(name) for the policy \(policy.summary)")
            }
            guard tensor.shape == shape else {
                throw RunError.incompatibleCheckpoint(path: parametersURL.path, reason: "tensor \(name) has shape \(tensor.shape), the policy \(policy.summary) needs \(shape)")
            }
            parameters.append(tensor)
        }
        let own = Set(names)
        let state = tensors.filter { !own.contains($0.key) }.sorted { $0.key < $1.key }.map { StateTensor($0.key, $0.value) }
        return Checkpoint(manifest: manifest, parameters: parameters, learnerState: state)
    }

    private static func decodeManifest(_ data: Data, path: String) throws -> Manifest {
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw RunError.corruptFile(path: path, reason: "not a MetaRL checkpoint manifest (\(error))")
        }
        guard manifest.format == "metarl-checkpoint", manifest.version == 1 else {
            throw RunError.corruptFile(path: path, reason: "format \(manifest.format) version \(manifest.version) is not supported")
        }
        guard (manifest.policy == nil) != (manifest.recurrentPolicy == nil),
              manifest.configuration.adaptsInMemory == (manifest.recurrentPolicy != nil) else {
            throw RunError.corruptFile(path: path, reason: "the manifest needs the policy its learner \(manifest.configuration.algorithm) trains (`policy` or `recurrentPolicy`)")
        }
        return manifest
    }
}
