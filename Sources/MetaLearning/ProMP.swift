import Autodiff
import RealModule

/// ProMP, Proximal Meta-Policy Search (Rothfuss, Lee, Clavera, Asfour & Abbeel, ICLR 2019): the
/// LVC inner objective (its Hessian credits the pre-update sampling distribution), PPO's clipped
/// surrogate over the post-update episodes as the outer objective, several Adam steps per
/// meta-batch, and a KL penalty η·KL(π_θ_old ‖ π_θ) between each inner step's pre-update
/// policies, η adapted towards a target.
public enum ProMP {
    /// ProMP's settings, with the values of its MuJoCo run script (`pro-mp_run_mujoco.py`);
    /// the Adam step (1e-3) and the epochs (5) are `adam.learningRate` and `ppo.epochs`.
    public struct Settings: Sendable, Equatable, Codable {
        /// ε of the outer clip range (`clip_eps`, 0.3).
        public var clip: Double = 0.3
        /// The target of each inner step's KL (`target_inner_step`, 0.01).
        public var klTarget: Double = 0.01
        /// η before the first update (`init_inner_kl_penalty`, 5e-4).
        public var initialKLPenalty: Double = 5e-4
        /// Halve η when the KL falls below target/1.5, double it above 1.5·target (on; the run
        /// script turns it off, the paper's algorithm and the class default have it).
        public var adaptiveKLPenalty: Bool = true

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Settings()
            clip = try c.decodeIfPresent(Double.self, forKey: .clip) ?? d.clip
            klTarget = try c.decodeIfPresent(Double.self, forKey: .klTarget) ?? d.klTarget
            initialKLPenalty = try c.decodeIfPresent(Double.self, forKey: .initialKLPenalty) ?? d.initialKLPenalty
            adaptiveKLPenalty = try c.decodeIfPresent(Bool.self, forKey: .adaptiveKLPenalty) ?? d.adaptiveKLPenalty
        }
    }

    public static let entry = MetaLearnerEntry(
        name: "promp", summary: "ProMP: LVC inner loss, clipped outer loss, KL penalty",
        paper: "Rothfuss et al. 2019", metaLearned: "θ", outers: ["ppo"]
    ) { policy, settings, _ in
        var ppo = settings.ppo
        ppo.clip = settings.promp.clip
        return GradientMetaLearner(
            name: "promp", policy: policy, inner: settings.maml,
            rule: PolicyGradientStep(objective: .lvc, firstOrder: false),
            optimizer: ClippedSurrogateOptimizer(ppo, adam: settings.adam),
            extraTerms: [InnerKLPenalty(settings.promp, steps: settings.maml.innerSteps)])
    }

    /// (1/k) Σᵢ ηᵢ·KL(π_{θᵢ(x_old)} ‖ π_{θᵢ(x)}) on the episodes inner step i sampled.
    struct InnerKLPenalty: OuterTerm {
        /// ηᵢ = η₀·2^kᵢ: kept as the exponents, which a checkpoint's Float tensor holds exactly.
        var exponents: [Int]
        let initial: Double
        let target: Double
        let adaptive: Bool

        init(_ settings: Settings, steps: Int) {
            exponents = Array(repeating: 0, count: steps)
            initial = settings.initialKLPenalty
            target = settings.klTarget
            adaptive = settings.adaptiveKLPenalty
        }

        var penalties: [Double] { exponents.map { initial * Double.pow(2, Double($0)) } }

        func evaluate<Scalar>(
            points: [[Tensor<Scalar>]], rollout: TaskRollout<Scalar>, references: TaskReferences<Scalar>, constant: Double?,
            policy: Policy, gradient: Bool
        ) -> (value: Scalar, z: [Int: Tensor<Scalar>]) {
            var value: Scalar = 0
            var z: [Int: Tensor<Scalar>] = [:]
            let share = Scalar(1) / Scalar(max(rollout.train.count, 1))
            for (i, batch) in rollout.train.enumerated() {
                let theta = gradient ? points[i].map { Tensor.variable($0) } : points[i]
                let current = batch.distribution(of: policy, parameters: theta)
                let kl = Scalar(penalties[i]) * share * (references.inner[i].klDivergence(to: current) * batch.stepWeights).sum()
                value += kl.scalar
                if gradient { z[i] = ParameterVector.flatten(gradients(of: kl, wrt: theta)) }
            }
            return (value, z)
        }

        var metricColumns: [String] { ["promp/inner_kl", "promp/kl_penalty"] }
        var readsInnerKL: Bool { true }

        mutating func observe(_ terms: MetaBatchTerms) -> [Metric] {
            if adaptive {
                for (i, kl) in terms.innerKLs.enumerated() {
                    if Double(kl) < target / 1.5 { exponents[i] -= 1 } else if Double(kl) > target * 1.5 { exponents[i] += 1 }
                }
            }
            let meanKL = terms.innerKLs.isEmpty ? 0 : Double(terms.innerKLs.reduce(0, +)) / Double(terms.innerKLs.count)
            let meanPenalty = penalties.isEmpty ? 0 : penalties.reduce(0, +) / Double(penalties.count)
            return [Metric("promp/inner_kl", meanKL), Metric("promp/kl_penalty", meanPenalty)]
        }

        var state: [StateTensor] {
            [StateTensor("learner.promp.kl_penalty_doublings", Tensor(shape: [exponents.count], scalars: exponents.map { Float($0) }))]
        }

        mutating func restore(_ state: [StateTensor]) throws {
            let saved = try state.tensor("learner.promp.kl_penalty_doublings", count: exponents.count).scalars
            guard saved.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e6 }) else {
                throw LearnerStateError("learner.promp.kl_penalty_doublings must hold whole numbers, got \(saved)")
            }
            exponents = saved.map { Int($0) }
        }
    }
}
