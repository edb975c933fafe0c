import Autodiff

/// The form of the outer surrogate, chosen by the outer optimiser.
public enum SurrogateForm: Sendable, Equatable {
    /// −E[r·Â'], r = π_θ'/π_old: TRPO's surrogate, and at x_old the policy gradient (VPG).
    case ratio
    /// −E[min(r·Â', clip(r, 1 − ε, 1 + ε)·Â')]: PPO's clipped surrogate.
    case clipped(epsilon: Double)
}

/// What one task's outer objective is measured against, fixed at the meta-parameters the
/// episodes were sampled with: π_old of each scored policy, on its episodes, and the pre-update
/// policy of each inner step, on the episodes it sampled (ProMP's inner KL).
public struct TaskReferences<Scalar: TensorScalar>: @unchecked Sendable {
    // @unchecked: the distributions' tensors are constants, only read.
    public var scored: [ActionDistribution<Scalar>]
    /// Empty when neither the rule nor a term reads them.
    public var inner: [ActionDistribution<Scalar>]
}

/// A term an outer objective adds to the adapted surrogate (ProMP's inner-KL penalty, E-MAML's
/// exploration term), as a function of the points θ₀ … θ_k.
public protocol OuterTerm: Sendable {
    /// Whether `prepare` reads the post-update rewards (then gathered from every process).
    var readsPostUpdateRewards: Bool { get }
    /// Per-task constants that depend on the whole meta-batch (E-MAML's normalised post-update
    /// rewards), from every task's post-update rewards in task order; one value per task, or none.
    func prepare(postUpdateRewards: [[Float]]) -> [Double]
    /// The term's value, and with `gradient` its gradient with respect to each θ_s it involves
    /// (flattened), at the points of one task.
    func evaluate<Scalar>(
        points: [[Tensor<Scalar>]], rollout: TaskRollout<Scalar>, references: TaskReferences<Scalar>, constant: Double?,
        policy: Policy, gradient: Bool
    ) -> (value: Scalar, z: [Int: Tensor<Scalar>])
    /// The columns `observe` reports.
    var metricColumns: [String] { get }
    /// Whether `observe` reads the inner steps' KLs (measured only then).
    var readsInnerKL: Bool { get }
    /// Reads the meta-batch's terms where a meta-update ended (ProMP adapts its penalty to the
    /// inner KL there) and reports its figures.
    mutating func observe(_ terms: MetaBatchTerms) -> [Metric]
    /// What resuming exactly needs, saved in checkpoints.
    var state: [StateTensor] { get }
    mutating func restore(_ state: [StateTensor]) throws
}

extension OuterTerm {
    public var readsPostUpdateRewards: Bool { false }
    public func prepare(postUpdateRewards: [[Float]]) -> [Double] { [] }
    public var metricColumns: [String] { [] }
    public var readsInnerKL: Bool { false }
    public mutating func observe(_ terms: MetaBatchTerms) -> [Metric] { [] }
    public var state: [StateTensor] { [] }
    public mutating func restore(_ state: [StateTensor]) throws {}
}

/// One task's outer objective at some meta-parameters x.
public struct TaskTerms<Scalar: TensorScalar>: @unchecked Sendable {
    // @unchecked: the references and the curvature's factors are immutable once built.

    /// The surrogate (plus any extra terms) and the mean KL of the scored policies from π_old.
    public var loss: Scalar
    public var kl: Scalar
    /// ∂loss/∂x, flattened, when asked for.
    public var gradient: Tensor<Scalar>?
    /// The meta-gradient, for terms built with one.
    public var metaGradient: Tensor<Scalar> { gradient! }
    public var references: TaskReferences<Scalar>
    /// The mean KL of each inner step's pre-update policy from its reference (ProMP's inner KL),
    /// when a term reads it; empty otherwise.
    public var innerKLs: [Scalar]
    let fisher: [(step: Int, curvature: PolicyOutputFisher<Scalar>)]
    let map: (any AdaptationMap<Scalar>)?

    /// The KL's Hessian with respect to x times v: (1/n) Σ_s J_sᵀ F_s J_s v. Exact at the point
    /// the references were taken (where each KL and its gradient vanish), which is where TRPO asks.
    public func klHessianProduct(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let map, !fisher.isEmpty else { preconditionFailure("KL curvature of terms built without it") }
        let share = Scalar(1) / Scalar(fisher.count)
        let forward = map.pushforward(v)
        var z: [Int: Tensor<Scalar>] = [:]
        for (step, curvature) in fisher {
            let product = share * curvature.product(forward[step])
            z[step] = z[step].map { $0 + product } ?? product
        }
        return map.pullback(z)
    }
}

