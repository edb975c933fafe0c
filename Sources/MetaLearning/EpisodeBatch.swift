/// The episodes sampled for one task in one phase (before or after adaptation), stored step after
/// step, episode after episode: only real steps, no padding. Observations are stored once per
/// distinct value (`ObservationTable`) with a row index per step: a gridworld batch repeats a few
/// hundred observations over thousands of steps.
public struct EpisodeBatch: Sendable, Equatable {
    public let observationSize: Int
    public let actionSize: Int
    /// The distinct observations, in the order they were first met, and their lookup.
    var observationTable: ObservationTable
    /// Each step's row of `distinctObservations`.
    public private(set) var observationRows: [Int32] = []
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
        observationTable = ObservationTable(width: observationSize)
    }

    /// `distinctObservationCount × observationSize`, row-major: each observation of the batch once.
    public var distinctObservations: [Float] { observationTable.values }
    public var distinctObservationCount: Int { observationTable.count }

    /// `stepCount × observationSize`, row-major: every step's observation (expanded from the
    /// distinct ones; the hot paths read those and `observationRows` instead).
    public var observations: [Float] {
        let d = observationSize
        var expanded = [Float](repeating: 0, count: stepCount * d)
        observationTable.values.withUnsafeBufferPointer { distinct in
            expanded.withUnsafeMutableBufferPointer { out in
                for (step, row) in observationRows.enumerated() {
                    let source = Int(row) * d
                    for j in 0..<d { out[step * d + j] = distinct[source + j] }
                }
            }
        }
        return expanded
    }

    /// Appends one whole episode: what was observed and done at each step, and where it ended.
    public mutating func append(observations: [Float], actions: [Float], rewards: [Float], finalObservation: [Float],
                                environmentSeed: UInt64 = 0) {
        let steps = rewards.count
        precondition(observations.count == steps * observationSize,
                     "an episode of \(steps) steps needs \(steps * observationSize) observation values")
        let d = observationSize
        let rows = observations.withUnsafeBufferPointer { observations in
            (0..<steps).map { t in observationTable.index(of: UnsafeBufferPointer(rebasing: observations[(t * d)..<((t + 1) * d)])).row }
        }
        append(observationRows: rows, actions: actions, rewards: rewards, finalObservation: finalObservation,
               environmentSeed: environmentSeed)
    }

    /// Appends one whole episode whose observations are already rows of `observationTable`.
    mutating func append(observationRows rows: [Int32], actions: [Float], rewards: [Float], finalObservation: [Float],
                         environmentSeed: UInt64) {
        let steps = rewards.count
        precondition(steps > 0, "an episode needs at least one step")
        precondition(rows.count == steps && actions.count == steps * actionSize,
                     "an episode of \(steps) steps needs \(steps) observations and \(steps * actionSize) action values")
        precondition(finalObservation.count == observationSize,
                     "a final observation of \(finalObservation.count) values, expected \(observationSize)")
        observationRows += rows
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
        // Other's distinct rows, found or added in this batch's table.
        var mapped = [Int32](repeating: 0, count: other.distinctObservationCount)
        other.observationTable.values.withUnsafeBufferPointer { values in
            for k in 0..<mapped.count {
                mapped[k] = observationTable.index(of: UnsafeBufferPointer(rebasing: values[(k * observationSize)..<((k + 1) * observationSize)])).row
            }
        }
        observationRows += other.observationRows.map { mapped[Int($0)] }
        actions += other.actions
        rewards += other.rewards
        finalObservations += other.finalObservations
        lengths += other.lengths
        environmentSeeds += other.environmentSeeds
    }

    /// Equal episodes: the same observations, actions, rewards, ends and seeds step by step,
    /// however the distinct observations happen to be numbered.
    public static func == (a: EpisodeBatch, b: EpisodeBatch) -> Bool {
        a.observationSize == b.observationSize && a.actionSize == b.actionSize && a.lengths == b.lengths
            && a.actions == b.actions && a.rewards == b.rewards && a.finalObservations == b.finalObservations
            && a.environmentSeeds == b.environmentSeeds && a.observations == b.observations
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
