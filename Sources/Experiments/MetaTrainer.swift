import Autodiff
import Environments
import Foundation
import MetaLearning

/// What one meta-iteration did: the values of one row of `progress.csv`.
public struct IterationReport: Sendable, Equatable {
    public var iteration: Int
    /// Mean undiscounted episode return before adaptation, over the meta-batch.
    public var returnBefore: Double
    /// … after the inner steps.
    public var returnAfter: Double
    /// The learner's figures of its meta-update, in its `metricColumns` order.
    public var metrics: [Metric]
    /// Seconds spent sampling episodes and adapting for sampling.
    public var secondsSampling: Double
    public var secondsTotal: Double
    /// Environment steps sampled in this iteration (all tasks, before and after adaptation).
    public var environmentSteps: Int
    /// The trainer's figures of the policy (`PolicyStatistics`), the same for every learner of a kind.
    public var policyMetrics: [Metric] = []
}

extension IterationReport {
    /// The learner's figure called `name`, 0 when it reports none.
    public func metric(_ name: String) -> Double { metrics.first { $0.name == name }?.value ?? 0 }
}

/// Meta-training on any environment family with any meta-learner: sample a meta-batch of tasks,
/// collect and adapt on each (in parallel), take the learner's meta-update. The `pretrained`
/// learner is the same loop with no inner steps: multi-task TRPO, one policy for all tasks (the
/// MAML paper's "pretrained" baseline, which evaluation then fine-tunes with the same α).
///
/// Every random draw comes from a stream derived from (seed, purpose, iteration and task), so an
/// iteration is a pure function of the configuration, the parameters and the iteration number:
/// runs resume exactly and do not depend on the thread count.
public struct MetaTrainer: Sendable {
    public let configuration: TrainingConfiguration
    public let family: AnyEnvironmentFamily
    /// The learner and its sampler, of either kind.
    public private(set) var engine: Engine
    public private(set) var parameters: [Tensor<Float>]
    /// Meta-iterations completed.
    public private(set) var iteration: Int
    /// The processes the meta-batch's tasks are shared among (one, unless under MPI); every
    /// process runs the same iterations and holds the same parameters.
    public var group: any TaskGroup = SingleProcess()

    /// How the learner adapts, with the sampler that serves it: inner gradient steps on episodes,
    /// or a recurrent state over the episodes of a trial.
    public enum Engine: Sendable {
        case gradient(any MetaLearner, FamilySampler)
        case memory(any TrialMetaLearner, TrialFamilySampler)

        /// The columns the learner's update reports.
        public var metricColumns: [String] {
            switch self {
            case .gradient(let learner, _): learner.metricColumns
            case .memory(let learner, _): learner.metricColumns
            }
        }

        /// What the checkpoint saves beside the parameters.
        public var state: [StateTensor] {
            switch self {
            case .gradient(let learner, _): learner.state
            case .memory(let learner, _): learner.state
            }
        }

        /// The policy's layout, as the checkpoint records it.
        public var policyDescription: Checkpoint.PolicyDescription {
            switch self {
            case .gradient(let learner, _): .feedForward(learner.policy)
            case .memory(let learner, _): .recurrent(learner.policy)
            }
        }

        mutating func restore(_ state: [StateTensor]) throws {
            switch self {
            case .gradient(var learner, let sampler):
                try learner.restore(state)
                self = .gradient(learner, sampler)
            case .memory(var learner, let sampler):
                try learner.restore(state)
                self = .memory(learner, sampler)
            }
        }
    }

    public init(configuration: TrainingConfiguration, family: AnyEnvironmentFamily) {
        self.configuration = configuration
        self.family = family
        var rng = RandomStream.derive(seed: configuration.seed, purpose: .parameterInitialisation)
        if configuration.adaptsInMemory {
            let policy = TrialFamilySampler.policy(for: family, hiddenSize: configuration.rl2.hiddenSize, cellKind: configuration.rl2.cell)
            engine = .memory(configuration.makeTrialLearner(policy: policy),
                             TrialFamilySampler(family: family, policy: policy, trialsPerBatch: configuration.rl2.trialsPerBatch))
            parameters = policy.initialParameters(as: Float.self, using: &rng)
        } else {
            let policy = FamilySampler.policy(for: family, hidden: configuration.hidden, activation: configuration.activation)
            engine = .gradient(configuration.makeLearner(policy: policy),
                               FamilySampler(family: family, policy: policy, episodes: configuration.fastBatchSize))
            parameters = policy.initialParameters(as: Float.self, using: &rng)
        }
        iteration = 0
    }

