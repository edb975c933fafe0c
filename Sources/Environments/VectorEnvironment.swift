/// What happens to an environment of a batch once its episode has ended.
///
/// Gymnasium leaves this to each vector environment; MetaRL makes it explicit.
public enum AutoresetMode: String, Sendable, Codable, CaseIterable {
    /// A finished environment stays finished: further steps change nothing, give reward 0 and
    /// repeat its `terminated`/`truncated` flags, until the next `reset`. Episodic samplers (MAML
    /// collects one episode per environment) use this.
    case disabled
    /// Gymnasium's default: the step after the one that ended an episode resets that environment
    /// (the action is ignored, the reward is 0, both flags are false, and the observation is the
    /// new episode's first).
    case nextStep = "next-step"
}

/// Buffers one batched step writes into, allocated once per batch: stepping allocates nothing.
public struct StepBuffers: Sendable {
    /// `count × observationSize`, row-major.
    public var observations: [Float]
    public var rewards: [Float]
    /// The episode reached a terminal state (Gymnasium's `terminated`).
    public var terminated: [Bool]
    /// The episode was cut by the horizon (Gymnasium's `truncated`).
    public var truncated: [Bool]
    /// The step ended an episode of the trial. With several episodes per trial the agent starts
    /// the next one at the next step, on the same task, and `terminated`/`truncated` stay false
    /// until the last; with one episode per trial this is `terminated || truncated`. Memory-based
    /// agents read it to know where an episode of a trial begins.
    public var episodeEnded: [Bool]

    public init(count: Int, observationSize: Int) {
        observations = [Float](repeating: 0, count: count * observationSize)
        rewards = [Float](repeating: 0, count: count)
        terminated = [Bool](repeating: false, count: count)
        truncated = [Bool](repeating: false, count: count)
        episodeEnded = [Bool](repeating: false, count: count)
    }
}

/// A batch of environments of one family stepped together, each with its own task.
///
/// State is kept as structure-of-arrays inside the conforming type; `step` runs one tight loop over
/// the batch and writes into preallocated `StepBuffers`.
public protocol VectorEnvironment<Task>: Sendable {
    associatedtype Task: Sendable & Codable & Equatable
    /// Environments in the batch.
    var count: Int { get }
    var observationSpace: Space { get }
    var actionSpace: Space { get }
    /// Steps after which an episode is truncated.
    var horizon: Int { get }
    var autoreset: AutoresetMode { get }

    /// Starts a new episode in every environment: environment i gets `tasks[i]` and a random stream
    /// seeded with `seeds[i]` (families with random dynamics draw from it; deterministic ones
    /// ignore it). Writes the first observations into `buffers` and clears rewards and flags.
    mutating func reset(tasks: [Task], seeds: [UInt64], into buffers: inout StepBuffers)

    /// Applies one action per environment (`count × actionSpace.dimension` floats, row-major).
    mutating func step(_ actions: [Float], into buffers: inout StepBuffers)
}

extension VectorEnvironment {
    /// Floats per observation.
    public var observationSize: Int { observationSpace.dimension }

    /// Fresh buffers the size of this batch.
    public func makeBuffers() -> StepBuffers { StepBuffers(count: count, observationSize: observationSize) }
}
