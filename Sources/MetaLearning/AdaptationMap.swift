import Autodiff

/// How a gradient-based meta-learner turns its meta-parameters x into the adapted policies of one
/// task, θ₀(x), θ₁(x), …, θ_k(x) (θ₀ the unadapted policy), and the products with their Jacobians
/// J_s = ∂θ_s/∂x that every outer objective and optimiser is built from.
///
/// x is the policy's parameters followed by whatever else the learner meta-learns (Meta-SGD's
/// step sizes, CAVIA's context weights), flattened in that order; θ_s are the policy's parameters.
/// With these two products an outer objective Σ_s L_s(θ_s) has the meta-gradient Σ_s J_sᵀ∇L_s,
/// and a KL trust region the curvature Σ_s J_sᵀ F_s J_s, whatever the inner rule.
public protocol AdaptationMap<Scalar> {
    associatedtype Scalar: TensorScalar
    /// θ₀ … θ_k as plain values.
    var points: [[Tensor<Scalar>]] { get }
    /// Σ_s J_sᵀ z_s for flattened vectors z_s at some of the steps s: a flattened vector over x.
    func pullback(_ z: [Int: Tensor<Scalar>]) -> Tensor<Scalar>
    /// J_s·v for every step s = 0 … k, for a flattened direction v over x.
    func pushforward(_ v: Tensor<Scalar>) -> [Tensor<Scalar>]
}

/// Inner steps θᵢ₊₁ = θᵢ − aᵢ ⊙ ∇Lᵢ(θᵢ) with a scalar step size per step (MAML), or a
/// per-parameter one, aᵢ = sᵢ·α with α meta-learned and placed after θ in x (Meta-SGD), using the
/// hand-written gradient and Hessian products of the inner loss (`InnerLossCurvature`).
///
/// The Jacobians are products of (I − diag(aᵢ)Hᵢ), with, for a learned α, the extra column
/// −sᵢ diag(∇Lᵢ) for α. First order takes Hᵢ = 0 (α keeps its column: it is not curvature).
public struct GradientStepMap<Scalar: TensorScalar>: AdaptationMap, Sendable {
    public let points: [[Tensor<Scalar>]]
    let innerLosses: [InnerLossCurvature<Scalar>]
    /// sᵢ: the step sizes, or, with a learned α, each step's multiple of it.
    let scales: [Scalar]
    /// α flattened over θ, when it is learned.
    let learnedStepSizes: Tensor<Scalar>?
    let firstOrder: Bool
    let policyCount: Int

    /// - Parameters:
    ///   - x: the policy's parameters, then (with `learnsStepSizes`) α of the same shapes.
    ///   - scales: α per step, or with a learned α the multiple sᵢ of α for step i.
    ///   - references: the policy that sampled each batch; with the `lvc` objective the inner loss
    ///     is −Σ w (π_θ/π_ref) Â with π_ref held there (at the sampling point the ratio is 1, and
    ///     elsewhere the map is still the derivative of the objective it evaluates).
    ///   - forProducts: keep what Jacobian products need; the points alone otherwise.
    @specialized(where Scalar == Float)
    public init(policy: Policy, x: [Tensor<Scalar>], batches: [PolicyGradientBatch<Scalar>], scales: [Scalar],
                learnsStepSizes: Bool, objective: InnerObjective, firstOrder: Bool,
                references: [ActionDistribution<Scalar>]? = nil, forProducts: Bool = true) {
        precondition(scales.count == batches.count, "\(scales.count) step sizes for \(batches.count) inner steps")
        let count = policy.parameterShapes.count
        precondition(x.count == (learnsStepSizes ? 2 * count : count), "\(x.count) meta-parameter tensors for \(count) policy tensors")
        policyCount = count
        let alpha = learnsStepSizes ? ParameterVector.flatten(Array(x.suffix(count)).map(\.detached)) : nil
        var points = [Array(x.prefix(count)).map(\.detached)]
        var innerLosses: [InnerLossCurvature<Scalar>] = []
        for (i, (given, scale)) in zip(batches, scales).enumerated() {
            var batch = given
            if objective == .lvc, let references {
                batch = given.importanceWeighted(policy: policy, parameters: points.last!, reference: references[i])
            }
            let inner = InnerLossCurvature(policy: policy, parameters: points.last!, batch: batch, objective: objective,
                                           forProducts: forProducts && !firstOrder)
            let step = alpha.map { scale * $0 * inner.gradient } ?? scale * inner.gradient
            let shapes = points.last!.map(\.shape)
            points.append(zip(points.last!, ParameterVector.unflatten(step, shapes: shapes)).map { $0 - $1 })
            innerLosses.append(inner)
        }
        self.points = points
        self.innerLosses = innerLosses
        self.scales = scales
        learnedStepSizes = alpha
        self.firstOrder = firstOrder
    }

    /// aᵢ ⊙ u: the step's size times a vector over θ.
    private func stepTimes(_ i: Int, _ u: Tensor<Scalar>) -> Tensor<Scalar> {
        learnedStepSizes.map { scales[i] * $0 * u } ?? scales[i] * u
    }

