import Autodiff
import Foundation
import Synchronization

/// How a gradient-based learner adapts: its inner step for sampling and evaluation, and the same
/// step as a map of the meta-parameters whose Jacobians the meta-gradient runs through.
public protocol AdaptationRule: Sendable {
    /// One plain inner step from θ (sampling, evaluation), with the meta-parameters beyond the
    /// policy's in `extra`.
    func adapt(policy: Policy, _ theta: [Tensor<Float>], extra: [Tensor<Float>], on batch: PolicyGradientBatch<Float>,
               stepSize: Float) -> [Tensor<Float>]
    /// θ₀ … θ_k as functions of x = θ ⊕ extra on the train batches, with each step's α.
    /// - Parameter needs: `.value` when only the points are needed.
    /// - Parameter references: the policy that sampled each batch (nil at that point itself), for
    ///   rules whose inner objective holds it fixed (LVC, DiCE).
    func map<Scalar>(policy: Policy, x: [Tensor<Scalar>], batches: [PolicyGradientBatch<Scalar>], stepSizes: [Scalar],
                     references: [ActionDistribution<Scalar>]?, needs: TermsNeeded) -> any AdaptationMap<Scalar>
    /// Whether `map` reads the sampling policies (`references`); they are then taken once, where
    /// the episodes were sampled.
    var readsReferences: Bool { get }
}

extension AdaptationRule {
    public var readsReferences: Bool { false }
}

/// A gradient-based meta-learner assembled from its parts: an inner rule, an outer optimiser and
/// any extra terms of the outer objective. MAML (TRPO, VPG, PPO, first order), ProMP, E-MAML,
/// DiCE, Meta-SGD and CAVIA are each one of these, built by their `entry`.
///
/// Each meta-update maximises the mean over tasks of the post-adaptation surrogate,
/// differentiated through the inner steps (`AdaptationMap`), as the optimiser steps on it.
public struct GradientMetaLearner: MetaLearner {
    public let name: String
    public let policy: Policy
    public let inner: MAMLTRPO.Hyperparameters
    public let trainingInnerSteps: Int
    public let rule: any AdaptationRule
    public private(set) var optimizer: any OuterOptimizer
    public private(set) var extraTerms: [any OuterTerm]
    /// Meta-parameters beyond the policy's (Meta-SGD's α, CAVIA's context weights), by name.
    public private(set) var extra: [StateTensor]

    public init(name: String, policy: Policy, inner: MAMLTRPO.Hyperparameters, trainingInnerSteps: Int? = nil,
                rule: any AdaptationRule, optimizer: any OuterOptimizer, extraTerms: [any OuterTerm] = [],
                extra: [StateTensor] = []) {
        self.name = name
        self.policy = policy
        self.inner = inner
        self.trainingInnerSteps = trainingInnerSteps ?? inner.innerSteps
        self.rule = rule
        self.optimizer = optimizer
        self.extraTerms = extraTerms
        self.extra = extra
    }

    public func adapt(_ parameters: [Tensor<Float>], on batch: PolicyGradientBatch<Float>, stepSize: Double) -> [Tensor<Float>] {
        rule.adapt(policy: policy, parameters, extra: extra.map(\.tensor), on: batch, stepSize: Float(stepSize))
    }

    /// x = θ ⊕ extra, as tensors.
    public func metaParameters(_ parameters: [Tensor<Float>]) -> [Tensor<Float>] { parameters + extra.map(\.tensor) }

    /// One task's outer objective at meta-parameters x (the policy's parameters, then `extra`'s
    /// tensors), against `references` (nil: at the point the episodes were sampled with).
    @specialized(where Scalar == Float)
    public func taskTerms<Scalar>(
        at x: [Tensor<Scalar>], rollout: TaskRollout<Scalar>, references: TaskReferences<Scalar>?, form: SurrogateForm,
        constants: [Double?], needs: TermsNeeded
    ) -> TaskTerms<Scalar> {
        let alphas = trainingStepSizes.map { Scalar($0) }
        let map = rule.map(policy: policy, x: x, batches: rollout.train, stepSizes: alphas, references: references?.inner,
                           needs: needs)
        return adaptedSurrogate(map: map, policy: policy, rollout: rollout, outerLoss: inner.outerLoss, references: references,
                                form: form, extraTerms: extraTerms, constants: constants, needs: needs,
                                keepsInnerReferences: rule.readsReferences)
    }

    public var metricColumns: [String] { optimizer.metricColumns + extraTerms.flatMap { term in term.metricColumns } }

