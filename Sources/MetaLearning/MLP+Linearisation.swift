import Autodiff

// Derivative products of an MLP at a fixed point, written out by hand: forward-mode tangents,
// the backward pass, and the backward pass's own tangent (Pearlmutter's R-operator, "Fast exact
// multiplication by the Hessian", Neural Computation 1994). MAML-TRPO's conjugate gradient spends
// most of its time in Hessian–vector products of the inner loss; recording the inner gradient as a
// graph and differentiating it again takes as many matrix products but adds graph bookkeeping and
// a pointwise pass per recorded operation (when this replaced it, the conjugate gradient went from
// 0.70 to 0.54 s per meta-iteration on 2 cores).
//
// Notation, for a layer k with input x_k ([rows, in]), weights W_k ([in, out]) and bias b_k:
// z_k = x_k·W_k + b_k; a hidden layer outputs h_k = act(z_k) = x_{k+1}; the last layer is linear.
// A dot marks a tangent along the parameter direction (V_k, v_k); δ_k = ∂L/∂z_k, e_k = ∂L/∂h_k.

extension MLP {
    /// The most rows a derivative product takes at once (`Linearisation.rows(_:)`): as many as
    /// keep every layer's matrix products within M·N·K ≤ 100³, where OpenBLAS on AVX-512 cores
    /// multiplies without packing its operands (`sgemm_small_kernel_permit`), and at least 16.
    /// For 64-wide hidden layers that is 244 rows, whose ten or so 61 KiB matrices also stay in
    /// a core's L2 cache between the products that read them. Measured on MAML-TRPO's conjugate
    /// gradient (2D navigation, 2 threads): 0.45 s per meta-iteration over whole 2,000-row
    /// batches, 0.38 s in blocks of 244 or fewer rows; blocks of 256 rows, past the threshold,
    /// gained nothing.
    var productBlockRows: Int {
        let largestLayer = zip(layerSizes, layerSizes.dropFirst()).map { $0 * $1 }.max() ?? 1
        return max(16, 1_000_000 / largestLayer)
    }

    /// The network run once at fixed parameters and inputs, and what products with its derivatives
    /// need: each layer's input. The slope of each hidden activation is taken from its output when
    /// needed (`tanhSlope`, `reluSlope`) rather than stored: one matrix less to read back per hidden
    /// layer.
    public struct Linearisation<Scalar: TensorScalar>: Sendable {
        let layerSizes: [Int]
        let activation: Activation
        let rows: Int
        /// W_k, `[in, out]` row-major.
        let weights: [[Scalar]]
        /// W_kᵀ, `[out, in]` row-major, for the backward passes' products with Wᵀ: as a plain
        /// product (NN) rather than a transposed one (NT), OpenBLAS takes its unpacked small-matrix
        /// path for row blocks (its column-major TN kernel, which NT becomes, packs both operands
        /// once M·N > 1200).
        let transposedWeights: [[Scalar]]
        /// x_k, the input of layer k: the observations, then each hidden activation.
        let layerInputs: [[Scalar]]
        /// The network's output, `[rows, out]`.
        let output: [Scalar]
        /// `rows` ones, for sums over rows (bias gradients) as products.
        let ones: [Scalar]

        var layerCount: Int { layerSizes.count - 1 }
    }

