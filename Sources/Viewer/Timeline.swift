/// The frames of a playback: for each adaptation step, each shown episode, each time step.
///
/// Frame f shows episode e of step s up to position t (0 = the start state, `length` = where the
/// episode ended), so an episode of length T takes T + 1 frames.
public struct Timeline: Sendable, Equatable {
    public struct Position: Sendable, Equatable {
        public var step: Int
        public var episode: Int
        public var time: Int

        public init(step: Int, episode: Int, time: Int) {
            self.step = step
            self.episode = episode
            self.time = time
        }
    }

    /// `lengths[s][e]`: steps in episode e after s adaptation steps.
    public let lengths: [[Int]]
    /// The first frame of each adaptation step's first episode.
    public let stepStarts: [Int]
    public let frameCount: Int

    public init(lengths: [[Int]]) {
        precondition(!lengths.isEmpty && lengths.allSatisfy { !$0.isEmpty }, "a timeline needs at least one episode per step")
        self.lengths = lengths
        var starts: [Int] = []
        var total = 0
        for step in lengths {
            starts.append(total)
            total += step.reduce(0) { $0 + $1 + 1 }
        }
        stepStarts = starts
        frameCount = total
    }

    /// What frame `frame` shows (frames past either end are clamped).
    public func position(ofFrame frame: Int) -> Position {
        var remaining = min(max(frame, 0), frameCount - 1)
        for (step, episodes) in lengths.enumerated() {
            for (episode, length) in episodes.enumerated() {
                if remaining <= length { return Position(step: step, episode: episode, time: remaining) }
                remaining -= length + 1
            }
        }
        preconditionFailure("frame \(frame) beyond \(frameCount) frames")
    }

    /// The first frame of adaptation step `step`, nil if the recording has no such step.
    public func firstFrame(ofStep step: Int) -> Int? {
        stepStarts.indices.contains(step) ? stepStarts[step] : nil
    }
}
