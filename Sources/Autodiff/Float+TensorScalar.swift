import CBLAS
import CKernels
import RealModule

extension Float: TensorScalar {
    /// The instruction set the C kernels chose on this machine ("avx512", "avx2" or "baseline").
    public static var kernelInstructionSet: String { String(cString: metarl_kernels_instruction_set()) }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static func map(_ function: UnaryFunction<Float>, _ x: UnsafeBufferPointer<Float>,
                           into y: UnsafeMutableBufferPointer<Float>) {
        if case .tanh = function, let px = x.baseAddress, let py = y.baseAddress {
            precondition(x.count == y.count, "tanh kernel: \(x.count) inputs for \(y.count) outputs")
            metarl_tanh_f32(px, py, x.count)
            return
        }
        ElementwiseKernels.map(function, x, into: y)
    }

    public static func combine(_ function: BinaryFunction<Float>, _ lhs: UnsafeBufferPointer<Float>,
                               _ rhs: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>,
                               layout: BroadcastLayout) {
        if case .tanhDerivative = function, layout.path == .sameShape,
           let y = lhs.baseAddress, let g = rhs.baseAddress, let o = out.baseAddress {
            metarl_tanh_derivative_f32(y, g, o, layout.count)
            return
        }
        ElementwiseKernels.combine(function, lhs, rhs, into: out, layout: layout)
    }
}