    /// Runs the network once at `parameters`, taken as constants, and keeps what its derivative
    /// products need.
    @specialized(where Scalar == Float)
    public func linearise<Scalar>(_ x: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> Linearisation<Scalar> {
        precondition(parameters.count == 2 * (layerSizes.count - 1),
                     "\(parameters.count) parameter tensors for an MLP with \(layerSizes.count - 1) layers")
        precondition(x.rank == 2 && x.shape[1] == layerSizes[0], "inputs of shape \(x.shape) for an MLP on \(layerSizes[0])")
        let rows = x.shape[0]
        var inputs: [[Scalar]] = [x.scalars]
        var output: [Scalar] = []
        for layer in 0..<(layerSizes.count - 1) {
            let z = Tensor.linear(Tensor(shape: [rows, layerSizes[layer]], scalars: inputs[layer]),
                                  parameters[2 * layer].detached, parameters[2 * layer + 1].detached)
            guard layer < layerSizes.count - 2 else { output = z.scalars; break }
            switch activation {
            case .tanh:
                inputs.append(z.tanh().scalars)
            case .relu:
                inputs.append(RowMajor.map(z.scalars) { $0 < 0 ? 0 : $0 })   // NaN stays NaN, as in `Tensor.relu`
            }
        }
        let weights = stride(from: 0, to: parameters.count, by: 2).map { parameters[$0].scalars }
        return Linearisation(layerSizes: layerSizes, activation: activation, rows: rows, weights: weights,
                             transposedWeights: weights.indices.map {
                                 RowMajor.transpose(weights[$0], rows: layerSizes[$0], columns: layerSizes[$0 + 1])
                             },
                             layerInputs: inputs, output: output,
                             ones: [Scalar](repeating: 1, count: rows))
    }

    /// J·v: how the outputs at the linearisation point change along the parameter direction
    /// `tangents` (`[Ẇ₁, ḃ₁, …]`), by forward-mode differentiation.
    public func jacobianProduct<Scalar>(_ point: Linearisation<Scalar>, tangents: [Tensor<Scalar>]) -> Tensor<Scalar> {
        Tensor(shape: [point.rows, layerSizes.last!], scalars: point.tangents(tangents.map(\.scalars)).output)
    }
}

extension MLP.Linearisation {
    /// The same linearisation restricted to the rows in `range`: products over a large batch go
    /// block by block (`RowMajor.rowBlocks`), so that a block's activations, tangents and adjoints
    /// stay in the core's cache between the matrix products that read them, instead of each
    /// product streaming whole batch-sized matrices from memory.
    func rows(_ range: Range<Int>) -> Self {
        Self(layerSizes: layerSizes, activation: activation, rows: range.count, weights: weights,
             transposedWeights: transposedWeights,
             layerInputs: layerInputs.map { RowMajor.rows(range, of: $0, rowCount: rows) },
             output: RowMajor.rows(range, of: output, rowCount: rows),
             ones: [Scalar](repeating: 1, count: range.count))
    }
}

extension MLP.Linearisation.Adjoints {
    /// The adjoints of the rows in `range` of a backward pass over `rowCount` rows.
    func rows(_ range: Range<Int>, of rowCount: Int) -> Self {
        Self(hidden: hidden.map { RowMajor.rows(range, of: $0, rowCount: rowCount) },
             output: RowMajor.rows(range, of: output, rowCount: rowCount))
    }
}

extension MLP.Linearisation {
    /// tanh′(z) from h = tanh(z).
    @inline(__always)
    static func tanhSlope(_ h: Scalar) -> Scalar { 1 - h * h }

    /// ReLU′(z) from h = max(z, 0): 1 where z > 0, which is where h > 0.
    @inline(__always)
    static func reluSlope(_ h: Scalar) -> Scalar { h > 0 ? 1 : 0 }

    /// The network's tangents along a parameter direction.
    struct Tangents {
        /// ḣ_k for each hidden layer.
        var hidden: [[Scalar]]
        /// The output's tangent ż_{L−1}, `[rows, out]`.
        var output: [Scalar]
    }

    /// The adjoints of a backward pass, kept for the second-order pass: e_k = ∂L/∂h_k for each
    /// hidden layer and δ = ∂L/∂z of the last. What the second-order pass needs of a hidden
    /// layer is derived from e_k and h_k as it goes — δ_k = e_k·act′, and e_k·act″(z_k)·ż_k =
    /// −2·e_k·h_k·ḣ_k for tanh (0 for ReLU) — one stored matrix per layer instead of two.
    struct Adjoints: Sendable {
        /// e_k for each hidden layer, the adjoint of `layerInputs[k + 1]`.
        var hidden: [[Scalar]]
        /// δ of the last (linear) layer: the output adjoint.
        var output: [Scalar]
    }

