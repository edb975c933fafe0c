import Autodiff
import Environments

/// The action distribution of a policy at a batch of observations.
public enum ActionDistribution<Scalar: TensorScalar>: @unchecked Sendable {
    // @unchecked: tensors are values whose graph nodes are immutable once recorded.

    /// Diagonal Gaussian: means `[rows, d]` and log standard deviations `[d]`.
    case gaussian(mean: Tensor<Scalar>, logStd: Tensor<Scalar>)
    /// Categorical: log-probabilities `[rows, n]`.
    case categorical(logProbabilities: Tensor<Scalar>)

    /// The same distribution as a constant (π_old in TRPO).
    public var detached: ActionDistribution {
        switch self {
        case .gaussian(let mean, let logStd): .gaussian(mean: mean.detached, logStd: logStd.detached)
        case .categorical(let logp): .categorical(logProbabilities: logp.detached)
        }
    }

    /// log π(a|s) per row, `[rows, 1]`.
    public func logProbability(of actions: Tensor<Scalar>) -> Tensor<Scalar> {
        switch self {
        case .gaussian(let mean, let logStd): GaussianMLPPolicy.logProbability(of: actions, mean: mean, logStd: logStd)
        case .categorical(let logp): CategoricalMLPPolicy.logProbability(of: actions, logProbabilities: logp)
        }
    }

    /// KL(self ‖ other) per row, `[rows, 1]`; both must be of the same kind.
    public func klDivergence(to other: ActionDistribution) -> Tensor<Scalar> {
        switch (self, other) {
        case let (.gaussian(pm, ps), .gaussian(qm, qs)):
            return GaussianMLPPolicy.klDivergence(from: (pm, ps), to: (qm, qs))
        case let (.categorical(p), .categorical(q)):
            return CategoricalMLPPolicy.klDivergence(from: p, to: q)
        default:
            preconditionFailure("KL between a Gaussian and a categorical distribution")
        }
    }
}

/// A stochastic policy of one of the kinds MetaRL trains: Gaussian for box actions (point
/// robots), categorical for discrete ones (gridworlds). Meta-learners see only this face.
public enum Policy: Sendable, Equatable {
    case gaussian(GaussianMLPPolicy)
    case categorical(CategoricalMLPPolicy)

    /// The policy a family's action space calls for.
    public static func forActions(_ space: Space, observationSize: Int, hidden: [Int], activation: MLP.Activation) -> Policy {
        switch space {
        case .box(let lower, _):
            .gaussian(GaussianMLPPolicy(observationSize: observationSize, actionSize: lower.count, hidden: hidden, activation: activation))
        case .discrete(let count):
            .categorical(CategoricalMLPPolicy(observationSize: observationSize, actionCount: count, hidden: hidden, activation: activation))
        }
    }

    public var kind: String {
        switch self {
        case .gaussian: "gaussian"
        case .categorical: "categorical"
        }
    }

    public var network: MLP {
        switch self {
        case .gaussian(let p): p.network
        case .categorical(let p): p.network
        }
    }

    public var observationSize: Int { network.layerSizes.first! }

    /// Floats per action: the dimension of a Gaussian's action, 1 (the index) for a categorical.
    public var actionSize: Int {
        switch self {
        case .gaussian(let p): p.actionSize
        case .categorical: 1
        }
    }

    public var parameterShapes: [[Int]] {
        switch self {
        case .gaussian(let p): p.parameterShapes
        case .categorical(let p): p.parameterShapes
        }
    }

    public func initialParameters<Scalar: TensorScalar>(
        as: Scalar.Type = Scalar.self, using rng: inout some RandomNumberGenerator
    ) -> [Tensor<Scalar>] {
        switch self {
        case .gaussian(let p): p.initialParameters(as: Scalar.self, using: &rng)
        case .categorical(let p): p.initialParameters(as: Scalar.self, using: &rng)
        }
    }

    public func distribution<Scalar>(_ observations: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> ActionDistribution<Scalar> {
        switch self {
        case .gaussian(let p):
            let (mean, logStd) = p.distribution(observations, parameters: parameters)
            return .gaussian(mean: mean, logStd: logStd)
        case .categorical(let p):
            return .categorical(logProbabilities: p.logProbabilities(observations, parameters: parameters))
        }
    }

    /// log π(a|s) per row, `[rows, 1]`.
    public func logProbability<Scalar>(
        of actions: Tensor<Scalar>, at observations: Tensor<Scalar>, parameters: [Tensor<Scalar>]
    ) -> Tensor<Scalar> {
        distribution(observations, parameters: parameters).logProbability(of: actions)
    }

    /// Actions drawn from π(·|s), `rows × actionSize` floats.
    public func sampleActions(
        observations: [Float], rows: Int, parameters: [Tensor<Float>], using rng: inout SplitMix64
    ) -> [Float] {
        switch self {
        case .gaussian(let p): p.sampleActions(observations: observations, rows: rows, parameters: parameters, using: &rng)
        case .categorical(let p): p.sampleActions(observations: observations, rows: rows, parameters: parameters, using: &rng)
        }
    }

    /// Names of the parameter tensors in checkpoints, in order.
    public var parameterNames: [String] {
        let layers = network.layerSizes.count - 1
        switch self {
        case .gaussian:
            return (0..<layers).flatMap { ["policy.mean.\($0).weight", "policy.mean.\($0).bias"] } + ["policy.log_std"]
        case .categorical:
            return (0..<layers).flatMap { ["policy.logits.\($0).weight", "policy.logits.\($0).bias"] }
        }
    }
}

extension Policy: Codable {
    private enum Keys: String, CodingKey { case kind }

    /// The policy's own fields with a `kind` beside them; a manifest without `kind` was written
    /// before categorical policies existed and holds a Gaussian one.
    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: Keys.self).decodeIfPresent(String.self, forKey: .kind) ?? "gaussian"
        switch kind {
        case "gaussian": self = .gaussian(try GaussianMLPPolicy(from: decoder))
        case "categorical": self = .categorical(try CategoricalMLPPolicy(from: decoder))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [Keys.kind],
                                                    debugDescription: "unknown policy kind \"\(kind)\""))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .gaussian(let p): try p.encode(to: encoder)
        case .categorical(let p): try p.encode(to: encoder)
        }
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(kind, forKey: .kind)
    }
}
