import Autodiff
import Environments
import Foundation
import MetaLearning
import TOMLKit

/// A meta-training run in a directory: the resolved configuration, `progress.csv`, and a checkpoint
/// after every iteration. A run starts only in an empty (or new) directory and resumes only from
/// its own checkpoint, so no failed start overwrites an earlier run; it holds the directory's lock
/// (`RunLock`) from `start` or `resume` until `run` returns, so no second command writes there
/// meanwhile.
public struct TrainingRun {
    /// The last completed iteration not yet on disk, for a signal handler to save before the
    /// process ends. Used under the run's `writes` lock only.
    public final class PendingSave: @unchecked Sendable {
        /// A copy of the run's log, kept row for row (sharing the run's rows would copy them all
        /// at each append), and the checkpoint of the iteration held.
        private var log: ProgressLog?
        private var held: (checkpoint: Checkpoint, directory: URL)?
        /// The last iteration on disk.
        public private(set) var savedIteration: Int

        public init(iteration: Int) { savedIteration = iteration }

        func hold(log runLog: ProgressLog, checkpoint: Checkpoint, directory: URL) {
            if log == nil || log!.rows.count > runLog.rows.count {
                log = runLog
            } else {
                while log!.rows.count < runLog.rows.count { log!.append(row: runLog.rows[log!.rows.count]) }
            }
            held = (checkpoint, directory)
        }

        func clear(savedIteration: Int) {
            held = nil
            self.savedIteration = savedIteration
        }

        /// Writes what is held. Call with the run's `writes` lock held.
        public func save() throws {
            guard let held, var log else { return }
            try log.save(whole: true)   // the run's own log may have appended rows this copy has not
            self.log = log
            try held.checkpoint.save(in: held.directory)
            clear(savedIteration: held.checkpoint.manifest.iteration)
        }
    }

    public let directory: URL
    public let spec: EnvironmentSpec
    public private(set) var trainer: MetaTrainer
    private var log: ProgressLog
    private let lock: RunLock

    public static let configurationFile = "config.toml"