/// What an outer optimiser asks of one task's objective.
public enum TermsNeeded: Sendable {
    /// Loss and KL only (line search, statistics).
    case value
    /// And the gradient (Adam, PPO).
    case gradient
    /// And the KL curvature (TRPO).
    case curvature
}

/// The adapted surrogate of one task: each scored policy θ_s on the episodes it sampled,
/// −Σ w·r·Â' (or PPO's clipped form), averaged over the scored policies, plus the extra terms.
///
/// - Parameter references: nil at the point the episodes were sampled with; the references are
///   then the adapted policies themselves, detached, and are returned for later evaluations.
@specialized(where Scalar == Float)
public func adaptedSurrogate<Scalar>(
    map: any AdaptationMap<Scalar>, policy: Policy, rollout: TaskRollout<Scalar>, outerLoss: OuterLoss,
    references given: TaskReferences<Scalar>?, form: SurrogateForm, extraTerms: [any OuterTerm], constants: [Double?],
    needs: TermsNeeded, keepsInnerReferences: Bool = true
) -> TaskTerms<Scalar> {
    let scored = rollout.scored(by: outerLoss)
    let tracked = needs != .value
    let share = Scalar(1) / Scalar(scored.count)
    var loss: Scalar = 0
    var kl: Scalar = 0
    var z: [Int: Tensor<Scalar>] = [:]
    var fisher: [(step: Int, curvature: PolicyOutputFisher<Scalar>)] = []
    var scoredReferences: [ActionDistribution<Scalar>] = []
    for (index, (step, batch)) in scored.enumerated() {
        let theta = tracked ? map.points[step].map { Tensor.variable($0) } : map.points[step]
        let current = batch.distribution(of: policy, parameters: theta)
        let reference = given?.scored[index] ?? current.detached
        let logRatio = current.logProbability(of: batch.actions) - reference.logProbability(of: batch.actions)
        let ratio = logRatio.exp()
        let surrogate: Tensor<Scalar>
        switch form {
        case .ratio:
            surrogate = ratio * batch.weightedAdvantages
        case .clipped(let epsilon):
            let clipped = ratio.clamped(to: Scalar(1 - epsilon)...Scalar(1 + epsilon)) * batch.weightedAdvantages
            let plain = ratio * batch.weightedAdvantages
            // min(r·Â, clip(r)·Â) row by row; the weights are positive, so the weighted rows compare alike.
            let takesPlain = TensorMask(shape: plain.shape, values: zip(plain.scalars, clipped.scalars).map { $0 <= $1 })
            surrogate = Tensor.selecting(takesPlain, plain, clipped)
        }
        let stepLoss = -share * surrogate.sum()
        let stepKL = share * (current.klDivergence(to: reference) * batch.stepWeights).sum()
        loss += stepLoss.scalar
        kl += stepKL.scalar
        scoredReferences.append(reference)
        if tracked {
            let g = ParameterVector.flatten(gradients(of: stepLoss, wrt: theta))
            z[step] = z[step].map { $0 + g } ?? g
        }
        if needs == .curvature {
            fisher.append((step, PolicyOutputFisher(policy: policy, inputs: batch.networkInputs, rows: batch.observationRows, parameters: map.points[step],
                                                    current: current, rowWeights: batch.stepWeights)))
        }
    }
    // The pre-update policy of each inner step, on the episodes it sampled: taken once, where the
    // episodes were sampled, when the rule or a term reads it; its KL from there only for terms
    // that read it (ProMP's penalty).
    let measuresInnerKL = extraTerms.contains { $0.readsInnerKL }
    var innerReferences: [ActionDistribution<Scalar>] = given?.inner ?? []
    var innerKLs: [Scalar] = []
    if (given == nil && (keepsInnerReferences || measuresInnerKL)) || measuresInnerKL {
        for (i, batch) in rollout.train.enumerated() {
            let current = batch.distribution(of: policy, parameters: map.points[i])
            if given == nil { innerReferences.append(current.detached) }
            if measuresInnerKL { innerKLs.append((innerReferences[i].klDivergence(to: current) * batch.stepWeights).sum().scalar) }
        }
    }
    let references = TaskReferences(scored: scoredReferences, inner: innerReferences)
    for (term, constant) in zip(extraTerms, constants) {
        let (value, termZ) = term.evaluate(points: map.points, rollout: rollout, references: references, constant: constant,
                                           policy: policy, gradient: tracked)
        loss += value
        for (step, g) in termZ { z[step] = z[step].map { $0 + g } ?? g }
    }
    return TaskTerms(loss: loss, kl: kl, gradient: tracked ? map.pullback(z) : nil, references: references,
                     innerKLs: innerKLs, fisher: fisher, map: needs == .curvature ? map : nil)
}
