import Autodiff
import Environments

/// A meta-learner: what it samples for a meta-batch, how it adapts to one task, its meta-update,
/// the figures it reports and the state it checkpoints. Training, evaluation, the viewer and the
/// CLI see learners only through this face; `MetaLearners.all` lists them.
public protocol MetaLearner: Sendable {
    /// The registry name (`maml-trpo`, `promp`, …).
    var name: String { get }
    var policy: Policy { get }
    /// The inner loop's and the advantages' settings: α, inner steps, γ, λ, weighting.
    var inner: MAMLTRPO.Hyperparameters { get }
    /// Inner steps of meta-training (0 for the pretrained baseline).
    var trainingInnerSteps: Int { get }

    /// One adaptation step from the policy's parameters on a batch of episodes, with α =
    /// `stepSize`: the step sampling takes during training and evaluation takes on held-out tasks.
    func adapt(_ parameters: [Tensor<Float>], on batch: PolicyGradientBatch<Float>, stepSize: Double) -> [Tensor<Float>]

    /// One meta-update from the rollouts of a meta-batch, tasks spread over `threads` and the
    /// processes of `group`: `rollouts` are this process's tasks (`group.tasks(of:)`, all of them
    /// with one process), and every process returns the same parameters, those one process
    /// with all the rollouts would.
    /// - Throws: `NonFiniteValueError` when a loss, the meta-gradient or the step holds a NaN or
    ///   an infinity (the parameters are then left as they were).
    mutating func update(_ parameters: [Tensor<Float>], rollouts: [TaskRollout<Float>], threads: Int, group: any TaskGroup) throws
        -> (parameters: [Tensor<Float>], metrics: [Metric])

    /// The columns `update` reports, in order.
    var metricColumns: [String] { get }
    /// Everything beyond the policy's parameters that resuming exactly needs: meta-learned
    /// tensors (Meta-SGD's step sizes, CAVIA's context weights), optimiser moments, ProMP's
    /// penalty. Saved in the checkpoint's safetensors file under these names.
    var state: [StateTensor] { get }
    /// Sets what `state` saved.
    /// - Throws: `LearnerStateError` when a tensor is missing or of the wrong size.
    mutating func restore(_ state: [StateTensor]) throws
}

extension MetaLearner {
    /// The meta-update of one process holding every rollout.
    public mutating func update(_ parameters: [Tensor<Float>], rollouts: [TaskRollout<Float>], threads: Int) throws
        -> (parameters: [Tensor<Float>], metrics: [Metric]) {
        try update(parameters, rollouts: rollouts, threads: threads, group: SingleProcess())
    }

    /// α for each inner step of meta-training: α throughout, or α then α/2.
    public var trainingStepSizes: [Double] {
        inner.stepSizes(count: trainingInnerSteps, halvingAfterFirst: inner.halvesStepAfterFirst)
    }

    /// Samples and adapts on one task: one batch per inner step, each with the policy adapted so
    /// far, then a validation batch with the fully adapted policy.
    /// - Returns: the rollout and the adapted parameters after each step.
    public func collect<Environment: VectorEnvironment>(
        task: Environment.Task, parameters: [Tensor<Float>], sampler: EpisodeSampler<Environment>, using rng: inout SplitMix64
    ) throws -> (rollout: TaskRollout<Float>, adapted: [[Tensor<Float>]]) {
        var theta = parameters.map(\.detached)
        var train: [PolicyGradientBatch<Float>] = []
        var adapted: [[Tensor<Float>]] = []
        func sample() throws -> PolicyGradientBatch<Float> {
            let episodes = sampler.sample(task: task, parameters: theta, using: &rng)
            try episodes.checkFinite()
            return try inner.policyGradientBatch(episodes)
        }
        for alpha in trainingStepSizes {
            let batch = try sample()
            theta = adapt(theta, on: batch, stepSize: alpha)
            train.append(batch)
            adapted.append(theta)
        }
        return (TaskRollout(train: train, valid: try sample()), adapted)
    }
}

/// Every setting a learner may read, grouped by what it configures.
public struct MetaLearnerSettings: Sendable, Equatable {
    /// The inner loop, the advantages, and TRPO's trust region.
    public var maml = MAMLTRPO.Hyperparameters()
    /// The outer optimiser by name (`trpo`, `adam`, `ppo`), or empty for the learner's own.
    public var outer = ""
    public var adam = AdamSettings()
    public var ppo = ClippedSurrogateSettings()
    public var promp = ProMP.Settings()
    public var emaml = EMAML.Settings()
    public var metaSGD = MetaSGD.Settings()
    public var cavia = CAVIA.Settings()
    public var reptile = Reptile.Settings()
    public var rl2 = RL2.Settings()

    public init() {}
}

/// A memory-based meta-learner: it adapts within a trial, in a recurrent policy's state, rather
/// than by gradient steps; its meta-update learns from whole trials. Training, evaluation and
/// checkpoints reach it through `MetaLearnerEntry.Builder.memory`.
public protocol TrialMetaLearner: Sendable {
    var name: String { get }
    var policy: RecurrentPolicy { get }
    /// One meta-update from the trials of a meta-batch, spread over `threads`.
    /// - Throws: `NonFiniteValueError` when a loss, gradient or the updated parameters hold a
    ///   NaN or an infinity (the parameters are then left as they were).
    /// (Under MPI every process holds all the trials; `group` shares the update's work.)
    mutating func update(_ parameters: [Tensor<Float>], trials: [Trial], threads: Int, group: any TaskGroup) throws
        -> (parameters: [Tensor<Float>], metrics: [Metric])
    /// The columns `update` reports, in order.
    var metricColumns: [String] { get }
    /// Optimiser moments and counters that resuming exactly needs.
    var state: [StateTensor] { get }
    mutating func restore(_ state: [StateTensor]) throws
}

