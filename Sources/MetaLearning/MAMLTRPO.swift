import Autodiff
import Dispatch
import Environments
import Foundation

/// MAML with TRPO outer updates (Finn, Abbeel & Levine, ICML 2017, §5.3 and Algorithm 3), as
/// pytorch-maml-rl implements it.
///
/// For each task of a meta-batch: sample episodes with π_θ, adapt θ' = θ − α∇L_in(θ) (k times,
/// sampling again after each step), and sample validation episodes with π_θ'. Then one TRPO step
/// on the mean over tasks of the adapted surrogate −E[π_θ'(a|s)/π_old(a|s) · Â'], where θ' is
/// recomputed from θ *through* the inner steps (second order). With the `reinforce` inner
/// objective the meta-gradient is the exact derivative of that sampled surrogate; with `lvc` the
/// inner Hessian is ProMP's estimate, which credits the pre-update sampling distribution (see
/// `InnerObjective`). The trust region is the mean KL(π_θ' ‖ π_old), also through the inner steps.
///
/// The update runs as a `GradientMetaLearner` (`learner`): the policy-gradient inner step and
/// the `TrustRegionOptimizer`. `surrogate` keeps the direct form, a graph through the inner
/// steps, which tests differentiate to check the factored products.
public struct MAMLTRPO: Sendable {
    /// Every hyperparameter, with pytorch-maml-rl's 2D-navigation values as defaults.
    public struct Hyperparameters: Sendable, Equatable, Codable {
        // MARK: Inner loop
        /// α, the inner-loop step size (`fast-lr`, 0.1).
        public var innerStepSize: Double = 0.1
        /// k, policy-gradient steps in the inner loop (`num-steps`, 1).
        public var innerSteps: Int = 1
        /// Take α/2 for every inner step after the first, as the MAML paper's test protocol does
        /// (default off: α throughout, as pytorch-maml-rl trains).
        public var halvesStepAfterFirst: Bool = false
        /// Drop the second-order terms of the meta-gradient (first-order MAML; default off).
        public var firstOrder: Bool = false
        /// The inner loss's form in the meta-gradient: `reinforce` (pytorch-maml-rl, default) or
        /// `lvc` (ProMP's low-variance curvature).
        public var innerObjective: InnerObjective = .reinforce
        /// Which adapted policies the outer objective scores: the last (`final`, MAML, default) or
        /// each one in turn (`everyStep`, MAML++'s multi-step loss).
        public var outerLoss: OuterLoss = .final
        // MARK: Advantages
        /// γ, the discount (0.99).
        public var discount: Double = 0.99
        /// λ of GAE (`gae-lambda`, 1.0).
        public var gaeLambda: Double = 1.0
        /// How steps are averaged in losses, KLs and advantage normalisation: per episode
        /// (pytorch-maml-rl, default) or per step (rllab, behind the paper's figures).
        public var stepWeighting: StepWeighting = .episode
        // MARK: Trust region
        /// δ, the largest mean KL a meta-update may take (`max-kl`, 0.01).
        public var maxKL: Double = 0.01
        /// Conjugate-gradient iterations (`cg-iters`, 10).
        public var conjugateGradientIterations: Int = 10
        /// Added to the KL Hessian for conjugate gradient (`cg-damping`, 1e-5).
        public var conjugateGradientDamping: Double = 1e-5
        /// Line-search trials (`ls-max-steps`, 15).
        public var lineSearchSteps: Int = 15
        /// Step shrink factor between trials (`ls-backtrack-ratio`, 0.8).
        public var backtrackRatio: Double = 0.8

        public init() {}

