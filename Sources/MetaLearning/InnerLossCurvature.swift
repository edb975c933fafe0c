import Autodiff

/// An inner loss at one point θ — its gradient, and products with its Hessian — computed by hand
/// over the policy's network (`MLP.Linearisation`) and its head (`HeadLossCurvature`) instead of
/// by differentiating a recorded gradient again; for a network without hand-written products,
/// by the recorded graph (`GraphHessian`), which the tests check gives the same numbers.
///
/// The loss is L(θ) = −Σ_r c_r log π_θ(a_r|s_r), c_r = w_r·Â_r the batch's weighted advantages,
/// or its LVC form, whose gradient is the same and whose Hessian adds −Σ_r c_r ∇log π_r ∇log π_rᵀ
/// (`InnerObjective`). With the network's output o = f_θ(s) and G = ∂L/∂o,
///
///     H·v = (∇L)˙ = the backward pass's tangent (network curvature included) with Ġ from the head,
///
/// where the head's part is, for a Gaussian (u = (a − μ)/σ, ℓ = log σ, v_ℓ the log σ direction):
/// G = −c·u/σ, ∂L/∂ℓ = −Σ c(u² − 1), Ġ = c(μ̇/σ² + 2u·v_ℓ/σ), (∂L/∂ℓ)˙ = Σ 2c(u·μ̇/σ + u²·v_ℓ);
/// and for a categorical over logits o with probabilities p: G = c(p − e_a),
/// Ġ = c(p⊙ȯ − p(p·ȯ)). LVC adds −c·q·∇log π with q = ∇log π·v, per row.
///
/// - Complexity: the gradient is one forward and one backward pass; each product six matrix
///   products per hidden-to-hidden layer (two forward, four backward), the same order as the
///   double-backward it replaces, without its graph.
struct InnerLossCurvature<Scalar: TensorScalar>: @unchecked Sendable {
    // @unchecked: the head's parts and the fallback's graph are immutable once built.

    /// The network linearised at θ and its backward pass's adjoints, by row blocks of the steps
    /// (one block when the network's rows are the distinct observations), for Hessian
    /// products; empty for a gradient alone or a network without hand-written products.
    let blocks: [(rows: Range<Int>, network: MLP.Linearisation<Scalar>, adjoints: MLP.Linearisation<Scalar>.Adjoints)]
    /// The head's part of the loss's derivatives.
    let head: (any HeadLossCurvature<Scalar>)?
    /// For a network without hand-written products: the loss's gradient as a recorded graph.
    let fallback: GraphHessian<Scalar>?
    let objective: InnerObjective
    /// Each step's row of the network's inputs, when they are the distinct observations.
    let observationRows: ObservationRows?
    let outputSize: Int
    let shapes: [[Int]]
    let networkTensors: Int
    /// ∇L(θ), flattened in parameter order.
    let gradient: Tensor<Scalar>

    /// - Parameters:
    ///   - forProducts: keep what Hessian products need (otherwise only the gradient is computed,
    ///     and `hessianProduct` must not be called).
    ///   - blockRows: the most rows a Hessian product takes at once (the gradient takes them all).
    @specialized(where Scalar == Float)
    init(policy: Policy, parameters: [Tensor<Scalar>], batch: PolicyGradientBatch<Scalar>, objective: InnerObjective,
         forProducts: Bool = true, blockRows: Int? = nil) {
        self.objective = objective
        shapes = parameters.map(\.shape)
        networkTensors = policy.networkParameterCount
        guard let mlp = policy.mlp else {
            // Any other network: the same derivatives through the recorded graph.
            let graph = GraphHessian(parameters: parameters) { batch.innerLoss(policy: policy, parameters: $0, objective: objective) }
            gradient = graph.gradient
            fallback = forProducts ? graph : nil
            head = nil
            blocks = []
            observationRows = nil
            outputSize = policy.network.outputSize
            return
        }
        fallback = nil
        let network = mlp.linearise(batch.networkInputs, parameters: Array(parameters.prefix(networkTensors)))
        let outputSize = policy.network.outputSize
        observationRows = batch.observationRows
        self.outputSize = outputSize
        let rows = batch.episodes.stepCount
        // The head works step by step, the network row by row of its inputs: outputs are gathered
        // to the steps, the steps' adjoints summed back onto their rows.
        let head = policy.head.lossCurvature(output: observationRows?.gathering(network.output, width: outputSize) ?? network.output,
                                             rows: rows, parameters: Array(parameters.dropFirst(networkTensors)),
                                             actions: batch.actions.scalars, weights: batch.weightedAdvantages.scalars)
        let outputAdjoint = observationRows?.scatteringAdding(head.outputAdjoint, width: outputSize) ?? head.outputAdjoint
        let (networkGradient, adjoints) = network.backward(outputAdjoint, keepingAdjoints: forProducts)
        if let adjoints, observationRows != nil {
            // One block: the network's rows are the distinct observations, few by construction.
            blocks = [(0..<rows, network, adjoints)]
        } else if let adjoints {
            let ranges = RowMajor.rowBlocks(rows, maximum: blockRows ?? mlp.productBlockRows)
            blocks = ranges.count == 1
                ? [(0..<rows, network, adjoints)]
                : ranges.map { ($0, network.rows($0), adjoints.rows($0, of: rows)) }
        } else {
            blocks = []
        }
        self.head = head
        gradient = RowMajor.join(networkGradient + head.parameterGradient)
    }

