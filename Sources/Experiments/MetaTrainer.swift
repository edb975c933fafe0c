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
    public private(set) var learner: any MetaLearner
    public let sampler: FamilySampler
    public private(set) var parameters: [Tensor<Float>]
    /// Meta-iterations completed.
    public private(set) var iteration: Int

    public init(configuration: TrainingConfiguration, family: AnyEnvironmentFamily) {
        self.configuration = configuration
        self.family = family
        let policy = FamilySampler.policy(for: family, hidden: configuration.hidden, activation: configuration.activation)
        learner = configuration.makeLearner(policy: policy)
        sampler = FamilySampler(family: family, policy: policy, episodes: configuration.fastBatchSize)
        var rng = RandomStream.derive(seed: configuration.seed, purpose: .parameterInitialisation)
        parameters = policy.initialParameters(as: Float.self, using: &rng)
        iteration = 0
    }

    /// Continues from saved parameters and learner state after `iteration` completed meta-iterations.
    /// - Throws: `LearnerStateError` when the saved state does not fit the learner.
    public init(configuration: TrainingConfiguration, family: AnyEnvironmentFamily, parameters: [Tensor<Float>],
                learnerState: [StateTensor], iteration: Int) throws {
        self.init(configuration: configuration, family: family)
        precondition(parameters.map(\.shape) == learner.policy.parameterShapes,
                     "saved parameters \(parameters.map(\.shape)) do not fit the policy \(learner.policy.parameterShapes)")
        try learner.restore(learnerState)
        self.parameters = parameters
        self.iteration = iteration
    }

    /// The columns of this run's `progress.csv`.
    public var progressColumns: [String] { ProgressLog.columns(learnerMetrics: learner.metricColumns) }

    /// The policy the learner trains.
    public var policy: Policy { learner.policy }

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
        let rollouts = try sampler.collectMetaBatch(learner: learner, parameters: theta, seed: configuration.seed,
                                                    iteration: iteration, count: configuration.metaBatchSize,
                                                    threads: configuration.threads)
        let sampled = clock.now
        var learner = self.learner
        let (updated, metrics) = try learner.update(theta, rollouts: rollouts, threads: configuration.threads)
        self.learner = learner
        parameters = updated
        self.iteration += 1
        let mean = { (values: [Double]) in values.reduce(0, +) / Double(values.count) }
        return IterationReport(
            iteration: self.iteration,
            returnBefore: mean(rollouts.map { mean(($0.train.first ?? $0.valid).episodes.episodeReturns) }),
            returnAfter: mean(rollouts.map { mean($0.valid.episodes.episodeReturns) }),
            metrics: metrics,
            secondsSampling: (sampled - start).inSeconds,
            secondsTotal: (clock.now - start).inSeconds,
            environmentSteps: rollouts.reduce(0) { total, rollout in
                total + rollout.valid.episodes.stepCount + rollout.train.reduce(0) { $0 + $1.episodes.stepCount }
            })
    }
}
