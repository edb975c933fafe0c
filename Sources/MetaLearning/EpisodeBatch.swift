/// The episodes sampled for one task in one phase (before or after adaptation), stored step after
/// step, episode after episode: only real steps, no padding.
public struct EpisodeBatch: Sendable, Equatable {
    public let observationSize: Int
    public let actionSize: Int
    /// `stepCount × observationSize`, row-major.
    public private(set) var observations: [Float] = []
    /// `stepCount × actionSize`, row-major.
    public private(set) var actions: [Float] = []
    public private(set) var rewards: [Float] = []
    /// Steps in each episode, in order.
    public private(set) var lengths: [Int] = []

    public init(observationSize: Int, actionSize: Int) {
        self.observationSize = observationSize
        self.actionSize = actionSize
    }

    /// Appends one whole episode.
    public mutating func append(observations: [Float], actions: [Float], rewards: [Float]) {
        let steps = rewards.count
        precondition(steps > 0, "an episode needs at least one step")
        precondition(observations.count == steps * observationSize && actions.count == steps * actionSize,
                     "an episode of \(steps) steps needs \(steps * observationSize) observation and \(steps * actionSize) action values")
        self.observations += observations
        self.actions += actions
        self.rewards += rewards
        lengths.append(steps)
    }

    public var episodeCount: Int { lengths.count }
    public var stepCount: Int { rewards.count }

    /// The row where each episode starts.
    public var episodeStarts: [Int] {
        var starts: [Int] = []
        starts.reserveCapacity(lengths.count)
        var next = 0
        for length in lengths {
            starts.append(next)
            next += length
        }
        return starts
    }

    /// Σ_t r_t of each episode (undiscounted): the return reported in evaluations.
    public var episodeReturns: [Double] {
        zip(episodeStarts, lengths).map { start, length in
            rewards[start..<(start + length)].reduce(0.0) { $0 + Double($1) }
        }
    }

    /// The weight of each step in a per-episode time average followed by a mean over episodes:
    /// 1 / (Tₑ · E) for a step of episode e. A loss Σ wᵢ ℓᵢ is then mean over episodes of
    /// (1/Tₑ) Σ_t ℓ_t, pytorch-maml-rl's `weighted_mean` with episode lengths.
    public var stepWeights: [Float] {
        let episodes = Double(episodeCount)
        return lengths.flatMap { length in repeatElement(Float(1 / (Double(length) * episodes)), count: length) }
    }
}
