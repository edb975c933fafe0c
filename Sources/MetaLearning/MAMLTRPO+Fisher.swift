import Autodiff

/// The Hessian of the mean KL(π_θ' ‖ π_old) with respect to θ', at θ' itself (where π_old is
/// π_θ'), as the Fisher information of the policy's output: Jᵀ·H_out·J, where J is the Jacobian of
/// the network's output and H_out the KL's Hessian in the output — Σ⁻¹ for a Gaussian's mean
/// (and 2 for each log σ), diag(p) − ppᵀ for a categorical's logits — weighted per step.
///
/// Exact at that point (the KL's gradient vanishes there, and with it every term that involves the
/// network's own curvature), and cheaper than differentiating the KL twice: J·v is a forward-mode
/// pass over the stored activations, Jᵀ·u one backward pass over them.
struct PolicyOutputFisher<Scalar: TensorScalar>: Sendable {
    enum Output: Sendable {
        /// 1/σ² of the reference per dimension, and whether each log σ lies at or above its floor
        /// (a clamped one has zero curvature).
        case gaussian(inverseVariance: [Scalar], free: [Bool])
        /// The probabilities, per row.
        case categorical(probabilities: [Scalar])
    }

    /// The network linearised at θ, by row blocks.
    let blocks: [(rows: Range<Int>, network: MLP.Linearisation<Scalar>)]
    let kind: Output
    /// wᵣ per step, and their sum.
    let rowWeights: [Scalar]
    let weightSum: Scalar
    let shapes: [[Int]]

    init(policy: Policy, observations: Tensor<Scalar>, parameters: [Tensor<Scalar>], current: ActionDistribution<Scalar>,
         rowWeights: Tensor<Scalar>, blockRows: Int? = nil) {
        let layerTensors = 2 * (policy.network.layerSizes.count - 1)
        let network = policy.network.linearise(observations, parameters: Array(parameters.prefix(layerTensors)))
        let ranges = RowMajor.rowBlocks(network.rows, maximum: blockRows ?? policy.network.productBlockRows)
        blocks = ranges.count == 1 ? [(0..<network.rows, network)] : ranges.map { ($0, network.rows($0)) }
        shapes = parameters.map(\.shape)
        self.rowWeights = rowWeights.scalars
        weightSum = self.rowWeights.reduce(0, +)
        switch current {
        case .gaussian(_, let logStd):
            let floor = Scalar(GaussianMLPPolicy.minimumLogStd)
            kind = .gaussian(inverseVariance: logStd.scalars.map { Scalar.exp(-2 * $0) },
                             free: parameters[layerTensors].scalars.map { $0 >= floor })
        case .categorical(let logp):
            kind = .categorical(probabilities: logp.scalars.map { Scalar.exp($0) })
        }
    }

    /// F·v for a flattened parameter direction v: the sum over row blocks of each block's product.
    @specialized(where Scalar == Float)
    func product(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
        let parts = RowMajor.split(v, shapes: shapes)
        let layerTensors = 2 * blocks[0].network.layerCount
        let networkDirection = Array(parts.prefix(layerTensors))
        var networkPart: [[Scalar]] = []
        for (rows, network) in blocks {
            var upstream = network.tangents(networkDirection).output
            let width = upstream.count / max(rows.count, 1)
            switch kind {
            case .gaussian(let inverseVariance, _):
                for r in 0..<rows.count {
                    let weight = rowWeights[rows.lowerBound + r]
                    for j in 0..<width { upstream[r * width + j] *= inverseVariance[j] * weight }
                }
            case .categorical(let p):
                // (diag p − ppᵀ)·u per row; it sums to zero, so the log-softmax passes it unchanged.
                for r in 0..<rows.count {
                    let (row, global) = (r * width, (rows.lowerBound + r) * width)
                    var expected: Scalar = 0
                    for j in 0..<width { expected += p[global + j] * upstream[row + j] }
                    let weight = rowWeights[rows.lowerBound + r]
                    for j in 0..<width { upstream[row + j] = p[global + j] * (upstream[row + j] - expected) * weight }
                }
            }
            let part = network.backward(upstream, keepingAdjoints: false).gradient
            if networkPart.isEmpty { networkPart = part } else { RowMajor.add(part, to: &networkPart) }
        }
        var logStdPart: [[Scalar]] = []
        if case .gaussian(_, let free) = kind {
            logStdPart = [parts[layerTensors].indices.map { free[$0] ? 2 * weightSum * parts[layerTensors][$0] : 0 }]
        }
        return RowMajor.join(networkPart + logStdPart)
    }
}
