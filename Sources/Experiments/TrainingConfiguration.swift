import MetaLearning

/// Everything a meta-training run is a function of, with pytorch-maml-rl's 2D-navigation values
/// as defaults. The CLI fills it; the trainer never reads argv. The resolved value is written into
/// the run directory before training starts.
public struct TrainingConfiguration: Sendable, Equatable, Codable {
    // MARK: Task family
    /// The environment spec: a preset's short name (`navigation`) or a path to a TOML file.
    public var spec: String = "navigation"

    // MARK: Algorithm
    /// The learner: `maml-trpo`, or `pretrained` (TRPO on all tasks with no inner steps, the
    /// MAML paper's baseline).
    public var algorithm: String = "maml-trpo"
    /// Meta-iterations to run (`num-batches`, 500).
    public var iterations: Int = 500
    /// Tasks per meta-iteration (`meta-batch-size`, 20).
    public var metaBatchSize: Int = 20
    /// Episodes sampled per task and inner step (`fast-batch-size`, 20).
    public var fastBatchSize: Int = 20
    /// MAML-TRPO's hyperparameters: α, inner steps, γ, λ, trust region, line search.
    public var maml = MAMLTRPO.Hyperparameters()

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

    public init() {}

    /// The learners `algorithm` accepts.
    public static let algorithms = ["maml-trpo", "pretrained"]

    /// The hyperparameters the trainer uses: `maml` as given, with no inner steps for `pretrained`.
    public var trainingHyperparameters: MAMLTRPO.Hyperparameters {
        var h = maml
        if algorithm == "pretrained" { h.innerSteps = 0 }
        return h
    }
}