        /// Keys missing from a saved configuration keep their defaults, so checkpoints written
        /// before a hyperparameter existed still load (and mean what they meant then).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Hyperparameters()
            innerStepSize = try c.decodeIfPresent(Double.self, forKey: .innerStepSize) ?? d.innerStepSize
            innerSteps = try c.decodeIfPresent(Int.self, forKey: .innerSteps) ?? d.innerSteps
            halvesStepAfterFirst = try c.decodeIfPresent(Bool.self, forKey: .halvesStepAfterFirst) ?? d.halvesStepAfterFirst
            firstOrder = try c.decodeIfPresent(Bool.self, forKey: .firstOrder) ?? d.firstOrder
            innerObjective = try c.decodeIfPresent(InnerObjective.self, forKey: .innerObjective) ?? d.innerObjective
            outerLoss = try c.decodeIfPresent(OuterLoss.self, forKey: .outerLoss) ?? d.outerLoss
            discount = try c.decodeIfPresent(Double.self, forKey: .discount) ?? d.discount
            gaeLambda = try c.decodeIfPresent(Double.self, forKey: .gaeLambda) ?? d.gaeLambda
            stepWeighting = try c.decodeIfPresent(StepWeighting.self, forKey: .stepWeighting) ?? d.stepWeighting
            maxKL = try c.decodeIfPresent(Double.self, forKey: .maxKL) ?? d.maxKL
            conjugateGradientIterations = try c.decodeIfPresent(Int.self, forKey: .conjugateGradientIterations) ?? d.conjugateGradientIterations
            conjugateGradientDamping = try c.decodeIfPresent(Double.self, forKey: .conjugateGradientDamping) ?? d.conjugateGradientDamping
            lineSearchSteps = try c.decodeIfPresent(Int.self, forKey: .lineSearchSteps) ?? d.lineSearchSteps
            backtrackRatio = try c.decodeIfPresent(Double.self, forKey: .backtrackRatio) ?? d.backtrackRatio
        }

        /// α for each inner step of meta-training: α throughout, or α then α/2.
        public func innerStepSizes<Scalar: TensorScalar>() -> [Scalar] {
            stepSizes(count: innerSteps, halvingAfterFirst: halvesStepAfterFirst)
        }

        /// The advantages and loss weights of a batch of episodes under these settings.
        /// - Throws: `BaselineError` when the baseline cannot be fitted.
        public func policyGradientBatch<Scalar: TensorScalar>(_ episodes: EpisodeBatch) throws -> PolicyGradientBatch<Scalar> {
            try PolicyGradientBatch(episodes, discount: discount, gaeLambda: gaeLambda, weighting: stepWeighting)
        }

