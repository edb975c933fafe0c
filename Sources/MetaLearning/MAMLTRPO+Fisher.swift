import Autodiff

/// The Hessian of the mean KL(π_θ' ‖ π_old) with respect to θ', at θ' itself (where π_old is
/// π_θ'), as the Fisher information of the policy's output: Jᵀ·H_out·J, where J is the Jacobian of
/// the network's output and H_out the KL's Hessian in the output — Σ⁻¹ for a Gaussian's mean
/// (and 2 for each log σ), diag(p) − ppᵀ for a categorical's logits — weighted per step.
///
/// Exact at that point (the KL's gradient vanishes there, and with it every term that involves the
/// network's own curvature), and cheaper than differentiating the KL twice: J·v is a forward-mode
/// pass over the stored activations, Jᵀ·u one backward pass over the output's graph.
struct PolicyOutputFisher<Scalar: TensorScalar>: @unchecked Sendable {
    // @unchecked: the graph and constants are immutable once built and only read by products.

    enum Output {
        /// Mean network output; log σ of the reference (clamped, constant) and whether each log σ
        /// lies above its clamp (a clamped one has zero curvature).
        case gaussian(logStd: Tensor<Scalar>, free: [Bool])
        /// Log-probabilities (their graph) and the probabilities, constant.
        case categorical(probabilities: Tensor<Scalar>)
    }

    let network: MLP
    let linearisation: MLP.Linearisation<Scalar>
    /// The network's output at θ' as a function of the leaves (mean for a Gaussian,
    /// log-probabilities for a categorical), for Jᵀ·u.
    let output: Tensor<Scalar>
    let networkLeaves: [Tensor<Scalar>]
    let kind: Output
    /// wᵣ per step, `[rows, 1]`, and their sum.
    let rowWeights: Tensor<Scalar>
    let weightSum: Scalar
    let shapes: [[Int]]

    init(policy: Policy, observations: Tensor<Scalar>, leaves: [Tensor<Scalar>], current: ActionDistribution<Scalar>,
         rowWeights: Tensor<Scalar>) {
        network = policy.network
        shapes = leaves.map(\.shape)
        let layers = 2 * (network.layerSizes.count - 1)
        networkLeaves = Array(leaves.prefix(layers))
        linearisation = network.linearise(observations, parameters: networkLeaves)
        self.rowWeights = rowWeights
        weightSum = rowWeights.sum().scalar
        switch current {
        case .gaussian(let mean, let logStd):
            output = mean
            let raw = leaves[layers].scalars
            kind = .gaussian(logStd: logStd.detached, free: raw.map { Double($0) >= GaussianMLPPolicy.minimumLogStd })
        case .categorical(let logp):
            output = logp
            kind = .categorical(probabilities: logp.detached.exp())
        }
    }

    /// F·v for a flattened parameter direction v.
    func product(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
        let parts = ParameterVector.unflatten(v, shapes: shapes)
        let u = network.jacobianProduct(linearisation, tangents: Array(parts.prefix(networkLeaves.count)))
        let upstream: Tensor<Scalar>
        var logStdPart: [Tensor<Scalar>] = []
        switch kind {
        case .gaussian(let logStd, let free):
            upstream = u * (-2 * logStd).exp() * rowWeights
            let direction = parts[networkLeaves.count].scalars
            logStdPart = [Tensor(shape: shapes.last!, scalars: direction.indices.map {
                free[$0] ? 2 * weightSum * direction[$0] : 0
            })]
        case .categorical(let p):
            // (diag p − ppᵀ)·u per row; it sums to zero, so the log-softmax passes it unchanged.
            let pu = p * u
            upstream = (pu - p * pu.sum(alongAxis: 1, keepingDimension: true)) * rowWeights
        }
        let networkPart = gradients(of: (output * upstream).sum(), wrt: networkLeaves)
        return ParameterVector.flatten(networkPart + logStdPart)
    }
}
