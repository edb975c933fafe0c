import Autodiff

/// MAML's inner step, θ' = θ − α∇L(θ) on the REINFORCE loss, differentiated through in the
/// inner objective's form (`reinforce`, or ProMP's `lvc`), or not at all (first order).
public struct PolicyGradientStep: AdaptationRule {
    public var objective: InnerObjective
    public var firstOrder: Bool

    public init(objective: InnerObjective, firstOrder: Bool) {
        self.objective = objective
        self.firstOrder = firstOrder
    }

    /// LVC holds its ratio's denominator at the sampling policy.
    public var readsReferences: Bool { objective == .lvc }

    public func adapt(policy: Policy, _ theta: [Tensor<Float>], extra: [Tensor<Float>], on batch: PolicyGradientBatch<Float>,
                      stepSize: Float) -> [Tensor<Float>] {
        zip(theta, batch.innerGradient(policy: policy, parameters: theta)).map { $0 - stepSize * $1 }
    }

    @specialized(where Scalar == Float)
    public func map<Scalar>(policy: Policy, x: [Tensor<Scalar>], batches: [PolicyGradientBatch<Scalar>], stepSizes: [Scalar],
                            references: [ActionDistribution<Scalar>]?, needs: TermsNeeded) -> any AdaptationMap<Scalar> {
        GradientStepMap(policy: policy, x: x, batches: batches, scales: stepSizes, learnsStepSizes: false, objective: objective,
                        firstOrder: firstOrder, references: references, forProducts: needs != .value)
    }
}
