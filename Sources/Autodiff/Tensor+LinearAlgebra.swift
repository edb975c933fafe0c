// Matrix products through BLAS. Transposed operands are read in place (BLAS's transpose flags),
// so neither the forward product nor its pullback copies a matrix.

extension Tensor {
    /// op(a)·op(b) for matrices, where op transposes when asked.
    ///
    /// - Complexity: one BLAS gemm, 2·m·n·k flops.
    @specialized(where Scalar == Float)
    public static func matmul(
        _ a: Tensor, _ b: Tensor, transposingA: Bool = false, transposingB: Bool = false
    ) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
        let m = transposingA ? a.shape[1] : a.shape[0]
        let k = transposingA ? a.shape[0] : a.shape[1]
        let kB = transposingB ? b.shape[1] : b.shape[0]
        let n = transposingB ? b.shape[0] : b.shape[1]
        precondition(k == kB, "matmul inner extents differ: \(a.shape)\(transposingA ? "ᵀ" : "") · \(b.shape)\(transposingB ? "ᵀ" : "")")
        let values: [Scalar]
        if m * n == 0 {
            values = []
        } else if k == 0 {
            values = [Scalar](repeating: 0, count: m * n)
        } else {
            values = makeScalars(count: m * n) { out in
                a.scalars.withUnsafeBufferPointer { pa in
                    b.scalars.withUnsafeBufferPointer { pb in
                        Scalar.gemm(transposeA: transposingA, transposeB: transposingB, m: m, n: n, k: k,
                                    a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                                    beta: 0, c: out.baseAddress!, ldc: n)
                    }
                }
            }
        }
        return recording([m, n], values, inputs: [a, b]) { g, x, _, needed in
            let a = x[0], b = x[1]
            // C = op(A)·op(B) ⇒ ∂A and ∂B by the four transpose cases, each again one product.
            let gradientA: Tensor?
            let gradientB: Tensor?
            switch (transposingA, transposingB) {
            case (false, false):
                gradientA = needed[0] ? matmul(g, b, transposingB: true) : nil
                gradientB = needed[1] ? matmul(a, g, transposingA: true) : nil
            case (true, false):
                gradientA = needed[0] ? matmul(b, g, transposingB: true) : nil
                gradientB = needed[1] ? matmul(a, g) : nil
            case (false, true):
                gradientA = needed[0] ? matmul(g, b) : nil
                gradientB = needed[1] ? matmul(g, a, transposingA: true) : nil
            case (true, true):
                gradientA = needed[0] ? matmul(b, g, transposingA: true, transposingB: true) : nil
                gradientB = needed[1] ? matmul(g, a, transposingA: true, transposingB: true) : nil
            }
            return [gradientA, gradientB]
        }
    }

    /// The affine map x·W + b of a layer, for inputs as rows: x is [rows, in], W is [in, out] and
    /// b is [out].
    ///
    /// The bias is written into the output and the product accumulated onto it (BLAS's β = 1), one
    /// pass over the output fewer than a product followed by a broadcast addition.
    @specialized(where Scalar == Float)
    public static func linear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor) -> Tensor {
        precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[0],
                     "linear needs [rows, in]·[in, out], got \(x.shape) and \(weight.shape)")
        let rows = x.shape[0], inputs = weight.shape[0], outputs = weight.shape[1]
        precondition(bias.count == outputs && (bias.shape == [outputs] || bias.shape == [1, outputs]),
                     "linear bias must be [\(outputs)], got \(bias.shape)")
        let values = makeScalars(count: rows * outputs) { out in
            bias.scalars.withUnsafeBufferPointer {
                Scalar.copyStrided($0, strides: [0, 1], shape: [rows, outputs], into: out)
            }
            guard rows > 0 && inputs > 0 && outputs > 0 else { return }
            x.scalars.withUnsafeBufferPointer { px in
                weight.scalars.withUnsafeBufferPointer { pw in
                    Scalar.gemm(transposeA: false, transposeB: false, m: rows, n: outputs, k: inputs,
                                a: px.baseAddress!, lda: inputs, b: pw.baseAddress!, ldb: outputs,
                                beta: 1, c: out.baseAddress!, ldc: outputs)
                }
            }
        }
        return recording([rows, outputs], values, inputs: [x, weight, bias]) { g, x, _, needed in
            [needed[0] ? matmul(g, x[1], transposingB: true) : nil,
             needed[1] ? matmul(x[0], g, transposingA: true) : nil,
             needed[2] ? g.sum(alongAxis: 0).reshaped(x[2].shape) : nil]
        }
    }

    /// The matrix product `self · other`.
    @specialized(where Scalar == Float)
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }

    /// Σᵢ aᵢbᵢ over all elements of two tensors of the same shape, as a rank-0 tensor.
    @specialized(where Scalar == Float)
    public static func dot(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "dot of shapes \(a.shape) and \(b.shape)")
        return (a * b).sum()
    }
}
