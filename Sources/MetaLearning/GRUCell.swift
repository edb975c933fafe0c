import Autodiff

/// A gated recurrent unit (Cho et al. 2014) in PyTorch's form (`nn.GRU`), batched over sequences
/// and unrolled over time, with backpropagation through time written by hand:
///
///     r = σ(x W_r + b_ir + h W_hr + b_hr)        reset gate
///     z = σ(x W_z + b_iz + h W_hz + b_hz)        update gate
///     n = tanh(x W_n + b_in + r ⊙ (h W_hn + b_hn)) candidate
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// Weights are stored (in, out) like the MLP's, the gates side by side in the order r, z, n:
/// `input_weight` is `[inputSize, 3·hiddenSize]`, `hidden_weight` `[hiddenSize, 3·hiddenSize]`.
/// Sequences are time-major (`[T, B, ·]`), so that each step's rows are one matrix product and
/// the input projection of all steps is a single one.
public struct GRUCell: Sendable, Equatable, Codable {
    public let inputSize: Int
    public let hiddenSize: Int

    public init(inputSize: Int, hiddenSize: Int) {
        precondition(inputSize > 0 && hiddenSize > 0, "a GRU needs positive sizes, got \(inputSize) → \(hiddenSize)")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
    }

    public static let parameterNames = ["input_weight", "hidden_weight", "input_bias", "hidden_bias"]

    public var parameterShapes: [[Int]] {
        let g = 3 * hiddenSize
        return [[inputSize, g], [hiddenSize, g], [g], [g]]
    }

    /// PyTorch's initialisation: every weight and bias uniform on ±1/√hiddenSize.
    public func initialParameters<Scalar: TensorScalar>(
        as: Scalar.Type = Scalar.self, using rng: inout some RandomNumberGenerator
    ) -> [Tensor<Scalar>] {
        let bound = Scalar(1 / Double(hiddenSize).squareRoot())
        return parameterShapes.map { Tensor.uniform($0, in: -bound...bound, using: &rng) }
    }

    /// The four parameter tensors as flat arrays, in `parameterShapes` order.
    public struct Weights<Scalar: TensorScalar>: Sendable {
        public var input: [Scalar]
        public var hidden: [Scalar]
        public var inputBias: [Scalar]
        public var hiddenBias: [Scalar]

        public init(_ tensors: ArraySlice<Tensor<Scalar>>) {
            precondition(tensors.count == 4, "a GRU has 4 parameter tensors, got \(tensors.count)")
            let t = Array(tensors)
            (input, hidden, inputBias, hiddenBias) = (t[0].scalars, t[1].scalars, t[2].scalars, t[3].scalars)
        }

        public var tensors: [[Scalar]] { [input, hidden, inputBias, hiddenBias] }
    }

    /// What the forward pass keeps for backpropagation through time.
    public struct Trace<Scalar: TensorScalar>: Sendable {
        public let steps: Int
        public let batch: Int
        /// h₀ … h_T, time-major: `(T + 1) × B × hiddenSize`.
        public internal(set) var hidden: [Scalar]
        /// r, z, n and h W_hn + b_hn of each step: `T × B × hiddenSize` each.
        var reset: [Scalar]
        var update: [Scalar]
        var candidate: [Scalar]
        var hiddenCandidate: [Scalar]
    }

    /// The gradients of a loss through an unrolled sequence.
    public struct Gradients<Scalar: TensorScalar>: Sendable {
        /// In `parameterShapes` order.
        public var parameters: [[Scalar]]
        /// ∂L/∂h₀, `B × hiddenSize`.
        public var initialHidden: [Scalar]
        /// ∂L/∂x, `T × B × inputSize`, when asked for.
        public var inputs: [Scalar]?
    }

