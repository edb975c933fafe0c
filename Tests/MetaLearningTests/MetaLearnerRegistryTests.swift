import Autodiff
import Environments
import MetaLearning
import TestSupport
import Testing

/// The registry, and what every learner owes the trainer: an update that moves θ, figures for
/// each of its columns, and a state that restores exactly.
@Suite("Meta-learner registry")
struct MetaLearnerRegistryTests {
    @Test func namesAreUniqueAndSummariesFitOneHelpLine() {
        let names = MetaLearners.all.map(\.name)
        #expect(Set(names).count == names.count)
        for entry in MetaLearners.all {
            #expect(entry.summary.count <= 59, "\(entry.name)'s summary is \(entry.summary.count) characters")
            #expect(entry.outers.allSatisfy(OuterOptimizers.names.contains), "\(entry.name): \(entry.outers)")
        }
    }

    /// One meta-update of every gradient-based learner on a tiny navigation meta-batch (RL²'s
    /// is in `RecurrentPolicyTests`).
    @Test("Every gradient-based learner updates, reports its columns, and restores its state",
          arguments: MetaLearners.all.filter { !$0.adaptsInMemory }.map(\.name))
    func everyLearnerUpdates(name: String) throws {
        var family = PointRobotFamily.navigation
        family.horizon = 8
        let policy = Policy.gaussian(GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: [4], activation: .tanh))
        var settings = MetaLearnerSettings()
        settings.reptile.innerSteps = 2
        var rng = testGenerator(40)
        var learner = MetaLearners.named(name)!.make(policy, settings, &rng)
        let theta = policy.initialParameters(as: Float.self, using: &rng)
        let sampler = EpisodeSampler(environment: PointRobotBatch(family: family, count: 3), policy: policy)
        let rollouts = try [Point2(0.3, 0.2), Point2(-0.4, 0.1)].map { goal in
            try learner.collect(task: PointRobotTask(goal: goal), parameters: theta, sampler: sampler, using: &rng).rollout
        }
        #expect(rollouts.allSatisfy { $0.train.count == learner.trainingInnerSteps })
        let (updated, metrics) = try learner.update(theta, rollouts: rollouts, threads: 2)
        #expect(metrics.map(\.name) == learner.metricColumns)
        #expect(metrics.allSatisfy { $0.value.isFinite })
        let moved = zip(theta, updated).map { ($0 - $1).scalars.map(abs).max()! }.max()!
        #expect(moved > 0, "\(name) did not move θ")
        // The state saved after the update restores into a fresh learner exactly.
        var fresh = MetaLearners.named(name)!.make(policy, settings, &rng)
        try fresh.restore(learner.state)
        #expect(fresh.state.map(\.name) == learner.state.map(\.name))
        #expect(zip(fresh.state, learner.state).allSatisfy { $0.tensor.scalars == $1.tensor.scalars })
        // A state missing a tensor is refused by name.
        if let first = learner.state.first(where: { $0.tensor.count > 1 }) {
            #expect(throws: LearnerStateError.self) { try fresh.restore(learner.state.filter { $0.name != first.name }) }
        }
    }
}
