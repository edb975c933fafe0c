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
    /// α of each adaptation step (none for the episodes of a trial).
    public let stepSizes: [Double]
    /// `episodes[k]`: the episodes sampled after k adaptation steps (k = 0: the unadapted policy),
    /// or, for a memory-based learner, episode k + 1 of each trial.
    public let episodes: [EpisodeBatch]
    /// What the stages of the recording are.
    public let stages: Stages
    /// For the episodes of a trial: the actions of the trial before each episode (`[k][episode]`),
    /// which a replay from the trial's seed takes first.
    public let replayPrefixes: [[[Float]]]?

    /// Adaptation steps of a gradient-based learner, or the episodes of a memory-based one's trials.
    public enum Stages: Sendable, Equatable {
        case adaptationSteps, trialEpisodes
    }

    public init(specName: String, family: AnyEnvironmentFamily, task: any Sendable, taskIndex: Int, seed: UInt64,
                policyDescription: String, stepSizes: [Double], episodes: [EpisodeBatch], stages: Stages = .adaptationSteps,
                replayPrefixes: [[[Float]]]? = nil) {
        precondition(!episodes.isEmpty && (stages == .trialEpisodes || stepSizes.count == episodes.count - 1),
                     "\(episodes.count) batches of episodes need \(max(episodes.count - 1, 0)) step sizes, got \(stepSizes.count)")
        self.stages = stages
        self.replayPrefixes = replayPrefixes
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
        if manifest.recurrentPolicy != nil {
            return try recordTrials(checkpoint: checkpoint, taskIndex: taskIndex, seed: seed, trials: episodes)
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

    /// A memory-based run's `trials` trials on held-out task `taskIndex` (the trials `metarl eval`
    /// samples for it with the same seed and trial count), one stage per episode of the trial.
    /// - Throws: `RunError` when the checkpoint's learner state does not fit its learner.
    public static func recordTrials(checkpoint: Checkpoint, taskIndex: Int, seed: UInt64, trials: Int) throws -> AdaptationRecording {
        let manifest = checkpoint.manifest
        guard let policy = manifest.recurrentPolicy else { preconditionFailure("recordTrials needs a memory-based run") }
        _ = try checkpoint.trialLearner(path: Checkpoint.parametersFile)
        let sampler = TrialFamilySampler(family: manifest.family, policy: policy, trialsPerBatch: manifest.configuration.rl2.trialsPerBatch)
        let (task, sampled) = sampler.trace(parameters: checkpoint.parameters, taskIndex: taskIndex, trialsPerTask: trials, seed: seed)
        let (episodes, prefixes) = splitIntoEpisodes(sampled, observationSize: policy.observationSize, actionSize: policy.actionSize)
        return AdaptationRecording(
            specName: manifest.specName, family: manifest.family, task: task, taskIndex: taskIndex, seed: seed,
            policyDescription: "\(manifest.configuration.algorithm), iteration \(manifest.iteration)", stepSizes: [],
            episodes: episodes, stages: .trialEpisodes, replayPrefixes: prefixes)
    }

    /// Episode k of every trial as batch k, with the actions that came before it in its trial.
    /// An episode that is not its trial's last ends, as far as the recording knows, in the state
    /// its last action was taken in (the environment then went back to the start).
    static func splitIntoEpisodes(_ trials: [Trial], observationSize: Int, actionSize: Int) -> ([EpisodeBatch], [[[Float]]]) {
        let count = trials.map(\.episodeCount).min() ?? 0
        var batches = (0..<count).map { _ in EpisodeBatch(observationSize: observationSize, actionSize: actionSize) }
        var prefixes = [[[Float]]](repeating: [], count: count)
        for trial in trials {
            let observations = trial.observations(size: observationSize)
            var start = 0
            for k in 0..<count {
                var end = start
                while end < trial.length && trial.episodes[end] == Int32(k) { end += 1 }
                let final = k == trial.episodeCount - 1 ? trial.finalObservation
                    : Array(observations[((end - 1) * observationSize)..<(end * observationSize)])
                batches[k].append(observations: Array(observations[(start * observationSize)..<(end * observationSize)]),
                                  actions: Array(trial.actions[(start * actionSize)..<(end * actionSize)]),
                                  rewards: Array(trial.rewards[start..<end]), finalObservation: final,
                                  environmentSeed: trial.environmentSeed)
                prefixes[k].append(Array(trial.actions[0..<(start * actionSize)]))
                start = end
            }
        }
        return (batches, prefixes)
    }
}