    /// From the last step back: each z_s joins at its step, and every step's transpose
    /// (I − Hᵢ diag(aᵢ)) applies to what has gathered above it (Hᵢ is symmetric); a learned α
    /// collects −sᵢ ∇Lᵢ ⊙ u on the way.
    @specialized(where Scalar == Float)
    public func pullback(_ z: [Int: Tensor<Scalar>]) -> Tensor<Scalar> {
        let width = points[0].reduce(0) { $0 + $1.count }
        var u = Tensor<Scalar>.zeros([width])
        var alphaPart = learnedStepSizes.map { _ in Tensor<Scalar>.zeros([width]) }
        for i in stride(from: innerLosses.count, through: 0, by: -1) {
            if let zi = z[i] { u = u + zi }
            guard i > 0 else { break }
            let inner = innerLosses[i - 1]
            if let part = alphaPart { alphaPart = part - scales[i - 1] * inner.gradient * u }
            if !firstOrder {
                // (I − H diag(a))u; with one α for every parameter, u − α(Hu), rounded as MAML-TRPO always has.
                u = learnedStepSizes == nil ? u - scales[i - 1] * inner.hessianProduct(u) : u - inner.hessianProduct(stepTimes(i - 1, u))
            }
        }
        guard let alphaPart else { return u }
        return Tensor.concatenate([u, alphaPart], alongAxis: 0)
    }

    @specialized(where Scalar == Float)
    public func pushforward(_ v: Tensor<Scalar>) -> [Tensor<Scalar>] {
        let width = points[0].reduce(0) { $0 + $1.count }
        var u = learnedStepSizes == nil ? v : v.slice(0..<width, alongAxis: 0)
        let vAlpha = learnedStepSizes == nil ? nil : v.slice(width..<(2 * width), alongAxis: 0)
        var result = [u]
        for (i, inner) in innerLosses.enumerated() {
            if !firstOrder { u = u - stepTimes(i, inner.hessianProduct(u)) }
            if let vAlpha { u = u - scales[i] * inner.gradient * vAlpha }
            result.append(u)
        }
        return result
    }
}

/// Any inner rule written as a differentiable function of x (`adapt` records its graph), with
/// the Jacobian products taken by reverse mode over that graph: J_sᵀz as one backward pass, and
/// J_s·v as the derivative of a Jᵀu with respect to u. Slower than hand-written products but
/// correct for any rule and any network (DiCE, CAVIA, and tests that check the fast paths).
public struct GraphStepMap<Scalar: TensorScalar>: AdaptationMap, @unchecked Sendable {
    // @unchecked: the recorded graph is immutable once built and used by one thread at a time.

    public let points: [[Tensor<Scalar>]]
    private let variables: [Tensor<Scalar>]
    private let trackedPoints: [[Tensor<Scalar>]]

    /// - Parameter adapt: θ₀ … θ_k from tracked x, recording second-order graphs (`createGraph`).
    public init(x: [Tensor<Scalar>], adapt: ([Tensor<Scalar>]) -> [[Tensor<Scalar>]]) {
        variables = x.map { Tensor.variable($0.detached) }
        trackedPoints = adapt(variables)
        points = trackedPoints.map { $0.map(\.detached) }
    }

    /// Σ_s ⟨θ_s(x), u_s⟩ for flattened u_s.
    private func pairing(_ u: [Int: Tensor<Scalar>]) -> Tensor<Scalar>? {
        var total: Tensor<Scalar>?
        for (s, us) in u {
            let term = Tensor.dot(ParameterVector.flatten(trackedPoints[s]), us)
            total = total.map { $0 + term } ?? term
        }
        return total
    }

    public func pullback(_ z: [Int: Tensor<Scalar>]) -> Tensor<Scalar> {
        guard let total = pairing(z) else { return .zeros([variables.reduce(0) { $0 + $1.count }]) }
        return ParameterVector.flatten(gradients(of: total, wrt: variables))
    }

    public func pushforward(_ v: Tensor<Scalar>) -> [Tensor<Scalar>] {
        let width = points[0].reduce(0) { $0 + $1.count }
        let u = (0..<points.count).map { _ in Tensor.variable(Tensor<Scalar>.zeros([width])) }
        let transposed = ParameterVector.flatten(gradients(of: pairing(Dictionary(uniqueKeysWithValues: u.enumerated().map { ($0, $1) }))!,
                                                           wrt: variables, createGraph: true))
        return gradients(of: Tensor.dot(transposed, v.detached), wrt: u).map(\.detached)
    }
}

/// The points alone, for evaluations that need no derivative (line search, statistics).
public struct PointsOnlyMap<Scalar: TensorScalar>: AdaptationMap, Sendable {
    public let points: [[Tensor<Scalar>]]

    public init(points: [[Tensor<Scalar>]]) { self.points = points }

    public func pullback(_ z: [Int: Tensor<Scalar>]) -> Tensor<Scalar> {
        preconditionFailure("a points-only adaptation map has no Jacobian products")
    }

    public func pushforward(_ v: Tensor<Scalar>) -> [Tensor<Scalar>] {
        preconditionFailure("a points-only adaptation map has no Jacobian products")
    }
}
