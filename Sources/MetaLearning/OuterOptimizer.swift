import Autodiff

/// The mean over a meta-batch of the tasks' outer objectives, as a function of the flattened
/// meta-parameters x: what an outer optimiser steps on. Tasks are evaluated in parallel and
/// summed in task order, so the figures do not depend on the thread count.
public struct MetaBatchObjective: Sendable {
    /// The form of the surrogate the optimiser needs.
    public let form: SurrogateForm
    private let evaluateAt: @Sendable (Tensor<Float>, TermsNeeded) throws -> MetaBatchTerms

    public init(form: SurrogateForm, evaluate: @escaping @Sendable (Tensor<Float>, TermsNeeded) throws -> MetaBatchTerms) {
        self.form = form
        evaluateAt = evaluate
    }

    /// Loss, KL and, as asked, the gradient and curvature at x.
    /// - Throws: `NonFiniteValueError` when a figure holds a NaN or an infinity.
    public func evaluate(at x: Tensor<Float>, needs: TermsNeeded) throws -> MetaBatchTerms {
        let terms = try evaluateAt(x, needs)
        try NonFiniteValueError.check([terms.loss], "the outer loss")
        try NonFiniteValueError.check([terms.kl], "the KL divergence")
        if let gradient = terms.gradient { try NonFiniteValueError.check(gradient.scalars, "the meta-gradient") }
        return terms
    }
}

/// The meta-batch's objective at one x.
public struct MetaBatchTerms: Sendable {
    public var loss: Float
    public var kl: Float
    public var gradient: Tensor<Float>?
    /// The mean KL's Hessian times v, when the curvature was asked for.
    public var klHessianProduct: (@Sendable (Tensor<Float>) -> Tensor<Float>)?
    /// The mean inner-step KL of each inner step from its reference (ProMP's penalty reads it).
    public var innerKLs: [Float]

    public init(loss: Float, kl: Float, gradient: Tensor<Float>?, klHessianProduct: (@Sendable (Tensor<Float>) -> Tensor<Float>)?,
                innerKLs: [Float]) {
        self.loss = loss
        self.kl = kl
        self.gradient = gradient
        self.klHessianProduct = klHessianProduct
        self.innerKLs = innerKLs
    }
}

/// A named figure of one meta-update, a column of `progress.csv`.
public struct Metric: Sendable, Equatable {
    public var name: String
    public var value: Double

    public init(_ name: String, _ value: Double) {
        self.name = name
        self.value = value
    }
}

/// A named tensor of a learner's state beyond the policy's parameters, saved in checkpoints.
public struct StateTensor: Sendable {
    public var name: String
    public var tensor: Tensor<Float>

    public init(_ name: String, _ tensor: Tensor<Float>) {
        self.name = name
        self.tensor = tensor
    }
}

/// An error restoring a learner's saved state.
public struct LearnerStateError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How meta-parameters move given the meta-batch's objective: TRPO's trust-region step, Adam on
/// the gradient (VPG), or PPO's epochs on the clipped surrogate. Separate from the learners, so
/// any gradient-based learner can use any of them.
public protocol OuterOptimizer: Sendable {
    /// The surrogate form this optimiser steps on.
    var form: SurrogateForm { get }
    /// The columns `step` reports, in order.
    var metricColumns: [String] { get }
    /// One meta-update from x.
    /// - Throws: `NonFiniteValueError` when a figure or the step holds a NaN or an infinity.
    mutating func step(from x: Tensor<Float>, objective: MetaBatchObjective) throws -> (x: Tensor<Float>, metrics: [Metric])
    /// What resuming exactly needs (Adam's moments), saved in checkpoints.
    var state: [StateTensor] { get }
    /// Sets the state saved by `state`.
    /// - Throws: `LearnerStateError` when a tensor is missing or of the wrong shape.
    mutating func restore(_ state: [StateTensor]) throws
}

extension Array where Element == StateTensor {
    /// The tensor named `name`, of `count` elements.
    /// - Throws: `LearnerStateError` when it is missing or of another size.
    public func tensor(_ name: String, count: Int) throws -> Tensor<Float> {
        guard let found = first(where: { $0.name == name }) else { throw LearnerStateError("the checkpoint has no \(name)") }
        guard found.tensor.count == count else {
            throw LearnerStateError("\(name) holds \(found.tensor.count) values, this run needs \(count)")
        }
        return found.tensor
    }
}
