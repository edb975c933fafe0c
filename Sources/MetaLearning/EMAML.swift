import Autodiff

/// E-MAML (Stadie et al. 2018), as ProMP's code implements it (`exploration=True`): MAML's
/// objective plus a term that credits the pre-update policy's log-likelihood with the
/// post-update return, −R̄'·mean log π_θ(a|s) over the pre-update episodes, where R̄' is the
/// task's mean post-update reward normalised over the meta-batch. It is the part of the
/// meta-gradient that MAML's estimator drops for the first sampling distribution, added whole.
public enum EMAML {
    public struct Settings: Sendable, Equatable, Codable {
        /// The exploration term's weight (1 in ProMP's code).
        public var weight: Double = 1

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            weight = try c.decodeIfPresent(Double.self, forKey: .weight) ?? Settings().weight
        }
    }

    public static let entry = MetaLearnerEntry(
        name: "e-maml", summary: "E-MAML: MAML plus credit for pre-update exploration",
        paper: "Stadie et al. 2018", metaLearned: "θ", outers: ["trpo", "adam", "ppo"]
    ) { policy, settings, _ in
        GradientMetaLearner(
            name: "e-maml", policy: policy, inner: settings.maml,
            rule: PolicyGradientStep(objective: settings.maml.innerObjective, firstOrder: settings.maml.firstOrder),
            optimizer: OuterOptimizers.make(settings.outer.isEmpty ? "trpo" : settings.outer, settings),
            extraTerms: [ExplorationTerm(weight: settings.emaml.weight)])
    }

    /// −w·R̄'·Σ_t w_t log π_θ₀(a_t|s_t) over the first inner step's episodes.
    struct ExplorationTerm: OuterTerm {
        let weight: Double

        /// Each task's mean post-update reward per step, centred and scaled by the mean and the
        /// standard deviation of every post-update reward of the meta-batch.
        var readsPostUpdateRewards: Bool { true }

        func prepare(postUpdateRewards tasks: [[Float]]) -> [Double] {
            let all = tasks.flatMap { $0.map { Double($0) } }
            guard !all.isEmpty else { return tasks.map { _ in 0 } }
            let mean = all.reduce(0, +) / Double(all.count)
            let std = (all.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(all.count)).squareRoot()
            return tasks.map { rewards in
                let centred = rewards.map { (Double($0) - mean) / (std + 1e-8) }
                return centred.isEmpty ? 0 : centred.reduce(0, +) / Double(centred.count)
            }
        }

        func evaluate<Scalar>(
            points: [[Tensor<Scalar>]], rollout: TaskRollout<Scalar>, references: TaskReferences<Scalar>, constant: Double?,
            policy: Policy, gradient: Bool
        ) -> (value: Scalar, z: [Int: Tensor<Scalar>]) {
            guard let batch = rollout.train.first, let constant else { return (0, [:]) }
            let theta = gradient ? points[0].map { Tensor.variable($0) } : points[0]
            let logLikelihood = (batch.logProbabilities(of: policy, parameters: theta) * batch.stepWeights).sum()
            let term = Scalar(-weight * constant) * logLikelihood
            return (term.scalar, gradient ? [0: ParameterVector.flatten(gradients(of: term, wrt: theta))] : [:])
        }
    }
}
