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
    /// The network runs only on observations this call has not met before: the episode batch's
    /// observation table numbers them as they come, and the network's output for row k is kept
    /// as row k of a cache, so a step costs a table lookup per environment and the head's draw
    /// (a door-key batch meets a few hundred distinct views in 12,800 steps). The outputs are the
    /// network's at fixed parameters, so the actions are those of evaluating it at every step.
    ///
    /// The generator is MetaRL's own stream type rather than any `RandomNumberGenerator`: with a
    /// concrete type the per-step draws (environment seeds, action noise) compile specialised, where
    /// the generic version looked up `Float.random` at run time on every step.
    public func sample(
        task: Environment.Task, parameters: [Tensor<Float>], using rng: inout SplitMix64
    ) -> EpisodeBatch {
        var env = environment
        let n = env.count, obsSize = env.observationSize, actSize = policy.actionSize
        let outputSize = policy.network.outputSize
        var buffers = env.makeBuffers()
        let seeds = (0..<n).map { _ in rng.next() }
        env.reset(tasks: Array(repeating: task, count: n), seeds: seeds, into: &buffers)

        var batch = EpisodeBatch(observationSize: obsSize, actionSize: actSize)
        var rows = [[Int32]](repeating: [], count: n)
        var actions = [[Float]](repeating: [], count: n)
        var rewards = [[Float]](repeating: [], count: n)
        var finals = [[Float]](repeating: [], count: n)
        for i in 0..<n {
            rows[i].reserveCapacity(env.horizon)
            actions[i].reserveCapacity(env.horizon * actSize)
            rewards[i].reserveCapacity(env.horizon)
        }
        var running = [Bool](repeating: true, count: n)
        var remaining = n
        let detached = parameters.map(\.detached)
        let networkParameters = Array(detached.prefix(policy.networkParameterCount))
        let headParameters = Array(detached.dropFirst(policy.networkParameterCount))
        var outputs: [Float] = []          // the network's output for each row of the table
        var stepRows = [Int32](repeating: 0, count: n)
        var newInputs: [Float] = []
        var headInput = [Float](repeating: 0, count: n * outputSize)
        while remaining > 0 {
            newInputs.removeAll(keepingCapacity: true)
            buffers.observations.withUnsafeBufferPointer { observations in
                for i in 0..<n where running[i] {
                    let observation = UnsafeBufferPointer(rebasing: observations[(i * obsSize)..<((i + 1) * obsSize)])
                    let (row, isNew) = batch.observationTable.index(of: observation)
                    stepRows[i] = row
                    if isNew { newInputs += observation }
                }
            }
            if !newInputs.isEmpty {
                // New rows are numbered consecutively, so their outputs extend the cache in order.
                let input = Tensor(shape: [newInputs.count / obsSize, obsSize], scalars: newInputs)
                outputs += policy.network(input, parameters: networkParameters).scalars
            }
            // A finished environment still gets a draw (so each step takes as many from `rng`), on
            // row 0's output; its action is not used.
            for i in 0..<n {
                let source = running[i] ? Int(stepRows[i]) * outputSize : 0
                for j in 0..<outputSize { headInput[i * outputSize + j] = outputs[source + j] }
            }
            let chosen = policy.head.sampleActions(Tensor(shape: [n, outputSize], scalars: headInput), parameters: headParameters,
                                                   using: &rng)
            env.step(chosen, into: &buffers)
            for i in 0..<n where running[i] {
                rows[i].append(stepRows[i])
                actions[i] += chosen[(i * actSize)..<((i + 1) * actSize)]
                rewards[i].append(buffers.rewards[i])
                if buffers.terminated[i] || buffers.truncated[i] {
                    finals[i] = Array(buffers.observations[(i * obsSize)..<((i + 1) * obsSize)])
                    running[i] = false
                    remaining -= 1
                }
            }
        }
        for i in 0..<n {
            batch.append(observationRows: rows[i], actions: actions[i], rewards: rewards[i], finalObservation: finals[i],
                         environmentSeed: seeds[i])
        }
        return batch
    }
}