    /// The gradient as tensors of the parameters' shapes.
    var gradientParts: [Tensor<Scalar>] { ParameterVector.unflatten(gradient, shapes: shapes) }

    /// H·v, the Hessian of the inner loss at θ times a flattened direction v: the sum over row
    /// blocks of each block's product.
    @specialized(where Scalar == Float)
    func hessianProduct(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(v.count == gradient.count, "a direction of \(v.count) values for \(gradient.count) parameters")
        if let fallback { return fallback.product(v) }
        precondition(!blocks.isEmpty, "Hessian products of an inner loss built for its gradient alone")
        guard let head else { preconditionFailure("an inner loss without its head's part") }
        let direction = RowMajor.split(v, shapes: shapes)
        let networkDirection = Array(direction.prefix(networkTensors))
        let started = head.start(direction: Array(direction.dropFirst(networkTensors)))
        let headDirection = started.direction
        var headPart = started.part
        let transposedDirection = blocks[0].network.transposedWeights(of: networkDirection)
        var networkPart: [[Scalar]] = []
        for (rows, network, adjoints) in blocks {
            let tangents = network.tangents(networkDirection)
            let outputTangent = observationRows?.gathering(tangents.output, width: outputSize) ?? tangents.output
            let adjointTangent = head.adjointTangent(rows: rows, outputTangent: outputTangent, direction: headDirection,
                                                     lvc: objective == .lvc, part: &headPart)
            let part = network.secondOrderBackward(
                adjoints: adjoints, tangents: tangents,
                outputAdjointTangent: observationRows?.scatteringAdding(adjointTangent, width: outputSize) ?? adjointTangent,
                transposedDirection: transposedDirection)
            if networkPart.isEmpty { networkPart = part } else { RowMajor.add(part, to: &networkPart) }
        }
        return RowMajor.join(networkPart + head.finish(headPart))
    }
}

/// A scalar function's gradient at a point, recorded as a graph, and products with its Hessian by
/// differentiating ⟨∇f, v⟩: the general path for networks without hand-written products.
final class GraphHessian<Scalar: TensorScalar>: @unchecked Sendable {
    // @unchecked: the graph is immutable once recorded; each product only reads it.
    private let variables: [Tensor<Scalar>]
    private let trackedGradient: Tensor<Scalar>
    let gradient: Tensor<Scalar>

    init(parameters: [Tensor<Scalar>], _ f: ([Tensor<Scalar>]) -> Tensor<Scalar>) {
        variables = parameters.map { Tensor.variable($0.detached) }
        trackedGradient = ParameterVector.flatten(gradients(of: f(variables), wrt: variables, createGraph: true))
        gradient = trackedGradient.detached
    }

    func product(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
        ParameterVector.flatten(gradients(of: Tensor.dot(trackedGradient, v.detached), wrt: variables))
    }
}

extension PolicyGradientBatch {
    /// ∇L(θ) of the inner loss (the policy gradient; REINFORCE and LVC agree), by a hand-written
    /// backward pass, as tensors of the parameters' shapes.
    public func innerGradient(policy: Policy, parameters: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        InnerLossCurvature(policy: policy, parameters: parameters.map(\.detached), batch: self, objective: .reinforce,
                           forProducts: false).gradientParts
    }
}