    /// Runs `steps` steps over `batch` sequences from h₀ (zeros when nil).
    /// - Parameter inputs: `T × B × inputSize`, time-major.
    @specialized(where Scalar == Float)
    public func forward<Scalar: TensorScalar>(
        _ inputs: [Scalar], steps: Int, batch: Int, initial: [Scalar]? = nil, weights w: Weights<Scalar>
    ) -> Trace<Scalar> {
        let h = hiddenSize, g = 3 * hiddenSize, rows = steps * batch
        precondition(inputs.count == rows * inputSize, "GRU inputs: \(inputs.count) values for \(steps)×\(batch)×\(inputSize)")
        precondition(initial == nil || initial!.count == batch * h, "GRU h₀: \(initial!.count) values for \(batch)×\(h)")
        var trace = Trace<Scalar>(steps: steps, batch: batch,
                                  hidden: [Scalar](repeating: 0, count: (steps + 1) * batch * h),
                                  reset: [Scalar](repeating: 0, count: rows * h), update: [Scalar](repeating: 0, count: rows * h),
                                  candidate: [Scalar](repeating: 0, count: rows * h),
                                  hiddenCandidate: [Scalar](repeating: 0, count: rows * h))
        if let initial { trace.hidden.replaceSubrange(0..<(batch * h), with: initial) }
        guard steps > 0 else { return trace }
        // x W_x + b_x for every step at once.
        var projected = [Scalar](repeating: 0, count: rows * g)
        projectInputs(inputs, rows: rows, weights: w, into: &projected)
        var recurrent = [Scalar](repeating: 0, count: batch * g)
        var scratch = [Scalar](repeating: 0, count: batch * 2 * h)
        projected.withUnsafeMutableBufferPointer { px in
            for t in 0..<steps {
                trace.hidden.withUnsafeMutableBufferPointer { hs in
                    let previous = UnsafeBufferPointer(rebasing: hs[(t * batch * h)..<((t + 1) * batch * h)])
                    hiddenProjection(previous, batch: batch, weights: w, into: &recurrent)
                    let gx = UnsafeMutableBufferPointer(rebasing: px[(t * batch * g)..<((t + 1) * batch * g)])
                    let next = UnsafeMutableBufferPointer(rebasing: hs[((t + 1) * batch * h)..<((t + 2) * batch * h)])
                    let offset = t * batch * h
                    trace.reset.withUnsafeMutableBufferPointer { r in
                        trace.update.withUnsafeMutableBufferPointer { z in
                            trace.candidate.withUnsafeMutableBufferPointer { n in
                                trace.hiddenCandidate.withUnsafeMutableBufferPointer { hn in
                                    gates(gx: UnsafeBufferPointer(gx), gh: recurrent, previous: previous, batch: batch,
                                          scratch: &scratch,
                                          reset: UnsafeMutableBufferPointer(rebasing: r[offset..<(offset + batch * h)]),
                                          update: UnsafeMutableBufferPointer(rebasing: z[offset..<(offset + batch * h)]),
                                          candidate: UnsafeMutableBufferPointer(rebasing: n[offset..<(offset + batch * h)]),
                                          hiddenCandidate: UnsafeMutableBufferPointer(rebasing: hn[offset..<(offset + batch * h)]),
                                          next: next)
                                }
                            }
                        }
                    }
                }
            }
        }
        return trace
    }

    /// Workspace of one step, reused across the steps of a rollout.
    public struct StepBuffers<Scalar: TensorScalar>: Sendable {
        var projected: [Scalar]
        var recurrent: [Scalar]
        /// The state before the step (swapped with the caller's, so no step allocates).
        var previous: [Scalar]
        var scratch: [Scalar]
        var reset: [Scalar], update: [Scalar], candidate: [Scalar], hiddenCandidate: [Scalar]

        public init(cell: GRUCell, batch: Int) {
            let h = cell.hiddenSize
            projected = [Scalar](repeating: 0, count: batch * 3 * h)
            recurrent = projected
            previous = [Scalar](repeating: 0, count: batch * h)
            scratch = [Scalar](repeating: 0, count: batch * 2 * h)
            reset = [Scalar](repeating: 0, count: batch * h)
            (update, candidate, hiddenCandidate) = (reset, reset, reset)
        }
    }

