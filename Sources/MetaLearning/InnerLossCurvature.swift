import Autodiff

/// An inner loss at one point θ — its gradient, and products with its Hessian — computed by hand
/// over the policy's network (`MLP.Linearisation`) instead of by differentiating a recorded
/// gradient again.
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
struct InnerLossCurvature<Scalar: TensorScalar>: Sendable {
    enum Head: Sendable {
        /// c per row, u = (a − μ)/σ per row and dimension, 1/σ, and whether each log σ is above
        /// its floor (a clamped one has zero derivatives).
        case gaussian(weights: [Scalar], standardized: [Scalar], inverseStd: [Scalar], free: [Bool])
        /// c per row, the probabilities, and each row's action index.
        case categorical(weights: [Scalar], probabilities: [Scalar], actions: [Int])
    }

    /// The network linearised at θ and its backward pass's adjoints, by row blocks, for Hessian
    /// products; empty for a gradient alone.
    let blocks: [(rows: Range<Int>, network: MLP.Linearisation<Scalar>, adjoints: MLP.Linearisation<Scalar>.Adjoints)]
    let head: Head
    let objective: InnerObjective
    let shapes: [[Int]]
    /// ∇L(θ), flattened in parameter order.
    let gradient: Tensor<Scalar>

    /// - Parameters:
    ///   - forProducts: keep what Hessian products need (otherwise only the gradient is computed,
    ///     and `hessianProduct` must not be called).
    ///   - blockRows: the most rows a Hessian product takes at once (the gradient takes them all).
    @specialized(where Scalar == Float)
    init(policy: Policy, parameters: [Tensor<Scalar>], batch: PolicyGradientBatch<Scalar>, objective: InnerObjective,
         forProducts: Bool = true, blockRows: Int? = nil) {
        let mlp = policy.network
        let layerTensors = 2 * (mlp.layerSizes.count - 1)
        let network = mlp.linearise(batch.observations, parameters: Array(parameters.prefix(layerTensors)))
        let rows = network.rows
        let c = batch.weightedAdvantages.scalars
        var outputAdjoint: [Scalar]
        var headGradient: [[Scalar]] = []
        switch policy {
        case .gaussian:
            let d = mlp.layerSizes.last!
            let floor = Scalar(GaussianMLPPolicy.minimumLogStd)
            let logStd = parameters[layerTensors].scalars
            let free = logStd.map { $0 >= floor }
            let inverseStd = logStd.map { Scalar.exp(-max($0, floor)) }
            let actions = batch.actions.scalars
            var u = [Scalar](repeating: 0, count: rows * d)
            outputAdjoint = [Scalar](repeating: 0, count: rows * d)
            var logStdGradient = [Scalar](repeating: 0, count: d)
            for r in 0..<rows {
                for j in 0..<d {
                    let i = r * d + j
                    u[i] = (actions[i] - network.output[i]) * inverseStd[j]
                    outputAdjoint[i] = -c[r] * u[i] * inverseStd[j]
                    logStdGradient[j] -= c[r] * (u[i] * u[i] - 1)
                }
            }
            for j in 0..<d where !free[j] { logStdGradient[j] = 0 }
            headGradient = [logStdGradient]
            head = .gaussian(weights: c, standardized: u, inverseStd: inverseStd, free: free)
        case .categorical:
            let n = mlp.layerSizes.last!
            let logits = network.output
            var p = [Scalar](repeating: 0, count: rows * n)
            let actions = batch.actions.scalars.map { Int($0) }
            outputAdjoint = [Scalar](repeating: 0, count: rows * n)
            for r in 0..<rows {
                let row = r * n
                var largest = logits[row]
                for j in 1..<n { largest = max(largest, logits[row + j]) }
                var total: Scalar = 0
                for j in 0..<n {
                    p[row + j] = Scalar.exp(logits[row + j] - largest)
                    total += p[row + j]
                }
                for j in 0..<n {
                    p[row + j] /= total
                    outputAdjoint[row + j] = c[r] * (p[row + j] - (j == actions[r] ? 1 : 0))
                }
            }
            head = .categorical(weights: c, probabilities: p, actions: actions)
        }
        let (networkGradient, adjoints) = network.backward(outputAdjoint, keepingAdjoints: forProducts)
        if let adjoints {
            let ranges = RowMajor.rowBlocks(rows, maximum: blockRows ?? mlp.productBlockRows)
            blocks = ranges.count == 1
                ? [(0..<rows, network, adjoints)]
                : ranges.map { ($0, network.rows($0), adjoints.rows($0, of: rows)) }
        } else {
            blocks = []
        }
        self.objective = objective
        shapes = parameters.map(\.shape)
        gradient = RowMajor.join(networkGradient + headGradient)
    }