extension TrialMetaLearner {
    /// The update of one process.
    public mutating func update(_ parameters: [Tensor<Float>], trials: [Trial], threads: Int) throws
        -> (parameters: [Tensor<Float>], metrics: [Metric]) {
        try update(parameters, trials: trials, threads: threads, group: SingleProcess())
    }
}

/// A learner in the registry: its name, a line for `--help`, where it comes from, and how to
/// build it.
public struct MetaLearnerEntry: Sendable {
    public let name: String
    /// One line for `metarl train --help` (at most 59 characters, so the help keeps one line each).
    public let summary: String
    /// The paper, short.
    public let paper: String
    /// What the outer loop learns.
    public let metaLearned: String
    /// The outer optimisers it can take, its default first; empty for a learner with its own
    /// update (Reptile).
    public let outers: [String]
    /// How the learner is built, which also says how it adapts.
    public let builder: Builder

    /// The two kinds of meta-learner (DESIGN's "gradient-based" and "memory-based").
    public enum Builder: Sendable {
        /// Adapts by inner policy-gradient steps of an MLP `Policy`.
        case gradient(@Sendable (_ policy: Policy, _ settings: MetaLearnerSettings, _ rng: inout SplitMix64) -> any MetaLearner)
        /// Adapts in a recurrent policy's state over the episodes of a trial.
        case memory(@Sendable (_ policy: RecurrentPolicy, _ settings: MetaLearnerSettings, _ rng: inout SplitMix64) -> any TrialMetaLearner)
    }

    public init(name: String, summary: String, paper: String, metaLearned: String, outers: [String],
                make: @escaping @Sendable (Policy, MetaLearnerSettings, inout SplitMix64) -> any MetaLearner) {
        self.init(name: name, summary: summary, paper: paper, metaLearned: metaLearned, outers: outers, builder: .gradient(make))
    }

    public init(name: String, summary: String, paper: String, metaLearned: String, outers: [String], builder: Builder) {
        self.name = name
        self.summary = summary
        self.paper = paper
        self.metaLearned = metaLearned
        self.outers = outers
        self.builder = builder
    }

    /// Whether the learner adapts in memory (RL²) rather than by gradient steps.
    public var adaptsInMemory: Bool { if case .memory = builder { true } else { false } }

    /// A fresh gradient-based learner for `policy`; `rng` initialises meta-parameters beyond the
    /// policy's.
    /// - Precondition: the learner is gradient-based (`adaptsInMemory` is false).
    public func make(_ policy: Policy, _ settings: MetaLearnerSettings, _ rng: inout SplitMix64) -> any MetaLearner {
        guard case .gradient(let make) = builder else { preconditionFailure("\(name) adapts in memory; build it with makeMemory") }
        return make(policy, settings, &rng)
    }

    /// A fresh memory-based learner for `policy`.
    /// - Precondition: the learner adapts in memory.
    public func makeMemory(_ policy: RecurrentPolicy, _ settings: MetaLearnerSettings, _ rng: inout SplitMix64) -> any TrialMetaLearner {
        guard case .memory(let make) = builder else { preconditionFailure("\(name) adapts by gradient steps; build it with make") }
        return make(policy, settings, &rng)
    }
}

/// The learners `--algo` accepts. Adding one is its file (a type with an `entry`) and a line here.
public enum MetaLearners {
    public static let all: [MetaLearnerEntry] = [
        MAMLTRPO.entry,
        MAMLTRPO.vpgEntry,
        MAMLTRPO.ppoEntry,
        MAMLTRPO.firstOrderEntry,
        MAMLTRPO.pretrainedEntry,
        ProMP.entry,
        EMAML.entry,
        DiCE.entry,
        MetaSGD.entry,
        CAVIA.entry,
        Reptile.entry,
        RL2.entry,
    ]

    public static func named(_ name: String) -> MetaLearnerEntry? { all.first { $0.name == name } }
}

/// The outer optimisers by name.
public enum OuterOptimizers {
    public static let names = ["trpo", "adam", "ppo"]

    /// The optimiser called `name` with its settings.
    public static func make(_ name: String, _ settings: MetaLearnerSettings) -> any OuterOptimizer {
        switch name {
        case "trpo": TrustRegionOptimizer(settings.maml)
        case "adam": AdamOuterOptimizer(settings.adam)
        case "ppo": ClippedSurrogateOptimizer(settings.ppo, adam: settings.adam)
        default: preconditionFailure("unknown outer optimiser \(name); validate settings first")
        }
    }

    /// One line each, for `--help`.
    public static let summaries = [
        "trpo  conjugate gradient, trust-region scaling, line search (max-kl, …)",
        "adam  one Adam step on the meta-gradient per batch (--outer-lr)",
        "ppo   Adam epochs on PPO's clipped surrogate (--ppo-clip, --ppo-epochs)",
    ]
}
