import Autodiff

/// The Hessian of the mean KL(π_θ' ‖ π_old) with respect to θ', at θ' itself (where π_old is
/// π_θ'), as the Fisher information of the policy's output: Jᵀ·H_out·J, where J is the Jacobian of
/// the network's output and H_out the KL's Hessian in the output — Σ⁻¹ for a Gaussian's mean
/// (and 2 for each log σ), diag(p) − ppᵀ for a categorical's logits — weighted per step.
///
/// Exact at that point (the KL's gradient vanishes there, and with it every term that involves the
/// network's own curvature), and cheaper than differentiating the KL twice: J·v is a forward-mode
/// pass over the stored activations, Jᵀ·u one backward pass over them.
struct PolicyOutputFisher<Scalar: TensorScalar>: @unchecked Sendable {
    // @unchecked: the head's part and the fallback's graph are immutable once built.

    /// The network linearised at θ, by row blocks of the steps (empty for the graph fallback).
    let blocks: [(rows: Range<Int>, network: MLP.Linearisation<Scalar>)]
    let head: (any HeadFisher<Scalar>)?
    /// For a network without hand-written products: the weighted KL's Hessian by the graph.
    let fallback: GraphHessian<Scalar>?
    /// wᵣ per step, and their sum.
    let rowWeights: [Scalar]
    let weightSum: Scalar
    let shapes: [[Int]]
    let networkTensors: Int
    let outputSize: Int
    /// Each step's row of the network's inputs, when they are the distinct observations.
    let observationRows: ObservationRows?

    /// - Parameters:
    ///   - inputs: what the network reads (`PolicyGradientBatch.networkInputs`); step s reads row
    ///     `rows.rows[s]` of it, or row s without `rows`.
    init(policy: Policy, inputs: Tensor<Scalar>, rows: ObservationRows?, parameters: [Tensor<Scalar>],
         current: ActionDistribution<Scalar>, rowWeights: Tensor<Scalar>, blockRows: Int? = nil) {
        shapes = parameters.map(\.shape)
        networkTensors = policy.networkParameterCount
        self.rowWeights = rowWeights.scalars
        weightSum = self.rowWeights.reduce(0, +)
        outputSize = policy.network.outputSize
        self.observationRows = rows
        guard let mlp = policy.mlp else {
            // Σ w KL(π_θ ‖ π_ref) has F as its Hessian at θ = θ_ref.
            let reference = current.detached
            fallback = GraphHessian(parameters: parameters) { theta in
                (policy.distribution(inputs, rows: rows, parameters: theta).klDivergence(to: reference) * rowWeights).sum()
            }
            blocks = []
            head = nil
            return
        }
        fallback = nil
        let network = mlp.linearise(inputs, parameters: Array(parameters.prefix(networkTensors)))
        if let rows {
            // One block: the network's rows are the distinct observations, few by construction.
            blocks = [(0..<rows.stepCount, network)]
        } else {
            let ranges = RowMajor.rowBlocks(network.rows, maximum: blockRows ?? mlp.productBlockRows)
            blocks = ranges.count == 1 ? [(0..<network.rows, network)] : ranges.map { ($0, network.rows($0)) }
        }
        head = policy.head.fisher(current: current, parameters: Array(parameters.dropFirst(networkTensors)))
    }

    /// F·v for a flattened parameter direction v: the sum over row blocks of each block's product.
    @specialized(where Scalar == Float)
    func product(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
        if let fallback { return fallback.product(v) }
        guard let head else { preconditionFailure("a Fisher product without its head's part") }
        let parts = RowMajor.split(v, shapes: shapes)
        let networkDirection = Array(parts.prefix(networkTensors))
        var networkPart: [[Scalar]] = []
        for (rows, network) in blocks {
            let tangent = network.tangents(networkDirection).output
            var upstream = observationRows?.gathering(tangent, width: outputSize) ?? tangent
            head.outputProduct(rows: rows, &upstream, rowWeights: rowWeights)
            if let observationRows { upstream = observationRows.scatteringAdding(upstream, width: outputSize) }
            let part = network.backward(upstream, keepingAdjoints: false).gradient
            if networkPart.isEmpty { networkPart = part } else { RowMajor.add(part, to: &networkPart) }
        }
        return RowMajor.join(networkPart + head.parameterProduct(Array(parts.dropFirst(networkTensors)), weightSum: weightSum))
    }
}
