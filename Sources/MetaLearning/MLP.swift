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

extension MLP {
    /// The network at fixed parameters and inputs, kept for Jacobian–vector products: each
    /// layer's input and the derivative of its activation.
    public struct Linearisation<Scalar: TensorScalar>: @unchecked Sendable {
        // @unchecked: the tensors are constants, read only.
        let weights: [Tensor<Scalar>]
        let layerInputs: [Tensor<Scalar>]
        let activationSlopes: [Tensor<Scalar>]
    }

    /// Runs the network once at `parameters` (as constants) and keeps what its Jacobian needs.
    public func linearise<Scalar>(_ x: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> Linearisation<Scalar> {
        var h = x.detached
        var inputs: [Tensor<Scalar>] = []
        var slopes: [Tensor<Scalar>] = []
        for layer in 0..<(layerSizes.count - 1) {
            inputs.append(h)
            let z = Tensor.linear(h, parameters[2 * layer].detached, parameters[2 * layer + 1].detached)
            guard layer < layerSizes.count - 2 else { break }
            switch activation {
            case .tanh:
                h = z.tanh()
                slopes.append(1 - h.squared())
            case .relu:
                h = z.relu()
                slopes.append(Tensor(shape: z.shape, scalars: z.scalars.map { $0 > 0 ? 1 : 0 }))
            }
        }
        return Linearisation(weights: stride(from: 0, to: parameters.count, by: 2).map { parameters[$0].detached },
                             layerInputs: inputs, activationSlopes: slopes)
    }

    /// J·v: how the outputs at the linearisation point change along the parameter direction
    /// `tangents` (`[Ẇ₁, ḃ₁, …]`), by forward-mode differentiation — two products per layer.
    public func jacobianProduct<Scalar>(_ point: Linearisation<Scalar>, tangents: [Tensor<Scalar>]) -> Tensor<Scalar> {
        var hDot: Tensor<Scalar>? = nil
        for layer in 0..<(layerSizes.count - 1) {
            // ż = x·Ẇ + ḃ + ẋ·W, with ẋ = 0 for the network's input.
            var zDot = Tensor.linear(point.layerInputs[layer], tangents[2 * layer].detached, tangents[2 * layer + 1].detached)
            if let hDot { zDot = zDot + hDot.matmul(point.weights[layer]) }
            guard layer < layerSizes.count - 2 else { return zDot }
            hDot = zDot * point.activationSlopes[layer]
        }
        preconditionFailure("an MLP has at least one layer")
    }
}
