import Autodiff
import Environments
import MetaLearning

/// An environment family with a trial sampler for a recurrent policy, behind one face: what
/// `FamilySampler` is to gradient-based learners, this is to memory-based ones (RL²).
///
/// Trials are sampled `trialsPerBatch` at a time (one environment each, stepped together); the
/// batches are spread over threads, and each trial has its own random stream, so the numbers do
/// not depend on the thread count.
public struct TrialFamilySampler: Sendable {
    private let box: any TrialSamplerOfFamily

    public init(family: AnyEnvironmentFamily, policy: RecurrentPolicy, trialsPerBatch: Int) {
        func make<F: EnvironmentFamily>(_ f: F) -> any TrialSamplerOfFamily {
            TypedTrialSampler(family: f, sampler: TrialSampler(environment: f.makeBatch(count: trialsPerBatch, autoreset: .disabled),
                                                               policy: policy))
        }
        box = make(family.base)
    }

    /// The recurrent policy a family calls for: categorical for discrete actions, Gaussian for boxes.
    public static func policy(for family: AnyEnvironmentFamily, hiddenSize: Int, cellKind: RecurrentPolicy.CellKind = .gru) -> RecurrentPolicy {
        func make<F: EnvironmentFamily>(_ f: F) -> RecurrentPolicy {
            let batch = f.makeBatch(count: 1, autoreset: .disabled)
            return .forActions(batch.actionSpace, observationSize: batch.observationSize, hiddenSize: hiddenSize, cellKind: cellKind)
        }
        return make(family.base)
    }

    /// The trials of one meta-iteration: `count` tasks from the stream of (seed, training tasks,
    /// iteration), trial i with its own stream.
    /// Under MPI each process samples its share of the batches, and every process gets all the trials.
    func collectMetaBatch(parameters: [Tensor<Float>], seed: UInt64, iteration: Int, count: Int, threads: Int,
                          group: any TaskGroup = SingleProcess()) -> [Trial] {
        box.collectMetaBatch(parameters: parameters, seed: seed, iteration: iteration, count: count, threads: threads, group: group)
    }

    /// Trials on the first `taskCount` held-out tasks of `seed`, `trialsPerTask` each: the mean
    /// return of episode 1, 2, …, k of a trial, as `AdaptationEvaluation.Step`s whose `step` is the
    /// episode's index from 0 (episode 1 is what the agent does before it has seen the task, as
    /// step 0 is for a gradient-based learner).
    public func evaluate(parameters: [Tensor<Float>], taskCount: Int, trialsPerTask: Int, seed: UInt64, threads: Int)
        -> [AdaptationEvaluation.Step] {
        evaluateKeepingTrials(parameters: parameters, taskCount: taskCount, trialsPerTask: trialsPerTask, seed: seed, threads: threads).steps
    }

    /// `evaluate`, with each task's description and the trials sampled (task t's are
    /// `trials[t * trialsPerTask ..< (t + 1) * trialsPerTask]`).
    public func evaluateKeepingTrials(parameters: [Tensor<Float>], taskCount: Int, trialsPerTask: Int, seed: UInt64, threads: Int)
        -> (steps: [AdaptationEvaluation.Step], tasks: [String], trials: [Trial]) {
        let (perTask, tasks, trials) = box.evaluate(parameters: parameters, taskCount: taskCount, trialsPerTask: trialsPerTask,
                                                    seed: seed, threads: threads)
        let episodes = perTask.map(\.returns.count).min() ?? 0
        let steps = (0..<episodes).map { k in
            let values = perTask.map { $0.returns[k] }
            let n = Double(values.count)
            let mean = values.reduce(0, +) / n
            let variance = n > 1 ? values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1) : 0
            let rates = perTask.map { $0.rewarded[k] }
            return AdaptationEvaluation.Step(step: k, meanReturn: mean, standardError: (variance / n).squareRoot(), taskReturns: values,
                                             successRate: rates.reduce(0, +) / n, taskSuccessRates: rates)
        }
        return (steps, tasks, trials)
    }

    /// Held-out task `taskIndex` of `seed` and `trialsPerTask` trials on it, exactly as
    /// `evaluate` samples them.
    public func trace(parameters: [Tensor<Float>], taskIndex: Int, trialsPerTask: Int, seed: UInt64) -> (task: any Sendable, trials: [Trial]) {
        box.trace(parameters: parameters, taskIndex: taskIndex, trialsPerTask: trialsPerTask, seed: seed)
    }
}

