import CBLAS
import RealModule

extension Double: TensorScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static func map(_ function: UnaryFunction<Double>, _ x: UnsafeBufferPointer<Double>,
                           into y: UnsafeMutableBufferPointer<Double>) {
        ElementwiseKernels.map(function, x, into: y)
    }

    public static func combine(_ function: BinaryFunction<Double>, _ lhs: UnsafeBufferPointer<Double>,
                               _ rhs: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
                               layout: BroadcastLayout) {
        ElementwiseKernels.combine(function, lhs, rhs, into: out, layout: layout)
    }

    public static func copyStrided(_ x: UnsafeBufferPointer<Double>, strides: [Int], shape: [Int],
                                   into y: UnsafeMutableBufferPointer<Double>) {
        AxisKernels.copyStrided(x, strides: strides, shape: shape, into: y)
    }

    public static func sumAxis(_ x: UnsafeBufferPointer<Double>, view: AxisView,
                               into y: UnsafeMutableBufferPointer<Double>) {
        AxisKernels.sumAxis(x, view: view, into: y)
    }

    public static func maxAxis(_ x: UnsafeBufferPointer<Double>, view: AxisView,
                               into y: UnsafeMutableBufferPointer<Double>, argmax: UnsafeMutableBufferPointer<Int>) {
        AxisKernels.maxAxis(x, view: view, into: y, argmax: argmax)
    }

    public static func gather(_ x: UnsafeBufferPointer<Double>, view: AxisView, indices: UnsafeBufferPointer<Int>,
                              count: Int, into y: UnsafeMutableBufferPointer<Double>) {
        AxisKernels.gather(x, view: view, indices: indices, count: count, into: y)
    }

    public static func scatterAdd(_ x: UnsafeBufferPointer<Double>, view: AxisView, indices: UnsafeBufferPointer<Int>,
                                  count: Int, into y: UnsafeMutableBufferPointer<Double>) {
        AxisKernels.scatterAdd(x, view: view, indices: indices, count: count, into: y)
    }

    public static func scaledProduct(_ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>,
                                     _ c: UnsafeBufferPointer<Double>, scale: Double, into y: UnsafeMutableBufferPointer<Double>) {
        ElementwiseKernels.scaledProduct(a, b, c, scale: scale, into: y)
    }

    public static func select(_ condition: UnsafeBufferPointer<Bool>, _ a: UnsafeBufferPointer<Double>,
                              _ b: UnsafeBufferPointer<Double>, into y: UnsafeMutableBufferPointer<Double>) {
        ElementwiseKernels.select(condition, a, b, into: y)
    }
}
