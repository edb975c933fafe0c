import Autodiff
import Environments
import Foundation
import MetaLearning

/// One held-out task's episodes before adaptation and after each adaptation step: what the viewer
/// plays back and what `metarl render` draws.
///
/// The episodes are the evaluation protocol's own (`AdaptationEvaluation.trace`): with the same
/// seed, task `taskIndex` here is task `taskIndex` of `metarl eval`, episode for episode.
public struct AdaptationRecording: Sendable {
    /// The spec's short name (`navigation`, …).
    public let specName: String
    public let family: AnyEnvironmentFamily
    public let task: any Sendable
    /// The task's place among the held-out tasks drawn with `seed`.
    public let taskIndex: Int
    public let seed: UInt64
    /// Where the policy came from: `maml-trpo (iteration 500)`, `random initialisation`, ….
    public let policyDescription: String
    /// α of each adaptation step.
    public let stepSizes: [Double]
    /// `episodes[k]`: the episodes sampled after k adaptation steps (k = 0: the unadapted policy).
    public let episodes: [EpisodeBatch]

    public init(specName: String, family: AnyEnvironmentFamily, task: any Sendable, taskIndex: Int, seed: UInt64,
                policyDescription: String, stepSizes: [Double], episodes: [EpisodeBatch]) {
        precondition(!episodes.isEmpty && stepSizes.count == episodes.count - 1,
                     "\(episodes.count) batches of episodes need \(max(episodes.count - 1, 0)) step sizes, got \(stepSizes.count)")
        self.specName = specName
        self.family = family
        self.task = task
        self.taskIndex = taskIndex
        self.seed = seed
        self.policyDescription = policyDescription
        self.stepSizes = stepSizes
        self.episodes = episodes
        meanReturns = episodes.map { $0.episodeReturns.reduce(0, +) / Double($0.episodeCount) }
    }

    public var adaptationSteps: Int { episodes.count - 1 }

    /// The mean episode return after each number of adaptation steps.
    public let meanReturns: [Double]

    /// The point-robot family and task, for a point-robot recording.
    public var pointRobot: (family: PointRobotFamily, task: PointRobotTask)? {
        guard let family = family.base as? PointRobotFamily, let task = task as? PointRobotTask else { return nil }
        return (family, task)
    }

    /// A point robot's positions through episode `episode` after `step` adaptation steps: the state
    /// each action was taken in, then the state the episode ended in (length + 1 points).
    public func trajectory(step: Int, episode: Int) -> [Point2] {
        let batch = episodes[step]
        let (start, length) = (batch.episodeStarts[episode], batch.lengths[episode])
        let size = batch.observationSize
        // Point-robot observations begin with the position (velocity and goal may follow).
        var points = (start..<(start + length)).map { row in
            Point2(Double(batch.observations[row * size]), Double(batch.observations[row * size + 1]))
        }
        points.append(Point2(Double(batch.finalObservations[episode * size]), Double(batch.finalObservations[episode * size + 1])))
        return points
    }

    /// The rewards of episode `episode` after `step` adaptation steps, one per action.
    public func rewards(step: Int, episode: Int) -> ArraySlice<Float> {
        let batch = episodes[step]
        let start = batch.episodeStarts[episode]
        return batch.rewards[start..<(start + batch.lengths[episode])]
    }
}

extension AdaptationRecording {
    /// Samples held-out task `taskIndex` (the tasks `metarl eval --seed` draws), rolls out
    /// `episodes` episodes with the policy, adapts it `steps` times as evaluation does and rolls
    /// out after each step.
    /// - Parameters:
    ///   - learner: whose adaptation step is shown (its α, γ, λ, weighting and meta-learned state).
    ///   - halvesStepAfterFirst: α for the first step and α/2 after it (the paper's protocol).
    /// - Throws: `BaselineError` when the episodes cannot be fitted.
    public static func record(
        specName: String, family: AnyEnvironmentFamily, learner: any MetaLearner, parameters: [Tensor<Float>],
        policyDescription: String,
        taskIndex: Int, seed: UInt64, steps: Int, episodes: Int, halvesStepAfterFirst: Bool
    ) throws -> AdaptationRecording {
        precondition(taskIndex >= 0 && steps >= 0 && episodes >= 1, "task \(taskIndex), \(steps) steps, \(episodes) episodes")
        let evaluation = AdaptationEvaluation(learner: learner, steps: steps, halvesStepAfterFirst: halvesStepAfterFirst)
        let sampler = FamilySampler(family: family, policy: learner.policy, episodes: episodes)
        let (task, trace) = try sampler.trace(evaluation, parameters: parameters, taskIndex: taskIndex, seed: seed)
        return AdaptationRecording(
            specName: specName, family: family, task: task, taskIndex: taskIndex, seed: seed,
            policyDescription: policyDescription,
            stepSizes: evaluation.stepSizes,
            episodes: trace)
    }

    /// `record` with a trained run's policy, family and learner.
    /// - Throws: `RunError` when the checkpoint's learner state does not fit its learner.
    public static func record(
        checkpoint: Checkpoint, taskIndex: Int, seed: UInt64, steps: Int, episodes: Int, halvesStepAfterFirst: Bool
    ) throws -> AdaptationRecording {
        let manifest = checkpoint.manifest
        guard manifest.policy != nil else {
            throw RunError.invalidConfiguration(key: "algorithm", reason: """
                \(manifest.configuration.algorithm) adapts within a trial; watching and rendering its trials is not available \
                yet — `metarl eval` reports its episodes
                """)
        }
        return try record(
            specName: manifest.specName, family: manifest.family, learner: try checkpoint.learner(path: Checkpoint.parametersFile),
            parameters: checkpoint.parameters,
            policyDescription: "\(manifest.configuration.algorithm), iteration \(manifest.iteration)",
            taskIndex: taskIndex, seed: seed, steps: steps, episodes: episodes, halvesStepAfterFirst: halvesStepAfterFirst)
    }

    /// `record` with a freshly initialised policy of the default shape (a random policy), for
    /// looking at an environment family; adaptation steps use the default inner-loop settings.
    public static func recordRandomPolicy(
        spec: EnvironmentSpec, taskIndex: Int, seed: UInt64, steps: Int, episodes: Int, halvesStepAfterFirst: Bool
    ) throws -> AdaptationRecording {
        let family = spec.family
        let configuration = TrainingConfiguration()
        let policy = FamilySampler.policy(for: family, hidden: configuration.hidden, activation: configuration.activation)
        var rng = RandomStream.derive(seed: seed, purpose: .parameterInitialisation, index: 1)
        let parameters = policy.initialParameters(as: Float.self, using: &rng)
        return try record(
            specName: spec.name, family: family, learner: configuration.makeLearner(policy: policy), parameters: parameters,
            policyDescription: "random initialisation",
            taskIndex: taskIndex, seed: seed, steps: steps, episodes: episodes, halvesStepAfterFirst: halvesStepAfterFirst)
    }
}
