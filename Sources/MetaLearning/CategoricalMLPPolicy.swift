import Autodiff
import Environments
import RealModule

/// A categorical policy over `actionCount` discrete actions whose logits are an MLP of the
/// observation (pytorch-maml-rl's `CategoricalMLPPolicy`).
///
/// π_θ(a|s) = softmax(f_θ(s))_a. Parameters are the MLP's `[W₁, b₁, …]`; actions are passed
/// around as their index, one float per step.
public struct CategoricalMLPPolicy: Sendable, Equatable, Codable {
    public let network: MLP

    public init(observationSize: Int, actionCount: Int, hidden: [Int], activation: MLP.Activation) {
        precondition(actionCount >= 2, "a categorical policy needs at least two actions, got \(actionCount)")
        network = MLP(layerSizes: [observationSize] + hidden + [actionCount], activation: activation)
    }

    public var observationSize: Int { network.layerSizes.first! }
    public var actionCount: Int { network.layerSizes.last! }
    public var parameterShapes: [[Int]] { network.parameterShapes }

    public func initialParameters<Scalar: TensorScalar>(
        as: Scalar.Type = Scalar.self, using rng: inout some RandomNumberGenerator
    ) -> [Tensor<Scalar>] {
        network.initialParameters(as: Scalar.self, using: &rng)
    }

    /// log π(·|s) for observations `[rows, observationSize]`: `[rows, actionCount]`.
    public func logProbabilities<Scalar>(_ observations: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> Tensor<Scalar> {
        precondition(parameters.count == parameterShapes.count,
                     "\(parameters.count) parameter tensors for a policy with \(parameterShapes.count)")
        return network(observations, parameters: parameters).logSoftmax(alongAxis: 1)
    }

    /// log π(a|s) from log-probabilities `[rows, n]` and action indices `[rows, 1]`: `[rows, 1]`.
    /// The indices select through a constant one-hot mask, so the result differentiates to any
    /// order with respect to the log-probabilities.
    public static func logProbability<Scalar>(of actions: Tensor<Scalar>, logProbabilities: Tensor<Scalar>) -> Tensor<Scalar> {
        let (rows, n) = (logProbabilities.shape[0], logProbabilities.shape[1])
        precondition(actions.shape == [rows, 1], "actions of shape \(actions.shape) for \(rows) rows")
        var mask = [Scalar](repeating: 0, count: rows * n)
        for (row, action) in actions.scalars.enumerated() { mask[row * n + Int(action)] = 1 }
        return (logProbabilities * Tensor(shape: [rows, n], scalars: mask)).sum(alongAxis: 1, keepingDimension: true)
    }

    /// KL(p ‖ q) = Σ_a p_a (log p_a − log q_a) per row, from log-probabilities: `[rows, 1]`.
    public static func klDivergence<Scalar>(from p: Tensor<Scalar>, to q: Tensor<Scalar>) -> Tensor<Scalar> {
        (p.exp() * (p - q)).sum(alongAxis: 1, keepingDimension: true)
    }

    /// An action index a ~ π(·|s) per row (as a float), by inverting the cumulative distribution
    /// at a uniform draw.
    public func sampleActions(
        observations: [Float], rows: Int, parameters: [Tensor<Float>], using rng: inout SplitMix64
    ) -> [Float] {
        Policy.categorical(self).sampleActions(observations: observations, rows: rows, parameters: parameters, using: &rng)
    }
}
