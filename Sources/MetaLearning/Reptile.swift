import Autodiff
import Foundation

/// Reptile (Nichol, Achiam & Schulman 2018) applied to RL: on each task, k policy-gradient steps
/// from θ (each on episodes sampled with the policy adapted so far) reach φᵢ; then
/// θ ← θ + ε·(mean φᵢ − θ). No second derivatives and no outer objective: the step towards the
/// adapted parameters is itself the meta-update.
public struct Reptile: MetaLearner {
    public struct Settings: Sendable, Equatable, Codable {
        /// ε, the outer step towards the adapted parameters (0.5; the paper starts at 1 and
        /// anneals, and with k > 1 a smaller constant is steadier).
        public var stepSize: Double = 0.5
        /// k, the inner policy-gradient steps per task in meta-training (3: with k = 1 the update
        /// is the joint-training gradient and learns nothing about adapting).
        public var innerSteps: Int = 3

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Settings()
            stepSize = try c.decodeIfPresent(Double.self, forKey: .stepSize) ?? d.stepSize
            innerSteps = try c.decodeIfPresent(Int.self, forKey: .innerSteps) ?? d.innerSteps
        }
    }

    public static let entry = MetaLearnerEntry(
        name: "reptile", summary: "Reptile: θ moves towards the adapted parameters",
        paper: "Nichol et al. 2018", metaLearned: "θ", outers: []
    ) { policy, settings, _ in Reptile(policy: policy, inner: settings.maml, settings: settings.reptile) }

    public let name = "reptile"
    public let policy: Policy
    public let inner: MAMLTRPO.Hyperparameters
    public let settings: Settings
    public var trainingInnerSteps: Int { settings.innerSteps }

    public init(policy: Policy, inner: MAMLTRPO.Hyperparameters, settings: Settings) {
        self.policy = policy
        self.inner = inner
        self.settings = settings
    }

    public func adapt(_ parameters: [Tensor<Float>], on batch: PolicyGradientBatch<Float>, stepSize: Double) -> [Tensor<Float>] {
        PolicyGradientStep(objective: .reinforce, firstOrder: true)
            .adapt(policy: policy, parameters, extra: [], on: batch, stepSize: Float(stepSize))
    }

    public let metricColumns = ["reptile/step_norm", "time/outer_step"]

    public mutating func update(_ parameters: [Tensor<Float>], rollouts: [TaskRollout<Float>], threads: Int, group: any TaskGroup) throws
        -> (parameters: [Tensor<Float>], metrics: [Metric]) {
        let clock = ContinuousClock()
        let start = clock.now
        let theta = parameters.map(\.detached)
        let alphas = trainingStepSizes
        let learner = self
        // φᵢ again from θ on the same episodes: the steps sampling took, recomputed exactly.
        let local = Parallel.map(rollouts.count, threads: threads) { index -> Tensor<Float> in
            var phi = theta
            for (batch, alpha) in zip(rollouts[index].train, alphas) { phi = learner.adapt(phi, on: batch, stepSize: alpha) }
            return ParameterVector.flatten(phi)
        }
        let flat = ParameterVector.flatten(theta)
        // Every process's φᵢ, in task order.
        let adapted = group.size == 1 ? local
            : group.gatherRows(local.flatMap(\.scalars), width: flat.count).map { Tensor(shape: [flat.count], scalars: $0) }
        let mean = adapted.dropFirst().reduce(adapted[0], +) / Float(adapted.count)
        let step = Float(settings.stepSize) * (mean - flat)
        let updated = flat + step
        try NonFiniteValueError.check(updated.scalars, "the updated parameters")
        let norm = Double(Tensor.dot(step, step).scalar).squareRoot()
        return (ParameterVector.unflatten(updated, shapes: theta.map(\.shape)),
                [Metric("reptile/step_norm", norm), Metric("time/outer_step", (clock.now - start).inSeconds)])
    }

    public var state: [StateTensor] { [] }
    public mutating func restore(_ state: [StateTensor]) throws {}
}
