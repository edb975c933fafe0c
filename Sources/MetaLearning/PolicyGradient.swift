import Autodiff

/// An episode batch made ready for a policy-gradient loss: observations and actions as tensors,
/// and each step's weight × advantage as a constant.
public struct PolicyGradientBatch<Scalar: TensorScalar>: Sendable {
    public let episodes: EpisodeBatch
    public let observations: Tensor<Scalar>
    public let actions: Tensor<Scalar>
    /// wᵢ·Âᵢ per step, `[steps, 1]`: the batch's average (`EpisodeBatch.stepWeights`) is folded
    /// into the weights, so a loss is a plain sum.
    public let weightedAdvantages: Tensor<Scalar>
    /// wᵢ per step, `[steps, 1]`, for averages such as the mean KL.
    public let stepWeights: Tensor<Scalar>

    /// Fits a fresh linear baseline to the batch's discounted returns, forms GAE(γ, λ) advantages
    /// and normalises them per task.
    /// - Parameter weighting: how steps are averaged, in the normalisation and in the losses.
    /// - Throws: `BaselineError` when the baseline cannot be fitted.
    public init(_ episodes: EpisodeBatch, discount: Double, gaeLambda: Double, weighting: StepWeighting,
                normalizesAdvantages: Bool = true) throws {
        var baseline = LinearFeatureBaseline(observationSize: episodes.observationSize)
        try baseline.fit(episodes, targets: episodes.discountedReturns(discount: discount))
        var advantages = episodes.advantages(values: baseline.predict(episodes), discount: discount, lambda: gaeLambda)
        if normalizesAdvantages { advantages = episodes.normalized(advantages, weighting: weighting) }
        self.episodes = episodes
        observations = Tensor(shape: [episodes.stepCount, episodes.observationSize], scalars: episodes.observations.map { Scalar($0) })
        actions = Tensor(shape: [episodes.stepCount, episodes.actionSize], scalars: episodes.actions.map { Scalar($0) })
        let weights = episodes.stepWeights(weighting)
        stepWeights = Tensor(shape: [episodes.stepCount, 1], scalars: weights.map { Scalar($0) })
        weightedAdvantages = Tensor(shape: [episodes.stepCount, 1], scalars: zip(weights, advantages).map { Scalar($0 * $1) })
    }

    /// The REINFORCE loss −Σ_t w_t log π_θ(a_t|s_t) Â_t: with `.episode` weights, −mean over
    /// episodes of (1/T) Σ_t log π_θ(a_t|s_t) Â_t.
    public func reinforceLoss(policy: Policy, parameters: [Tensor<Scalar>]) -> Tensor<Scalar> {
        -(policy.logProbability(of: actions, at: observations, parameters: parameters) * weightedAdvantages).sum()
    }
}

/// The inner loop of MAML: policy-gradient steps from θ, each on its own batch of episodes.
public enum InnerLoop {
    /// θ_{k+1} = θ_k − α_k ∇ L(θ_k; batches[k]) for every batch in turn.
    ///
    /// - Parameters:
    ///   - stepSizes: α for each step (MAML's test protocol uses α, then α/2).
    ///   - createGraph: keep the steps differentiable (exact second-order MAML); otherwise the
    ///     adapted parameters are plain values (first-order MAML, sampling, evaluation).
    public static func adapt<Scalar>(
        _ parameters: [Tensor<Scalar>], policy: Policy, batches: [PolicyGradientBatch<Scalar>],
        stepSizes: [Scalar], createGraph: Bool
    ) -> [Tensor<Scalar>] {
        precondition(stepSizes.count == batches.count, "\(stepSizes.count) step sizes for \(batches.count) inner steps")
        var theta = parameters.map { $0.isTracked ? $0 : Tensor.variable($0) }
        for (batch, alpha) in zip(batches, stepSizes) {
            let loss = batch.reinforceLoss(policy: policy, parameters: theta)
            let gradient = gradients(of: loss, wrt: theta, createGraph: createGraph)
            theta = zip(theta, gradient).map { createGraph ? $0 - alpha * $1 : Tensor.variable(($0 - alpha * $1).detached) }
        }
        return createGraph ? theta : theta.map(\.detached)
    }
}