    /// Forward mode: ż_k = ẋ_k·W_k + x_k·V_k + v_k and ḣ_k = act′(z_k)·ż_k, with ẋ₀ = 0.
    /// - Complexity: two products per layer after the first.
    @specialized(where Scalar == Float)
    func tangents(_ direction: [[Scalar]]) -> Tangents {
        var hidden: [[Scalar]] = []
        for layer in 0..<layerCount {
            let (fanIn, fanOut) = (layerSizes[layer], layerSizes[layer + 1])
            var zDot = RowMajor.product(layerInputs[layer], direction[2 * layer], m: rows, n: fanOut, k: fanIn)
            if layer > 0 {
                RowMajor.multiply(hidden[layer - 1], weights[layer], into: &zDot, m: rows, n: fanOut, k: fanIn)
            }
            // The bias tangent joins in the same pass as the slope.
            guard layer < layerCount - 1 else {
                RowMajor.addRow(direction[2 * layer + 1], to: &zDot)
                return Tangents(hidden: hidden, output: zDot)
            }
            let h = layerInputs[layer + 1]
            switch activation {
            case .tanh: RowMajor.addRow(direction[2 * layer + 1], to: &zDot, timesSlopeOf: h, Self.tanhSlope)
            case .relu: RowMajor.addRow(direction[2 * layer + 1], to: &zDot, timesSlopeOf: h, Self.reluSlope)
            }
            hidden.append(zDot)
        }
        preconditionFailure("an MLP has at least one layer")
    }

    /// The backward pass from the output adjoint ∂L/∂output: the gradient `[∇W₁, ∇b₁, …]`, and
    /// the adjoints when `keepingAdjoints` (for `secondOrderBackward`).
    @specialized(where Scalar == Float)
    func backward(_ outputAdjoint: [Scalar], keepingAdjoints: Bool) -> (gradient: [[Scalar]], adjoints: Adjoints?) {
        var gradient = [[Scalar]](repeating: [], count: 2 * layerCount)
        var hiddenAdjoints = [[Scalar]](repeating: [], count: layerCount - 1)
        var delta = outputAdjoint
        for layer in (0..<layerCount).reversed() {
            let (fanIn, fanOut) = (layerSizes[layer], layerSizes[layer + 1])
            gradient[2 * layer] = RowMajor.product(layerInputs[layer], delta, m: fanIn, n: fanOut, k: rows, transposingA: true)
            gradient[2 * layer + 1] = RowMajor.columnSums(delta, ones: ones, columns: fanOut)
            guard layer > 0 else { break }
            var e = RowMajor.product(delta, transposedWeights[layer], m: rows, n: fanIn, k: fanOut)
            if keepingAdjoints { hiddenAdjoints[layer - 1] = e }
            switch activation {
            case .tanh: RowMajor.multiply(&e, bySlopeOf: layerInputs[layer], Self.tanhSlope)
            case .relu: RowMajor.multiply(&e, bySlopeOf: layerInputs[layer], Self.reluSlope)
            }
            delta = e
        }
        return (gradient, keepingAdjoints ? Adjoints(hidden: hiddenAdjoints, output: outputAdjoint) : nil)
    }

    /// V_kᵀ of each layer's weight direction V_k in `direction` (`[V₁, v₁, …]`), for
    /// `secondOrderBackward`'s products with it: transposed once per direction, not per row block.
    /// The first layer's is left empty: the pass ends at that layer's weights, before ė₀.
    func transposedWeights(of direction: [[Scalar]]) -> [[Scalar]] {
        (0..<layerCount).map { layer in
            layer == 0 ? [] : RowMajor.transpose(direction[2 * layer], rows: layerSizes[layer], columns: layerSizes[layer + 1])
        }
    }

