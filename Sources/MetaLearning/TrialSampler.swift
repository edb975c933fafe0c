import Autodiff
import Environments

/// One trial of one task as a recurrent policy lived it: every episode of the trial, one after
/// the other, with what the policy read and did at each step.
public struct Trial: Sendable, Equatable {
    public let featureSize: Int
    public let actionSize: Int
    /// The GRU's input at each step (`length × featureSize`); each row starts with the observation.
    public internal(set) var features: [Float] = []
    /// `length × actionSize`.
    public internal(set) var actions: [Float] = []
    public internal(set) var rewards: [Float] = []
    /// log π_old(a_t) under the policy that sampled the trial.
    public internal(set) var logProbabilities: [Float] = []
    /// V_old(h_t), the value head's estimate when the step was taken.
    public internal(set) var values: [Float] = []
    /// The entropy of the action distribution each step was sampled from.
    public internal(set) var entropies: [Float] = []
    /// The episode of the trial each step belongs to, from 0.
    public internal(set) var episodes: [Int32] = []
    /// The observation the trial ended in.
    public internal(set) var finalObservation: [Float] = []
    /// The seed the trial's environment was reset with (with the actions, it replays the trial).
    public let environmentSeed: UInt64

    public var length: Int { rewards.count }

    /// Episodes the trial reached (the last may have been cut by the end of the trial).
    public var episodeCount: Int { Int(episodes.last ?? -1) + 1 }

    /// Σ r over the steps of each episode of the trial, episode 1 first.
    public var episodeReturns: [Double] {
        var returns = [Double](repeating: 0, count: episodeCount)
        for t in 0..<length { returns[Int(episodes[t])] += Double(rewards[t]) }
        return returns
    }

    /// The first `steps` steps of the trial (a shorter trial, for checks on long ones).
    public func prefix(_ steps: Int) -> Trial {
        let n = Swift.min(steps, length)
        var cut = Trial(featureSize: featureSize, actionSize: actionSize, environmentSeed: environmentSeed)
        cut.features = Array(features.prefix(n * featureSize))
        cut.actions = Array(actions.prefix(n * actionSize))
        cut.rewards = Array(rewards.prefix(n))
        cut.logProbabilities = Array(logProbabilities.prefix(n))
        cut.values = Array(values.prefix(n))
        cut.entropies = Array(entropies.prefix(n))
        cut.episodes = Array(episodes.prefix(n))
        cut.finalObservation = n == length ? finalObservation : Array(features[(n * featureSize)..<(n * featureSize + finalObservation.count)])
        return cut
    }

    /// Whether each episode of the trial had a step with a positive reward (reached the goal of
    /// a sparse task).
    public var episodeRewarded: [Bool] {
        var rewarded = [Bool](repeating: false, count: episodeCount)
        for t in 0..<length where rewards[t] > 0 { rewarded[Int(episodes[t])] = true }
        return rewarded
    }

    /// The observation of each step, `length × observationSize`.
    public func observations(size: Int) -> [Float] {
        (0..<length).flatMap { t in features[(t * featureSize)..<(t * featureSize + size)] }
    }
}

extension Trial {
    /// The trial as numbers, every value exact in a Double (the seed in two 32-bit halves), for
    /// gathering among MPI processes; `init(numbers:)` reads it back.
    public var numbers: [Double] {
        var out: [Double] = [Double(featureSize), Double(actionSize), Double(length), Double(finalObservation.count),
                             Double(environmentSeed >> 32), Double(environmentSeed & 0xFFFF_FFFF)]
        out.reserveCapacity(out.count + length * (featureSize + actionSize + 5) + finalObservation.count)
        for part in [features, actions, rewards, logProbabilities, values, entropies] { out += part.map(Double.init) }
        out += episodes.map(Double.init)
        out += finalObservation.map(Double.init)
        return out
    }

    public init(numbers n: [Double]) {
        let f = Int(n[0]), a = Int(n[1]), length = Int(n[2]), last = Int(n[3])
        self.init(featureSize: f, actionSize: a, environmentSeed: UInt64(n[4]) << 32 | UInt64(n[5]))
        var at = 6
        func take(_ count: Int) -> [Float] {
            defer { at += count }
            return n[at..<(at + count)].map { Float($0) }
        }
        features = take(length * f)
        actions = take(length * a)
        rewards = take(length)
        logProbabilities = take(length)
        values = take(length)
        entropies = take(length)
        episodes = n[at..<(at + length)].map { Int32($0) }
        at += length
        finalObservation = take(last)
    }
}

/// Rolls out a recurrent policy in a batch of environments, one trial per environment: the
/// hidden state starts at zero and carries over the episodes of the trial (the environments run
/// several episodes per trial on the same task), so the policy can use what it met earlier.
///
/// Each trial draws its actions from its own stream and the batch size is fixed (a shorter list
/// of tasks is padded and the padding dropped), so a trial's numbers do not depend on which
/// trials share its batch or how many threads sample.
public struct TrialSampler<Environment: VectorEnvironment>: Sendable {
    public let environment: Environment
    public let policy: RecurrentPolicy

