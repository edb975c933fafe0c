import Autodiff
import Environments
import RealModule

/// A Gaussian policy whose mean is an MLP of the observation and whose log standard deviation is a
/// learned vector independent of the state (pytorch-maml-rl's `NormalMLPPolicy`, MAML's policy).
///
/// π_θ(a|s) = N(a; μ_θ(s), diag σ²), σ = exp(max(log σ_θ, log 10⁻⁶)). Parameters are the MLP's
/// `[W₁, b₁, …]` followed by `log σ` (shape `[actionSize]`, initialised to log `initialStd`).
public struct GaussianMLPPolicy: Sendable, Equatable, Codable {
    public let network: MLP
    /// The initial standard deviation of every action dimension (1 in MAML).
    public let initialStd: Double

    /// σ never falls below 10⁻⁶ (pytorch-maml-rl's `min_std`), so log-probabilities stay finite.
    public static let minimumLogStd = Double.log(1e-6)

    public init(observationSize: Int, actionSize: Int, hidden: [Int], activation: MLP.Activation, initialStd: Double = 1) {
        precondition(initialStd > 0, "the initial standard deviation must be positive, got \(initialStd)")
        network = MLP(layerSizes: [observationSize] + hidden + [actionSize], activation: activation)
        self.initialStd = initialStd
    }

    public var observationSize: Int { network.layerSizes.first! }
    public var actionSize: Int { network.layerSizes.last! }

    /// Shapes of `[W₁, b₁, …, log σ]`.
    public var parameterShapes: [[Int]] { network.parameterShapes + [[actionSize]] }

    public func initialParameters<Scalar: TensorScalar>(
        as: Scalar.Type = Scalar.self, using rng: inout some RandomNumberGenerator
    ) -> [Tensor<Scalar>] {
        network.initialParameters(as: Scalar.self, using: &rng)
            + [Tensor.filled(Scalar(Double.log(initialStd)), shape: [actionSize])]
    }

    /// μ(s) for observations `[rows, observationSize]`, and log σ (clamped below).
    public func distribution<Scalar>(
        _ observations: Tensor<Scalar>, parameters: [Tensor<Scalar>]
    ) -> (mean: Tensor<Scalar>, logStd: Tensor<Scalar>) {
        precondition(parameters.count == parameterShapes.count,
                     "\(parameters.count) parameter tensors for a policy with \(parameterShapes.count)")
        let mean = network(observations, parameters: Array(parameters.dropLast()))
        let logStd = parameters.last!.clamped(to: Scalar(Self.minimumLogStd)...Scalar.greatestFiniteMagnitude)
        return (mean, logStd)
    }

    /// log π(a|s) summed over action dimensions: shape `[rows, 1]`.
    public func logProbability<Scalar>(
        of actions: Tensor<Scalar>, at observations: Tensor<Scalar>, parameters: [Tensor<Scalar>]
    ) -> Tensor<Scalar> {
        let (mean, logStd) = distribution(observations, parameters: parameters)
        return Self.logProbability(of: actions, mean: mean, logStd: logStd)
    }

    /// log N(a; μ, diag e^{2 log σ}) summed over the last axis: −½‖(a − μ)/σ‖² − Σ log σ − (d/2) log 2π.
    public static func logProbability<Scalar>(
        of actions: Tensor<Scalar>, mean: Tensor<Scalar>, logStd: Tensor<Scalar>
    ) -> Tensor<Scalar> {
        let z = (actions - mean) / logStd.exp()
        let perDimension = -0.5 * z.squared() - logStd - Scalar(0.5 * Double.log(2 * Double.pi))
        return perDimension.sum(alongAxis: 1, keepingDimension: true)
    }

    /// KL(p ‖ q) between diagonal Gaussians, summed over action dimensions: shape `[rows, 1]`.
    ///
    /// Σ [log σ_q − log σ_p + (σ_p² + (μ_p − μ_q)²) / (2σ_q²) − ½].
    public static func klDivergence<Scalar>(
        from p: (mean: Tensor<Scalar>, logStd: Tensor<Scalar>), to q: (mean: Tensor<Scalar>, logStd: Tensor<Scalar>)
    ) -> Tensor<Scalar> {
        let varianceRatio = (2 * (p.logStd - q.logStd)).exp()
        let meanTerm = (p.mean - q.mean).squared() / (2 * q.logStd).exp()
        let perDimension = q.logStd - p.logStd + 0.5 * (varianceRatio + meanTerm) - 0.5
        return perDimension.sum(alongAxis: 1, keepingDimension: true)
    }

    /// Actions a ~ π(·|s) for a batch of observations (row-major, `rows × observationSize`).
    /// - Returns: `rows × actionSize` actions, row-major.
    public func sampleActions(
        observations: [Float], rows: Int, parameters: [Tensor<Float>], using rng: inout SplitMix64
    ) -> [Float] {
        Policy.gaussian(self).sampleActions(observations: observations, rows: rows, parameters: parameters, using: &rng)
    }
}
