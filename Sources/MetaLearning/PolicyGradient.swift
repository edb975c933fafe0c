import Autodiff

/// An episode batch made ready for a policy-gradient loss: observations and actions as tensors,
/// and each step's weight × advantage as a constant.
public struct PolicyGradientBatch<Scalar: TensorScalar>: Sendable {
    public let episodes: EpisodeBatch
    /// What the policy's network reads: the episodes' distinct observations when they repeat
    /// (`observationRows` then says which row each step observed), otherwise every step's own.
    public let networkInputs: Tensor<Scalar>
    /// Each step's row of `networkInputs`; nil when step s is row s.
    public let observationRows: ObservationRows?
    public let actions: Tensor<Scalar>
    /// wᵢ·Âᵢ per step, `[steps, 1]`: the batch's average (`EpisodeBatch.stepWeights`) is folded
    /// into the weights, so a loss is a plain sum.
    public let weightedAdvantages: Tensor<Scalar>
    /// wᵢ per step, `[steps, 1]`, for averages such as the mean KL.
    public let stepWeights: Tensor<Scalar>
    /// The fitted baseline's V(s_t) per step (DiCE's baseline term reads it).
    public let values: [Double]
    /// The root-mean-square of the advantages before normalisation (1 without it): DiCE scales
    /// its rewards by it, so that its first-order step matches the normalised one in size.
    public let advantageScale: Double

    /// Fits a fresh linear baseline to the batch's discounted returns, forms GAE(γ, λ) advantages
    /// and normalises them per task.
    /// - Parameter weighting: how steps are averaged, in the normalisation and in the losses.
    /// - Throws: `BaselineError` when the baseline cannot be fitted.
    public init(_ episodes: EpisodeBatch, discount: Double, gaeLambda: Double, weighting: StepWeighting,
                normalizesAdvantages: Bool = true) throws {
        var baseline = LinearFeatureBaseline(observationSize: episodes.observationSize)
        try baseline.fit(episodes, targets: episodes.discountedReturns(discount: discount))
        let values = baseline.predict(episodes)
        var advantages = episodes.advantages(values: values, discount: discount, lambda: gaeLambda)
        let weights = episodes.stepWeights(weighting)
        self.values = values
        advantageScale = normalizesAdvantages ? zip(weights, advantages).reduce(0) { $0 + $1.0 * $1.1 * $1.1 }.squareRoot() + 1e-8 : 1
        if normalizesAdvantages { advantages = episodes.normalized(advantages, weighting: weighting) }
        self.episodes = episodes
        (networkInputs, observationRows) = Self.networkInputs(of: episodes)
        actions = Tensor(shape: [episodes.stepCount, episodes.actionSize], scalars: episodes.actions.map { Scalar($0) })
        stepWeights = Tensor(shape: [episodes.stepCount, 1], scalars: weights.map { Scalar($0) })
        weightedAdvantages = Tensor(shape: [episodes.stepCount, 1], scalars: zip(weights, advantages).map { Scalar($0 * $1) })
    }

    /// A batch with given per-step weighted advantages and weights (no baseline, no
    /// normalisation): for estimators that need raw returns, such as the exact tests.
    public init(episodes: EpisodeBatch, weightedAdvantages: [Double], stepWeights: [Double]) {
        precondition(weightedAdvantages.count == episodes.stepCount && stepWeights.count == episodes.stepCount,
                     "\(weightedAdvantages.count) advantages and \(stepWeights.count) weights for \(episodes.stepCount) steps")
        self.episodes = episodes
        (networkInputs, observationRows) = Self.networkInputs(of: episodes)
        actions = Tensor(shape: [episodes.stepCount, episodes.actionSize], scalars: episodes.actions.map { Scalar($0) })
        self.stepWeights = Tensor(shape: [episodes.stepCount, 1], scalars: stepWeights.map { Scalar($0) })
        self.weightedAdvantages = Tensor(shape: [episodes.stepCount, 1], scalars: weightedAdvantages.map { Scalar($0) })
        values = Array(repeating: 0, count: episodes.stepCount)
        advantageScale = 1
    }

    /// The distinct observations and each step's row among them when at most half the steps'
    /// observations are distinct (where running the network once per row saves more than the
    /// gathering costs); every step's observation otherwise.
    static func networkInputs(of episodes: EpisodeBatch) -> (Tensor<Scalar>, ObservationRows?) {
        let d = episodes.observationSize
        if 2 * episodes.distinctObservationCount <= episodes.stepCount {
            return (Tensor(shape: [episodes.distinctObservationCount, d], scalars: episodes.distinctObservations.map { Scalar($0) }),
                    ObservationRows(rows: episodes.observationRows, distinctCount: episodes.distinctObservationCount))
        }
        return (Tensor(shape: [episodes.stepCount, d], scalars: episodes.observations.map { Scalar($0) }), nil)
    }

