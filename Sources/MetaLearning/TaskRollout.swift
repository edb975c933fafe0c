import Autodiff

/// Episodes and advantages of one task for one meta-update.
public struct TaskRollout<Scalar: TensorScalar>: Sendable {
    /// One batch per inner step, the first sampled with π_θ, each later one with the policy
    /// adapted so far.
    public var train: [PolicyGradientBatch<Scalar>]
    /// Sampled with the fully adapted policy.
    public var valid: PolicyGradientBatch<Scalar>

    public init(train: [PolicyGradientBatch<Scalar>], valid: PolicyGradientBatch<Scalar>) {
        self.train = train
        self.valid = valid
    }

    /// The adapted policies an outer loss scores, as (step, batch): θ_step on the episodes
    /// sampled with it — the next step's train batch, or the validation batch for the last.
    /// With no inner steps, θ itself on the validation batch.
    public func scored(by outerLoss: OuterLoss) -> [(step: Int, batch: PolicyGradientBatch<Scalar>)] {
        switch outerLoss {
        case .final: [(train.count, valid)]
        case .everyStep: train.isEmpty ? [(0, valid)] : (1...train.count).map { ($0, $0 < train.count ? train[$0] : valid) }
        case .everyStepAndStart: train.isEmpty ? [(0, valid)] : (0...train.count).map { ($0, $0 < train.count ? train[$0] : valid) }
        }
    }
}
