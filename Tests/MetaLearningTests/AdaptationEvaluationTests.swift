import Autodiff
import Environments
import MetaLearning
import TestSupport
import Testing

@Suite("Adaptation evaluation")
struct AdaptationEvaluationTests {
    static func setUp() -> (AdaptationEvaluation, [Tensor<Float>], EpisodeSampler<PointRobotBatch>) {
        var family = PointRobotFamily.navigation
        family.horizon = 12
        let policy = GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: [8], activation: .tanh)
        var rng = testGenerator(95)
        let theta = policy.initialParameters(as: Float.self, using: &rng)
        let sampler = EpisodeSampler(environment: PointRobotBatch(family: family, count: 5), policy: .gaussian(policy))
        let evaluation = AdaptationEvaluation(learner: MAMLTRPO(policy: .gaussian(policy)).learner, stepSizes: [0.1, 0.05])
        return (evaluation, theta, sampler)
    }

    /// With a minimum, each rollout gathers whole batches until it holds that many steps; the
    /// first batch is the one a rollout without a minimum takes.
    @Test func minimumStepsGathersBatchesOfWholeEpisodes() throws {
        var (evaluation, theta, sampler) = Self.setUp()
        let task = PointRobotTask(goal: Point2(0.2, 0.3))
        let plain = try evaluation.trace(theta, task: task, taskIndex: 0, sampler: sampler, seed: 3)
        evaluation.minimumSteps = 100
        let gathered = try evaluation.trace(theta, task: task, taskIndex: 0, sampler: sampler, seed: 3)
        #expect(gathered.count == 3)
        for batch in gathered {
            #expect(batch.stepCount >= 100, "\(batch.stepCount) steps")
            #expect(batch.episodeCount % 5 == 0 && batch.stepCount - batch.lengths.suffix(5).reduce(0, +) < 100,
                    "\(batch.episodeCount) episodes, \(batch.stepCount) steps: one batch more than needed")
        }
        #expect(gathered[0].episodeCount > plain[0].episodeCount)
        #expect(Array(gathered[0].rewards.prefix(plain[0].stepCount)) == plain[0].rewards)
    }

    /// Explicit step sizes are the schedule the halving rule writes out.
    @Test func explicitStepSizesMatchTheHalvingRule() throws {
        let (evaluation, theta, sampler) = Self.setUp()
        let halving = AdaptationEvaluation(learner: evaluation.learner, steps: 2, halvesStepAfterFirst: true)
        #expect(halving.stepSizes == [0.1, 0.05])
        let task = PointRobotTask(goal: Point2(-0.3, 0.1))
        let a = try evaluation.trace(theta, task: task, taskIndex: 1, sampler: sampler, seed: 4)
        let b = try halving.trace(theta, task: task, taskIndex: 1, sampler: sampler, seed: 4)
        #expect(a == b)
    }
}
