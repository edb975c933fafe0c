import Autodiff

/// A long short-term memory cell (Hochreiter & Schmidhuber 1997) in PyTorch's form (`nn.LSTM`),
/// batched over sequences and unrolled over time, with backpropagation through time by hand:
///
///     i = σ(x W_i + h W_hi + b_i)    input gate        c' = f ⊙ c + i ⊙ g
///     f = σ(x W_f + h W_hf + b_f)    forget gate       h' = o ⊙ tanh(c')
///     g = tanh(x W_g + h W_hg + b_g) candidate
///     o = σ(x W_o + h W_ho + b_o)    output gate
///
/// Each bias is PyTorch's pair b_i· + b_h· (both kept, as there). Weights are stored (in, out), the
/// gates side by side in PyTorch's order i, f, g, o; sequences are time-major, as `GRUCell`'s.
public struct LSTMCell: Sendable, Equatable, Codable {
    public let inputSize: Int
    public let hiddenSize: Int

    public init(inputSize: Int, hiddenSize: Int) {
        precondition(inputSize > 0 && hiddenSize > 0, "an LSTM needs positive sizes, got \(inputSize) → \(hiddenSize)")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
    }

    public static let parameterNames = ["input_weight", "hidden_weight", "input_bias", "hidden_bias"]

    public var parameterShapes: [[Int]] {
        let g = 4 * hiddenSize
        return [[inputSize, g], [hiddenSize, g], [g], [g]]
    }

    /// PyTorch's initialisation: every weight and bias uniform on ±1/√hiddenSize.
    public func initialParameters<Scalar: TensorScalar>(
        as: Scalar.Type = Scalar.self, using rng: inout some RandomNumberGenerator
    ) -> [Tensor<Scalar>] {
        let bound = Scalar(1 / Double(hiddenSize).squareRoot())
        return parameterShapes.map { Tensor.uniform($0, in: -bound...bound, using: &rng) }
    }

    /// What the forward pass keeps for backpropagation through time.
    public struct Trace<Scalar: TensorScalar>: Sendable {
        public let steps: Int
        public let batch: Int
        /// h₀ … h_T and c₀ … c_T, time-major: `(T + 1) × B × hiddenSize` each.
        public internal(set) var hidden: [Scalar]
        public internal(set) var cell: [Scalar]
        /// The four gates of each step after their nonlinearity, `T × B × 4·hiddenSize` (i, f, g, o).
        var gates: [Scalar]
    }

    public struct Gradients<Scalar: TensorScalar>: Sendable {
        public var parameters: [[Scalar]]
        public var initialHidden: [Scalar]
        public var initialCell: [Scalar]
        public var inputs: [Scalar]?
    }

    /// Runs `steps` steps over `batch` sequences from (h₀, c₀) (zeros when nil).
    @specialized(where Scalar == Float)
    public func forward<Scalar: TensorScalar>(
        _ inputs: [Scalar], steps: Int, batch: Int, initialHidden: [Scalar]? = nil, initialCell: [Scalar]? = nil,
        weights w: GRUCell.Weights<Scalar>
    ) -> Trace<Scalar> {
        let h = hiddenSize, g = 4 * hiddenSize, rows = steps * batch
        precondition(inputs.count == rows * inputSize, "LSTM inputs: \(inputs.count) values for \(steps)×\(batch)×\(inputSize)")
        var trace = Trace<Scalar>(steps: steps, batch: batch, hidden: [Scalar](repeating: 0, count: (steps + 1) * batch * h),
                                  cell: [Scalar](repeating: 0, count: (steps + 1) * batch * h),
                                  gates: [Scalar](repeating: 0, count: rows * g))
        if let initialHidden { trace.hidden.replaceSubrange(0..<(batch * h), with: initialHidden) }
        if let initialCell { trace.cell.replaceSubrange(0..<(batch * h), with: initialCell) }
        guard steps > 0 else { return trace }
        // x W_x + b_x + b_h for every step at once; h W_h is added step by step.
        trace.gates.withUnsafeMutableBufferPointer { pre in
            for row in 0..<rows { for j in 0..<g { pre[row * g + j] = w.inputBias[j] + w.hiddenBias[j] } }
            inputs.withUnsafeBufferPointer { x in
                w.input.withUnsafeBufferPointer { wx in
                    Scalar.gemm(transposeA: false, transposeB: false, m: rows, n: g, k: inputSize, a: x.baseAddress!, lda: inputSize,
                                b: wx.baseAddress!, ldb: g, beta: 1, c: pre.baseAddress!, ldc: g)
                }
            }
        }
        var scratch = [Scalar](repeating: 0, count: batch * h)
        for t in 0..<steps {
            trace.gates.withUnsafeMutableBufferPointer { gates in
                trace.hidden.withUnsafeMutableBufferPointer { hs in
                    trace.cell.withUnsafeMutableBufferPointer { cs in
                        let step = UnsafeMutableBufferPointer(rebasing: gates[(t * batch * g)..<((t + 1) * batch * g)])
                        w.hidden.withUnsafeBufferPointer { wh in
                            Scalar.gemm(transposeA: false, transposeB: false, m: batch, n: g, k: h,
                                        a: UnsafePointer(hs.baseAddress! + t * batch * h), lda: h, b: wh.baseAddress!, ldb: g,
                                        beta: 1, c: step.baseAddress!, ldc: g)
                        }
                        activate(step, batch: batch)
                        let previous = t * batch * h, next = (t + 1) * batch * h
                        for b in 0..<batch {
                            for j in 0..<h {
                                let i = step[b * g + j], f = step[b * g + h + j], cand = step[b * g + 2 * h + j]
                                cs[next + b * h + j] = f * cs[previous + b * h + j] + i * cand
                            }
                        }
                        scratch.withUnsafeMutableBufferPointer { s in
                            for k in 0..<(batch * h) { s[k] = cs[next + k] }
                            Scalar.map(.tanh, UnsafeBufferPointer(s), into: s)
                            for b in 0..<batch {
                                for j in 0..<h { hs[next + b * h + j] = step[b * g + 3 * h + j] * s[b * h + j] }
                            }
                        }
                    }
                }
            }
        }
        return trace
    }

