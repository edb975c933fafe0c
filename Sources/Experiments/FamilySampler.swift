import Autodiff
import Environments
import MetaLearning

/// An environment family with its episode sampler, behind one face: training, evaluation and
/// recording are written once, generically, and work with any `EnvironmentFamily`.
public struct FamilySampler: Sendable {
    private let box: any SamplerOfFamily

    /// A sampler of `episodes` episodes per call for `family`, acting with `policy`.
    public init(family: AnyEnvironmentFamily, policy: Policy, episodes: Int) {
        func make<F: EnvironmentFamily>(_ f: F) -> any SamplerOfFamily {
            TypedSampler(family: f, sampler: EpisodeSampler(environment: f.makeBatch(count: episodes, autoreset: .disabled), policy: policy))
        }
        box = make(family.base)
    }

    /// The policy a family calls for: Gaussian for box actions, categorical for discrete ones.
    public static func policy(for family: AnyEnvironmentFamily, hidden: [Int], activation: MLP.Activation) -> Policy {
        func make<F: EnvironmentFamily>(_ f: F) -> Policy {
            let batch = f.makeBatch(count: 1, autoreset: .disabled)
            return .forActions(batch.actionSpace, observationSize: batch.observationSize, hidden: hidden, activation: activation)
        }
        return make(family.base)
    }

    /// Steps per sampled episode (a whole trial for families with several episodes per trial).
    public static func horizon(of family: AnyEnvironmentFamily) -> Int {
        func horizon<F: EnvironmentFamily>(_ f: F) -> Int { f.makeBatch(count: 1, autoreset: .disabled).horizon }
        return horizon(family.base)
    }

    public var episodesPerSample: Int { box.episodesPerSample }

    /// The rollouts of one meta-iteration: `count` tasks drawn from the stream of
    /// (seed, training tasks, iteration), each sampled and adapted with its own stream; of them,
    /// those in `range` (this process's, under MPI).
    func collectMetaBatch(
        learner: any MetaLearner, parameters: [Tensor<Float>], seed: UInt64, iteration: Int, count: Int, range: Range<Int>? = nil,
        threads: Int
    ) throws -> [TaskRollout<Float>] {
        try box.collectMetaBatch(learner: learner, parameters: parameters, seed: seed, iteration: iteration, count: count,
                                 range: range ?? 0..<count, threads: threads)
    }

    /// The evaluation protocol on the first `taskCount` held-out tasks of `seed`.
    public func evaluate(
        _ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskCount: Int, seed: UInt64, threads: Int
    ) throws -> [AdaptationEvaluation.Step] {
        try box.evaluate(evaluation, parameters: parameters, taskCount: taskCount, seed: seed, threads: threads)
    }

    /// `evaluate`, with each task's description and its episodes after 0…k steps (`[task][step]`).
    public func evaluateKeepingEpisodes(
        _ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskCount: Int, seed: UInt64, threads: Int
    ) throws -> (steps: [AdaptationEvaluation.Step], tasks: [String], episodes: [[EpisodeBatch]]) {
        try box.evaluateKeepingEpisodes(evaluation, parameters: parameters, taskCount: taskCount, seed: seed, threads: threads)
    }

    /// Held-out task `taskIndex` of `seed` and its episodes after 0…k adaptation steps, exactly as
    /// `evaluate` samples them.
    public func trace(
        _ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskIndex: Int, seed: UInt64
    ) throws -> (task: any Sendable, episodes: [EpisodeBatch]) {
        try box.trace(evaluation, parameters: parameters, taskIndex: taskIndex, seed: seed)
    }
}

/// What `FamilySampler` asks of a family's sampler, with the family's types hidden.
private protocol SamplerOfFamily: Sendable {
    var episodesPerSample: Int { get }
    func collectMetaBatch(learner: any MetaLearner, parameters: [Tensor<Float>], seed: UInt64, iteration: Int, count: Int,
                          range: Range<Int>, threads: Int) throws -> [TaskRollout<Float>]
    func evaluate(_ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskCount: Int, seed: UInt64,
                  threads: Int) throws -> [AdaptationEvaluation.Step]
    func trace(_ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskIndex: Int, seed: UInt64) throws
        -> (task: any Sendable, episodes: [EpisodeBatch])
    func evaluateKeepingEpisodes(_ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskCount: Int, seed: UInt64,
                                 threads: Int) throws -> (steps: [AdaptationEvaluation.Step], tasks: [String], episodes: [[EpisodeBatch]])
}

private struct TypedSampler<Family: EnvironmentFamily>: SamplerOfFamily {
    let family: Family
    let sampler: EpisodeSampler<Family.Batch>

    var episodesPerSample: Int { sampler.episodesPerSample }

    func collectMetaBatch(learner: any MetaLearner, parameters: [Tensor<Float>], seed: UInt64, iteration: Int, count: Int,
                          range: Range<Int>, threads: Int) throws -> [TaskRollout<Float>] {
        var taskStream = RandomStream.derive(seed: seed, purpose: .trainingTasks, index: iteration)
        let tasks = family.sampleTasks(count: count, using: &taskStream)
        return try Parallel.map(range.count, threads: threads) { offset in
            let index = range.lowerBound + offset
            var rng = RandomStream.derive(seed: seed, purpose: .policySampling, index: iteration * count + index)
            return try learner.collect(task: tasks[index], parameters: parameters, sampler: sampler, using: &rng).rollout
        }
    }

    func evaluate(_ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskCount: Int, seed: UInt64,
                  threads: Int) throws -> [AdaptationEvaluation.Step] {
        try evaluation.evaluate(parameters, tasks: AdaptationEvaluation.heldOutTasks(from: family, count: taskCount, seed: seed),
                                sampler: sampler, seed: seed, threads: threads)
    }

    func evaluateKeepingEpisodes(_ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskCount: Int, seed: UInt64,
                                 threads: Int) throws -> (steps: [AdaptationEvaluation.Step], tasks: [String], episodes: [[EpisodeBatch]]) {
        let tasks = AdaptationEvaluation.heldOutTasks(from: family, count: taskCount, seed: seed)
        let result = try evaluation.evaluate(parameters, tasks: tasks, sampler: sampler, seed: seed, threads: threads, keepingEpisodes: true)
        return (result.steps, tasks.map(family.summary(of:)), result.episodes)
    }

    func trace(_ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskIndex: Int, seed: UInt64) throws
        -> (task: any Sendable, episodes: [EpisodeBatch]) {
        let task = AdaptationEvaluation.heldOutTasks(from: family, count: taskIndex + 1, seed: seed)[taskIndex]
        return (task, try evaluation.trace(parameters, task: task, taskIndex: taskIndex, sampler: sampler, seed: seed))
    }
}
