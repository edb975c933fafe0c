import Autodiff

/// The network of a policy: a function of explicit parameters from observations (rows) to the
/// head's inputs. Any network works through the recorded graph; the MLP also has hand-written
/// derivative products (`MLP+Linearisation.swift`), which the curvature code takes when it can.
public protocol PolicyNetwork: Sendable, Codable {
    /// The network's name in checkpoints (`mlp`).
    static var kind: String { get }
    var inputSize: Int { get }
    var outputSize: Int { get }
    var parameterShapes: [[Int]] { get }
    /// Checkpoint names of the parameters after the policy's prefix (`0.weight`, `0.bias`, …).
    var parameterNames: [String] { get }
    func initialParameters<Scalar: TensorScalar>(as: Scalar.Type, using rng: inout some RandomNumberGenerator) -> [Tensor<Scalar>]
    /// The output for a batch of inputs `[rows, inputSize]`, recorded in the graph.
    func callAsFunction<Scalar>(_ x: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> Tensor<Scalar>
    /// The shape in words, for messages (`2 → 64 → 64 → 2, tanh`).
    var summary: String { get }
    func isEqual(to other: any PolicyNetwork) -> Bool
}

extension PolicyNetwork where Self: Equatable {
    public func isEqual(to other: any PolicyNetwork) -> Bool { (other as? Self) == self }
}

extension MLP: PolicyNetwork {
    public static let kind = "mlp"
    public var inputSize: Int { layerSizes.first! }
    public var outputSize: Int { layerSizes.last! }
    public var parameterNames: [String] { (0..<(layerSizes.count - 1)).flatMap { ["\($0).weight", "\($0).bias"] } }
    public var summary: String { layerSizes.map(String.init).joined(separator: " → ") + ", \(activation.rawValue)" }
}

/// The networks checkpoints can name.
enum PolicyNetworks {
    static let all: [any PolicyNetwork.Type] = [MLP.self]
    static func named(_ kind: String) -> (any PolicyNetwork.Type)? { all.first { $0.kind == kind } }
}
