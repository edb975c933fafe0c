import Autodiff

/// Meta-SGD (Li, Zhou, Chen & Li 2017): the inner step θ' = θ − α ⊙ ∇L(θ) with one step size per
/// parameter, α meta-learned with θ. α starts at the inner step size α₀ (`fast-lr`), not at the
/// outer learning rate (learn2learn's example does the latter). Evaluation with another step
/// size, or α/2 after the first step, scales the learned α by the same factor.
public enum MetaSGD {
    public struct Settings: Sendable, Equatable, Codable {
        /// α's initial value in every coordinate; 0 takes `fast-lr` (default).
        public var initialStepSize: Double = 0

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            initialStepSize = try c.decodeIfPresent(Double.self, forKey: .initialStepSize) ?? Settings().initialStepSize
        }
    }

    public static let entry = MetaLearnerEntry(
        name: "meta-sgd", summary: "Meta-SGD: a step size per parameter, meta-learned",
        paper: "Li et al. 2017", metaLearned: "θ and α (one per parameter)", outers: ["trpo", "adam", "ppo"]
    ) { policy, settings, _ in
        let base = settings.maml.innerStepSize
        let initial = settings.metaSGD.initialStepSize > 0 ? settings.metaSGD.initialStepSize : base
        let alphas = zip(policy.parameterNames, policy.parameterShapes).map { name, shape in
            StateTensor("learner.meta_sgd.step_size." + name, Tensor<Float>.filled(Float(initial), shape: shape))
        }
        return GradientMetaLearner(
            name: "meta-sgd", policy: policy, inner: settings.maml,
            rule: LearnedStepSizes(baseStepSize: base, objective: settings.maml.innerObjective, firstOrder: settings.maml.firstOrder),
            optimizer: OuterOptimizers.make(settings.outer.isEmpty ? "trpo" : settings.outer, settings), extra: alphas)
    }

    /// θ − (s/α₀)·α ⊙ ∇L(θ) for a step of size s.
    struct LearnedStepSizes: AdaptationRule {
        let baseStepSize: Double
        let objective: InnerObjective
        let firstOrder: Bool

        var readsReferences: Bool { objective == .lvc }

        func adapt(policy: Policy, _ theta: [Tensor<Float>], extra alphas: [Tensor<Float>], on batch: PolicyGradientBatch<Float>,
                   stepSize: Float) -> [Tensor<Float>] {
            let scale = stepSize / Float(baseStepSize)
            return zip(zip(theta, alphas), batch.innerGradient(policy: policy, parameters: theta)).map { pair, g in
                pair.0 - scale * pair.1 * g
            }
        }

        func map<Scalar>(policy: Policy, x: [Tensor<Scalar>], batches: [PolicyGradientBatch<Scalar>], stepSizes: [Scalar],
                         references: [ActionDistribution<Scalar>]?, needs: TermsNeeded) -> any AdaptationMap<Scalar> {
            GradientStepMap(policy: policy, x: x, batches: batches, scales: stepSizes.map { $0 / Scalar(baseStepSize) },
                            learnsStepSizes: true, objective: objective, firstOrder: firstOrder, references: references,
                            forProducts: needs != .value)
        }
    }
}