    /// σ on the i, f, o blocks and tanh on g, in place; σ(a) = ½ + ½·tanh(a/2), so that Float's
    /// gates run through the vectorised tanh kernel in one call.
    @inline(__always)
    private func activate<Scalar: TensorScalar>(_ gates: UnsafeMutableBufferPointer<Scalar>, batch: Int) {
        let h = hiddenSize, g = 4 * hiddenSize, half = Scalar(0.5)
        for b in 0..<batch {
            for j in 0..<g where j < 2 * h || j >= 3 * h { gates[b * g + j] *= half }
        }
        Scalar.map(.tanh, UnsafeBufferPointer(gates), into: gates)
        for b in 0..<batch {
            for j in 0..<g where j < 2 * h || j >= 3 * h { gates[b * g + j] = half + half * gates[b * g + j] }
        }
    }

    /// One step of `batch` sequences: (`hidden`, `cell`) ← LSTM(`inputs`, `hidden`, `cell`).
    @specialized(where Scalar == Float)
    public func step<Scalar: TensorScalar>(
        _ inputs: [Scalar], batch: Int, hidden: inout [Scalar], cell: inout [Scalar], weights w: GRUCell.Weights<Scalar>
    ) {
        let trace = forward(inputs, steps: 1, batch: batch, initialHidden: hidden, initialCell: cell, weights: w)
        let h = hiddenSize
        hidden = Array(trace.hidden[(batch * h)...])
        cell = Array(trace.cell[(batch * h)...])
    }

    /// Backpropagation through time given ∂L/∂h₁ … ∂L/∂h_T (`T × B × hiddenSize`).
    @specialized(where Scalar == Float)
    public func backward<Scalar: TensorScalar>(
        _ trace: Trace<Scalar>, inputs: [Scalar], hiddenGradients: [Scalar], weights w: GRUCell.Weights<Scalar>,
        inputGradients: Bool = false
    ) -> Gradients<Scalar> {
        let h = hiddenSize, g = 4 * hiddenSize, batch = trace.batch, steps = trace.steps, rows = steps * batch
        precondition(hiddenGradients.count == rows * h, "LSTM backward: \(hiddenGradients.count) gradients for \(steps)×\(batch)×\(h)")
        var dGates = [Scalar](repeating: 0, count: rows * g)   // ∂L/∂(pre-activations)
        var dh = [Scalar](repeating: 0, count: batch * h)      // ∂L/∂h_{t+1} through step t+1
        var dc = [Scalar](repeating: 0, count: batch * h)      // ∂L/∂c_{t+1} through step t+1
        dGates.withUnsafeMutableBufferPointer { dg in
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let previous = t * batch * h, next = (t + 1) * batch * h
                dh.withUnsafeMutableBufferPointer { dhp in
                    for b in 0..<batch {
                        for j in 0..<h {
                            let k = b * h + j, row = (t * batch + b) * g
                            let i = trace.gates[row + j], f = trace.gates[row + h + j]
                            let cand = trace.gates[row + 2 * h + j], o = trace.gates[row + 3 * h + j]
                            let grad = hiddenGradients[previous + k] + dhp[k]
                            let tc = Scalar.tanh(trace.cell[next + k])
                            let dcTotal = dc[k] + grad * o * (1 - tc * tc)
                            dg[row + j] = dcTotal * cand * i * (1 - i)
                            dg[row + h + j] = dcTotal * trace.cell[previous + k] * f * (1 - f)
                            dg[row + 2 * h + j] = dcTotal * i * (1 - cand * cand)
                            dg[row + 3 * h + j] = grad * tc * o * (1 - o)
                            dc[k] = dcTotal * f
                        }
                    }
                    w.hidden.withUnsafeBufferPointer { wh in
                        Scalar.gemm(transposeA: false, transposeB: true, m: batch, n: h, k: g,
                                    a: UnsafePointer(dg.baseAddress! + t * batch * g), lda: g, b: wh.baseAddress!, ldb: g,
                                    beta: 0, c: dhp.baseAddress!, ldc: h)
                    }
                }
            }
        }
        var dWx = [Scalar](repeating: 0, count: inputSize * g)
        var dWh = [Scalar](repeating: 0, count: h * g)
        var dx: [Scalar]? = inputGradients ? [Scalar](repeating: 0, count: rows * inputSize) : nil
        if rows > 0 {
            Scalar.gemm(transposeA: true, transposeB: false, m: inputSize, n: g, k: rows, a: inputs, lda: inputSize, b: dGates, ldb: g,
                        beta: 0, c: &dWx, ldc: g)
            Scalar.gemm(transposeA: true, transposeB: false, m: h, n: g, k: rows, a: trace.hidden, lda: h, b: dGates, ldb: g,
                        beta: 0, c: &dWh, ldc: g)
            if inputGradients {
                Scalar.gemm(transposeA: false, transposeB: true, m: rows, n: inputSize, k: g, a: dGates, lda: g, b: w.input, ldb: g,
                            beta: 0, c: &dx!, ldc: inputSize)
            }
        }
        var dBias = [Scalar](repeating: 0, count: g)
        for row in 0..<rows { for j in 0..<g { dBias[j] += dGates[row * g + j] } }
        return Gradients(parameters: [dWx, dWh, dBias, dBias], initialHidden: dh, initialCell: dc, inputs: dx)
    }
}
