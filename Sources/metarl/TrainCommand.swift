import ArgumentParser
import Environments
import Experiments
import Foundation
import MetaLearning

/// Settings a file can set that have no flag of their own.
private let settingsWithoutFlags: Set<String> = [
    "spec", "discount", "gae-lambda", "cg-iters", "cg-damping", "ls-max-steps", "ls-backtrack-ratio", "adam-beta1", "adam-beta2",
    "adam-epsilon", "promp-clip", "promp-kl-target", "promp-initial-kl-penalty", "promp-adaptive-kl-penalty", "emaml-weight",
    "meta-sgd-initial-step-size", "rl2-discount", "rl2-gae-lambda", "rl2-value-coefficient", "rl2-max-grad-norm",
    "rl2-trials-per-batch",
]

/// The learners, one line each, for `--help`.
private let learnerLines = MetaLearners.all.map { entry in
    let outer = entry.outers.first.map { " [\($0)]" } ?? ""
    return "  \(entry.name.padding(toLength: 11, withPad: " ", startingAt: 0)) \(entry.summary)\(outer)"
}.joined(separator: "\n")

/// The flag of a setting: its name, but for `algorithm`, whose flag is `--algo`.
private func flagName(of setting: String) -> String { setting == "algorithm" ? "algo" : setting }

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Meta-train a policy on an environment family, with logs and checkpoints.",
        discussion: """
            Defaults are pytorch-maml-rl's 2D-navigation settings. Settings come from the defaults, \
            then --config, then the flags given. The run directory receives config.toml (the \
            resolved settings), progress.csv (one row per meta-iteration) and a checkpoint after every \
            iteration (checkpoint.safetensors + checkpoint.json), each written atomically.

            Learners (--algo; the outer optimiser each takes by default in brackets):
            \(learnerLines)

            Outer optimisers (--outer, for the learners that take one):
            \(OuterOptimizers.summaries.map { "  " + $0 }.joined(separator: "\n"))

            Examples:
              metarl train navigation --iterations 500 --out runs/nav
              metarl train navigation --algo promp --seed 2
              metarl train gridnavi-5x5 --algo maml-trpo --outer ppo --ppo-epochs 3
              metarl train gridnavi-5x5 --algo rl2 --meta-batch-size 64 --iterations 300
              metarl train envs/point-robot/momentum.toml --inner-steps 2 --seed 3
              metarl train --resume runs/nav --iterations 800
              metarl train --config configs/maml-paper-navigation.toml --seed 2

            Settings-file keys of the flags (a relative `spec` path is read from the file's folder):
            \(TrainingConfiguration.settingKeys.filter { !settingsWithoutFlags.contains($0.flag) }
                .map { "  --\(flagName(of: $0.flag)) = \($0.key)" }.joined(separator: "\n"))
            Settings with no flag, in a settings file only: \(TrainingConfiguration.settingKeys
                .filter { settingsWithoutFlags.contains($0.flag) && $0.flag != "spec" }.map(\.key).joined(separator: ", ")).
            """
    )

    @Argument(help: "A preset's short name (navigation, sparse-semicircle, …) or a path to a spec file.")
    var spec: String?

    @Option(name: .customLong("algo"), help: "The meta-learner (default maml-trpo); the list is above.")
    var algorithm: String?
    @Option(help: "The outer optimiser: trpo, adam or ppo (default: the learner's own).")
    var outer: String?
    @Option(parsing: .unconditional, help: "Adam's learning rate for the adam and ppo outer optimisers (default 1e-3).")
    var outerLr: Double?
    @Option(parsing: .unconditional, help: "PPO's clip range ε (default 0.2; ProMP uses promp.clip, 0.3).")
    var ppoClip: Double?
    @Option(parsing: .unconditional, help: "PPO's Adam epochs over each meta-batch (default 5).")
    var ppoEpochs: Int?
    @Option(parsing: .unconditional, help: "CAVIA's context parameters (default 5).")
    var contextSize: Int?
    @Option(parsing: .unconditional, help: "CAVIA's context step size β (default: --fast-lr).")
    var contextLr: Double?
    @Option(parsing: .unconditional, help: "Reptile's outer step ε towards the adapted parameters (default 0.5).")
    var reptileStep: Double?
    @Option(parsing: .unconditional, help: "Reptile's inner steps per task in meta-training (default 3).")
    var reptileSteps: Int?
    @Option(help: "RL²'s recurrent core: gru or lstm (default gru).")
    var rl2Cell: String?
    @Option(parsing: .unconditional, help: "RL²'s recurrent width (default 64).")
    var rl2Hidden: Int?
    @Option(parsing: .unconditional, help: "RL²'s Adam learning rate (default 7e-4).")
    var rl2Lr: Double?
    @Option(parsing: .unconditional, help: "RL²'s PPO clip range ε (default 0.05).")
    var rl2Clip: Double?
    @Option(parsing: .unconditional, help: "RL²'s PPO passes over each meta-batch (default 2).")
    var rl2Epochs: Int?
    @Option(parsing: .unconditional, help: "RL²'s minibatches of whole trials per pass (default 4).")
    var rl2Minibatches: Int?
    @Option(parsing: .unconditional, help: "RL²'s entropy bonus coefficient (default 0.01).")
    var rl2Entropy: Double?
    @Option(parsing: .unconditional, help: "Meta-iterations in total (default 500).")
    var iterations: Int?
    @Option(parsing: .unconditional, help: "Tasks per meta-iteration (default 20).")
    var metaBatchSize: Int?
    @Option(parsing: .unconditional, help: "Episodes per task and inner step (default 20).")
    var fastBatchSize: Int?
    @Option(parsing: .unconditional, help: "α, the inner-loop step size (default 0.1).")
    var fastLr: Double?
    @Option(parsing: .unconditional, help: "Policy-gradient steps in the inner loop (default 1).")
    var innerSteps: Int?
    @Flag(help: "With several inner steps: α for the first and α/2 for the others, as the MAML paper's test protocol (default: α throughout).")
    var halveStep = false
    @Option(help: """
        What the meta-update scores: final (the policy after the last inner step, MAML; default), \
        every-step (each adapted policy on the episodes it sampled, averaged: MAML++'s multi-step \
        loss, for policies that must improve at every step), or every-step-and-start (the unadapted \
        policy too, so that it cannot drift off while adaptation still recovers).
        """)
    var outerLoss: String?
    @Flag(help: "First-order MAML: drop the second-order terms of the meta-gradient.")
    var firstOrder = false
    @Option(help: """
        The inner loss's form in the meta-gradient: reinforce (log π · Â, as pytorch-maml-rl; \
        default) or lvc (π/⊥π · Â, ProMP's low-variance curvature, which adds the pre-update \
        sampling distribution's term). The adaptation itself is the same.
        """)
    var estimator: String?
    @Option(help: "Hidden-layer widths, comma-separated (default 64,64).")
    var hidden: String?
    @Option(help: "Hidden nonlinearity: tanh or relu (default tanh).")
    var activation: String?
    @Option(parsing: .unconditional, help: "The trust region: largest mean KL of a meta-update (default 0.01).")
    var maxKl: Double?
    @Option(help: """
        How steps are averaged in losses and advantage normalisation: episode (each episode's time \
        average, then the mean over episodes, as pytorch-maml-rl; default) or step (every step \
        alike, as rllab and the MAML paper's code). They differ when episodes end early.
        """)
    var weighting: String?
    @Option(parsing: .unconditional, help: "Seed of every random stream (default 1).")
    var seed: UInt64?
    @Option(parsing: .unconditional, help: "Threads for the tasks of a meta-batch (default: all cores). Results do not depend on it.")
    var threads: Int?
    @Option(parsing: .unconditional, help: "Evaluate on held-out tasks before training and every N iterations, into eval.csv (default 0: never).")
    var evalEvery: Int?
    @Option(parsing: .unconditional, help: "Held-out tasks of each --eval-every evaluation, the same ones each time (default 40).")
    var evalTasks: Int?
    @Option(parsing: .unconditional, help: "Keep the checkpoint of every Nth iteration under checkpoints/ (default 0: only the latest); eval, watch and render take --iteration N.")
    var keepEvery: Int?
    @Option(help: "Run directory (default runs/<spec>-seed<seed>); must be new or empty.")
    var out: String?
    @Option(help: "A TOML file of settings (the format of a run's config.toml).")
    var config: String?
    @Option(help: "Continue the run in this directory from its checkpoint, with its own settings; only --iterations (a new total), --threads, --eval-every, --eval-tasks and --keep-every may be given with it.")
    var resume: String?

    func validate() throws {
        if resume == nil && spec == nil && config == nil {
            throw ValidationError("give an environment spec, a --config file (its `spec` key), or --resume DIR")
        }
        if resume != nil && spec != nil { throw ValidationError("--resume continues a run with its own spec; do not give one") }
        if resume != nil && config != nil { throw ValidationError("--resume continues a run with its own settings; do not give --config") }
        if resume != nil && !settingsOfANewRun.isEmpty {
            // Silently ignoring them would let `--resume runs/a --out runs/b` extend runs/a.
            throw ValidationError("""
                --resume continues a run with its own settings; only --iterations, --threads, --eval-every, --eval-tasks \
                and --keep-every may change \
                (got \(settingsOfANewRun.joined(separator: ", ")))
                """)
        }
    }

    /// The flags given that only a new run can take, as typed.
    private var settingsOfANewRun: [String] {
        givenSettings.filter { !Self.resumableSettings.contains($0) }.map { "--" + flagName(of: $0) } + (out != nil ? ["--out"] : [])
    }

    /// The settings a resumed run may change: none of them changes the training's numbers.
    static let resumableSettings: Set<String> = ["iterations", "threads", "eval-every", "eval-tasks", "keep-every"]

    /// The settings given as flags, by their names in `TrainingConfiguration.settingKeys`.
    private var givenSettings: [String] {
        let given: [(String, Bool)] = [
            ("algorithm", algorithm != nil), ("outer", outer != nil), ("outer-lr", outerLr != nil), ("ppo-clip", ppoClip != nil),
            ("ppo-epochs", ppoEpochs != nil), ("context-size", contextSize != nil), ("context-lr", contextLr != nil),
            ("reptile-step", reptileStep != nil), ("reptile-steps", reptileSteps != nil), ("rl2-cell", rl2Cell != nil), ("rl2-hidden", rl2Hidden != nil),
            ("rl2-lr", rl2Lr != nil), ("rl2-clip", rl2Clip != nil), ("rl2-epochs", rl2Epochs != nil),
            ("rl2-minibatches", rl2Minibatches != nil), ("rl2-entropy", rl2Entropy != nil), ("iterations", iterations != nil), ("meta-batch-size", metaBatchSize != nil),
            ("fast-batch-size", fastBatchSize != nil), ("fast-lr", fastLr != nil), ("inner-steps", innerSteps != nil),
            ("halve-step", halveStep), ("outer-loss", outerLoss != nil), ("first-order", firstOrder),
            ("estimator", estimator != nil), ("hidden", hidden != nil), ("activation", activation != nil),
            ("max-kl", maxKl != nil), ("weighting", weighting != nil), ("seed", seed != nil), ("threads", threads != nil),
            ("eval-every", evalEvery != nil), ("eval-tasks", evalTasks != nil), ("keep-every", keepEvery != nil),
        ]
        return given.filter(\.1).map(\.0)
    }

    func resolvedConfiguration() throws -> TrainingConfiguration {
        let file = try config.map { try TrainingConfiguration.loadGivenKeys(file: URL(fileURLWithPath: $0)) }
        var c = file?.configuration ?? TrainingConfiguration()
        if let config, spec == nil, file?.keys.contains("spec") != true {
            throw CommandFailure(description: "\(config): no `spec` key; add `spec = \"navigation\"` (a preset or a path) or give the spec as an argument")
        }
        if file?.keys.contains("threads") != true { c.threads = ProcessInfo.processInfo.activeProcessorCount }
        if let spec { c.spec = spec }
        if let algorithm { c.algorithm = algorithm }
        if let outer { c.outer = outer }
        if let outerLr { c.adam.learningRate = outerLr }
        if let ppoClip { c.ppo.clip = ppoClip }
        if let ppoEpochs { c.ppo.epochs = ppoEpochs }
        if let contextSize { c.cavia.contextSize = contextSize }
        if let contextLr { c.cavia.contextStepSize = contextLr }
        if let reptileStep { c.reptile.stepSize = reptileStep }
        if let reptileSteps { c.reptile.innerSteps = reptileSteps }
        if let rl2Cell {
            guard let kind = RecurrentPolicy.CellKind(rawValue: rl2Cell) else {
                throw ValidationError("--rl2-cell must be gru or lstm, got \"\(rl2Cell)\"")
            }
            c.rl2.cell = kind
        }
        if let rl2Hidden { c.rl2.hiddenSize = rl2Hidden }
        if let rl2Lr { c.rl2.learningRate = rl2Lr }
        if let rl2Clip { c.rl2.clip = rl2Clip }
        if let rl2Epochs { c.rl2.epochs = rl2Epochs }
        if let rl2Minibatches { c.rl2.minibatches = rl2Minibatches }
        if let rl2Entropy { c.rl2.entropyCoefficient = rl2Entropy }
        if let iterations { c.iterations = iterations }
        if let metaBatchSize { c.metaBatchSize = metaBatchSize }
        if let fastBatchSize { c.fastBatchSize = fastBatchSize }
        if let fastLr { c.maml.innerStepSize = fastLr }
        if let innerSteps { c.maml.innerSteps = innerSteps }
        if halveStep { c.maml.halvesStepAfterFirst = true }
        if let outerLoss {
            guard let value = OuterLoss(rawValue: outerLoss) else {
                throw ValidationError("--outer-loss must be final, every-step or every-step-and-start, got \"\(outerLoss)\"")
            }
            c.maml.outerLoss = value
        }
        if firstOrder { c.maml.firstOrder = true }
        if let estimator {
            guard let value = InnerObjective(rawValue: estimator) else {
                throw ValidationError("--estimator must be reinforce or lvc, got \"\(estimator)\"")
            }
            c.maml.innerObjective = value
        }
        if let hidden {
            // Empty fields are kept, so that `64,,64` is refused rather than read as 64,64.
            let widths = hidden.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !widths.isEmpty, widths.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--hidden expects comma-separated integers such as 64,64, got \"\(hidden)\"")
            }
            c.hidden = widths.map { $0! }
        }
        if let activation {
            guard let value = MLP.Activation(rawValue: activation) else {
                throw ValidationError("--activation must be tanh or relu, got \"\(activation)\"")
            }
            c.activation = value
        }
        if let maxKl { c.maml.maxKL = maxKl }
        if let weighting {
            guard let value = StepWeighting(rawValue: weighting) else {
                throw ValidationError("--weighting must be episode or step, got \"\(weighting)\"")
            }
            c.maml.stepWeighting = value
        }
        if let seed { c.seed = seed }
        if let threads { c.threads = threads }
        if let evalEvery { c.evalEvery = evalEvery }
        if let evalTasks { c.evalTasks = evalTasks }
        if let keepEvery { c.keepEvery = keepEvery }
        do {
            try c.validate()
        } catch RunError.invalidConfiguration(let setting, let reason) {
            // Name the setting where the user wrote it: the flag, or the file and its key.
            if let config, !givenSettings.contains(setting), let key = TrainingConfiguration.settingsKey(forFlag: setting),
               file?.keys.contains(key) == true {
                throw CommandFailure(description: "\(config): key `\(key)`: \(reason)")
            }
            throw CommandFailure(description: settingsWithoutFlags.contains(setting)
                                   ? "configuration `\(TrainingConfiguration.settingsKey(forFlag: setting) ?? setting)`: \(reason)"
                                   : "--\(flagName(of: setting)): \(reason)")
        }
        return c
    }

    func run() throws {
        var run: TrainingRun
        // Under mpirun, every rank runs this; rank 0 alone writes and prints.
        let group = ProcessGroup.world
        if let resume {
            run = try TrainingRun.resume(directory: URL(fileURLWithPath: resume), iterations: iterations, threads: threads,
                                         recording: .init(evalEvery: evalEvery, evalTasks: evalTasks, keepEvery: keepEvery), group: group)
        } else {
            let configuration = try resolvedConfiguration()
            let loaded = try EnvironmentSpec.load(configuration.spec)
            let directory = URL(fileURLWithPath: out ?? "runs/\(loaded.name)-seed\(configuration.seed)")
            run = try TrainingRun.start(configuration: configuration, spec: loaded, directory: directory, group: group)
        }
        let total = run.trainer.configuration.iterations
        guard run.trainer.iteration < total else {
            if group.isLeader {
                print("\(run.directory.relativePath): all \(total) iterations are done; pass --iterations N (more than \(total)) to continue")
            }
            return
        }
        let processes = group.size > 1 ? ", \(group.size) processes (MPI)" : ""
        var progress = ProgressDisplay(total: total, label: "\(run.spec.name) \(run.trainer.configuration.algorithm)\(processes)",
                                       silent: !group.isLeader)
        let interruption = Interruption(completed: run.trainer.iteration, total: total, directory: run.directory.relativePath,
                                        quiet: !group.isLeader)
        interruption.install()
        progress.start(at: run.trainer.iteration, directory: run.directory.relativePath)
        do {
            try run.run(writes: interruption.writes, pending: interruption.pending) { report in
                progress.update(report)
            }
        } catch let error as NonFiniteValueError {
            progress.finish()
            let last = run.trainer.iteration
            throw CommandFailure(description: """
                \(error). The checkpoint of iteration \(last) in \(run.directory.relativePath) is intact; \
                a smaller --max-kl or --fast-lr may keep a new run finite.
                """)
        }
        progress.finish()
        if group.size > 1 && group.isLeader {
            let iterations = max(run.trainer.iteration - progress.firstIteration, 1)
            print(String(format: "MPI: %d processes; rank 0 sent %.1f kB per iteration to the others", group.size,
                         Double(ProcessGroup.bytesSent) / 1000 / Double(iterations)))
        }
    }
}

