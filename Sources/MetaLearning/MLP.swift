import Autodiff

/// A multilayer perceptron as a function of explicit parameters.
///
/// The network holds only its architecture; parameters are passed to every call, so MAML's inner
/// step can evaluate the same network at adapted parameters θ' = θ − α∇L(θ) without touching θ.
/// Parameters are ordered `[W₁, b₁, W₂, b₂, …]`, with `Wᵢ` of shape `[inᵢ, outᵢ]` and the input as
/// rows: `y = x·W + b`. The last layer is linear.
public struct MLP: Sendable, Equatable, Codable {
    /// The nonlinearity between layers.
    public enum Activation: String, Sendable, Codable, CaseIterable {
        case tanh, relu
    }

    /// Widths from input to output, for example `[2, 64, 64, 2]`.
    public let layerSizes: [Int]
    public let activation: Activation

    public init(layerSizes: [Int], activation: Activation) {
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 > 0 },
                     "an MLP needs at least an input and an output width, all positive: \(layerSizes)")
        self.layerSizes = layerSizes
        self.activation = activation
    }

    /// The shape of each parameter tensor, in order.
    public var parameterShapes: [[Int]] {
        zip(layerSizes, layerSizes.dropFirst()).flatMap { [[$0, $1], [$1]] }
    }

    /// Glorot-uniform weights (U[−a, a], a = √(6 / (in + out))) and zero biases, as pytorch-maml-rl
    /// initialises its policies.
    public func initialParameters<Scalar: TensorScalar>(
        as: Scalar.Type = Scalar.self, using rng: inout some RandomNumberGenerator
    ) -> [Tensor<Scalar>] {
        zip(layerSizes, layerSizes.dropFirst()).flatMap { input, output -> [Tensor<Scalar>] in
            let bound = Scalar(6.0 / Double(input + output)).squareRoot()
            return [Tensor.uniform([input, output], in: -bound...bound, using: &rng), Tensor.zeros([output])]
        }
    }

    /// The network's output for a batch of inputs `x` of shape `[rows, layerSizes.first]`.
    @specialized(where Scalar == Float)
    public func callAsFunction<Scalar>(_ x: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> Tensor<Scalar> {
        precondition(parameters.count == 2 * (layerSizes.count - 1),
                     "\(parameters.count) parameter tensors for an MLP with \(layerSizes.count - 1) layers")
        var h = x
        for layer in 0..<(layerSizes.count - 1) {
            h = Tensor.linear(h, parameters[2 * layer], parameters[2 * layer + 1])
            if layer < layerSizes.count - 2 {
                switch activation {
                case .tanh: h = h.tanh()
                case .relu: h = h.relu()
                }
            }
        }
        return h
    }
}
