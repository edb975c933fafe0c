import CBLAS
import RealModule

extension Float: TensorScalar {
    /// tanh(x) as the ratio of an odd degree-13 and an even degree-6 polynomial, minimax on
    /// [−9, 9] (the approximation Eigen uses for `float`); outside that range tanh rounds to ±1.
    /// Absolute error below 4e-7 over a dense sweep of [−10, 10] (libm's `tanhf`: 1e-7), and it
    /// vectorises, where `tanhf` costs about 8 ns an element.
    @inlinable
    public static func kernelTanh(_ x: Float) -> Float {
        let clamped = x < -9 ? -9 : (x > 9 ? 9 : x)
        let x2 = clamped * clamped
        var p: Float = -2.76076847742355e-16
        p = p * x2 + 2.00018790482477e-13
        p = p * x2 - 8.60467152213735e-11
        p = p * x2 + 5.12229709037114e-08
        p = p * x2 + 1.48572235717979e-05
        p = p * x2 + 6.37261928875436e-04
        p = p * x2 + 4.89352455891786e-03
        var q: Float = 1.19825839466702e-06
        q = q * x2 + 1.18534705686654e-04
        q = q * x2 + 2.26843463243900e-03
        q = q * x2 + 4.89352518554385e-03
        return clamped * p / q
    }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    }

    public static func map(_ function: UnaryFunction<Float>, _ x: UnsafeBufferPointer<Float>,
                           into y: UnsafeMutableBufferPointer<Float>) {
        ElementwiseKernels.map(function, x, into: y)
    }

    public static func combine(_ function: BinaryFunction<Float>, _ lhs: UnsafeBufferPointer<Float>,
                               _ rhs: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>,
                               layout: BroadcastLayout) {
        ElementwiseKernels.combine(function, lhs, rhs, into: out, layout: layout)
    }

    public static func copyStrided(_ x: UnsafeBufferPointer<Float>, strides: [Int], shape: [Int],
                                   into y: UnsafeMutableBufferPointer<Float>) {
        AxisKernels.copyStrided(x, strides: strides, shape: shape, into: y)
    }

    public static func sumAxis(_ x: UnsafeBufferPointer<Float>, view: AxisView,
                               into y: UnsafeMutableBufferPointer<Float>) {
        AxisKernels.sumAxis(x, view: view, into: y)
    }

    public static func maxAxis(_ x: UnsafeBufferPointer<Float>, view: AxisView,
                               into y: UnsafeMutableBufferPointer<Float>, argmax: UnsafeMutableBufferPointer<Int>) {
        AxisKernels.maxAxis(x, view: view, into: y, argmax: argmax)
    }

    public static func gather(_ x: UnsafeBufferPointer<Float>, view: AxisView, indices: UnsafeBufferPointer<Int>,
                              count: Int, into y: UnsafeMutableBufferPointer<Float>) {
        AxisKernels.gather(x, view: view, indices: indices, count: count, into: y)
    }

    public static func scatterAdd(_ x: UnsafeBufferPointer<Float>, view: AxisView, indices: UnsafeBufferPointer<Int>,
                                  count: Int, into y: UnsafeMutableBufferPointer<Float>) {
        AxisKernels.scatterAdd(x, view: view, indices: indices, count: count, into: y)
    }

    public static func select(_ condition: UnsafeBufferPointer<Bool>, _ a: UnsafeBufferPointer<Float>,
                              _ b: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        ElementwiseKernels.select(condition, a, b, into: y)
    }
}