    /// The tangent of the backward pass along a parameter direction: (∇_θ L)˙, which is H·v when
    /// the gradient is ∇L. `adjoints` are those of the backward pass at this point, `tangents`
    /// the forward tangents along a direction `[V₁, v₁, …]`, `transposedDirection` its V_kᵀ
    /// (`transposedWeights(of:)`, all the pass needs of the direction itself), and `outputAdjointTangent` the tangent of ∂L/∂output (which
    /// the loss on top of the network supplies).
    ///
    /// (∇W_k)˙ = x_kᵀ·δ̇_k + ẋ_kᵀ·δ_k, (∇b_k)˙ = Σ_rows δ̇_k, ė_{k−1} = δ̇_k·W_kᵀ + δ_k·V_kᵀ and
    /// δ̇_{k−1} = ė_{k−1}·act′ + e_{k−1}·act″·ż_{k−1}; δ_{k−1} = e_{k−1}·act′ is formed in the same
    /// pass over e_{k−1} and h_{k−1}.
    /// - Complexity: four products per layer after the first, two for the first.
    @specialized(where Scalar == Float)
    func secondOrderBackward(
        adjoints: Adjoints, tangents: Tangents, outputAdjointTangent: [Scalar], transposedDirection: [[Scalar]]
    ) -> [[Scalar]] {
        var result = [[Scalar]](repeating: [], count: 2 * layerCount)
        var deltaDot = outputAdjointTangent
        // δ_k: the output adjoint for the last layer, e_k·act′ for a hidden one.
        var delta = adjoints.output
        for layer in (0..<layerCount).reversed() {
            let (fanIn, fanOut) = (layerSizes[layer], layerSizes[layer + 1])
            var weightPart = RowMajor.product(layerInputs[layer], deltaDot, m: fanIn, n: fanOut, k: rows, transposingA: true)
            if layer > 0 {
                RowMajor.multiply(tangents.hidden[layer - 1], delta, into: &weightPart, m: fanIn, n: fanOut, k: rows,
                                  transposingA: true)
            }
            result[2 * layer] = weightPart
            result[2 * layer + 1] = RowMajor.columnSums(deltaDot, ones: ones, columns: fanOut)
            guard layer > 0 else { break }
            var eDot = RowMajor.product(deltaDot, transposedWeights[layer], m: rows, n: fanIn, k: fanOut)
            RowMajor.multiply(delta, transposedDirection[layer], into: &eDot, m: rows, n: fanIn, k: fanOut)
            let (h, e) = (layerInputs[layer], adjoints.hidden[layer - 1])
            switch activation {
            case .tanh:
                delta = RowMajor.multiply(&eDot, bySlopeOf: h, Self.tanhSlope, addingCurvatureOf: e,
                                          times: tangents.hidden[layer - 1])
            case .relu:
                RowMajor.multiply(&eDot, bySlopeOf: h, Self.reluSlope)
                delta = e
                RowMajor.multiply(&delta, bySlopeOf: h, Self.reluSlope)
            }
            deltaDot = eDot
        }
        return result
    }
}

/// Row-major matrix helpers over flat arrays, for the hand-written derivative passes.
enum RowMajor {
    /// The parts of a flat parameter vector, cut by `shapes`.
    static func split<S: TensorScalar>(_ vector: Tensor<S>, shapes: [[Int]]) -> [[S]] {
        var start = 0
        return shapes.map { shape in
            let count = shape.reduce(1, *)
            defer { start += count }
            return Array(vector.scalars[start..<(start + count)])
        }
    }

    /// The `columns × rows` transpose of a `rows × columns` row-major matrix.
    static func transpose<S: TensorScalar>(_ matrix: [S], rows: Int, columns: Int) -> [S] {
        Tensor(shape: [rows, columns], scalars: matrix).transposed().scalars
    }