    /// One step of `batch` sequences: `hidden` ← GRU(`inputs`, `hidden`). Rollouts call this
    /// once per environment step; `forward` computes the same numbers for a whole sequence.
    @specialized(where Scalar == Float)
    public func step<Scalar: TensorScalar>(
        _ inputs: [Scalar], batch: Int, hidden: inout [Scalar], weights w: Weights<Scalar>, buffers: inout StepBuffers<Scalar>
    ) {
        let h = hiddenSize
        precondition(inputs.count == batch * inputSize && hidden.count == batch * h, "GRU step: sizes do not match the batch of \(batch)")
        projectInputs(inputs, rows: batch, weights: w, into: &buffers.projected)
        swap(&hidden, &buffers.previous)
        buffers.previous.withUnsafeBufferPointer { prev in
            hiddenProjection(prev, batch: batch, weights: w, into: &buffers.recurrent)
            buffers.projected.withUnsafeBufferPointer { gx in
                buffers.reset.withUnsafeMutableBufferPointer { r in
                    buffers.update.withUnsafeMutableBufferPointer { z in
                        buffers.candidate.withUnsafeMutableBufferPointer { n in
                            buffers.hiddenCandidate.withUnsafeMutableBufferPointer { hn in
                                hidden.withUnsafeMutableBufferPointer { next in
                                    gates(gx: gx, gh: buffers.recurrent, previous: prev, batch: batch, scratch: &buffers.scratch,
                                          reset: r, update: z, candidate: n, hiddenCandidate: hn, next: next)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// x W_x + b_x, `rows × 3·hiddenSize`.
    @inline(__always)
    private func projectInputs<Scalar: TensorScalar>(_ inputs: [Scalar], rows: Int, weights w: Weights<Scalar>, into out: inout [Scalar]) {
        let g = 3 * hiddenSize
        precondition(out.count == rows * g, "GRU input projection: \(out.count) values for \(rows)×\(g)")
        out.withUnsafeMutableBufferPointer { o in
            w.inputBias.withUnsafeBufferPointer { b in
                for row in 0..<rows { (o.baseAddress! + row * g).update(from: b.baseAddress!, count: g) }
            }
            inputs.withUnsafeBufferPointer { x in
                w.input.withUnsafeBufferPointer { wx in
                    Scalar.gemm(transposeA: false, transposeB: false, m: rows, n: g, k: inputSize, a: x.baseAddress!, lda: inputSize,
                                b: wx.baseAddress!, ldb: g, beta: 1, c: o.baseAddress!, ldc: g)
                }
            }
        }
    }

    /// h W_h + b_h into `out`, `batch × 3·hiddenSize`.
    @inline(__always)
    private func hiddenProjection<Scalar: TensorScalar>(
        _ previous: UnsafeBufferPointer<Scalar>, batch: Int, weights w: Weights<Scalar>, into out: inout [Scalar]
    ) {
        let h = hiddenSize, g = 3 * hiddenSize
        out.withUnsafeMutableBufferPointer { o in
            w.hiddenBias.withUnsafeBufferPointer { b in
                for row in 0..<batch { (o.baseAddress! + row * g).update(from: b.baseAddress!, count: g) }
            }
            w.hidden.withUnsafeBufferPointer { wh in
                Scalar.gemm(transposeA: false, transposeB: false, m: batch, n: g, k: h, a: previous.baseAddress!, lda: h,
                            b: wh.baseAddress!, ldb: g, beta: 1, c: o.baseAddress!, ldc: g)
            }
        }
    }

    /// The gates and the next hidden state of one step from both projections. σ(a) is computed as
    /// ½ + ½·tanh(a/2), so that Float's gates run through the vectorised tanh kernel.
    @inline(__always)
    private func gates<Scalar: TensorScalar>(
        gx: UnsafeBufferPointer<Scalar>, gh: [Scalar], previous: UnsafeBufferPointer<Scalar>, batch: Int, scratch: inout [Scalar],
        reset r: UnsafeMutableBufferPointer<Scalar>, update z: UnsafeMutableBufferPointer<Scalar>,
        candidate n: UnsafeMutableBufferPointer<Scalar>, hiddenCandidate hn: UnsafeMutableBufferPointer<Scalar>,
        next: UnsafeMutableBufferPointer<Scalar>
    ) {
        let h = hiddenSize, g = 3 * hiddenSize
        let half = Scalar(0.5)
        gh.withUnsafeBufferPointer { gh in
            scratch.withUnsafeMutableBufferPointer { s in
                // r and z: σ of the summed projections.
                for b in 0..<batch {
                    for j in 0..<(2 * h) { s[b * 2 * h + j] = half * (gx[b * g + j] + gh[b * g + j]) }
                }
                Scalar.map(.tanh, UnsafeBufferPointer(s), into: s)
                for b in 0..<batch {
                    for j in 0..<h {
                        r[b * h + j] = half + half * s[b * 2 * h + j]
                        z[b * h + j] = half + half * s[b * 2 * h + h + j]
                    }
                }
                // n = tanh(x W_n + b_in + r ⊙ (h W_hn + b_hn)).
                for b in 0..<batch {
                    for j in 0..<h {
                        let hidden = gh[b * g + 2 * h + j]
                        hn[b * h + j] = hidden
                        n[b * h + j] = gx[b * g + 2 * h + j] + r[b * h + j] * hidden
                    }
                }
                Scalar.map(.tanh, UnsafeBufferPointer(n), into: n)
                for k in 0..<(batch * h) { next[k] = (1 - z[k]) * n[k] + z[k] * previous[k] }
            }
        }
    }

    /// Backpropagation through time: the gradients of a loss given ∂L/∂h₁ … ∂L/∂h_T.
    /// - Parameter hiddenGradients: `T × B × hiddenSize`, the loss's direct dependence on each
    ///   step's output (the recurrence's part is added here).
    /// - Parameter inputGradients: whether to compute ∂L/∂x (for a layer below the GRU).
    @specialized(where Scalar == Float)
    public func backward<Scalar: TensorScalar>(
        _ trace: Trace<Scalar>, inputs: [Scalar], hiddenGradients: [Scalar], weights w: Weights<Scalar>,
        inputGradients: Bool = false
    ) -> Gradients<Scalar> {
        let h = hiddenSize, g = 3 * hiddenSize, batch = trace.batch, steps = trace.steps, rows = steps * batch
        precondition(hiddenGradients.count == rows * h, "GRU backward: \(hiddenGradients.count) gradients for \(steps)×\(batch)×\(h)")
        var dInput = [Scalar](repeating: 0, count: rows * g)    // ∂L/∂(x W_x + b_x)
        var dHidden = [Scalar](repeating: 0, count: rows * g)   // ∂L/∂(h W_h + b_h)
        var carry = [Scalar](repeating: 0, count: batch * h)    // ∂L/∂h_{t+1} through step t+1
        dInput.withUnsafeMutableBufferPointer { dgx in
            dHidden.withUnsafeMutableBufferPointer { dgh in
                trace.hidden.withUnsafeBufferPointer { hs in
                    for t in stride(from: steps - 1, through: 0, by: -1) {
                        let o = t * batch * h
                        carry.withUnsafeMutableBufferPointer { c in
                            for b in 0..<batch {
                                for j in 0..<h {
                                    let k = b * h + j
                                    let grad = hiddenGradients[o + k] + c[k]
                                    let r = trace.reset[o + k], z = trace.update[o + k], n = trace.candidate[o + k]
                                    let dn = grad * (1 - z)
                                    let dz = grad * (hs[o + k] - n)
                                    let dan = dn * (1 - n * n)
                                    let dr = dan * trace.hiddenCandidate[o + k]
                                    let dar = dr * r * (1 - r)
                                    let daz = dz * z * (1 - z)
                                    let row = (t * batch + b) * g
                                    dgx[row + j] = dar
                                    dgx[row + h + j] = daz
                                    dgx[row + 2 * h + j] = dan
                                    dgh[row + j] = dar
                                    dgh[row + h + j] = daz
                                    dgh[row + 2 * h + j] = dan * r
                                    c[k] = grad * z     // the direct path h → h'; the matrix path is added below
                                }
                            }
                            w.hidden.withUnsafeBufferPointer { wh in
                                Scalar.gemm(transposeA: false, transposeB: true, m: batch, n: h, k: g,
                                            a: UnsafePointer(dgh.baseAddress! + t * batch * g), lda: g, b: wh.baseAddress!, ldb: g,
                                            beta: 1, c: c.baseAddress!, ldc: h)
                            }
                        }
                    }
                }
            }
        }
        var dWx = [Scalar](repeating: 0, count: inputSize * g)
        var dWh = [Scalar](repeating: 0, count: h * g)
        if rows > 0 {
            inputs.withUnsafeBufferPointer { x in
                dInput.withUnsafeBufferPointer { d in
                    dWx.withUnsafeMutableBufferPointer { out in
                        Scalar.gemm(transposeA: true, transposeB: false, m: inputSize, n: g, k: rows, a: x.baseAddress!, lda: inputSize,
                                    b: d.baseAddress!, ldb: g, beta: 0, c: out.baseAddress!, ldc: g)
                    }
                }
            }
            trace.hidden.withUnsafeBufferPointer { hs in
                dHidden.withUnsafeBufferPointer { d in
                    dWh.withUnsafeMutableBufferPointer { out in
                        // h₀ … h_{T−1} are the first T·B rows of the trace.
                        Scalar.gemm(transposeA: true, transposeB: false, m: h, n: g, k: rows, a: hs.baseAddress!, lda: h,
                                    b: d.baseAddress!, ldb: g, beta: 0, c: out.baseAddress!, ldc: g)
                    }
                }
            }
        }
        func columnSums(_ m: [Scalar]) -> [Scalar] {
            var sums = [Scalar](repeating: 0, count: g)
            for row in 0..<rows { for j in 0..<g { sums[j] += m[row * g + j] } }
            return sums
        }
        var dx: [Scalar]?
        if inputGradients {
            var out = [Scalar](repeating: 0, count: rows * inputSize)
            if rows > 0 {
                dInput.withUnsafeBufferPointer { d in
                    w.input.withUnsafeBufferPointer { wx in
                        out.withUnsafeMutableBufferPointer { o in
                            Scalar.gemm(transposeA: false, transposeB: true, m: rows, n: inputSize, k: g, a: d.baseAddress!, lda: g,
                                        b: wx.baseAddress!, ldb: g, beta: 0, c: o.baseAddress!, ldc: inputSize)
                        }
                    }
                }
            }
            dx = out
        }
        return Gradients(parameters: [dWx, dWh, columnSums(dInput), columnSums(dHidden)], initialHidden: carry, inputs: dx)
    }
}