    /// The gradient as tensors of the parameters' shapes.
    var gradientParts: [Tensor<Scalar>] { ParameterVector.unflatten(gradient, shapes: shapes) }

    /// H·v, the Hessian of the inner loss at θ times a flattened direction v: the sum over row
    /// blocks of each block's product.
    @specialized(where Scalar == Float)
    func hessianProduct(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(v.count == gradient.count, "a direction of \(v.count) values for \(gradient.count) parameters")
        precondition(!blocks.isEmpty, "Hessian products of an inner loss built for its gradient alone")
        let direction = RowMajor.split(v, shapes: shapes)
        let layerTensors = 2 * blocks[0].network.layerCount
        let networkDirection = Array(direction.prefix(layerTensors))
        // The Gaussian head's log σ: its direction (zero where σ is clamped) and its part of H·v.
        var vLogStd: [Scalar] = []
        var logStdPart: [Scalar] = []
        if case .gaussian(_, _, _, let free) = head {
            vLogStd = free.indices.map { free[$0] ? direction[layerTensors][$0] : 0 }
            logStdPart = [Scalar](repeating: 0, count: free.count)
        }
        let transposedDirection = blocks[0].network.transposedWeights(of: networkDirection)
        var networkPart: [[Scalar]] = []
        for (rows, network, adjoints) in blocks {
            let tangents = network.tangents(networkDirection)
            let adjointTangent = outputAdjointTangent(rows: rows, outputTangent: tangents.output, vLogStd: vLogStd,
                                                      logStdPart: &logStdPart)
            let part = network.secondOrderBackward(adjoints: adjoints, tangents: tangents,
                                                   outputAdjointTangent: adjointTangent, transposedDirection: transposedDirection)
            if networkPart.isEmpty { networkPart = part } else { RowMajor.add(part, to: &networkPart) }
        }
        guard case .gaussian(_, _, _, let free) = head else { return RowMajor.join(networkPart) }
        for j in free.indices where !free[j] { logStdPart[j] = 0 }
        return RowMajor.join(networkPart + [logStdPart])
    }

    /// Ġ = (∂L/∂output)˙ for the rows `rows`, from their output tangent ȯ; for a Gaussian, adds
    /// the rows' part of (∂L/∂log σ)˙ along `vLogStd` to `logStdPart`.
    @inline(__always)
    private func outputAdjointTangent(
        rows: Range<Int>, outputTangent o: [Scalar], vLogStd: [Scalar], logStdPart: inout [Scalar]
    ) -> [Scalar] {
        var adjointTangent = [Scalar](repeating: 0, count: o.count)
        let first = rows.lowerBound
        switch head {
        case .gaussian(let c, let u, let inverseStd, _):
            let d = inverseStd.count
            for r in 0..<rows.count {
                let g = first + r  // the row in the whole batch
                // q = ∇log π·v, for the LVC term.
                var q: Scalar = 0
                if objective == .lvc {
                    for j in 0..<d { q += u[g * d + j] * inverseStd[j] * o[r * d + j] + (u[g * d + j] * u[g * d + j] - 1) * vLogStd[j] }
                }
                for j in 0..<d {
                    let (i, gi) = (r * d + j, g * d + j)
                    let slope = u[gi] * inverseStd[j]
                    adjointTangent[i] = c[g] * (o[i] * inverseStd[j] * inverseStd[j] + 2 * slope * vLogStd[j]) - c[g] * q * slope
                    logStdPart[j] += 2 * c[g] * (slope * o[i] + u[gi] * u[gi] * vLogStd[j]) - c[g] * q * (u[gi] * u[gi] - 1)
                }
            }
        case .categorical(let c, let p, let actions):
            let n = o.count / max(rows.count, 1)
            for r in 0..<rows.count {
                let (g, row) = (first + r, r * n)
                let global = g * n
                var expected: Scalar = 0
                for j in 0..<n { expected += p[global + j] * o[row + j] }
                // LVC: q = (e_a − p)·ȯ, adding c·q·(p − e_a).
                let q = objective == .lvc ? o[row + actions[g]] - expected : 0
                for j in 0..<n {
                    let score = (j == actions[g] ? 1 : 0) - p[global + j]
                    adjointTangent[row + j] = c[g] * (p[global + j] * (o[row + j] - expected) - q * score)
                }
            }
        }
        return adjointTangent
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
