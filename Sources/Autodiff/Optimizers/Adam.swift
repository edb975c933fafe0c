import RealModule

/// Adam (Kingma & Ba, ICLR 2015, Algorithm 1): bias-corrected running means of the gradient and
/// its square, m̂ and v̂, and the step θ ← θ − η·m̂ / (√v̂ + ε).
public struct Adam<Scalar: TensorScalar>: Optimizer, Sendable {
    /// η, the step size (default 1e-3).
    public let learningRate: Scalar
    /// β₁, the decay of the first-moment estimate (default 0.9).
    public let beta1: Scalar
    /// β₂, the decay of the second-moment estimate (default 0.999).
    public let beta2: Scalar
    /// ε, added to √v̂ for numerical safety (default 1e-8).
    public let epsilon: Scalar
    /// t, the number of steps taken.
    public private(set) var step = 0
    private var firstMoment: [Tensor<Scalar>] = []
    private var secondMoment: [Tensor<Scalar>] = []

    public init(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8) {
        precondition(learningRate > 0 && learningRate.isFinite, "Adam learning rate must be positive, got \(learningRate)")
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam betas must be in [0, 1), got \(beta1), \(beta2)")
        precondition(epsilon > 0, "Adam epsilon must be positive, got \(epsilon)")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// What resuming exactly needs besides the settings: t and the two moment estimates (empty
    /// before the first step).
    public struct State: Sendable {
        public var step: Int
        public var firstMoment: [Tensor<Scalar>]
        public var secondMoment: [Tensor<Scalar>]

        public init(step: Int, firstMoment: [Tensor<Scalar>], secondMoment: [Tensor<Scalar>]) {
            self.step = step
            self.firstMoment = firstMoment
            self.secondMoment = secondMoment
        }
    }

    /// The optimiser's state, to save in a checkpoint and to set when resuming.
    public var state: State {
        get { State(step: step, firstMoment: firstMoment, secondMoment: secondMoment) }
        set {
            precondition(newValue.firstMoment.map(\.shape) == newValue.secondMoment.map(\.shape), "Adam moments of different shapes")
            step = newValue.step
            firstMoment = newValue.firstMoment
            secondMoment = newValue.secondMoment
        }
    }

    public mutating func update(_ parameters: inout [Tensor<Scalar>], along gradients: [Tensor<Scalar>]) {
        checkGradients(gradients, match: parameters)
        if firstMoment.isEmpty {
            firstMoment = gradients.map { .zeros($0.shape) }
            secondMoment = firstMoment
        }
        step += 1
        let t = Scalar(step)
        let firstCorrection = 1 - Scalar.pow(beta1, t)
        let secondCorrection = 1 - Scalar.pow(beta2, t)
        for i in parameters.indices {
            let g = gradients[i].detached
            firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g
            secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * g.squared()
            let mHat = firstMoment[i] / firstCorrection
            let vHat = secondMoment[i] / secondCorrection
            parameters[i] = (parameters[i] - learningRate * mHat / (vHat.squareRoot() + epsilon)).detached
        }
    }
}