    /// π(·|s_t) at every step of the batch.
    public func distribution(of policy: Policy, parameters: [Tensor<Scalar>]) -> ActionDistribution<Scalar> {
        policy.distribution(networkInputs, rows: observationRows, parameters: parameters)
    }

    /// log π(a_t|s_t) at every step of the batch, `[steps, 1]`.
    public func logProbabilities(of policy: Policy, parameters: [Tensor<Scalar>]) -> Tensor<Scalar> {
        distribution(of: policy, parameters: parameters).logProbability(of: actions)
    }

    /// The same batch with every step's own observation fed to the network, nothing gathered:
    /// the dense form the gathered one must agree with.
    func densified() -> PolicyGradientBatch<Scalar> {
        let d = episodes.observationSize
        return PolicyGradientBatch(copying: self, weightedAdvantages: weightedAdvantages,
                                   networkInputs: Tensor(shape: [episodes.stepCount, d], scalars: episodes.observations.map { Scalar($0) }),
                                   observationRows: nil)
    }

    private init(copying batch: PolicyGradientBatch, weightedAdvantages: Tensor<Scalar>) {
        self.init(copying: batch, weightedAdvantages: weightedAdvantages, networkInputs: batch.networkInputs,
                  observationRows: batch.observationRows)
    }

    private init(copying batch: PolicyGradientBatch, weightedAdvantages: Tensor<Scalar>, networkInputs: Tensor<Scalar>,
                 observationRows: ObservationRows?) {
        episodes = batch.episodes
        self.networkInputs = networkInputs
        self.observationRows = observationRows
        actions = batch.actions
        self.weightedAdvantages = weightedAdvantages
        stepWeights = batch.stepWeights
        values = batch.values
        advantageScale = batch.advantageScale
    }

    /// The batch with each step's weighted advantage multiplied by π_θ(a|s)/π_ref(a|s), the
    /// likelihood ratio of the policy at `parameters` to the one that sampled it: the REINFORCE
    /// gradient of the result at θ is the gradient of the LVC loss −Σ w (π_θ/π_ref) Â with π_ref
    /// held at the sampling policy, and its LVC Hessian that loss's Hessian, at any θ.
    public func importanceWeighted(policy: Policy, parameters: [Tensor<Scalar>], reference: ActionDistribution<Scalar>)
        -> PolicyGradientBatch<Scalar> {
        let current = logProbabilities(of: policy, parameters: parameters.map(\.detached))
        let ratio = (current - reference.logProbability(of: actions)).exp()
        return PolicyGradientBatch(copying: self, weightedAdvantages: weightedAdvantages * ratio)
    }

    /// The REINFORCE loss −Σ_t w_t log π_θ(a_t|s_t) Â_t: with `.episode` weights, −mean over
    /// episodes of (1/T) Σ_t log π_θ(a_t|s_t) Â_t.
    public func reinforceLoss(policy: Policy, parameters: [Tensor<Scalar>]) -> Tensor<Scalar> {
        innerLoss(policy: policy, parameters: parameters, objective: .reinforce)
    }

    /// The loss an inner step descends, in the form `objective` gives it.
    public func innerLoss(policy: Policy, parameters: [Tensor<Scalar>], objective: InnerObjective) -> Tensor<Scalar> {
        let logProbability = logProbabilities(of: policy, parameters: parameters)
        switch objective {
        case .reinforce:
            return -(logProbability * weightedAdvantages).sum()
        case .lvc:
            // π/⊥π is 1 in value and ∇ log π in gradient; its second derivative adds ∇log π ∇log πᵀ.
            return -((logProbability - logProbability.detached).exp() * weightedAdvantages).sum()
        }
    }
}

