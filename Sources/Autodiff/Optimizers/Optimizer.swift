/// A first-order optimiser: moves parameters along (minus) their gradients, keeping whatever
/// per-parameter state it needs between steps.
public protocol Optimizer<Scalar> {
    associatedtype Scalar: TensorScalar
    /// One step: `parameters` are replaced by their updated (untracked) values.
    /// - Precondition: one gradient per parameter, of the same shape, in the same order every call.
    mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>])
}

func checkGradients<Scalar>(_ gradients: [Tensor<Scalar>], match parameters: [Tensor<Scalar>]) {
    precondition(gradients.count == parameters.count,
                 "\(gradients.count) gradients for \(parameters.count) parameters")
    for (g, p) in zip(gradients, parameters) {
        precondition(g.shape == p.shape, "gradient of shape \(g.shape) for a parameter of shape \(p.shape)")
    }
}
