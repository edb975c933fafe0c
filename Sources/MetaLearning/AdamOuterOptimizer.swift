import Autodiff
import Foundation

/// Settings of Adam as an outer optimiser, with ProMP's `VPGMAML` values as defaults.
public struct AdamSettings: Sendable, Equatable, Codable {
    /// η, the meta learning rate (1e-3).
    public var learningRate: Double = 1e-3
    /// β₁ (0.9) and β₂ (0.999), the moment decays.
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    /// ε (1e-8).
    public var epsilon: Double = 1e-8

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AdamSettings()
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? d.learningRate
        beta1 = try c.decodeIfPresent(Double.self, forKey: .beta1) ?? d.beta1
        beta2 = try c.decodeIfPresent(Double.self, forKey: .beta2) ?? d.beta2
        epsilon = try c.decodeIfPresent(Double.self, forKey: .epsilon) ?? d.epsilon
    }
}

/// Adam over the flattened meta-parameters, one step per meta-batch on the meta-gradient: the
/// outer step of MAML-VPG and of ProMP's `VPGMAML` (and, `epochs` times on the clipped surrogate,
/// of PPO: `ClippedSurrogateOptimizer`).
public struct AdamOuterOptimizer: OuterOptimizer {
    var adam: Adam<Float>

    public init(_ settings: AdamSettings) {
        adam = Adam(learningRate: Float(settings.learningRate), beta1: Float(settings.beta1), beta2: Float(settings.beta2),
                    epsilon: Float(settings.epsilon))
    }

    public var form: SurrogateForm { .ratio }

    public static let columns = ["losses/outer_before", "losses/outer_after", "kl/after", "time/meta_gradient", "time/outer_step"]
    public var metricColumns: [String] { Self.columns }

    public mutating func step(from x: Tensor<Float>, objective: MetaBatchObjective) throws -> (x: Tensor<Float>, metrics: [Metric]) {
        let clock = ContinuousClock()
        let start = clock.now
        let before = try objective.evaluate(at: x, needs: .gradient)
        let secondsGradient = (clock.now - start).inSeconds
        let startStep = clock.now
        let updated = try move(x, along: before.gradient!)
        let after = try objective.evaluate(at: updated, needs: .value)
        return (updated, [
            Metric("losses/outer_before", Double(before.loss)), Metric("losses/outer_after", Double(after.loss)),
            Metric("kl/after", Double(after.kl)), Metric("time/meta_gradient", secondsGradient),
            Metric("time/outer_step", (clock.now - startStep).inSeconds),
        ])
    }

    /// One Adam step from x along the gradient.
    mutating func move(_ x: Tensor<Float>, along gradient: Tensor<Float>) throws -> Tensor<Float> {
        var parameters = [x]
        adam.update(&parameters, along: [gradient])
        try NonFiniteValueError.check(parameters[0].scalars, "the updated parameters")
        return parameters[0]
    }

    /// Adam's t and moments as tensors (`optimizer.adam.*`; the step count alone before the first step).
    public var state: [StateTensor] {
        let s = adam.state
        guard let first = s.firstMoment.first, let second = s.secondMoment.first else {
            return [StateTensor("optimizer.adam.step", Tensor(shape: [1], scalars: [0]))]
        }
        return [StateTensor("optimizer.adam.step", Tensor(shape: [1], scalars: [Float(s.step)])),
                StateTensor("optimizer.adam.first_moment", first), StateTensor("optimizer.adam.second_moment", second)]
    }

    public mutating func restore(_ state: [StateTensor]) throws {
        let step = Int(try state.tensor("optimizer.adam.step", count: 1).scalars[0])
        guard step > 0 else {
            adam.state = .init(step: 0, firstMoment: [], secondMoment: [])
            return
        }
        guard let first = state.first(where: { $0.name == "optimizer.adam.first_moment" })?.tensor,
              let second = state.first(where: { $0.name == "optimizer.adam.second_moment" })?.tensor, first.count == second.count
        else { throw LearnerStateError("the checkpoint has Adam's step count but not both of its moments") }
        adam.state = .init(step: step, firstMoment: [first], secondMoment: [second])
    }
}

/// Settings of the clipped-surrogate (PPO) outer optimiser, with ProMP's `PPOMAML` values.
public struct ClippedSurrogateSettings: Sendable, Equatable, Codable {
    /// ε of the clip range [1 − ε, 1 + ε] (0.2).
    public var clip: Double = 0.2
    /// Adam steps on the same episodes per meta-batch (`num_ppo_steps`, 5).
    public var epochs: Int = 5

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ClippedSurrogateSettings()
        clip = try c.decodeIfPresent(Double.self, forKey: .clip) ?? d.clip
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
    }
}

/// PPO's outer loop (Schulman et al. 2017) over the post-adaptation episodes: `epochs` Adam steps
/// on the clipped surrogate −E[min(r·Â', clip(r, 1 ± ε)·Â')], each from the meta-gradient
/// recomputed through the inner steps at the current x, all against the references of the x the
/// episodes were sampled with (as ProMP's and MAML-PPO's code do, with one minibatch).
public struct ClippedSurrogateOptimizer: OuterOptimizer {
    /// Each epoch is one of its steps; its state is the checkpoint's.
    var adam: AdamOuterOptimizer
    public let settings: ClippedSurrogateSettings

    public init(_ settings: ClippedSurrogateSettings, adam adamSettings: AdamSettings) {
        self.settings = settings
        adam = AdamOuterOptimizer(adamSettings)
    }

    public var form: SurrogateForm { .clipped(epsilon: settings.clip) }

    public var metricColumns: [String] { AdamOuterOptimizer.columns }

    public mutating func step(from x: Tensor<Float>, objective: MetaBatchObjective) throws -> (x: Tensor<Float>, metrics: [Metric]) {
        let clock = ContinuousClock()
        var current = x
        var lossBefore: Float = 0
        var secondsGradient = 0.0
        for epoch in 0..<settings.epochs {
            let start = clock.now
            let terms = try objective.evaluate(at: current, needs: .gradient)
            secondsGradient += (clock.now - start).inSeconds
            if epoch == 0 { lossBefore = terms.loss }
            current = try adam.move(current, along: terms.gradient!)
        }
        let startAfter = clock.now
        let after = try objective.evaluate(at: current, needs: .value)
        return (current, [
            Metric("losses/outer_before", Double(lossBefore)), Metric("losses/outer_after", Double(after.loss)),
            Metric("kl/after", Double(after.kl)), Metric("time/meta_gradient", secondsGradient),
            Metric("time/outer_step", (clock.now - startAfter).inSeconds),
        ])
    }

    public var state: [StateTensor] { adam.state }
    public mutating func restore(_ state: [StateTensor]) throws { try adam.restore(state) }
}
