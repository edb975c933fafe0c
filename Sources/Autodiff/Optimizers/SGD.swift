/// Stochastic gradient descent, optionally with (heavy-ball) momentum:
/// v ← μ·v + g, θ ← θ − η·v.
public struct SGD<Scalar: TensorScalar>: Optimizer {
    /// η, the step size.
    public let learningRate: Scalar
    /// μ, the momentum coefficient in [0, 1); 0 is plain gradient descent.
    public let momentum: Scalar
    private var velocity: [Tensor<Scalar>] = []

    public init(learningRate: Scalar, momentum: Scalar = 0) {
        precondition(learningRate > 0 && learningRate.isFinite, "SGD learning rate must be positive, got \(learningRate)")
        precondition(momentum >= 0 && momentum < 1, "SGD momentum must be in [0, 1), got \(momentum)")
        self.learningRate = learningRate
        self.momentum = momentum
    }

    public mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>]) {
        checkGradients(gradients, match: parameters)
        if momentum == 0 {
            for i in parameters.indices { parameters[i] = (parameters[i] - learningRate * gradients[i]).detached }
            return
        }
        if velocity.isEmpty { velocity = gradients.map { .zeros($0.shape) } }
        for i in parameters.indices {
            velocity[i] = (momentum * velocity[i] + gradients[i]).detached
            parameters[i] = (parameters[i] - learningRate * velocity[i]).detached
        }
    }
}
