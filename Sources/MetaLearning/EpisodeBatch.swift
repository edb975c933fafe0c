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
    /// `episodeCount × observationSize`: the observation each episode ended in (Gymnasium's final
    /// observation), which no step of the episode acted on. Drawing a whole trajectory needs it.
    public private(set) var finalObservations: [Float] = []
    /// Steps in each episode, in order.
    public private(set) var lengths: [Int] = []
    /// The seed each episode's environment was reset with: with the actions, it replays the
    /// episode exactly (the viewer does, to see states observations leave out).
    public private(set) var environmentSeeds: [UInt64] = []

    public init(observationSize: Int, actionSize: Int) {
        self.observationSize = observationSize
        self.actionSize = actionSize
    }

    /// Appends one whole episode: what was observed and done at each step, and where it ended.
    public mutating func append(observations: [Float], actions: [Float], rewards: [Float], finalObservation: [Float],
                                environmentSeed: UInt64 = 0) {
        let steps = rewards.count
        precondition(steps > 0, "an episode needs at least one step")
        precondition(observations.count == steps * observationSize && actions.count == steps * actionSize,
                     "an episode of \(steps) steps needs \(steps * observationSize) observation and \(steps * actionSize) action values")
        precondition(finalObservation.count == observationSize,
                     "a final observation of \(finalObservation.count) values, expected \(observationSize)")
        self.observations += observations
        self.actions += actions
        self.rewards += rewards
        finalObservations += finalObservation
        lengths.append(steps)
        environmentSeeds.append(environmentSeed)
    }

    /// Appends every episode of `other`, in order.
    public mutating func append(contentsOf other: EpisodeBatch) {
        precondition(other.observationSize == observationSize && other.actionSize == actionSize,
                     "episodes of \(other.observationSize)/\(other.actionSize) values appended to \(observationSize)/\(actionSize)")
        observations += other.observations
        actions += other.actions
        rewards += other.rewards
        finalObservations += other.finalObservations
        lengths += other.lengths
        environmentSeeds += other.environmentSeeds
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

    /// The weight of each step in the batch's averages (losses, KLs): they sum to 1.
    public func stepWeights(_ weighting: StepWeighting) -> [Double] {
        switch weighting {
        case .episode:
            let episodes = Double(episodeCount)
            return lengths.flatMap { length in repeatElement(1 / (Double(length) * episodes), count: length) }
        case .step:
            return [Double](repeating: 1 / Double(stepCount), count: stepCount)
        }
    }
}

/// How the steps of a batch are averaged in losses, KLs and the normalisation of advantages.
///
/// The two differ once episodes end early (a goal reached, a box left): per episode, each step of
/// a 5-step episode weighs as much as 20 steps of a 100-step one.
public enum StepWeighting: String, Sendable, Codable, CaseIterable {
    /// Each episode's time average, then the mean over episodes: pytorch-maml-rl's
    /// `weighted_mean` with episode lengths.
    case episode
    /// Every step alike, the mean over all the batch's steps: rllab and cbfinn/maml_rl, the code
    /// behind the MAML paper's figures.
    case step
}