    /// Rows `range` of a row-major matrix of `rowCount` rows (an empty matrix stays empty).
    static func rows<S>(_ range: Range<Int>, of matrix: [S], rowCount: Int) -> [S] {
        guard !matrix.isEmpty else { return [] }
        let width = matrix.count / rowCount
        return Array(matrix[(range.lowerBound * width)..<(range.upperBound * width)])
    }

    /// `rows` cut into consecutive blocks of at most `maximum` rows, as equal as possible.
    static func rowBlocks(_ rows: Int, maximum: Int) -> [Range<Int>] {
        precondition(maximum > 0, "row blocks of at most \(maximum) rows")
        let count = max(1, (rows + maximum - 1) / maximum)
        return (0..<count).map { (rows * $0 / count)..<(rows * ($0 + 1) / count) }
    }

    /// a ← a + b, part by part.
    static func add<S: TensorScalar>(_ b: [[S]], to a: inout [[S]]) {
        precondition(a.count == b.count, "adding \(b.count) parts to \(a.count)")
        for i in a.indices {
            precondition(a[i].count == b[i].count, "part \(i): adding \(b[i].count) values to \(a[i].count)")
            a[i].withUnsafeMutableBufferPointer { pa in
                b[i].withUnsafeBufferPointer { pb in
                    for j in 0..<pa.count { pa[j] += pb[j] }
                }
            }
        }
    }

    /// Parts laid end to end as one flat vector.
    static func join<S: TensorScalar>(_ parts: [[S]]) -> Tensor<S> {
        var scalars: [S] = []
        scalars.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts { scalars.append(contentsOf: part) }
        return Tensor(scalars)
    }

