import Autodiff
import Environments

/// How a policy network's output becomes an action distribution: a diagonal Gaussian over box
/// actions (`GaussianHead`), a categorical over discrete ones (`CategoricalHead`). A head owns its
/// parameters beyond the network's (a Gaussian's log σ), its sampling, and the parts of the
/// derivative products that depend on the distribution: the output adjoint of an inner loss and
/// its tangent (`HeadLossCurvature`), and the KL's curvature in the output (`HeadFisher`). The
/// network's part of those products is the network's own (the hand-written MLP products, or the
/// graph fallback).
public protocol DistributionHead: Sendable, Codable {
    /// The head's name in checkpoints (`gaussian`, `categorical`).
    static var kind: String { get }
    /// Network outputs the head reads per row.
    var outputSize: Int { get }
    /// Floats per action: a Gaussian's dimension, 1 (the index) for a categorical.
    var actionSize: Int { get }
    /// Shapes of the head's own parameters, after the network's.
    var parameterShapes: [[Int]] { get }
    /// Checkpoint names of the head's own parameters, and the name of what the network outputs.
    var parameterNames: [String] { get }
    var outputName: String { get }
    func initialParameters<Scalar: TensorScalar>(as: Scalar.Type) -> [Tensor<Scalar>]
    /// The distribution at each row of the network's output.
    func distribution<Scalar>(_ output: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> ActionDistribution<Scalar>
    /// One action per row, `rows × actionSize` floats.
    func sampleActions(_ output: Tensor<Float>, parameters: [Tensor<Float>], using rng: inout SplitMix64) -> [Float]
    /// The head's part of the inner loss −Σ c_r log π(a_r|s_r) at the network's output.
    func lossCurvature<Scalar>(output: [Scalar], rows: Int, parameters: [Tensor<Scalar>], actions: [Scalar], weights: [Scalar])
        -> any HeadLossCurvature<Scalar>
    /// The head's part of the KL's curvature at the reference distribution `current`.
    func fisher<Scalar>(current: ActionDistribution<Scalar>, parameters: [Tensor<Scalar>]) -> any HeadFisher<Scalar>
    /// A head of this kind for a network of `outputSize` outputs, from a checkpoint's policy fields.
    init(from decoder: any Decoder, outputSize: Int) throws
    func isEqual(to other: any DistributionHead) -> Bool
}

extension DistributionHead where Self: Equatable {
    public func isEqual(to other: any DistributionHead) -> Bool { (other as? Self) == self }
}

/// The head's part of an inner loss's derivatives at one point.
public protocol HeadLossCurvature<Scalar>: Sendable {
    associatedtype Scalar: TensorScalar
    /// ∂L/∂output, `[rows, outputSize]` row-major.
    var outputAdjoint: [Scalar] { get }
    /// ∂L/∂(head parameters), one array per tensor (empty for a head without parameters).
    var parameterGradient: [[Scalar]] { get }
    /// The head parameters' direction as the products read it, flattened (zero where a parameter
    /// is clamped), and zeros of the head's part of H·v, which `adjointTangent` accumulates. Flat
    /// arrays keep the per-row loop below free of nested-array accesses.
    func start(direction: [[Scalar]]) -> (direction: [Scalar], part: [Scalar])
    /// (∂L/∂output)˙ for the rows `rows` (global indices) from their output tangent ȯ; adds the
    /// rows' share of (∂L/∂head parameters)˙ to `part`. With `lvc`, the −c·q·∇log π term of ProMP's
    /// curvature too, q = ∇log π·v.
    func adjointTangent(rows: Range<Int>, outputTangent: [Scalar], direction: [Scalar], lvc: Bool, part: inout [Scalar]) -> [Scalar]
    /// The head's part of H·v, one array per head tensor, from what the rows added (zero where a
    /// parameter is clamped).
    func finish(_ part: [Scalar]) -> [[Scalar]]
}

/// The head's part of the KL's Hessian at its reference: Jᵀ·H_out·J for the network's output,
/// and the head parameters' own block.
public protocol HeadFisher<Scalar>: Sendable {
    associatedtype Scalar: TensorScalar
    /// H_out·u for the rows `rows` (global indices), times each row's weight, in place.
    func outputProduct(rows: Range<Int>, _ upstream: inout [Scalar], rowWeights: [Scalar])
    /// The head parameters' part of F·v, for the weights' sum.
    func parameterProduct(_ direction: [[Scalar]], weightSum: Scalar) -> [[Scalar]]
}

/// The heads checkpoints can name.
enum DistributionHeads {
    static let all: [any DistributionHead.Type] = [GaussianHead.self, CategoricalHead.self]
    static func named(_ kind: String) -> (any DistributionHead.Type)? { all.first { $0.kind == kind } }
}
