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
        /// A copy of the run's logs, kept row for row (sharing the run's rows would copy them all
        /// at each append), and the checkpoint of the iteration held.
        private var logs: RunLogs?
        private var held: (checkpoint: Checkpoint, directory: URL)?
        /// The last iteration on disk.
        public private(set) var savedIteration: Int

        public init(iteration: Int) { savedIteration = iteration }

        func hold(logs runLogs: RunLogs, checkpoint: Checkpoint, directory: URL) {
            if logs == nil { logs = runLogs } else { logs!.catchUp(with: runLogs) }
            held = (checkpoint, directory)
        }

        func clear(savedIteration: Int) {
            held = nil
            self.savedIteration = savedIteration
        }

        /// Writes what is held. Call with the run's `writes` lock held.
        public func save() throws {
            guard let held, var logs else { return }
            try logs.save(whole: true)   // the run's own logs may have appended rows this copy has not
            self.logs = logs
            try held.checkpoint.save(in: held.directory)
            clear(savedIteration: held.checkpoint.manifest.iteration)
        }
    }

    /// What a resumed run may record differently (nil: as before); none of it changes the
    /// training's numbers.
    public struct RecordingChanges: Sendable {
        public var evalEvery: Int?
        public var evalTasks: Int?
        public var keepEvery: Int?

        public init(evalEvery: Int? = nil, evalTasks: Int? = nil, keepEvery: Int? = nil) {
            self.evalEvery = evalEvery
            self.evalTasks = evalTasks
            self.keepEvery = keepEvery
        }

        func apply(to configuration: inout TrainingConfiguration) {
            if let evalEvery { configuration.evalEvery = evalEvery }
            if let evalTasks { configuration.evalTasks = evalTasks }
            if let keepEvery { configuration.keepEvery = keepEvery }
        }
    }

    public let directory: URL
    public let spec: EnvironmentSpec
    public private(set) var trainer: MetaTrainer
    private var logs: RunLogs
    /// The folder's lock; nil on the ranks of an MPI run other than 0, which write nothing.
    private let lock: RunLock?
    /// Whether this process writes the run folder (rank 0, or the only process).
    public var writes: Bool { lock != nil }
    /// Environment steps sampled so far, and the seconds of earlier sessions.
    private var environmentSteps: Int
    private let secondsBefore: Double

    private init(directory: URL, spec: EnvironmentSpec, trainer: MetaTrainer, logs: RunLogs, lock: RunLock?,
                 environmentSteps: Int = 0, secondsBefore: Double = 0) {
        self.directory = directory
        self.spec = spec
        self.trainer = trainer
        self.logs = logs
        self.lock = lock
        self.environmentSteps = environmentSteps
        self.secondsBefore = secondsBefore
    }

    public static let configurationFile = "config.toml"

    /// Prepares a new run in `directory`, which must not exist yet or be empty. Everything that can
    /// fail on the disk (creating the folder, taking its lock, writing `config.toml`) happens here,
    /// before any sampling.
    ///
    /// Under MPI (`group` of several processes) every rank calls this; rank 0 alone touches the
    /// folder, the others only build the same trainer.
    public static func start(configuration: TrainingConfiguration, spec: EnvironmentSpec, directory: URL,
                             group: any TaskGroup = SingleProcess()) throws -> TrainingRun {
        try configuration.validate()
        try configuration.check(group: group)
        try configuration.checkMemory(for: spec.family)
        guard group.isLeader else {
            var trainer = MetaTrainer(configuration: configuration, family: spec.family)
            trainer.group = group
            return TrainingRun(directory: directory, spec: spec, trainer: trainer, logs: RunLogs(directory: directory, trainer: trainer),
                               lock: nil)
        }
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
        try RunMetadata.record(sessionFromIteration: 0, in: directory)
        var trainer = MetaTrainer(configuration: configuration, family: spec.family)
        trainer.group = group
        return TrainingRun(directory: directory, spec: spec, trainer: trainer, logs: RunLogs(directory: directory, trainer: trainer), lock: lock)
    }

    /// Continues the run in `directory` from its checkpoint, with `iterations` as the new total if
    /// given (not fewer than those done) and the thread count of this machine. A run stopped
    /// before its first checkpoint starts again from the beginning with the settings in its
    /// `config.toml`.
    /// Under MPI every rank reads the folder (it must be on a file system they share); rank 0
    /// alone locks it and writes.
    public static func resume(directory: URL, iterations: Int? = nil, threads: Int? = nil,
                              recording: RecordingChanges = .init(), group: any TaskGroup = SingleProcess()) throws -> TrainingRun {
        guard FileManager.default.fileExists(atPath: directory.path) else { throw RunError.missingFile(path: directory.path) }
        let lock = group.isLeader ? try RunLock(directory: directory) : nil
        if group.isLeader { AtomicFile.removeLeftovers(in: directory) }
        let settingsFile = directory.appendingPathComponent(configurationFile)
        if !Checkpoint.exists(in: directory), FileManager.default.fileExists(atPath: settingsFile.path) {
            var configuration = try TrainingConfiguration.load(file: settingsFile)
            if let iterations { configuration.iterations = iterations }
            if let threads { configuration.threads = threads }
            recording.apply(to: &configuration)
            try configuration.validate()
            try configuration.check(group: group)
            let spec = try EnvironmentSpec.load(configuration.spec)
            try configuration.checkMemory(for: spec.family)
            var trainer = MetaTrainer(configuration: configuration, family: spec.family)
            trainer.group = group
            if group.isLeader { try RunMetadata.record(sessionFromIteration: 0, in: directory) }
            return TrainingRun(directory: directory, spec: spec, trainer: trainer, logs: RunLogs(directory: directory, trainer: trainer),
                               lock: lock)
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
        recording.apply(to: &configuration)
        try configuration.validate()
        try configuration.check(group: group)
        let manifest = checkpoint.manifest
        let spec = EnvironmentSpec(name: manifest.specName, path: "", description: "", family: manifest.family)
        var trainer: MetaTrainer
        do {
            trainer = try MetaTrainer(configuration: configuration, family: manifest.family, parameters: checkpoint.parameters,
                                      learnerState: checkpoint.learnerState, iteration: manifest.iteration)
        } catch let error as LearnerStateError {
            throw RunError.incompatibleCheckpoint(path: directory.appendingPathComponent(Checkpoint.parametersFile).path,
                                                  reason: error.description)
        }
        trainer.group = group
        guard group.isLeader else {
            return TrainingRun(directory: directory, spec: spec, trainer: trainer, logs: RunLogs(directory: directory, trainer: trainer),
                               lock: nil, environmentSteps: manifest.environmentSteps ?? 0)
        }
        let logs = try RunLogs(resumingIn: directory, trainer: trainer, upTo: manifest.iteration)
        try RunMetadata.record(sessionFromIteration: manifest.iteration, in: directory)
        // The seconds so far are the log's (a wall-clock figure has no place in a checkpoint that
        // a resumed run writes bit for bit as the unbroken one); a checkpoint from before the
        // steps were counted has none.
        let last = logs.progress.values(ofRows: max(logs.progress.rows.count - 1, 0)..<logs.progress.rows.count).first
        return TrainingRun(directory: directory, spec: spec, trainer: trainer, logs: logs, lock: lock,
                           environmentSteps: manifest.environmentSteps ?? last?["environment_steps"].map { Int($0) } ?? 0,
                           secondsBefore: last?["time/elapsed"] ?? 0)
    }

    /// Runs the remaining iterations, logging each and checkpointing when `saveInterval` has
    /// passed since the last save, and after the last iteration; `report` sees every iteration's
    /// figures (the terminal progress bar). An iteration of MAML on navigation takes longer than
    /// the interval, so it is saved after every iteration; RL²'s take milliseconds, and three
    /// flushed files per iteration would halve its speed. Every `evalEvery`th iteration (and
    /// before the first) is evaluated on held-out tasks into `eval.csv`; every `keepEvery`th is
    /// saved, and its checkpoint kept under `checkpoints/`.
    ///
    /// `pending` always holds the last completed iteration not yet saved (taken under `writes`),
    /// so that whoever takes `writes` (a signal handler) can save it: no completed iteration is lost.
    /// - Throws: whatever stops an iteration (`NonFiniteValueError` among them); the files then
    ///   hold the last completed iteration.
    public mutating func run(writes writesLock: NSLock? = nil, saveInterval: Duration = .seconds(1), pending: PendingSave? = nil,
                             report: (IterationReport) -> Void = { _ in }) throws {
        defer { lock?.unlock() }
        let clock = ContinuousClock()
        let writes = self.writes
        let sessionStart = clock.now
        var lastSave: ContinuousClock.Instant?   // the first iteration is saved at once
        var unsaved = false
        let configuration = trainer.configuration
        func elapsed() -> Double { secondsBefore + (clock.now - sessionStart).inSeconds }
        func save() throws {
            guard writes else { return }
            writesLock?.lock()
            defer { writesLock?.unlock() }
            try logs.save()
            try checkpoint().save(in: directory)
            pending?.clear(savedIteration: trainer.iteration)
            unsaved = false
            lastSave = clock.now
        }
        func evaluate() throws {
            guard writes else { return }   // rank 0 evaluates; the others go on to the next iteration
            let start = clock.now
            let steps = try trainer.evaluateHeldOut(taskCount: configuration.evalTasks)
            let seconds = (clock.now - start).inSeconds
            for step in steps {
                logs.evaluations.append(HeldOutEvaluation.row(step, iteration: trainer.iteration, environmentSteps: environmentSteps,
                                                              seconds: seconds, wallTime: Date().timeIntervalSince1970))
            }
        }
        do {
            if configuration.evalEvery > 0, trainer.iteration == 0, logs.evaluations.rows.isEmpty {
                try evaluate()
            }
            while trainer.iteration < configuration.iterations {
                let result = try trainer.runIteration()
                environmentSteps += result.environmentSteps
                logs.progress.append(ProgressLog.row(result, environmentSteps: environmentSteps, elapsedSeconds: elapsed(),
                                                     wallTime: Date().timeIntervalSince1970))
                unsaved = true
                let iteration = trainer.iteration
                if configuration.evalEvery > 0, iteration % configuration.evalEvery == 0 { try evaluate() }
                let keeps = configuration.keepEvery > 0 && iteration % configuration.keepEvery == 0
                // Under MPI only rank 0 writes.
                if writes && (keeps || iteration == configuration.iterations || lastSave.map({ clock.now - $0 >= saveInterval }) ?? true) {
                    try save()
                    if keeps {
                        let kept = Checkpoint.keptDirectory(iteration: iteration, in: directory)
                        try WritableFolder.create(kept)
                        try checkpoint().save(in: kept)
                    }
                } else if writes, let pending {
                    writesLock?.lock()
                    pending.hold(logs: logs, checkpoint: checkpoint(), directory: directory)
                    writesLock?.unlock()
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
        var manifest = Checkpoint.Manifest(iteration: trainer.iteration, configuration: trainer.configuration, specName: spec.name,
                                           family: trainer.family, policy: trainer.engine.policyDescription)
        manifest.environmentSteps = environmentSteps
        return Checkpoint(manifest: manifest, parameters: trainer.parameters, learnerState: trainer.engine.state)
    }
}

/// The files a run writes beside its checkpoint at each save: `progress.csv`, `eval.csv` (when
/// the run evaluates, or did) and the TensorBoard events derived from both.
struct RunLogs: Sendable {
    var progress: CSVLog
    var evaluations: CSVLog
    var events: TensorBoardLog
    /// Whether `eval.csv` is written (a run without evaluations gets no empty file).
    let writesEvaluations: Bool

    init(directory: URL, trainer: MetaTrainer) {
        progress = CSVLog(url: directory.appendingPathComponent(ProgressLog.fileName), columns: trainer.progressColumns)
        evaluations = CSVLog(url: directory.appendingPathComponent(HeldOutEvaluation.fileName), columns: HeldOutEvaluation.columns)
        events = TensorBoardLog(directory: directory, trialEpisodes: trainer.configuration.adaptsInMemory)
        writesEvaluations = trainer.configuration.evalEvery > 0
    }

    init(resumingIn directory: URL, trainer: MetaTrainer, upTo iteration: Int) throws {
        progress = try CSVLog(resuming: directory.appendingPathComponent(ProgressLog.fileName), columns: trainer.progressColumns,
                              upTo: iteration)
        evaluations = try CSVLog(resuming: directory.appendingPathComponent(HeldOutEvaluation.fileName),
                                 columns: HeldOutEvaluation.columns, upTo: iteration)
        events = TensorBoardLog(directory: directory, trialEpisodes: trainer.configuration.adaptsInMemory)
        writesEvaluations = trainer.configuration.evalEvery > 0 || !evaluations.rows.isEmpty
    }

    mutating func save(whole: Bool = false) throws {
        try progress.save(whole: whole)
        if writesEvaluations { try evaluations.save(whole: whole) }
        try events.save(progress: progress, evaluations: evaluations, whole: whole)
    }

    /// Brings this copy to the rows of `other` (see `CSVLog.catchUp`).
    mutating func catchUp(with other: RunLogs) {
        progress.catchUp(with: other.progress)
        evaluations.catchUp(with: other.evaluations)
    }
}

extension TrainingConfiguration {
    /// Rejects what cannot be shared among `group`'s processes.
    public func check(group: any TaskGroup) throws {
        guard group.size > 1 else { return }
        guard adaptsInMemory || metaBatchSize >= group.size else {
            throw RunError.invalidConfiguration(key: "meta-batch-size", reason: "\(metaBatchSize) tasks cannot be shared among \(group.size) processes; give at least one task per process")
        }
    }

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
        try require(evalEvery, "eval-every", in: 0...Self.largestCount, "must lie in 0…\(Self.largestCount) (0: no evaluations)")
        try require(evalTasks, "eval-tasks", in: 1...100_000, "must lie in 1…100000")
        try require(keepEvery, "keep-every", in: 0...Self.largestCount, "must lie in 0…\(Self.largestCount) (0: only the latest checkpoint)")
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