    /// Continues from saved parameters and learner state after `iteration` completed meta-iterations.
    /// - Throws: `LearnerStateError` when the saved state does not fit the learner.
    public init(configuration: TrainingConfiguration, family: AnyEnvironmentFamily, parameters: [Tensor<Float>],
                learnerState: [StateTensor], iteration: Int) throws {
        self.init(configuration: configuration, family: family)
        precondition(parameters.map(\.shape) == self.parameters.map(\.shape),
                     "saved parameters \(parameters.map(\.shape)) do not fit the policy \(self.parameters.map(\.shape))")
        try engine.restore(learnerState)
        self.parameters = parameters
        self.iteration = iteration
    }

    /// The columns of this run's `progress.csv`.
    public var progressColumns: [String] { ProgressLog.columns(learnerMetrics: engine.metricColumns, policyMetrics: policyColumns) }

    /// The columns of `IterationReport.policyMetrics`.
    public var policyColumns: [String] {
        switch engine {
        case .gradient(let learner, _): PolicyStatistics.columns(for: learner.policy)
        case .memory: PolicyStatistics.trialColumns
        }
    }

    /// The gradient-based learner, or nil for a memory-based one.
    public var learner: (any MetaLearner)? { if case .gradient(let learner, _) = engine { learner } else { nil } }

    /// Runs the next meta-iteration; on any error the parameters and the iteration count stay as
    /// they were.
    /// - Throws: `NonFiniteValueError` (with the iteration) when the episodes, the losses, the
    ///   meta-gradient or the updated parameters hold a NaN or an infinity; `BaselineError` when a
    ///   task's episodes cannot be fitted.
    public mutating func runIteration() throws -> IterationReport {
        do {
            return try runIterationUnchecked()
        } catch var error as NonFiniteValueError {
            error.iteration = iteration + 1
            throw error
        }
    }

    private mutating func runIterationUnchecked() throws -> IterationReport {
        let clock = ContinuousClock()
        let start = clock.now
        let theta = parameters
        // Only a checkpoint written by hand can hold these (updates are checked before they are kept).
        for tensor in theta { try NonFiniteValueError.check(tensor.scalars, "the policy's parameters") }
        let mean = { (values: [Double]) in values.reduce(0, +) / Double(values.count) }
        let report: IterationReport
        switch engine {
        case .gradient(var learner, let sampler):
            // This process's tasks (all of them, unless under MPI).
            let rollouts = try sampler.collectMetaBatch(learner: learner, parameters: theta, seed: configuration.seed,
                                                        iteration: iteration, count: configuration.metaBatchSize,
                                                        range: group.tasks(of: configuration.metaBatchSize), threads: configuration.threads)
            let sampled = clock.now
            let (updated, metrics) = try learner.update(theta, rollouts: rollouts, threads: configuration.threads, group: group)
            engine = .gradient(learner, sampler)
            parameters = updated
            let policyMetrics = PolicyStatistics.metrics(policy: learner.policy, before: theta, after: updated,
                                                         batches: rollouts.map { ($0.train.first ?? $0.valid).episodes },
                                                         threads: configuration.threads, group: group)
            // Each task's returns and steps, from every process, in task order.
            let perTask = group.gatherRows(rollouts.flatMap { rollout in
                [mean((rollout.train.first ?? rollout.valid).episodes.episodeReturns), mean(rollout.valid.episodes.episodeReturns),
                 Double(rollout.valid.episodes.stepCount + rollout.train.reduce(0) { $0 + $1.episodes.stepCount })]
            }, width: 3)
            report = IterationReport(
                iteration: iteration + 1,
                returnBefore: mean(perTask.map { $0[0] }),
                returnAfter: mean(perTask.map { $0[1] }),
                metrics: metrics,
                secondsSampling: (sampled - start).inSeconds,
                secondsTotal: (clock.now - start).inSeconds,
                environmentSteps: perTask.reduce(0) { $0 + Int($1[2]) },
                policyMetrics: policyMetrics)
        case .memory(var learner, let sampler):
            let trials = sampler.collectMetaBatch(parameters: theta, seed: configuration.seed, iteration: iteration,
                                                  count: configuration.metaBatchSize, threads: configuration.threads, group: group)
            for trial in trials {
                try NonFiniteValueError.check(trial.rewards, "the rewards")
                try NonFiniteValueError.check(trial.features, "the observations")
            }
            let sampled = clock.now
            let (updated, metrics) = try learner.update(theta, trials: trials, threads: configuration.threads, group: group)
            engine = .memory(learner, sampler)
            parameters = updated
            // Before and after adaptation, for a trial: its first episode and its last.
            report = IterationReport(
                iteration: iteration + 1,
                returnBefore: mean(trials.map { $0.episodeReturns.first ?? 0 }),
                returnAfter: mean(trials.map { $0.episodeReturns.last ?? 0 }),
                metrics: metrics,
                secondsSampling: (sampled - start).inSeconds,
                secondsTotal: (clock.now - start).inSeconds,
                environmentSteps: trials.reduce(0) { $0 + $1.length },
                policyMetrics: PolicyStatistics.metrics(trials: trials))
        }
        iteration += 1
        return report
    }
}