    /// C = op(A)·op(B) + β·C through BLAS, into m×n row-major memory at `c`.
    @inline(__always)
    private static func gemm<S: TensorScalar>(
        _ a: [S], _ b: [S], into c: UnsafeMutablePointer<S>, m: Int, n: Int, k: Int,
        transposingA: Bool, transposingB: Bool, beta: S
    ) {
        precondition(a.count == m * k && b.count == k * n, "product: \(a.count), \(b.count) for m \(m), n \(n), k \(k)")
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                S.gemm(transposeA: transposingA, transposeB: transposingB, m: m, n: n, k: k,
                       a: pa.baseAddress!, lda: transposingA ? m : k, b: pb.baseAddress!, ldb: transposingB ? k : n,
                       beta: beta, c: c, ldc: n)
            }
        }
    }

    /// C += op(A)·op(B); C is m×n, op(A) m×k, op(B) k×n.
    /// - Complexity: one BLAS gemm.
    @inline(__always)
    static func multiply<S: TensorScalar>(
        _ a: [S], _ b: [S], into c: inout [S], m: Int, n: Int, k: Int,
        transposingA: Bool = false, transposingB: Bool = false
    ) {
        precondition(c.count == m * n, "multiply into \(c.count) values for m \(m), n \(n)")
        guard m > 0 && n > 0 && k > 0 else { return }
        c.withUnsafeMutableBufferPointer { pc in
            gemm(a, b, into: pc.baseAddress!, m: m, n: n, k: k, transposingA: transposingA, transposingB: transposingB, beta: 1)
        }
    }

    /// x ← x + r, r added to every row of x.
    @inline(__always)
    static func addRow<S: TensorScalar>(_ r: [S], to x: inout [S]) {
        let width = r.count
        precondition(width > 0 && x.count % width == 0, "a row of \(r.count) added to \(x.count) values")
        x.withUnsafeMutableBufferPointer { px in
            r.withUnsafeBufferPointer { pr in
                guard var row = px.baseAddress, let add = pr.baseAddress else { return }
                for _ in 0..<(px.count / width) {
                    for j in 0..<width { row[j] += add[j] }
                    row += width
                }
            }
        }
    }

    /// x ← (x + r) ⊙ slope(h): r added to every row of x, then each element times the slope
    /// computed from the same element of h.
    @inline(__always)
    static func addRow<S: TensorScalar>(_ r: [S], to x: inout [S], timesSlopeOf h: [S], _ slope: (S) -> S) {
        let width = r.count
        precondition(width > 0 && x.count % width == 0 && h.count == x.count, "a row of \(r.count) added to \(x.count) values")
        x.withUnsafeMutableBufferPointer { px in
            r.withUnsafeBufferPointer { pr in
                h.withUnsafeBufferPointer { ph in
                    guard var row = px.baseAddress, let add = pr.baseAddress, var output = ph.baseAddress else { return }
                    for _ in 0..<(px.count / width) {
                        for j in 0..<width { row[j] = (row[j] + add[j]) * slope(output[j]) }
                        row += width
                        output += width
                    }
                }
            }
        }
    }

    /// x ← x ⊙ slope(h), elementwise.
    @inline(__always)
    static func multiply<S: TensorScalar>(_ x: inout [S], bySlopeOf h: [S], _ slope: (S) -> S) {
        precondition(x.count == h.count, "elementwise product of \(x.count) and \(h.count) values")
        x.withUnsafeMutableBufferPointer { px in
            h.withUnsafeBufferPointer { ph in
                for i in 0..<px.count { px[i] *= slope(ph[i]) }
            }
        }
    }

    /// x ← x ⊙ tanh′ + (−2·e·h) ⊙ ḣ elementwise, tanh′ = slope(h): the tangent of the adjoint
    /// e ⊙ tanh′(z) of a tanh layer with output h, adjoint e and output tangent ḣ.
    /// - Returns: the adjoint e ⊙ tanh′ itself, from the same pass over e and h.
    @inline(__always)
    static func multiply<S: TensorScalar>(
        _ x: inout [S], bySlopeOf h: [S], _ slope: (S) -> S, addingCurvatureOf e: [S], times hDot: [S]
    ) -> [S] {
        precondition(h.count == x.count && e.count == x.count && hDot.count == x.count,
                     "x ⊙ slope(h) − 2·e·h ⊙ ḣ of \(x.count), \(h.count), \(e.count), \(hDot.count) values")
        return [S](unsafeUninitializedCapacity: x.count) { adjoint, initialized in
            x.withUnsafeMutableBufferPointer { px in
                h.withUnsafeBufferPointer { ph in
                    e.withUnsafeBufferPointer { pe in
                        hDot.withUnsafeBufferPointer { pd in
                            for i in 0..<px.count {
                                let s = slope(ph[i])
                                adjoint[i] = pe[i] * s
                                px[i] = px[i] * s + -2 * pe[i] * ph[i] * pd[i]
                            }
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// op(A)·op(B) into a new m×n array.
    /// - Complexity: one BLAS gemm.
    @inline(__always)
    static func product<S: TensorScalar>(
        _ a: [S], _ b: [S], m: Int, n: Int, k: Int, transposingA: Bool = false, transposingB: Bool = false
    ) -> [S] {
        guard m > 0 && n > 0 && k > 0 else { return [S](repeating: 0, count: m * n) }
        return [S](unsafeUninitializedCapacity: m * n) { c, initialized in
            // β = 0: BLAS writes C without reading it.
            gemm(a, b, into: c.baseAddress!, m: m, n: n, k: k, transposingA: transposingA, transposingB: transposingB, beta: 0)
            initialized = m * n
        }
    }

    /// The sum of each column of a `rows × columns` matrix: onesᵀ·x, one product with a vector
    /// of `rows` ones.
    @inline(__always)
    static func columnSums<S: TensorScalar>(_ x: [S], ones: [S], columns: Int) -> [S] {
        product(ones, x, m: 1, n: columns, k: ones.count)
    }

    /// f applied to every element, a new array.
    @inline(__always)
    static func map<S: TensorScalar>(_ x: [S], _ f: (S) -> S) -> [S] {
        [S](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { px in
                for i in 0..<px.count { out[i] = f(px[i]) }
            }
            initialized = x.count
        }
    }
}
