import Autodiff
import Environments

/// MAML's evaluation protocol: on held-out tasks, the return of the policy after 0, 1, …, k
/// policy-gradient steps, each step on freshly sampled episodes (Finn et al. 2017, §5.3).
public struct AdaptationEvaluation: Sendable {
    /// The figures after one number of adaptation steps.
    public struct Step: Sendable, Equatable, Codable {
        public var step: Int
        /// Mean over tasks of each task's mean episode return.
        public var meanReturn: Double
        /// Standard error of that mean over tasks.
        public var standardError: Double
        /// Each task's mean episode return.
        public var taskReturns: [Double]
        /// For a trial's episodes: the fraction of episodes (over tasks and their trials) with a
        /// positive reward at some step — in the sparse point robot, reaching the goal radius; in
        /// GridNavi, reaching the goal. Nil for adaptation steps.
        public var successRate: Double?
        /// Each task's share of its trials whose episode earned a positive reward.
        public var taskSuccessRates: [Double]?

        public init(step: Int, meanReturn: Double, standardError: Double, taskReturns: [Double], successRate: Double? = nil,
                    taskSuccessRates: [Double]? = nil) {
            self.step = step
            self.meanReturn = meanReturn
            self.standardError = standardError
            self.taskReturns = taskReturns
            self.successRate = successRate
            self.taskSuccessRates = taskSuccessRates
        }

        /// The share of tasks on which the episode earned a positive reward in at least half of
        /// the task's trials (nil for adaptation steps).
        public var tasksReached: Double? {
            taskSuccessRates.map { rates in Double(rates.filter { $0 >= 0.5 }.count) / Double(Swift.max(rates.count, 1)) }
        }

        enum CodingKeys: String, CodingKey {
            case step
            case meanReturn = "mean_return"
            case standardError = "stderr"
            case taskReturns = "task_returns"
            case successRate = "success_rate"
            case taskSuccessRates = "task_success_rates"
        }
    }

    /// The learner whose adaptation step is evaluated (with its meta-learned state).
    public let learner: any MetaLearner
    /// α of each adaptation step after the unadapted rollout.
    public let stepSizes: [Double]
    /// Each rollout samples batches of episodes until it holds at least this many steps (whole
    /// episodes): 0 for one batch, 4,000 for the MAML paper's test script (rllab's `batch_size`),
    /// which gathers more episodes once the adapted policy ends them early at the goal.
    public var minimumSteps = 0

    /// Adaptation steps after the unadapted rollout.
    public var steps: Int { stepSizes.count }

    /// `steps` steps of the run's α, or α for the first and α/2 after it (the paper's test
    /// protocol) with `halvesStepAfterFirst`.
    public init(learner: any MetaLearner, steps: Int, halvesStepAfterFirst: Bool) {
        precondition(steps >= 0, "adaptation steps must not be negative, got \(steps)")
        self.init(learner: learner, stepSizes: learner.inner.stepSizes(count: steps, halvingAfterFirst: halvesStepAfterFirst))
    }

    /// Steps of the given sizes, one per adaptation step.
    public init(learner: any MetaLearner, stepSizes: [Double]) {
        precondition(stepSizes.allSatisfy { $0 >= 0 && $0.isFinite }, "step sizes must be finite and not negative: \(stepSizes)")
        self.learner = learner
        self.stepSizes = stepSizes
    }

    /// The first `count` held-out tasks of `seed`: drawn from a stream kept apart from the training
    /// tasks. Task i is the same for any `count` > i, so one task can be looked at on its own.
    public static func heldOutTasks<Distribution: TaskDistribution>(
        from distribution: Distribution, count: Int, seed: UInt64
    ) -> [Distribution.Task] {
        var stream = RandomStream.derive(seed: seed, purpose: .evaluationTasks)
        return distribution.sampleTasks(count: count, using: &stream)
    }

    /// Returns after 0…`steps` adaptation steps on every task, tasks spread over `threads`.
    /// - Parameter seed: the seed of the sampling streams (task i uses its own stream).
    /// - Throws: `BaselineError` when a task's episodes cannot be fitted.
    public func evaluate<Environment: VectorEnvironment>(
        _ parameters: [Tensor<Float>], tasks: [Environment.Task], sampler: EpisodeSampler<Environment>,
        seed: UInt64, threads: Int
    ) throws -> [Step] {
        try evaluate(parameters, tasks: tasks, sampler: sampler, seed: seed, threads: threads, keepingEpisodes: false).steps
    }

    /// `evaluate`, and with `keepingEpisodes` every task's episodes after 0…k steps as well
    /// (`[task][step]`; empty without it).
    public func evaluate<Environment: VectorEnvironment>(
        _ parameters: [Tensor<Float>], tasks: [Environment.Task], sampler: EpisodeSampler<Environment>,
        seed: UInt64, threads: Int, keepingEpisodes: Bool
    ) throws -> (steps: [Step], episodes: [[EpisodeBatch]]) {
        let parameters = parameters.map(\.detached)
        let perTask = try Parallel.map(tasks.count, threads: threads) { index -> (returns: [Double], episodes: [EpisodeBatch]) in
            let traced = try trace(parameters, task: tasks[index], taskIndex: index, sampler: sampler, seed: seed)
            return (traced.map { $0.episodeReturns.reduce(0, +) / Double($0.episodeCount) }, keepingEpisodes ? traced : [])
        }
        let steps = (0...self.steps).map { step in
            let values = perTask.map { $0.returns[step] }
            let n = Double(values.count)
            let mean = values.reduce(0, +) / n
            let variance = n > 1 ? values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1) : 0
            return Step(step: step, meanReturn: mean, standardError: (variance / n).squareRoot(), taskReturns: values)
        }
        return (steps, keepingEpisodes ? perTask.map(\.episodes) : [])
    }

    /// The episodes of one task before adaptation and after each of `steps` adaptation steps:
    /// what `evaluate` measures for task `taskIndex`, episode for episode (the viewer shows them).
    /// - Throws: `NonFiniteValueError` for NaN or infinite rewards or observations;
    ///   `BaselineError` when the episodes cannot be fitted.
    public func trace<Environment: VectorEnvironment>(
        _ parameters: [Tensor<Float>], task: Environment.Task, taskIndex: Int, sampler: EpisodeSampler<Environment>,
        seed: UInt64
    ) throws -> [EpisodeBatch] {
        let h = learner.inner
        var rng = RandomStream.derive(seed: seed, purpose: .evaluationSampling, index: taskIndex)
        var theta = parameters.map(\.detached)
        var trace: [EpisodeBatch] = []
        for step in 0...stepSizes.count {
            var episodes = sampler.sample(task: task, parameters: theta, using: &rng)
            while episodes.stepCount < minimumSteps {
                episodes.append(contentsOf: sampler.sample(task: task, parameters: theta, using: &rng))
            }
            try episodes.checkFinite()
            trace.append(episodes)
            if step < stepSizes.count {
                let batch: PolicyGradientBatch<Float> = try h.policyGradientBatch(episodes)
                theta = learner.adapt(theta, on: batch, stepSize: stepSizes[step])
            }
        }
        return trace
    }
}
