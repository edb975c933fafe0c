import Environments
import Experiments
import Foundation
import MetaLearning
import TestSupport
import Testing

/// An RL² run's trials as the viewer and `render` take them: one stage per episode of the trial,
/// the same trials `eval` samples, and gridworld replays that go through the trial's earlier
/// episodes first.
@Suite("Trial recordings")
struct TrialRecordingTests {
    @Test func aTrialRecordingHasOneStagePerEpisodeAndReplaysEachWhereItBegan() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-trial-recording-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        var c = TrainingConfiguration()
        c.spec = "gridnavi-5x5"
        c.algorithm = "rl2"
        c.iterations = 2
        c.metaBatchSize = 4
        c.rl2.hiddenSize = 6
        c.rl2.trialsPerBatch = 2
        c.threads = 1
        let spec = try EnvironmentSpec.load("gridnavi-5x5")
        var run = try TrainingRun.start(configuration: c, spec: spec, directory: directory)
        try run.run()
        let checkpoint = try Checkpoint.load(from: directory)
        let recording = try AdaptationRecording.record(checkpoint: checkpoint, taskIndex: 1, seed: 3, steps: 0, episodes: 3,
                                                       halvesStepAfterFirst: false)
        #expect(recording.stages == .trialEpisodes)
        #expect(recording.episodes.count == 4)
        #expect(recording.episodes.allSatisfy { $0.episodeCount == 3 && $0.lengths == [15, 15, 15] })
        // The same trials as `eval` samples for task 1 with 3 trials per task.
        let policy = try #require(checkpoint.manifest.recurrentPolicy)
        let sampler = TrialFamilySampler(family: checkpoint.manifest.family, policy: policy, trialsPerBatch: 2)
        let evaluated = sampler.evaluate(parameters: checkpoint.parameters, taskCount: 2, trialsPerTask: 3, seed: 3, threads: 1)
        for k in 0..<4 { #expect(abs(recording.meanReturns[k] - evaluated[k].taskReturns[1]) < 1e-9, "episode \(k + 1)") }
        // Each episode's replay starts at the start cell and follows its observations (x, y).
        for k in 0..<4 {
            for e in 0..<3 {
                let frames = recording.gridworldFrames(step: k, episode: e)
                let batch = recording.episodes[k]
                let start = batch.episodeStarts[e]
                #expect(frames[0].position == GridPoint(0, 0))
                for t in 0..<batch.lengths[e] {
                    let observed = GridPoint(Int(batch.observations[(start + t) * 2]), Int(batch.observations[(start + t) * 2 + 1]))
                    #expect(frames[t].position == observed, "episode \(k + 1), trial \(e), step \(t)")
                }
            }
        }
    }
}
