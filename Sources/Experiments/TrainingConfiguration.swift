import Environments
import MetaLearning

/// Everything a meta-training run is a function of, with pytorch-maml-rl's 2D-navigation values
/// as defaults. The CLI fills it; the trainer never reads argv. The resolved value is written into
/// the run directory before training starts.
public struct TrainingConfiguration: Sendable, Equatable, Codable {
    // MARK: Task family
    /// The environment spec: a preset's short name (`navigation`) or a path to a TOML file.
    public var spec: String = "navigation"

    // MARK: Algorithm
    /// The learner, by its name in `MetaLearners.all` (`maml-trpo`, `promp`, …; `pretrained` is
    /// TRPO on all tasks with no inner steps, the MAML paper's baseline).
    public var algorithm: String = "maml-trpo"
    /// Meta-iterations to run (`num-batches`, 500).
    public var iterations: Int = 500
    /// Tasks per meta-iteration (`meta-batch-size`, 20).
    public var metaBatchSize: Int = 20
    /// Episodes sampled per task and inner step (`fast-batch-size`, 20).
    public var fastBatchSize: Int = 20
    /// MAML-TRPO's hyperparameters: α, inner steps, γ, λ, trust region, line search.
    public var maml = MAMLTRPO.Hyperparameters()
    /// The outer optimiser (`trpo`, `adam`, `ppo`), or empty for the learner's own.
    public var outer: String = ""
    /// Adam as an outer optimiser (VPG, and PPO's epochs).
    public var adam = AdamSettings()
    /// The clipped-surrogate (PPO) outer optimiser.
    public var ppo = ClippedSurrogateSettings()
    /// Each learner's own settings; only the chosen learner's are read.
    public var promp = ProMP.Settings()
    public var emaml = EMAML.Settings()
    public var metaSGD = MetaSGD.Settings()
    public var cavia = CAVIA.Settings()
    public var reptile = Reptile.Settings()
    /// RL²-PPO's settings (`[rl2]`); RL² samples `metaBatchSize` trials per iteration, each on
    /// its own task.
    public var rl2 = RL2.Settings()

    // MARK: Policy
    /// Hidden-layer widths of the Gaussian MLP policy ([64, 64]).
    public var hidden: [Int] = [64, 64]
    /// Hidden-layer nonlinearity (tanh).
    public var activation: MLP.Activation = .tanh

    // MARK: Run
    /// The seed every random stream of the run derives from (1).
    public var seed: UInt64 = 1
    /// Threads to spread the tasks of a meta-batch over (all cores by default).
    public var threads: Int = 2

    // MARK: Recording (none of it changes the training's numbers)
    /// A held-out evaluation every this many iterations into `eval.csv` (0: none).
    public var evalEvery: Int = 0
    /// Held-out tasks of each of those evaluations (the same tasks every time).
    public var evalTasks: Int = 40
    /// Keep the checkpoint of every this many iterations under `checkpoints/` beside the latest (0: only the latest).
    public var keepEvery: Int = 0

    public init() {}

    /// Keys missing from a saved configuration keep their defaults, so checkpoints written
    /// before a setting existed still load (and mean what they meant then).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingConfiguration()
        spec = try c.decodeIfPresent(String.self, forKey: .spec) ?? d.spec
        algorithm = try c.decodeIfPresent(String.self, forKey: .algorithm) ?? d.algorithm
        iterations = try c.decodeIfPresent(Int.self, forKey: .iterations) ?? d.iterations
        metaBatchSize = try c.decodeIfPresent(Int.self, forKey: .metaBatchSize) ?? d.metaBatchSize
        fastBatchSize = try c.decodeIfPresent(Int.self, forKey: .fastBatchSize) ?? d.fastBatchSize
        maml = try c.decodeIfPresent(MAMLTRPO.Hyperparameters.self, forKey: .maml) ?? d.maml
        outer = try c.decodeIfPresent(String.self, forKey: .outer) ?? d.outer
        adam = try c.decodeIfPresent(AdamSettings.self, forKey: .adam) ?? d.adam
        ppo = try c.decodeIfPresent(ClippedSurrogateSettings.self, forKey: .ppo) ?? d.ppo
        promp = try c.decodeIfPresent(ProMP.Settings.self, forKey: .promp) ?? d.promp
        emaml = try c.decodeIfPresent(EMAML.Settings.self, forKey: .emaml) ?? d.emaml
        metaSGD = try c.decodeIfPresent(MetaSGD.Settings.self, forKey: .metaSGD) ?? d.metaSGD
        cavia = try c.decodeIfPresent(CAVIA.Settings.self, forKey: .cavia) ?? d.cavia
        reptile = try c.decodeIfPresent(Reptile.Settings.self, forKey: .reptile) ?? d.reptile
        rl2 = try c.decodeIfPresent(RL2.Settings.self, forKey: .rl2) ?? d.rl2
        hidden = try c.decodeIfPresent([Int].self, forKey: .hidden) ?? d.hidden
        activation = try c.decodeIfPresent(MLP.Activation.self, forKey: .activation) ?? d.activation
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
        evalEvery = try c.decodeIfPresent(Int.self, forKey: .evalEvery) ?? d.evalEvery
        evalTasks = try c.decodeIfPresent(Int.self, forKey: .evalTasks) ?? d.evalTasks
        keepEvery = try c.decodeIfPresent(Int.self, forKey: .keepEvery) ?? d.keepEvery
    }

    /// The names `algorithm` accepts.
    public static var algorithms: [String] { MetaLearners.all.map(\.name) }

    /// The settings every learner reads from.
    public var learnerSettings: MetaLearnerSettings {
        var s = MetaLearnerSettings()
        s.maml = maml
        s.outer = outer
        s.adam = adam
        s.ppo = ppo
        s.promp = promp
        s.emaml = emaml
        s.metaSGD = metaSGD
        s.cavia = cavia
        s.reptile = reptile
        s.rl2 = rl2
        return s
    }

    /// A fresh learner of `algorithm` for `policy`; meta-parameters beyond the policy's (CAVIA's
    /// context weights) come from their own stream of the seed.
    /// - Precondition: the configuration is valid (`validate()`).
    public func makeLearner(policy: Policy) -> any MetaLearner {
        guard let entry = MetaLearners.named(algorithm) else { preconditionFailure("unknown algorithm \(algorithm); validate first") }
        var rng = RandomStream.derive(seed: seed, purpose: .parameterInitialisation, index: 1)
        return entry.make(policy, learnerSettings, &rng)
    }

    /// Whether `algorithm` adapts in a recurrent state (RL²) rather than by gradient steps.
    public var adaptsInMemory: Bool { MetaLearners.named(algorithm)?.adaptsInMemory ?? false }

    /// A fresh memory-based learner of `algorithm` for `policy`.
    /// - Precondition: the configuration is valid and `adaptsInMemory`.
    public func makeTrialLearner(policy: RecurrentPolicy) -> any TrialMetaLearner {
        guard let entry = MetaLearners.named(algorithm) else { preconditionFailure("unknown algorithm \(algorithm); validate first") }
        var rng = RandomStream.derive(seed: seed, purpose: .parameterInitialisation, index: 1)
        return entry.makeMemory(policy, learnerSettings, &rng)
    }
}