        /// α for each of `count` steps: α throughout, or α then α/2.
        public func stepSizes<Scalar: TensorScalar>(count: Int, halvingAfterFirst: Bool) -> [Scalar] {
            (0..<count).map { Scalar(halvingAfterFirst && $0 > 0 ? innerStepSize / 2 : innerStepSize) }
        }
    }

    public typealias TaskRollout<S: TensorScalar> = MetaLearning.TaskRollout<S>

    /// What one meta-update did.
    public struct UpdateReport: Sendable, Equatable {
        public var lossBefore: Double
        public var lossAfter: Double
        public var klAfter: Double
        /// Line-search trials evaluated (1 when the full step was accepted).
        public var lineSearchTrials: Int
        public var accepted: Bool
        public var secondsMetaGradient: Double
        public var secondsConjugateGradient: Double
        public var secondsLineSearch: Double
    }

    public let policy: Policy
    public let hyperparameters: Hyperparameters

    public init(policy: Policy, hyperparameters: Hyperparameters = Hyperparameters()) {
        self.policy = policy
        self.hyperparameters = hyperparameters
    }

    // MARK: - As a meta-learner

    /// MAML-TRPO as the learner the trainer runs: the policy-gradient inner step (in the inner
    /// objective's form, or first order) and TRPO's outer step.
    public var learner: GradientMetaLearner {
        let h = hyperparameters
        return GradientMetaLearner(name: h.firstOrder ? "fo-maml" : "maml-trpo", policy: policy, inner: h,
                                   rule: PolicyGradientStep(objective: h.innerObjective, firstOrder: h.firstOrder),
                                   optimizer: TrustRegionOptimizer(h))
    }

    /// Samples and adapts on one task: k train batches, then a validation batch.
    /// - Returns: the rollout and the adapted parameters after each step.
    public func collect<Environment: VectorEnvironment>(
        task: Environment.Task, parameters: [Tensor<Float>], sampler: EpisodeSampler<Environment>, using rng: inout SplitMix64
    ) throws -> (rollout: TaskRollout<Float>, adapted: [[Tensor<Float>]]) {
        try learner.collect(task: task, parameters: parameters, sampler: sampler, using: &rng)
    }

    // MARK: - The outer objective

    /// The adapted surrogate loss and mean KL of one task, and the reference policies π_old they
    /// were measured against (the adapted policies themselves, detached, when `references` is nil):
    /// one per policy the outer loss scores, averaged.
    ///
    /// With `differentiable`, θ' is recomputed from θ through the inner steps and the results can
    /// be differentiated with respect to θ: exactly, or, with `firstOrder`, treating dθ'/dθ as the
    /// identity (the adapted values are added to θ as a constant offset).
    public func surrogate<Scalar>(
        _ theta: [Tensor<Scalar>], rollout: TaskRollout<Scalar>,
        references: [ActionDistribution<Scalar>]?, differentiable: Bool
    ) -> (loss: Tensor<Scalar>, kl: Tensor<Scalar>, references: [ActionDistribution<Scalar>]) {
        let h = hyperparameters
        let exact = differentiable && !h.firstOrder
        // θ₀ = θ, θ₁, …, θ_k.
        var points = [exact ? theta.map { $0.isTracked ? $0 : Tensor.variable($0) } : theta]
        for (batch, alpha) in zip(rollout.train, h.innerStepSizes() as [Scalar]) {
            points.append(InnerLoop.adapt(points.last!, policy: policy, batches: [batch], stepSizes: [alpha],
                                          createGraph: exact, objective: h.innerObjective))
        }
        if differentiable && h.firstOrder {
            points = [theta] + points.dropFirst().map { adapted in zip(theta, adapted).map { t, a in t + (a - t.detached) } }
        }
        let scored = rollout.scored(by: h.outerLoss)
        var losses: [Tensor<Scalar>] = []
        var kls: [Tensor<Scalar>] = []
        var olds: [ActionDistribution<Scalar>] = []
        for (index, (step, batch)) in scored.enumerated() {
            let current = batch.distribution(of: policy, parameters: points[step])
            let old = references?[index] ?? current.detached
            let (loss, kl) = Self.outerObjective(current, reference: old, on: batch)
            losses.append(loss)
            kls.append(kl)
            olds.append(old)
        }
        let share = Scalar(1) / Scalar(scored.count)
        return (losses.dropFirst().reduce(losses[0], +) * share, kls.dropFirst().reduce(kls[0], +) * share, olds)
    }

    /// The TRPO surrogate −E[π/π_old · Â'] and the mean KL(π ‖ π_old) on a validation batch,
    /// for the adapted policy `current`.
    static func outerObjective<Scalar>(
        _ current: ActionDistribution<Scalar>, reference old: ActionDistribution<Scalar>, on valid: PolicyGradientBatch<Scalar>
    ) -> (loss: Tensor<Scalar>, kl: Tensor<Scalar>) {
        let logRatio = current.logProbability(of: valid.actions) - old.logProbability(of: valid.actions)
        let loss = -(logRatio.exp() * valid.weightedAdvantages).sum()
        let kl = (current.klDivergence(to: old) * valid.stepWeights).sum()
        return (loss, kl)
    }

    // MARK: - The TRPO meta-update

    /// One meta-update of θ from the rollouts of a meta-batch, tasks spread over `threads`.
    /// - Throws: `NonFiniteValueError` when the outer loss, the KL, the meta-gradient, the step or
    ///   the updated parameters hold a NaN or an infinity (θ is then left as it was).
    public func update(
        _ parameters: [Tensor<Float>], rollouts: [TaskRollout<Float>], threads: Int
    ) throws -> (parameters: [Tensor<Float>], report: UpdateReport) {
        var learner = self.learner
        let (updated, metrics) = try learner.update(parameters, rollouts: rollouts, threads: threads)
        return (updated, UpdateReport(metrics))
    }

    /// The factored derivatives of one task's outer objective at θ: loss, KL, the meta-gradient
    /// through the inner steps and the KL's curvature (`TaskTerms`), as the update computes them.
    public func curvature<Scalar>(at parameters: [Tensor<Scalar>], rollout: TaskRollout<Scalar>) -> TaskTerms<Scalar> {
        learner.taskTerms(at: parameters, rollout: rollout, references: nil, form: .ratio, constants: [], needs: .curvature)
    }
}

extension MAMLTRPO.UpdateReport {
    /// The report of TRPO's figures, by their `progress.csv` names.
    init(_ metrics: [Metric]) {
        func value(_ name: String) -> Double { metrics.first { $0.name == name }?.value ?? 0 }
        self.init(lossBefore: value("losses/outer_before"), lossAfter: value("losses/outer_after"), klAfter: value("kl/after"), lineSearchTrials: Int(value("line_search/trials")),
                  accepted: value("line_search/accepted") == 1, secondsMetaGradient: value("time/meta_gradient"),
                  secondsConjugateGradient: value("time/conjugate_gradient"), secondsLineSearch: value("time/line_search"))
    }
}