    /// Prepares a new run in `directory`, which must not exist yet or be empty. Everything that can
    /// fail on the disk (creating the folder, taking its lock, writing `config.toml`) happens here,
    /// before any sampling.
    public static func start(configuration: TrainingConfiguration, spec: EnvironmentSpec, directory: URL) throws -> TrainingRun {
        try configuration.validate()
        try configuration.checkMemory(for: spec.family)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw RunError.cannotWrite(path: directory.path, reason: "a file is in the way")
        }
        func holdsNothing() -> Bool {
            // The lock and the temporary files of a process killed mid-write are not a run.
            ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).allSatisfy {
                $0 == RunLock.fileName || AtomicFile.isLeftover($0)
            }
        }
        // Refused before the lock file is made, so a folder of someone else's gains nothing; and
        // checked again once the lock is held, against a run that started in between.
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent(RunLock.fileName).path) {
            // A run in progress is named as such, rather than as a folder that holds a run.
            _ = try RunLock(directory: directory)
        }
        guard holdsNothing() else { throw RunError.runDirectoryNotEmpty(path: directory.path) }
        try WritableFolder.create(directory)
        let lock = try RunLock(directory: directory)
        guard holdsNothing() else { throw RunError.runDirectoryNotEmpty(path: directory.path) }
        AtomicFile.removeLeftovers(in: directory)
        try AtomicFile.write(try configuration.tomlText(), to: directory.appendingPathComponent(configurationFile))
        let trainer = MetaTrainer(configuration: configuration, family: spec.family)
        return TrainingRun(directory: directory, spec: spec, trainer: trainer,
                           log: ProgressLog(directory: directory, columns: trainer.progressColumns), lock: lock)
    }

    /// Continues the run in `directory` from its checkpoint, with `iterations` as the new total if
    /// given (not fewer than those done) and the thread count of this machine. A run stopped
    /// before its first checkpoint starts again from the beginning with the settings in its
    /// `config.toml`.
    public static func resume(directory: URL, iterations: Int? = nil, threads: Int? = nil) throws -> TrainingRun {
        guard FileManager.default.fileExists(atPath: directory.path) else { throw RunError.missingFile(path: directory.path) }
        let lock = try RunLock(directory: directory)
        AtomicFile.removeLeftovers(in: directory)
        let settingsFile = directory.appendingPathComponent(configurationFile)
        if !Checkpoint.exists(in: directory), FileManager.default.fileExists(atPath: settingsFile.path) {
            var configuration = try TrainingConfiguration.load(file: settingsFile)
            if let iterations { configuration.iterations = iterations }
            if let threads { configuration.threads = threads }
            try configuration.validate()
            let spec = try EnvironmentSpec.load(configuration.spec)
            try configuration.checkMemory(for: spec.family)
            let trainer = MetaTrainer(configuration: configuration, family: spec.family)
            return TrainingRun(directory: directory, spec: spec, trainer: trainer,
                               log: ProgressLog(directory: directory, columns: trainer.progressColumns), lock: lock)
        }
        let checkpoint = try Checkpoint.load(from: directory)
        var configuration = checkpoint.manifest.configuration
        if let iterations {
            let done = checkpoint.manifest.iteration
            guard iterations >= done else {
                throw RunError.invalidConfiguration(key: "iterations", reason: """
                    \(directory.relativePath) has completed \(done) iterations; a resumed run needs a total of at least \
                    \(done), got \(iterations)
                    """)
            }
            configuration.iterations = iterations
        }
        if let threads { configuration.threads = threads }
        try configuration.validate()
        let manifest = checkpoint.manifest
        let spec = EnvironmentSpec(name: manifest.specName, path: "", description: "", family: manifest.family)
        let trainer: MetaTrainer
        do {
            trainer = try MetaTrainer(configuration: configuration, family: manifest.family, parameters: checkpoint.parameters,
                                      learnerState: checkpoint.learnerState, iteration: manifest.iteration)
        } catch let error as LearnerStateError {
            throw RunError.incompatibleCheckpoint(path: directory.appendingPathComponent(Checkpoint.parametersFile).path,
                                                  reason: error.description)
        }
        return TrainingRun(directory: directory, spec: spec, trainer: trainer,
                           log: try ProgressLog(resumingIn: directory, columns: trainer.progressColumns, upTo: manifest.iteration),
                           lock: lock)
    }

    /// Runs the remaining iterations, logging each and checkpointing when `saveInterval` has
    /// passed since the last save, and after the last iteration; `report` sees every iteration's
    /// figures (the terminal progress bar). An iteration of MAML on navigation takes longer than
    /// the interval, so it is saved after every iteration; RL²'s take milliseconds, and three
    /// flushed files per iteration would halve its speed.
    ///
    /// `pending` always holds the last completed iteration not yet saved (taken under `writes`),
    /// so that whoever takes `writes` (a signal handler) can save it: no completed iteration is lost.
    /// - Throws: whatever stops an iteration (`NonFiniteValueError` among them); the files then
    ///   hold the last completed iteration.
    public mutating func run(writes: NSLock? = nil, saveInterval: Duration = .seconds(1), pending: PendingSave? = nil,
                             report: (IterationReport) -> Void = { _ in }) throws {
        defer { lock.unlock() }
        let clock = ContinuousClock()
        var lastSave: ContinuousClock.Instant?   // the first iteration is saved at once
        var unsaved = false
        func save() throws {
            writes?.lock()
            defer { writes?.unlock() }
            try log.save()
            try checkpoint().save(in: directory)
            pending?.clear(savedIteration: trainer.iteration)
            unsaved = false
            lastSave = clock.now
        }
        do {
            while trainer.iteration < trainer.configuration.iterations {
                let result = try trainer.runIteration()
                log.append(result)
                unsaved = true
                if trainer.iteration == trainer.configuration.iterations || lastSave.map({ clock.now - $0 >= saveInterval }) ?? true {
                    try save()
                } else if let pending {
                    writes?.lock()
                    pending.hold(log: log, checkpoint: checkpoint(), directory: directory)
                    writes?.unlock()
                }
                report(result)
            }
        } catch {
            // The iterations completed before the failure are kept.
            if unsaved { try? save() }
            throw error
        }
    }

    public func checkpoint() -> Checkpoint {
        Checkpoint(manifest: .init(iteration: trainer.iteration, configuration: trainer.configuration, specName: spec.name,
                                   family: trainer.family, policy: trainer.engine.policyDescription),
                   parameters: trainer.parameters, learnerState: trainer.engine.state)
    }
}

extension TrainingConfiguration {
    /// The largest count any size setting may have (tasks, episodes, layer widths, iterations):
    /// beyond it a value is a typo, and the memory check below catches what fits under it.
    public static let largestCount = 1_000_000

    /// The configuration as TOML, as written to `config.toml`.
    public func tomlText() throws -> String {
        let table: TOMLTable = try TOMLEncoder().encode(self)
        return "# The resolved configuration of this run (defaults, then --config, then flags).\n" + table.convert(to: .toml) + "\n"
    }

