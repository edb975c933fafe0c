import Foundation
import MetaLearning

/// `metarl eval --save-episodes FILE.npz`: every episode an evaluation sampled, as NumPy arrays.
///
/// Steps are concatenated over episodes (`observations` `[steps, d]`, `actions` `[steps, a]`,
/// `rewards` `[steps]`, `episode` `[steps]`: the episode each step belongs to); episodes have one
/// row each (`episode_task`, `episode_step` — the adaptation step, or the episode of a trial from
/// 0 —, `episode_trial` — the trial on its task, 0 for gradient-based learners —,
/// `episode_return`, `episode_length`, `episode_start`, the offset of its first step); `tasks`
/// describes each task, and `info` (a JSON string) the run, the spec, the seed and the settings.
public struct EvaluatedEpisodes {
    public let observationSize: Int
    public let actionSize: Int
    private var observations: [Float] = [], actions: [Float] = [], rewards: [Float] = []
    private var stepEpisode: [Int32] = []
    private var episodeTask: [Int32] = [], episodeStep: [Int32] = [], episodeTrial: [Int32] = []
    private var episodeReturn: [Double] = [], episodeLength: [Int32] = [], episodeStart: [Int64] = []

    public init(observationSize: Int, actionSize: Int) {
        self.observationSize = observationSize
        self.actionSize = actionSize
    }

    public var episodeCount: Int { episodeTask.count }

    private mutating func addEpisode(observations o: ArraySlice<Float>, actions a: ArraySlice<Float>, rewards r: ArraySlice<Float>,
                                     task: Int, step: Int, trial: Int) {
        episodeStart.append(Int64(rewards.count))
        episodeLength.append(Int32(r.count))
        episodeReturn.append(r.reduce(0.0) { $0 + Double($1) })
        episodeTask.append(Int32(task))
        episodeStep.append(Int32(step))
        episodeTrial.append(Int32(trial))
        stepEpisode += [Int32](repeating: Int32(episodeCount - 1), count: r.count)
        observations += o
        actions += a
        rewards += r
    }

    /// The episodes of one task after `step` adaptation steps.
    public mutating func add(_ batch: EpisodeBatch, task: Int, step: Int) {
        for (start, length) in zip(batch.episodeStarts, batch.lengths) {
            addEpisode(observations: batch.observations[(start * observationSize)..<((start + length) * observationSize)],
                       actions: batch.actions[(start * actionSize)..<((start + length) * actionSize)],
                       rewards: batch.rewards[start..<(start + length)], task: task, step: step, trial: 0)
        }
    }

    /// One trial of task `task`, split into its episodes.
    public mutating func add(_ trial: Trial, task: Int, trialIndex: Int) {
        let observed = trial.observations(size: observationSize)
        var start = 0
        while start < trial.length {
            let episode = trial.episodes[start]
            var end = start
            while end < trial.length && trial.episodes[end] == episode { end += 1 }
            addEpisode(observations: observed[(start * observationSize)..<(end * observationSize)],
                       actions: trial.actions[(start * actionSize)..<(end * actionSize)],
                       rewards: trial.rewards[start..<end], task: task, step: Int(episode), trial: trialIndex)
            start = end
        }
    }

    /// The archive, with the tasks' descriptions and `info`.
    public func archive(tasks: [String], info: String) -> NumPyArchive {
        var archive = NumPyArchive()
        let steps = rewards.count
        archive.add("observations", float32: observations, shape: [steps, observationSize])
        archive.add("actions", float32: actions, shape: [steps, actionSize])
        archive.add("rewards", float32: rewards, shape: [steps])
        archive.add("episode", int32: stepEpisode, shape: [steps])
        archive.add("episode_task", int32: episodeTask, shape: [episodeCount])
        archive.add("episode_step", int32: episodeStep, shape: [episodeCount])
        archive.add("episode_trial", int32: episodeTrial, shape: [episodeCount])
        archive.add("episode_return", float64: episodeReturn, shape: [episodeCount])
        archive.add("episode_length", int32: episodeLength, shape: [episodeCount])
        archive.add("episode_start", int64: episodeStart, shape: [episodeCount])
        archive.add("tasks", strings: tasks, shape: [tasks.count])
        archive.add("info", strings: [info], shape: [])
        return archive
    }
}