/// The progress of a training run: a bar redrawn in place on a terminal, plain lines otherwise.
struct ProgressDisplay {
    let total: Int
    let label: String
    /// Prints nothing (the ranks of an MPI run other than 0).
    let silent: Bool
    let isTerminal = isatty(STDOUT_FILENO) != 0
    var secondsPerIteration: [Double] = []

    init(total: Int, label: String, silent: Bool = false) {
        self.total = total
        self.label = label
        self.silent = silent
    }

    /// The iteration this session started after.
    private(set) var firstIteration = 0

    mutating func start(at iteration: Int, directory: String) {
        firstIteration = iteration
        guard !silent else { return }
        FileHandle.standardOutput.write(Data("\(label): iterations \(iteration + 1)–\(total) into \(directory)\n".utf8))
    }

    mutating func update(_ report: IterationReport) {
        guard !silent else { return }
        secondsPerIteration.append(report.secondsTotal)
        let recent = secondsPerIteration.suffix(20)
        let pace = recent.reduce(0, +) / Double(recent.count)
        let figures = String(format: "return before %7.2f  after %7.2f  %.2f s/it", report.returnBefore, report.returnAfter, pace)
        if isTerminal {
            let width = 24
            let filled = total > 0 ? width * report.iteration / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            print("\r\(bar) \(report.iteration)/\(total)  \(figures)", terminator: "")
            FileHandle.standardOutput.synchronizeFile()
        } else if report.iteration % 10 == 0 || report.iteration == total || report.iteration == 1 {
            // Written straight to the file descriptor: a pipe or log file sees each line at once.
            FileHandle.standardOutput.write(Data("iteration \(report.iteration)/\(total)  \(figures)\n".utf8))
        }
    }

    func finish() {
        if isTerminal && !silent { print("") }
    }
}