/// The form of the inner loss that MAML differentiates through.
///
/// Both forms have the same gradient at every θ on the same episodes (⊥π is taken at the θ being
/// evaluated, so π/⊥π is 1 in value), so the inner step θ' = θ − α g(θ) is the same function of θ
/// and the adaptation does not change. What MAML differentiates through differs: the matrix H in
/// the meta-gradient (I − αH)ᵀ ∇_θ' L_out and in the trust region's curvature.
///
/// - `reinforce`: H = Σ w Â ∇²log π is the true Jacobian of g on the fixed episodes, so the
///   meta-gradient is the exact derivative of the sampled surrogate L_out(θ'(θ)) that the line
///   search evaluates. As an estimate of the gradient of the expected post-update return it is
///   biased: it leaves out how the pre-update episodes' distribution depends on θ.
/// - `lvc`: H = Σ w Â (∇²log π + ∇log π ∇log πᵀ), ProMP's low-variance estimate of the Hessian
///   of the expected return, which credits the pre-update sampling distribution. It is the
///   Hessian of −Σ w (π_θ/π_ref) Â with π_ref held at the policy that sampled the episodes, and
///   the meta-learners evaluate that loss (with its likelihood ratios) wherever they move θ, so
///   the meta-gradient is still the derivative of the surrogate the line search and PPO's epochs
///   test. As an estimate of the gradient of the expected post-update objective it drops the
///   cross-time terms of the sampling distribution's derivative (DiCE keeps them).
public enum InnerObjective: String, Sendable, Codable, CaseIterable {
    /// −Σ w log π_θ(a|s) Â (pytorch-maml-rl, garage, cbfinn/maml_rl). Its Hessian Σ w Â ∇²log π
    /// leaves out how the pre-update episodes' distribution depends on θ.
    case reinforce
    /// −Σ w (π_θ(a|s)/⊥π_θ(a|s)) Â, ⊥ holding its argument constant: ProMP's low-variance
    /// curvature (Rothfuss et al., ICLR 2019). Its Hessian Σ w Â (∇²log π + ∇log π ∇log πᵀ) adds
    /// each step's share of the sampling distribution's term, which credits the pre-update policy
    /// for exploring well.
    case lvc
}

/// Which adapted policies MAML's outer objective scores.
public enum OuterLoss: String, Sendable, Codable, CaseIterable {
    /// The policy after the last inner step, on the validation episodes: MAML's objective.
    case final
    /// Every adapted policy θ₁ … θ_k, each on the episodes sampled with it (the next step's train
    /// batch, or the validation batch for θ_k), averaged: the multi-step loss of MAML++ (Antoniou,
    /// Edwards & Storkey, "How to train your MAML", ICLR 2019), so that each step must pay off,
    /// not only the last. It samples nothing more; each CG product takes one more Fisher product
    /// per extra scored policy.
    case everyStep = "every-step"
    /// The unadapted policy θ₀ on the first inner step's episodes as well as every adapted one,
    /// averaged: MAML's objective scores only adapted policies, which leaves θ₀ free to drift
    /// wherever adaptation still recovers from (a navigation policy that heads out of the arena);
    /// this keeps it good by itself too, as the pretrained baseline is.
    case everyStepAndStart = "every-step-and-start"
}

/// The inner loop of MAML: policy-gradient steps from θ, each on its own batch of episodes.
public enum InnerLoop {
    /// θ_{k+1} = θ_k − α_k ∇ L(θ_k; batches[k]) for every batch in turn.
    ///
    /// - Parameters:
    ///   - stepSizes: α for each step (MAML's test protocol uses α, then α/2).
    ///   - createGraph: keep the steps differentiable (exact second-order MAML); otherwise the
    ///     adapted parameters are plain values (first-order MAML, sampling, evaluation).
    ///   - objective: the inner loss's form; it matters only with `createGraph`.
    public static func adapt<Scalar>(
        _ parameters: [Tensor<Scalar>], policy: Policy, batches: [PolicyGradientBatch<Scalar>],
        stepSizes: [Scalar], createGraph: Bool, objective: InnerObjective = .reinforce
    ) -> [Tensor<Scalar>] {
        precondition(stepSizes.count == batches.count, "\(stepSizes.count) step sizes for \(batches.count) inner steps")
        guard createGraph else {
            // Plain values: the hand-written backward pass, without a graph.
            var theta = parameters.map(\.detached)
            for (batch, alpha) in zip(batches, stepSizes) {
                theta = zip(theta, batch.innerGradient(policy: policy, parameters: theta)).map { $0 - alpha * $1 }
            }
            return theta
        }
        var theta = parameters.map { $0.isTracked ? $0 : Tensor.variable($0) }
        for (batch, alpha) in zip(batches, stepSizes) {
            let loss = batch.innerLoss(policy: policy, parameters: theta, objective: objective)
            let gradient = gradients(of: loss, wrt: theta, createGraph: true)
            theta = zip(theta, gradient).map { $0 - alpha * $1 }
        }
        return theta
    }
}
