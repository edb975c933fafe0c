import Autodiff
import Environments
import MetaLearning
import TestSupport
import Testing

/// The TRPO meta-update itself: the line search accepts only a candidate that lowers the surrogate
/// with a KL inside the trust region, the full step lies on the trust region's boundary, and a
/// search that accepts nothing leaves θ as it was.
@Suite("TRPO meta-update")
struct TRPOUpdateTests {
    /// Rollouts of three navigation tasks sampled with θ, and the learner that made them.
    static func metaBatch(maxKL: Double, lineSearchSteps: Int = 15) throws
        -> (MAMLTRPO, [Tensor<Float>], [MAMLTRPO.TaskRollout<Float>]) {
        var family = PointRobotFamily.navigation
        family.horizon = 20
        let policy = Policy.gaussian(GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: [8], activation: .tanh))
        var hyper = MAMLTRPO.Hyperparameters()
        hyper.maxKL = maxKL
        hyper.lineSearchSteps = lineSearchSteps
        let maml = MAMLTRPO(policy: policy, hyperparameters: hyper)
        var rng = testGenerator(81)
        let theta = policy.initialParameters(as: Float.self, using: &rng)
        let sampler = EpisodeSampler(environment: PointRobotBatch(family: family, count: 6), policy: policy)
        let goals = [Point2(0.4, -0.3), Point2(-0.2, 0.45), Point2(0.1, 0.3)]
        let rollouts = try goals.map { goal in
            try maml.collect(task: PointRobotTask(goal: goal), parameters: theta, sampler: sampler, using: &rng).rollout
        }
        return (maml, theta, rollouts)
    }

    /// The mean surrogate loss and KL over the tasks at `candidate`, against the policies of θ.
    static func evaluate(_ maml: MAMLTRPO, _ candidate: [Tensor<Float>], at theta: [Tensor<Float>],
                         _ rollouts: [MAMLTRPO.TaskRollout<Float>]) -> (loss: Double, kl: Double) {
        var loss = 0.0, kl = 0.0
        for rollout in rollouts {
            let references = maml.surrogate(theta, rollout: rollout, references: nil, differentiable: false).references
            let value = maml.surrogate(candidate, rollout: rollout, references: references, differentiable: false)
            loss += Double(value.loss.scalar)
            kl += Double(value.kl.scalar)
        }
        return (loss / Double(rollouts.count), kl / Double(rollouts.count))
    }

    /// The full step s with θ_new = θ − ratio^(trials − 1)·s.
    static func fullStep(from theta: [Tensor<Float>], to updated: [Tensor<Float>], trials: Int, ratio: Double) -> Tensor<Float> {
        let shrink = Float(Double.pow(ratio, Double(trials - 1)))
        return (ParameterVector.flatten(theta) - ParameterVector.flatten(updated)) / shrink
    }

    @Test func theLineSearchAcceptsOnlyALowerSurrogateInsideTheTrustRegion() throws {
        // A wide trust region, so that the full step overshoots and the search has to backtrack.
        let (maml, theta, rollouts) = try Self.metaBatch(maxKL: 0.5)
        let (updated, report) = try maml.update(theta, rollouts: rollouts, threads: 1)
        #expect(report.accepted)
        #expect(report.lineSearchTrials > 1, "the full step was accepted; this test needs one that is not")
        let accepted = Self.evaluate(maml, updated, at: theta, rollouts)
        #expect(abs(accepted.loss - report.lossAfter) < 1e-5 && abs(accepted.kl - report.klAfter) < 1e-5)
        #expect(accepted.loss < report.lossBefore && accepted.kl < 0.5)
        // Every trial before the accepted one failed a condition.
        let shapes = theta.map(\.shape)
        let ratio = maml.hyperparameters.backtrackRatio
        let step = Self.fullStep(from: theta, to: updated, trials: report.lineSearchTrials, ratio: ratio)
        for trial in 1..<report.lineSearchTrials {
            let size = Float(Double.pow(ratio, Double(trial - 1)))
            let candidate = ParameterVector.unflatten(ParameterVector.flatten(theta) - size * step, shapes: shapes)
            let (loss, kl) = Self.evaluate(maml, candidate, at: theta, rollouts)
            #expect(!(loss < report.lossBefore && kl < 0.5), "trial \(trial) met both conditions (loss \(loss), KL \(kl)) but was passed over")
        }
    }

    /// The full step s is scaled so that its quadratic model ½ sᵀFs of the KL is δ exactly.
    @Test func theFullStepLiesOnTheTrustRegionsBoundary() throws {
        let maxKL = 0.01
        let (maml, theta, rollouts) = try Self.metaBatch(maxKL: maxKL)
        let (updated, report) = try maml.update(theta, rollouts: rollouts, threads: 1)
        #expect(report.accepted)
        let step = Self.fullStep(from: theta, to: updated, trials: report.lineSearchTrials, ratio: maml.hyperparameters.backtrackRatio)
        let terms = rollouts.map { maml.curvature(at: theta, rollout: $0) }
        let product = terms.map { $0.klHessianProduct(step) }.reduce(Tensor.zeros([step.count]), +) / Float(terms.count)
            + Float(maml.hyperparameters.conjugateGradientDamping) * step
        let quadratic = 0.5 * Double(Tensor.dot(step, product).scalar)
        #expect(abs(quadratic - maxKL) < 0.02 * maxKL, "½ sᵀFs = \(quadratic), δ = \(maxKL)")
    }

    /// With one trial and a trust region so wide that the full step overshoots, nothing is
    /// accepted: θ comes back unchanged and the report says so.
    @Test func aRejectedSearchLeavesTheParametersUnchanged() throws {
        let (maml, theta, rollouts) = try Self.metaBatch(maxKL: 0.5, lineSearchSteps: 1)
        let (updated, report) = try maml.update(theta, rollouts: rollouts, threads: 1)
        #expect(!report.accepted && report.lineSearchTrials == 1)
        #expect(updated.map(\.scalars) == theta.map(\.scalars))
        #expect(report.lossAfter == report.lossBefore)
    }

    /// Episodes whose rewards are all zero have zero advantages: no step can lower the surrogate,
    /// so a search that demands a lower one accepts nothing, however small the KL.
    @Test func noTrialIsAcceptedThatDoesNotLowerTheSurrogate() throws {
        let (maml, theta, rollouts) = try Self.metaBatch(maxKL: 0.01)
        func unrewarded(_ batch: PolicyGradientBatch<Float>) throws -> PolicyGradientBatch<Float> {
            let e = batch.episodes
            var zeroed = EpisodeBatch(observationSize: e.observationSize, actionSize: e.actionSize)
            for (index, (start, length)) in zip(e.episodeStarts, e.lengths).enumerated() {
                zeroed.append(observations: Array(e.observations[(start * e.observationSize)..<((start + length) * e.observationSize)]),
                              actions: Array(e.actions[(start * e.actionSize)..<((start + length) * e.actionSize)]),
                              rewards: [Float](repeating: 0, count: length),
                              finalObservation: Array(e.finalObservations[(index * e.observationSize)..<((index + 1) * e.observationSize)]))
            }
            return try maml.hyperparameters.policyGradientBatch(zeroed)
        }
        let flat = try rollouts.map { MAMLTRPO.TaskRollout(train: $0.train, valid: try unrewarded($0.valid)) }
        let (updated, report) = try maml.update(theta, rollouts: flat, threads: 1)
        #expect(!report.accepted && report.lineSearchTrials == maml.hyperparameters.lineSearchSteps)
        #expect(updated.map(\.scalars) == theta.map(\.scalars))
    }

    /// The outer surrogate is −Σ w Â · π_θ'(a|s)/π_old(a|s), recomputed here from the policy's own
    /// log-probabilities at a candidate away from the reference (where the ratio is not 1).
    @Test func theOuterSurrogateIsTheImportanceWeightedAdvantage() throws {
        let (maml, theta, rollouts) = try Self.metaBatch(maxKL: 0.01)
        let rollout = rollouts[0]
        let references = maml.surrogate(theta, rollout: rollout, references: nil, differentiable: false).references
        var rng = testGenerator(82)
        let candidate = theta.map { $0 + Tensor<Float>.uniform($0.shape, in: -0.05...0.05, using: &rng) }
        let value = maml.surrogate(candidate, rollout: rollout, references: references, differentiable: false).loss.scalar
        // θ' of the candidate, through the same inner step, on the validation episodes.
        let adapted = InnerLoop.adapt(candidate, policy: maml.policy, batches: rollout.train,
                                      stepSizes: maml.hyperparameters.innerStepSizes(), createGraph: false)
        let valid = rollout.valid
        let new = valid.logProbabilities(of: maml.policy, parameters: adapted).scalars
        let old = references[0].logProbability(of: valid.actions).scalars
        let expected = -zip(zip(new, old), valid.weightedAdvantages.scalars).reduce(0.0) { total, term in
            total + Double(Float.exp(term.0.0 - term.0.1) * term.1)
        }
        #expect(abs(Double(value) - expected) < 1e-4 * max(1, abs(expected)), "surrogate \(value), expected \(expected)")
        #expect(zip(new, old).contains { abs($0 - $1) > 1e-3 }, "the candidate must move the policy for the ratio to matter")
    }
}