    public init(environment: Environment, policy: RecurrentPolicy) {
        precondition(environment.autoreset == .disabled, "trial sampling needs autoreset disabled")
        precondition(environment.observationSize == policy.observationSize,
                     "policy observes \(policy.observationSize) values, environment gives \(environment.observationSize)")
        self.environment = environment
        self.policy = policy
    }

    /// Trials sampled together.
    public var batchSize: Int { environment.count }

    /// One trial per task (at most `batchSize`), trial i on `tasks[i]` with stream `streams[i]`.
    public func sample(tasks: [Environment.Task], parameters: [Tensor<Float>], streams: inout [SplitMix64]) -> [Trial] {
        let used = tasks.count, n = environment.count
        precondition(used >= 1 && used <= n, "\(used) trials for a sampler of \(n)")
        precondition(streams.count == used, "\(streams.count) streams for \(used) trials")
        var env = environment
        var buffers = env.makeBuffers()
        let padded = tasks + Array(repeating: tasks[0], count: n - used)
        let seeds = (0..<n).map { i in i < used ? streams[i].next() : 0 }
        env.reset(tasks: padded, seeds: seeds, into: &buffers)

        let f = policy.featureSize, k = policy.headSize, a = policy.actionSize
        let obsSize = policy.observationSize
        let logStd = policy.logStdIndex.map { parameters[$0].scalars } ?? []
        var state = policy.initialState(batch: n)
        var features = [Float](repeating: 0, count: n * f)
        var actions = [Float](repeating: 0, count: n * a)
        var previousReward = [Float](repeating: 0, count: n)
        var startsEpisode = [Bool](repeating: false, count: n)
        var episode = [Int32](repeating: 0, count: n)
        var running = [Bool](repeating: true, count: n)
        for i in used..<n { running[i] = false }
        var trials = (0..<used).map { Trial(featureSize: f, actionSize: a, environmentSeed: seeds[$0]) }
        for i in 0..<used {
            trials[i].features.reserveCapacity(env.horizon * f)
            trials[i].rewards.reserveCapacity(env.horizon)
        }
        var remaining = used
        var t = 0
        while remaining > 0 {
            features.withUnsafeMutableBufferPointer { rows in
                buffers.observations.withUnsafeBufferPointer { obs in
                    actions.withUnsafeBufferPointer { act in
                        for i in 0..<n {
                            policy.writeFeatures(into: UnsafeMutableBufferPointer(rebasing: rows[(i * f)..<((i + 1) * f)]),
                                                 observation: UnsafeBufferPointer(rebasing: obs[(i * obsSize)..<((i + 1) * obsSize)]),
                                                 previousAction: t == 0 ? nil : UnsafeBufferPointer(rebasing: act[(i * a)..<((i + 1) * a)]),
                                                 previousReward: previousReward[i], startsEpisode: startsEpisode[i])
                        }
                    }
                }
            }
            policy.step(features, batch: n, state: &state, parameters: parameters)
            let (outputs, values) = state.hidden.withUnsafeBufferPointer { policy.heads($0, rows: n, parameters: parameters) }
            var logProbabilities = [Float](repeating: 0, count: n)
            var entropies = [Float](repeating: 0, count: n)
            outputs.withUnsafeBufferPointer { out in
                actions.withUnsafeMutableBufferPointer { act in
                    for i in 0..<n {
                        let row = UnsafeMutableBufferPointer(rebasing: act[(i * a)..<((i + 1) * a)])
                        guard running[i] else {
                            for j in 0..<a { row[j] = 0 }   // a finished environment ignores it
                            continue
                        }
                        let o = UnsafeBufferPointer(rebasing: out[(i * k)..<((i + 1) * k)])
                        policy.sampleAction(outputs: o, logStd: logStd, into: row, using: &streams[i])
                        logProbabilities[i] = policy.logProbability(of: UnsafeBufferPointer(row), outputs: o, logStd: logStd)
                        entropies[i] = policy.entropy(outputs: o, logStd: logStd)
                    }
                }
            }
            env.step(actions, into: &buffers)
            for i in 0..<used where running[i] {
                trials[i].features += features[(i * f)..<((i + 1) * f)]
                trials[i].actions += actions[(i * a)..<((i + 1) * a)]
                trials[i].rewards.append(buffers.rewards[i])
                trials[i].logProbabilities.append(logProbabilities[i])
                trials[i].values.append(values[i])
                trials[i].entropies.append(entropies[i])
                trials[i].episodes.append(episode[i])
                previousReward[i] = buffers.rewards[i]
                startsEpisode[i] = buffers.episodeEnded[i]
                if buffers.episodeEnded[i] { episode[i] += 1 }
                if buffers.terminated[i] || buffers.truncated[i] {
                    trials[i].finalObservation = Array(buffers.observations[(i * obsSize)..<((i + 1) * obsSize)])
                    running[i] = false
                    remaining -= 1
                }
            }
            t += 1
        }
        return trials
    }
}