private protocol TrialSamplerOfFamily: Sendable {
    func collectMetaBatch(parameters: [Tensor<Float>], seed: UInt64, iteration: Int, count: Int, threads: Int,
                          group: any TaskGroup) -> [Trial]
    func evaluate(parameters: [Tensor<Float>], taskCount: Int, trialsPerTask: Int, seed: UInt64, threads: Int)
        -> (perTask: [(returns: [Double], rewarded: [Double])], tasks: [String], trials: [Trial])
    func trace(parameters: [Tensor<Float>], taskIndex: Int, trialsPerTask: Int, seed: UInt64) -> (task: any Sendable, trials: [Trial])
}

private struct TypedTrialSampler<Family: EnvironmentFamily>: TrialSamplerOfFamily {
    let family: Family
    let sampler: TrialSampler<Family.Batch>

    /// Trials on `tasks[i]` with `stream(i)`, sampled in batches spread over `threads`.
    func sample(tasks: [Family.Task], parameters: [Tensor<Float>], threads: Int, stream: @Sendable (Int) -> SplitMix64) -> [Trial] {
        let size = sampler.batchSize
        let batches = (tasks.count + size - 1) / size
        return Parallel.map(batches, threads: threads) { b in
            let range = (b * size)..<Swift.min((b + 1) * size, tasks.count)
            var streams = range.map(stream)
            return sampler.sample(tasks: Array(tasks[range]), parameters: parameters, streams: &streams)
        }.flatMap { $0 }
    }

    func collectMetaBatch(parameters: [Tensor<Float>], seed: UInt64, iteration: Int, count: Int, threads: Int,
                          group: any TaskGroup) -> [Trial] {
        var taskStream = RandomStream.derive(seed: seed, purpose: .trainingTasks, index: iteration)
        let tasks = family.sampleTasks(count: count, using: &taskStream)
        // Whole batches per process, so that every batch holds the trials it holds in one process.
        let size = sampler.batchSize
        let batches = group.tasks(of: (count + size - 1) / size)
        let range = Swift.min(batches.lowerBound * size, count)..<Swift.min(batches.upperBound * size, count)
        let local = sample(tasks: Array(tasks[range]), parameters: parameters, threads: threads) { i in
            RandomStream.derive(seed: seed, purpose: .policySampling, index: iteration * count + range.lowerBound + i)
        }
        guard group.size > 1 else { return local }
        return group.gatherLists(local.map(\.numbers)).map(Trial.init(numbers:))
    }

    /// Per task: each episode's mean return over the task's trials, and the fraction of them rewarded.
    func evaluate(parameters: [Tensor<Float>], taskCount: Int, trialsPerTask: Int, seed: UInt64, threads: Int)
        -> (perTask: [(returns: [Double], rewarded: [Double])], tasks: [String], trials: [Trial]) {
        let tasks = AdaptationEvaluation.heldOutTasks(from: family, count: taskCount, seed: seed)
        let repeated = tasks.flatMap { Array(repeating: $0, count: trialsPerTask) }
        let trials = sample(tasks: repeated, parameters: parameters, threads: threads) { i in
            RandomStream.derive(seed: seed, purpose: .evaluationSampling, index: i)
        }
        let perTask = (0..<taskCount).map { t in
            let mine = trials[(t * trialsPerTask)..<((t + 1) * trialsPerTask)]
            let returns = mine.map(\.episodeReturns), rewarded = mine.map(\.episodeRewarded)
            let episodes = returns.map(\.count).min() ?? 0
            let n = Double(mine.count)
            return ((0..<episodes).map { k in returns.reduce(0) { $0 + $1[k] } / n },
                    (0..<episodes).map { k in rewarded.reduce(0) { $0 + ($1[k] ? 1 : 0) } / n })
        }
        return (perTask, tasks.map(family.summary(of:)), trials)
    }

    func trace(parameters: [Tensor<Float>], taskIndex: Int, trialsPerTask: Int, seed: UInt64) -> (task: any Sendable, trials: [Trial]) {
        let task = AdaptationEvaluation.heldOutTasks(from: family, count: taskIndex + 1, seed: seed)[taskIndex]
        let trials = sample(tasks: Array(repeating: task, count: trialsPerTask), parameters: parameters, threads: 1) { i in
            RandomStream.derive(seed: seed, purpose: .evaluationSampling, index: taskIndex * trialsPerTask + i)
        }
        return (task, trials)
    }
}