    public mutating func update(_ parameters: [Tensor<Float>], rollouts: [TaskRollout<Float>], threads: Int, group: any TaskGroup) throws
        -> (parameters: [Tensor<Float>], metrics: [Metric]) {
        let x = metaParameters(parameters)
        let shapes = x.map(\.shape)
        let x0 = ParameterVector.flatten(x)
        let width = x0.count
        // Where this process's tasks start in the meta-batch, and how many there are in all.
        let owned = group.size == 1 ? [Double(rollouts.count)] : group.gather([Double(rollouts.count)])
        let first = Int(owned.prefix(group.rank).reduce(0, +)), total = Int(owned.reduce(0, +))
        // E-MAML normalises by the rewards of the whole meta-batch: gathered from every process.
        let postUpdate = extraTerms.contains { $0.readsPostUpdateRewards }
            ? group.gatherLists(rollouts.map { $0.valid.episodes.rewards }) : []
        let prepared = extraTerms.map { $0.readsPostUpdateRewards ? $0.prepare(postUpdateRewards: postUpdate) : [] }
        let constants: [[Double?]] = rollouts.indices.map { task in prepared.map { $0.isEmpty ? nil : $0[first + task] } }
        let references = ReferenceCache(count: rollouts.count)
        let learner = self
        let form = optimizer.form
        let objective = MetaBatchObjective(form: form) { point, needs in
            let atStart = point.scalars == x0.scalars
            let tensors = ParameterVector.unflatten(point, shapes: shapes)
            let terms = Parallel.map(rollouts.count, threads: threads) { index -> TaskTerms<Float> in
                let given = references.get(index)
                precondition(given != nil || atStart, "the first evaluation of a meta-update must be where it starts")
                let terms = learner.taskTerms(at: tensors, rollout: rollouts[index], references: given, form: form,
                                              constants: constants[index], needs: needs)
                if given == nil { references.set(index, terms.references) }
                return terms
            }
            // Every task's figures in task order (this process's alone when it has them all).
            let steps = Int((group.size == 1 ? [terms.map(\.innerKLs.count).min() ?? 0].map(Double.init)
                                              : group.gather([Double(terms.map(\.innerKLs.count).min() ?? Int.max)])).min() ?? 0)
            let figures = group.gatherRows(terms.flatMap { [$0.loss, $0.kl] + $0.innerKLs.prefix(steps) }, width: 2 + steps)
            // Sums in task order, then divided by the count: the rounding MAML-TRPO's figures were made with.
            let count = Float(total)
            let share = 1 / count
            var gradient: Tensor<Float>?
            if needs != .value {
                let gradients = group.size == 1 ? terms.map { $0.gradient! }
                    : group.gatherRows(terms.flatMap { $0.gradient!.scalars }, width: width).map { Tensor(shape: [width], scalars: $0) }
                gradient = gradients.reduce(Tensor.zeros([width]), +) / count
            }
            var curvature: (@Sendable (Tensor<Float>) -> Tensor<Float>)?
            if needs == .curvature {
                let tasks = UncheckedTerms(terms)
                curvature = { v in
                    let local = Parallel.map(tasks.terms.count, threads: threads) { tasks.terms[$0].klHessianProduct(v) }
                    let products = group.size == 1 ? local
                        : group.gatherRows(local.flatMap(\.scalars), width: v.count).map { Tensor(shape: [v.count], scalars: $0) }
                    return products.reduce(Tensor.zeros([v.count]), +) / count
                }
            }
            let result = MetaBatchTerms(
                loss: figures.map { $0[0] }.reduce(0, +) / count, kl: figures.map { $0[1] }.reduce(0, +) / count, gradient: gradient,
                klHessianProduct: curvature,
                innerKLs: (0..<steps).map { step in figures.map { $0[2 + step] }.reduce(0, +) * share })
            references.remember(point, result)
            return result
        }
        var optimizer = self.optimizer
        let (updated, metrics) = try optimizer.step(from: x0, objective: objective)
        self.optimizer = optimizer
        // The terms read what the update did at its end point (ProMP's inner KLs).
        let final = try references.last(at: updated) ?? objective.evaluate(at: updated, needs: .value)
        var termMetrics: [Metric] = []
        for index in extraTerms.indices { termMetrics += extraTerms[index].observe(final) }
        let tensors = ParameterVector.unflatten(updated, shapes: shapes)
        for index in extra.indices { extra[index].tensor = tensors[parameters.count + index] }
        return (Array(tensors.prefix(parameters.count)), metrics + termMetrics)
    }

    public var state: [StateTensor] { extra + optimizer.state + extraTerms.flatMap(\.state) }

    public mutating func restore(_ state: [StateTensor]) throws {
        for index in extra.indices {
            extra[index].tensor = try state.tensor(extra[index].name, count: extra[index].tensor.count).reshaped(extra[index].tensor.shape)
        }
        try optimizer.restore(state)
        for index in extraTerms.indices { try extraTerms[index].restore(state) }
    }
}

/// Each task's references, set by the first evaluation of a meta-update (at its start) and read
/// by every later one; and the meta-batch terms of the last point evaluated.
private final class ReferenceCache: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var references: [TaskReferences<Float>?]
    private var lastPoint: [Float] = []
    private var lastTerms: MetaBatchTerms?

    init(count: Int) { references = Array(repeating: nil, count: count) }

    func get(_ index: Int) -> TaskReferences<Float>? { lock.withLock { references[index] } }
    func set(_ index: Int, _ value: TaskReferences<Float>) { lock.withLock { references[index] = value } }
    func remember(_ point: Tensor<Float>, _ terms: MetaBatchTerms) {
        lock.withLock {
            lastPoint = point.scalars
            lastTerms = terms
        }
    }
    func last(at point: Tensor<Float>) -> MetaBatchTerms? { lock.withLock { lastPoint == point.scalars ? lastTerms : nil } }
}

/// The tasks' terms, read by the curvature product on any thread.
private struct UncheckedTerms: @unchecked Sendable {
    // @unchecked: the terms are immutable once built.
    let terms: [TaskTerms<Float>]
    init(_ terms: [TaskTerms<Float>]) { self.terms = terms }
}
