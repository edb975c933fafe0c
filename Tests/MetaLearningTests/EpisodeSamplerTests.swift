import Autodiff
import Environments
import MetaLearning
import TestSupport
import Testing

@Suite("Episode sampler")
struct EpisodeSamplerTests {
    /// In 2D navigation the state moves by the action clipped to ±0.1 per axis, so each recorded
    /// observation follows from the one before it and the action taken there, and the final
    /// observation from the last of them.
    @Test func episodesChainObservationsActionsAndTheFinalObservation() {
        var family = PointRobotFamily.navigation
        family.horizon = 12
        let policy = GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: [8], activation: .tanh)
        var rng = testGenerator(5)
        let theta = policy.initialParameters(as: Float.self, using: &rng)
        let sampler = EpisodeSampler(environment: PointRobotBatch(family: family, count: 3), policy: .gaussian(policy))
        let batch = sampler.sample(task: PointRobotTask(goal: Point2(0.05, -0.02)), parameters: theta, using: &rng)

        #expect(batch.episodeCount == 3)
        #expect(batch.finalObservations.count == 3 * 2)
        func clipped(_ a: Float) -> Float { min(max(a, -0.1), 0.1) }
        for (episode, (start, length)) in zip(batch.episodeStarts, batch.lengths).enumerated() {
            #expect(batch.observations[2 * start] == 0 && batch.observations[2 * start + 1] == 0, "every episode starts at the origin")
            for t in start..<(start + length) {
                let next = t + 1 < start + length
                    ? Array(batch.observations[(2 * (t + 1))..<(2 * (t + 2))])
                    : Array(batch.finalObservations[(2 * episode)..<(2 * episode + 2)])
                for axis in 0..<2 {
                    let expected = batch.observations[2 * t + axis] + clipped(batch.actions[2 * t + axis])
                    #expect(abs(next[axis] - expected) < 1e-6, "episode \(episode), step \(t - start), axis \(axis)")
                }
            }
            // An episode ends at the horizon or on reaching the 0.01 box around the goal.
            let final = Array(batch.finalObservations[(2 * episode)..<(2 * episode + 2)])
            let reached = abs(final[0] - 0.05) < 0.01 && abs(final[1] + 0.02) < 0.01
            #expect(length == 12 || reached, "episode \(episode) stopped after \(length) steps away from the goal")
        }
    }
}