    /// Rejects values no run can use, naming the setting: every number finite and in its range.
    public func validate() throws {
        func fail(_ key: String, _ reason: String) -> RunError { .invalidConfiguration(key: key, reason: reason) }
        guard let entry = MetaLearners.named(algorithm) else {
            throw fail("algorithm", "unknown algorithm \"\(algorithm)\"; available: \(Self.algorithms.joined(separator: ", "))")
        }
        if !outer.isEmpty {
            guard !entry.outers.isEmpty else {
                throw fail("outer", "\(algorithm) takes its own meta-step (θ moves towards the adapted parameters); it has no outer optimiser")
            }
            guard entry.outers.contains(outer) else {
                throw fail("outer", "\(algorithm) steps with \(entry.outers.joined(separator: " or ")), got \"\(outer)\"")
            }
        }
        func require(_ value: Double, _ key: String, in range: ClosedRange<Double>, open lower: Bool = false, _ meaning: String) throws {
            guard value.isFinite else { throw fail(key, "must be a finite number, got \(value)") }
            guard range.contains(value), !(lower && value == range.lowerBound) else { throw fail(key, "\(meaning), got \(value)") }
        }
        func require(_ value: Int, _ key: String, in range: ClosedRange<Int>, _ meaning: String) throws {
            guard range.contains(value) else { throw fail(key, "\(meaning), got \(value)") }
        }
        try require(iterations, "iterations", in: 0...Self.largestCount, "must lie in 0…\(Self.largestCount)")
        try require(metaBatchSize, "meta-batch-size", in: 1...Self.largestCount, "needs 1…\(Self.largestCount) tasks")
        try require(fastBatchSize, "fast-batch-size", in: 1...Self.largestCount, "needs 1…\(Self.largestCount) episodes")
        try require(maml.innerStepSize, "fast-lr", in: 0...1e6, open: true, "must be positive and at most 10⁶")
        try require(maml.innerSteps, "inner-steps", in: 1...1000, "must lie in 1…1000")
        try require(maml.maxKL, "max-kl", in: 0...1e6, open: true, "must be positive and at most 10⁶")
        try require(maml.discount, "discount", in: 0...1, "must lie in [0, 1]")
        try require(maml.gaeLambda, "gae-lambda", in: 0...1, "must lie in [0, 1]")
        try require(maml.conjugateGradientIterations, "cg-iters", in: 1...10_000, "must lie in 1…10000")
        try require(maml.conjugateGradientDamping, "cg-damping", in: 0...1e6, "must lie in [0, 10⁶]")
        try require(maml.lineSearchSteps, "ls-max-steps", in: 1...1000, "must lie in 1…1000")
        try require(maml.backtrackRatio, "ls-backtrack-ratio", in: 0...1, open: true, "must lie in (0, 1)")
        guard maml.backtrackRatio < 1 else { throw fail("ls-backtrack-ratio", "must lie in (0, 1), got \(maml.backtrackRatio)") }
        try require(adam.learningRate, "outer-lr", in: 0...1e6, open: true, "must be positive and at most 10⁶")
        try require(adam.beta1, "adam-beta1", in: 0...1, "must lie in [0, 1)")
        try require(adam.beta2, "adam-beta2", in: 0...1, "must lie in [0, 1)")
        guard adam.beta1 < 1 else { throw fail("adam-beta1", "must lie in [0, 1), got \(adam.beta1)") }
        guard adam.beta2 < 1 else { throw fail("adam-beta2", "must lie in [0, 1), got \(adam.beta2)") }
        try require(adam.epsilon, "adam-epsilon", in: 0...1, open: true, "must be positive and at most 1")
        try require(ppo.clip, "ppo-clip", in: 0...1, open: true, "must lie in (0, 1]")
        try require(ppo.epochs, "ppo-epochs", in: 1...1000, "must lie in 1…1000")
        try require(promp.clip, "promp-clip", in: 0...1, open: true, "must lie in (0, 1]")
        try require(promp.klTarget, "promp-kl-target", in: 0...1e6, open: true, "must be positive")
        try require(promp.initialKLPenalty, "promp-initial-kl-penalty", in: 0...1e6, "must lie in [0, 10⁶]")
        try require(emaml.weight, "emaml-weight", in: -1e6...1e6, "must lie in [−10⁶, 10⁶]")
        try require(metaSGD.initialStepSize, "meta-sgd-initial-step-size", in: 0...1e6, "must lie in [0, 10⁶] (0: fast-lr)")
        try require(cavia.contextSize, "context-size", in: 1...10_000, "must lie in 1…10000")
        try require(cavia.contextStepSize, "context-lr", in: 0...1e6, "must lie in [0, 10⁶] (0: fast-lr)")
        try require(reptile.stepSize, "reptile-step", in: 0...1e6, open: true, "must be positive and at most 10⁶")
        try require(reptile.innerSteps, "reptile-steps", in: 1...1000, "must lie in 1…1000")
        try require(rl2.hiddenSize, "rl2-hidden", in: 1...4096, "must lie in 1…4096")
        try require(rl2.discount, "rl2-discount", in: 0...1, "must lie in [0, 1]")
        try require(rl2.gaeLambda, "rl2-gae-lambda", in: 0...1, "must lie in [0, 1]")
        try require(rl2.clip, "rl2-clip", in: 0...1, open: true, "must lie in (0, 1]")
        try require(rl2.epochs, "rl2-epochs", in: 1...1000, "must lie in 1…1000")
        try require(rl2.minibatches, "rl2-minibatches", in: 1...Self.largestCount, "must lie in 1…\(Self.largestCount)")
        try require(rl2.valueCoefficient, "rl2-value-coefficient", in: 0...1e6, "must lie in [0, 10⁶]")
        try require(rl2.entropyCoefficient, "rl2-entropy", in: 0...1e6, "must lie in [0, 10⁶]")
        try require(rl2.learningRate, "rl2-lr", in: 0...1e6, open: true, "must be positive and at most 10⁶")
        try require(rl2.maxGradientNorm, "rl2-max-grad-norm", in: 0...1e12, open: true, "must be positive")
        try require(rl2.trialsPerBatch, "rl2-trials-per-batch", in: 1...100_000, "must lie in 1…100000")
        if adaptsInMemory {
            // RL² adapts within a trial: the inner loop's settings would do nothing.
            let defaults = TrainingConfiguration()
            let gradientSettings: [(String, Bool)] = [
                ("fast-batch-size", fastBatchSize != defaults.fastBatchSize),
                ("inner-steps", maml.innerSteps != defaults.maml.innerSteps),
                ("fast-lr", maml.innerStepSize != defaults.maml.innerStepSize),
                ("halve-step", maml.halvesStepAfterFirst != defaults.maml.halvesStepAfterFirst),
                ("outer-loss", maml.outerLoss != defaults.maml.outerLoss),
                ("first-order", maml.firstOrder != defaults.maml.firstOrder),
                ("estimator", maml.innerObjective != defaults.maml.innerObjective),
                ("hidden", hidden != defaults.hidden),
            ]
            if let (key, _) = gradientSettings.first(where: \.1) {
                let hint = key == "hidden" ? " (the GRU's width is --rl2-hidden)" : key == "fast-batch-size" ? " (RL² samples --meta-batch-size trials, one per task)" : ""
                throw fail(key, "\(algorithm) adapts within a trial, not by gradient steps, so this setting would do nothing\(hint)")
            }
        }
        if algorithm == "reptile", maml.innerSteps != MAMLTRPO.Hyperparameters().innerSteps {
            throw fail("inner-steps", "reptile takes its inner steps from --reptile-steps (reptile.innerSteps, default 3)")
        }
        guard !hidden.isEmpty, hidden.allSatisfy({ (1...Self.largestCount).contains($0) }) else {
            throw fail("hidden", "needs layer widths in 1…\(Self.largestCount), got \(hidden)")
        }
        try require(threads, "threads", in: 1...256, "must lie in 1…256")
        if algorithm == "pretrained" {
            // The baseline trains without inner steps; only α (which evaluation adapts with) applies.
            let defaults = MAMLTRPO.Hyperparameters()
            let innerLoopSettings: [(String, Bool)] = [
                ("inner-steps", maml.innerSteps != defaults.innerSteps),
                ("halve-step", maml.halvesStepAfterFirst != defaults.halvesStepAfterFirst),
                ("outer-loss", maml.outerLoss != defaults.outerLoss),
                ("first-order", maml.firstOrder != defaults.firstOrder),
                ("estimator", maml.innerObjective != defaults.innerObjective),
            ]
            if let (key, _) = innerLoopSettings.first(where: \.1) {
                throw fail(key, "the pretrained baseline trains without inner steps, so this setting would do nothing")
            }
        }
    }
}
