import Autodiff

/// A small Gaussian policy with a tanh MLP mean and a state-independent log-std, written directly
/// with tensor operations: the shape of loss that MAML-TRPO differentiates to third order.
public struct GaussianPolicyFixture: Sendable {
    public let sizes: [Int]
    public let observations: Tensor<Double>
    public let actions: Tensor<Double>
    public let advantages: Tensor<Double>

    public init(sizes: [Int], rows: Int, seed: Int) {
        var rng = testGenerator(seed)
        self.sizes = sizes
        observations = .uniform([rows, sizes.first!], in: -1...1, using: &rng)
        actions = .uniform([rows, sizes.last!], in: -1.5...1.5, using: &rng)
        advantages = .uniform([rows, 1], in: -1...1, using: &rng)
    }

    /// Parameters `[W₁, b₁, …, log σ]`.
    public func parameters(seed: Int) -> [Tensor<Double>] {
        var rng = testGenerator(seed)
        var result: [Tensor<Double>] = []
        for (input, output) in zip(sizes, sizes.dropFirst()) {
            result.append(.uniform([input, output], in: -0.8...0.8, using: &rng))
            result.append(.uniform([output], in: -0.2...0.2, using: &rng))
        }
        result.append(.uniform([sizes.last!], in: -0.3...0.3, using: &rng))
        return result
    }

    public func mean(_ parameters: [Tensor<Double>]) -> Tensor<Double> {
        var h = observations
        let layers = sizes.count - 1
        for layer in 0..<layers {
            h = h.matmul(parameters[2 * layer]) + parameters[2 * layer + 1]
            if layer < layers - 1 { h = h.tanh() }
        }
        return h
    }

    /// log π(a|s) per row, shape [rows, 1].
    public func logProbability(_ parameters: [Tensor<Double>]) -> Tensor<Double> {
        let logStd = parameters.last!
        let z = (actions - mean(parameters)) / logStd.exp()
        let perDimension = -0.5 * z.squared() - logStd - 0.5 * Double.log(2 * Double.pi)
        return perDimension.sum(alongAxis: 1, keepingDimension: true)
    }

    /// The policy-gradient surrogate −mean(log π · Â).
    public func surrogateLoss(_ parameters: [Tensor<Double>]) -> Tensor<Double> {
        -(logProbability(parameters) * advantages).mean()
    }

    /// mean over rows of KL(π_reference ‖ π_parameters) for diagonal Gaussians.
    public func meanKL(from reference: (mean: Tensor<Double>, logStd: Tensor<Double>),
                       to parameters: [Tensor<Double>]) -> Tensor<Double> {
        let mu = mean(parameters), logStd = parameters.last!
        let varianceRatio = (2 * (reference.logStd - logStd)).exp()
        let meanTerm = (reference.mean - mu).squared() / (2 * logStd).exp()
        let perDimension = logStd - reference.logStd + 0.5 * (varianceRatio + meanTerm) - 0.5
        return perDimension.sum(alongAxis: 1).mean()
    }

    /// θ' = θ − α∇L(θ), one inner policy-gradient step, kept differentiable.
    public func adapted(_ parameters: [Tensor<Double>], stepSize: Double) -> [Tensor<Double>] {
        let theta = parameters.map { $0.isTracked ? $0 : .variable($0) }
        let g = gradients(of: surrogateLoss(theta), wrt: theta, createGraph: true)
        return zip(theta, g).map { $0 - stepSize * $1 }
    }
}
