import Environments
import MetaLearning

/// What a gridworld looked like at one step of an episode.
public struct GridworldFrame: Sendable, Equatable {
    public var position: GridPoint
    /// MiniGrid heading: 0 right, 1 down, 2 left, 3 up.
    public var heading: Int
    public var carrying: GridCell?
    /// The map as it is now, row-major — doors opened, keys taken — or nil when the map holds
    /// nothing that can change.
    public var cells: [GridCell]?
}

extension AdaptationRecording {
    /// The gridworld family and task, for a gridworld recording.
    public var gridworld: (family: GridworldFamily, task: GridworldTask)? {
        guard let family = family.base as? GridworldFamily, let task = task as? GridworldTask else { return nil }
        return (family, task)
    }

    /// The states of episode `episode` after `step` adaptation steps: the state each action was
    /// taken in, then the state after the last (length + 1 frames).
    ///
    /// Observations need not say where the agent is (an egocentric view does not), so the episode
    /// is replayed: the environment reset with the episode's seed and stepped with its actions
    /// goes through the same states, slips included.
    public func gridworldFrames(step: Int, episode: Int) -> [GridworldFrame] {
        guard let (family, task) = gridworld else { preconditionFailure("gridworld frames of a \(self.family.name) recording") }
        let batch = episodes[step]
        var environment = GridworldBatch(family: family, count: 1)
        var buffers = environment.makeBuffers()
        environment.reset(tasks: [task], seeds: [batch.environmentSeeds[episode]], into: &buffers)
        // An episode of a trial: the trial's earlier episodes first, as they were played.
        for action in replayPrefixes?[step][episode] ?? [] { environment.step([action], into: &buffers) }
        let changes = task.map.cells.contains { $0.object == .door || $0.object == .key }
        func frame() -> GridworldFrame {
            let agent = environment.agents[0]
            return GridworldFrame(position: agent.position, heading: agent.heading, carrying: environment.carrying(0),
                                  cells: changes ? task.map.points.map { environment.cell(0, at: $0) } : nil)
        }
        let (start, length) = (batch.episodeStarts[episode], batch.lengths[episode])
        var frames = [frame()]
        for row in start..<(start + length) {
            environment.step([batch.actions[row]], into: &buffers)
            frames.append(frame())
        }
        return frames
    }
}
