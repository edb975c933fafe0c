import Autodiff
import Environments

/// Rolls out a policy in a batch of environments, one episode per environment.
///
/// The batch is a value: each call works on its own copy, so tasks can be sampled concurrently
/// from one sampler.
public struct EpisodeSampler<Environment: VectorEnvironment>: Sendable {
    /// A batch whose size is the number of episodes per sample (MAML's `fast-batch-size`).
    public let environment: Environment
    public let policy: Policy

    public init(environment: Environment, policy: Policy) {
        precondition(environment.autoreset == .disabled, "episodic sampling needs autoreset disabled")
        precondition(environment.observationSize == policy.observationSize,
                     "policy observes \(policy.observationSize) values, environment gives \(environment.observationSize)")
        precondition(environment.actionSpace.dimension == policy.actionSize,
                     "policy acts in \(policy.actionSize) dimensions, environment takes \(environment.actionSpace.dimension)")
        self.environment = environment
        self.policy = policy
    }

    public var episodesPerSample: Int { environment.count }

    /// One episode in every environment of the batch, all on `task`, actions drawn from π_θ.
    /// Environment i's episode is episode i of the result.
    ///
    /// The generator is MetaRL's own stream type rather than any `RandomNumberGenerator`: with a
    /// concrete type the per-step draws (environment seeds, action noise) compile specialised, where
    /// the generic version looked up `Float.random` at run time on every step.
    public func sample(
        task: Environment.Task, parameters: [Tensor<Float>], using rng: inout SplitMix64
    ) -> EpisodeBatch {
        var env = environment
        let n = env.count, obsSize = env.observationSize, actSize = policy.actionSize
        var buffers = env.makeBuffers()
        let seeds = (0..<n).map { _ in rng.next() }
        env.reset(tasks: Array(repeating: task, count: n), seeds: seeds, into: &buffers)

        var observations = [[Float]](repeating: [], count: n)
        var actions = [[Float]](repeating: [], count: n)
        var rewards = [[Float]](repeating: [], count: n)
        var finals = [[Float]](repeating: [], count: n)
        for i in 0..<n {
            observations[i].reserveCapacity(env.horizon * obsSize)
            actions[i].reserveCapacity(env.horizon * actSize)
            rewards[i].reserveCapacity(env.horizon)
        }
        var running = [Bool](repeating: true, count: n)
        var remaining = n
        let detached = parameters.map(\.detached)
        while remaining > 0 {
            // Record the observations before stepping overwrites the buffer (no copy of it per step).
            for i in 0..<n where running[i] {
                observations[i] += buffers.observations[(i * obsSize)..<((i + 1) * obsSize)]
            }
            let chosen = policy.sampleActions(observations: buffers.observations, rows: n, parameters: detached, using: &rng)
            env.step(chosen, into: &buffers)
            for i in 0..<n where running[i] {
                actions[i] += chosen[(i * actSize)..<((i + 1) * actSize)]
                rewards[i].append(buffers.rewards[i])
                if buffers.terminated[i] || buffers.truncated[i] {
                    finals[i] = Array(buffers.observations[(i * obsSize)..<((i + 1) * obsSize)])
                    running[i] = false
                    remaining -= 1
                }
            }
        }
        var batch = EpisodeBatch(observationSize: obsSize, actionSize: actSize)
        for i in 0..<n {
            batch.append(observations: observations[i], actions: actions[i], rewards: rewards[i], finalObservation: finals[i],
                         environmentSeed: seeds[i])
        }
        return batch
    }
}
