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

/// A stochastic policy: a network from observations to the head's inputs, and a distribution
/// head (`GaussianHead` for box actions, `CategoricalHead` for discrete ones). Parameters are the
/// network's, then the head's own. Meta-learners see only this face; the curvature code takes the
/// network's hand-written products when it has them (the MLP) and the recorded graph otherwise.
public struct Policy: Sendable, Equatable {
    public let network: any PolicyNetwork
    public let head: any DistributionHead

    public init(network: any PolicyNetwork, head: any DistributionHead) {
        precondition(network.outputSize == head.outputSize,
                     "a network of \(network.outputSize) outputs for a \(type(of: head).kind) head reading \(head.outputSize)")
        self.network = network
        self.head = head
    }

    /// The Gaussian MLP policy `p` describes.
    public static func gaussian(_ p: GaussianMLPPolicy) -> Policy {
        Policy(network: p.network, head: GaussianHead(actionSize: p.actionSize, initialStd: p.initialStd))
    }

    /// The categorical MLP policy `p` describes.
    public static func categorical(_ p: CategoricalMLPPolicy) -> Policy {
        Policy(network: p.network, head: CategoricalHead(actionCount: p.actionCount))
    }

    /// The MLP policy a family's action space calls for.
    public static func forActions(_ space: Space, observationSize: Int, hidden: [Int], activation: MLP.Activation) -> Policy {
        switch space {
        case .box(let lower, _):
            .gaussian(GaussianMLPPolicy(observationSize: observationSize, actionSize: lower.count, hidden: hidden, activation: activation))
        case .discrete(let count):
            .categorical(CategoricalMLPPolicy(observationSize: observationSize, actionCount: count, hidden: hidden, activation: activation))
        }
    }

    public static func == (a: Policy, b: Policy) -> Bool {
        a.network.isEqual(to: b.network) && a.head.isEqual(to: b.head)
    }

    /// The head's name: `gaussian` or `categorical`.
    public var kind: String { type(of: head).kind }

    /// The network's hand-written products, when it has them.
    var mlp: MLP? { network as? MLP }

    public var observationSize: Int { network.inputSize }

    /// Floats per action: the dimension of a Gaussian's action, 1 (the index) for a categorical.
    public var actionSize: Int { head.actionSize }

    /// Parameter tensors of the network (the head's follow them).
    public var networkParameterCount: Int { network.parameterShapes.count }

    public var parameterShapes: [[Int]] { network.parameterShapes + head.parameterShapes }

    public func initialParameters<Scalar: TensorScalar>(
        as: Scalar.Type = Scalar.self, using rng: inout some RandomNumberGenerator
    ) -> [Tensor<Scalar>] {
        network.initialParameters(as: Scalar.self, using: &rng) + head.initialParameters(as: Scalar.self)
    }

    public func distribution<Scalar>(_ observations: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> ActionDistribution<Scalar> {
        precondition(parameters.count == parameterShapes.count,
                     "\(parameters.count) parameter tensors for a policy with \(parameterShapes.count)")
        let count = networkParameterCount
        let output = network(observations, parameters: Array(parameters.prefix(count)))
        return head.distribution(output, parameters: Array(parameters.dropFirst(count)))
    }

    /// The distribution at each step of a batch that observed `observations[rows.rows[s]]` at
    /// step s: the network runs once per row of `observations`, the head once per step. Without
    /// `rows`, step s observed row s.
    public func distribution<Scalar>(
        _ observations: Tensor<Scalar>, rows: ObservationRows?, parameters: [Tensor<Scalar>]
    ) -> ActionDistribution<Scalar> {
        guard let rows else { return distribution(observations, parameters: parameters) }
        precondition(parameters.count == parameterShapes.count,
                     "\(parameters.count) parameter tensors for a policy with \(parameterShapes.count)")
        let count = networkParameterCount
        let output = rows.gathering(network(observations, parameters: Array(parameters.prefix(count))))
        return head.distribution(output, parameters: Array(parameters.dropFirst(count)))
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
        let count = networkParameterCount
        let detached = parameters.map(\.detached)
        let output = network(Tensor(shape: [rows, observationSize], scalars: observations), parameters: Array(detached.prefix(count)))
        return head.sampleActions(output, parameters: Array(detached.dropFirst(count)), using: &rng)
    }

    /// Names of the parameter tensors in checkpoints, in order.
    public var parameterNames: [String] {
        network.parameterNames.map { "policy.\(head.outputName).\($0)" } + head.parameterNames
    }
}

extension Policy: Codable {
    private enum Keys: String, CodingKey { case kind, network }
    private enum NetworkKeys: String, CodingKey { case kind }

    /// The head's `kind` and fields beside the `network` (with its own `kind`, `mlp` when absent);
    /// a manifest without `kind` was written before categorical policies existed and holds a
    /// Gaussian one.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? GaussianHead.kind
        guard let headType = DistributionHeads.named(kind) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [Keys.kind],
                                                    debugDescription: "unknown policy kind \"\(kind)\""))
        }
        let networkDecoder = try container.superDecoder(forKey: .network)
        let networkKind = try networkDecoder.container(keyedBy: NetworkKeys.self).decodeIfPresent(String.self, forKey: .kind) ?? MLP.kind
        guard let networkType = PolicyNetworks.named(networkKind) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [Keys.network],
                                                    debugDescription: "unknown network kind \"\(networkKind)\""))
        }
        let network = try networkType.init(from: networkDecoder)
        self.init(network: network, head: try headType.init(from: decoder, outputSize: network.outputSize))
    }

    public func encode(to encoder: any Encoder) throws {
        try head.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(kind, forKey: .kind)
        let networkEncoder = container.superEncoder(forKey: .network)
        try network.encode(to: networkEncoder)
        var networkContainer = networkEncoder.container(keyedBy: NetworkKeys.self)
        try networkContainer.encode(type(of: network).kind, forKey: .kind)
    }
}
