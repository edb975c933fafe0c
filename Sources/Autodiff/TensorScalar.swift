import RealModule

/// The element type of a ``Tensor``: `Float` for training, `Double` for finite-difference checks.
///
/// Every operation of the differentiable core is written once, generically. The bulk loops, where
/// the time goes, are requirements of this protocol, with generic defaults in `Kernels/` compiled
/// for Float and Double (`@specialized`), so that a scalar type can bring its own: BLAS for the
/// matrix product, C kernels for Float's tanh. Generic code calling a tensor op pays one
/// witness-table call per op, never one per element.
///
/// The operations themselves carry `@specialized(where Scalar == Float)`: their generic entry points
/// jump to a Float-specialised copy, so training code never pays for generic metadata lookups
/// (they were a quarter of the time of a small Hessian–vector product).
///
/// `Float` sends tanh and its pullback to C kernels compiled for AVX2 and AVX-512 (`CKernels`),
/// which use a rational approximation with an absolute error below 4e-7; `Double` uses libm, for
/// finite-difference checks.
public protocol TensorScalar: BinaryFloatingPoint, Real, Sendable, Codable
where RawSignificand: FixedWidthInteger {
    /// C = op(A)·op(B) + β·C, row-major, through BLAS (`sgemm`/`dgemm`).
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    static func map(
        _ function: UnaryFunction<Self>, _ x: UnsafeBufferPointer<Self>, into y: UnsafeMutableBufferPointer<Self>)
    static func combine(
        _ function: BinaryFunction<Self>, _ lhs: UnsafeBufferPointer<Self>, _ rhs: UnsafeBufferPointer<Self>,
        into out: UnsafeMutableBufferPointer<Self>, layout: BroadcastLayout)
    static func copyStrided(
        _ x: UnsafeBufferPointer<Self>, strides: [Int], shape: [Int], into y: UnsafeMutableBufferPointer<Self>)
    static func sumAxis(
        _ x: UnsafeBufferPointer<Self>, view: AxisView, into y: UnsafeMutableBufferPointer<Self>)
    static func maxAxis(
        _ x: UnsafeBufferPointer<Self>, view: AxisView, into y: UnsafeMutableBufferPointer<Self>,
        argmax: UnsafeMutableBufferPointer<Int>)
    static func gather(
        _ x: UnsafeBufferPointer<Self>, view: AxisView, indices: UnsafeBufferPointer<Int>, count: Int,
        into y: UnsafeMutableBufferPointer<Self>)
    static func scatterAdd(
        _ x: UnsafeBufferPointer<Self>, view: AxisView, indices: UnsafeBufferPointer<Int>, count: Int,
        into y: UnsafeMutableBufferPointer<Self>)
    /// y = k·a·b·c element by element (all four the same length).
    static func scaledProduct(
        _ a: UnsafeBufferPointer<Self>, _ b: UnsafeBufferPointer<Self>, _ c: UnsafeBufferPointer<Self>,
        scale: Self, into y: UnsafeMutableBufferPointer<Self>)
    static func select(
        _ condition: UnsafeBufferPointer<Bool>, _ a: UnsafeBufferPointer<Self>, _ b: UnsafeBufferPointer<Self>,
        into y: UnsafeMutableBufferPointer<Self>)
}

// The generic kernels serve every scalar unless a conformance brings its own (Float sends tanh and
// its pullback to C). The kernels carry `@specialized` for Float and Double, so these generic
// defaults reach a specialised loop after one type check per call.
extension TensorScalar {
    public static func map(
        _ function: UnaryFunction<Self>, _ x: UnsafeBufferPointer<Self>, into y: UnsafeMutableBufferPointer<Self>
    ) {
        ElementwiseKernels.map(function, x, into: y)
    }

    public static func combine(
        _ function: BinaryFunction<Self>, _ lhs: UnsafeBufferPointer<Self>, _ rhs: UnsafeBufferPointer<Self>,
        into out: UnsafeMutableBufferPointer<Self>, layout: BroadcastLayout
    ) {
        ElementwiseKernels.combine(function, lhs, rhs, into: out, layout: layout)
    }

    public static func copyStrided(
        _ x: UnsafeBufferPointer<Self>, strides: [Int], shape: [Int], into y: UnsafeMutableBufferPointer<Self>
    ) {
        AxisKernels.copyStrided(x, strides: strides, shape: shape, into: y)
    }

    public static func sumAxis(_ x: UnsafeBufferPointer<Self>, view: AxisView, into y: UnsafeMutableBufferPointer<Self>) {
        AxisKernels.sumAxis(x, view: view, into: y)
    }

    public static func maxAxis(
        _ x: UnsafeBufferPointer<Self>, view: AxisView, into y: UnsafeMutableBufferPointer<Self>,
        argmax: UnsafeMutableBufferPointer<Int>
    ) {
        AxisKernels.maxAxis(x, view: view, into: y, argmax: argmax)
    }

    public static func gather(
        _ x: UnsafeBufferPointer<Self>, view: AxisView, indices: UnsafeBufferPointer<Int>, count: Int,
        into y: UnsafeMutableBufferPointer<Self>
    ) {
        AxisKernels.gather(x, view: view, indices: indices, count: count, into: y)
    }

    public static func scatterAdd(
        _ x: UnsafeBufferPointer<Self>, view: AxisView, indices: UnsafeBufferPointer<Int>, count: Int,
        into y: UnsafeMutableBufferPointer<Self>
    ) {
        AxisKernels.scatterAdd(x, view: view, indices: indices, count: count, into: y)
    }

    public static func scaledProduct(
        _ a: UnsafeBufferPointer<Self>, _ b: UnsafeBufferPointer<Self>, _ c: UnsafeBufferPointer<Self>,
        scale: Self, into y: UnsafeMutableBufferPointer<Self>
    ) {
        ElementwiseKernels.scaledProduct(a, b, c, scale: scale, into: y)
    }

    public static func select(
        _ condition: UnsafeBufferPointer<Bool>, _ a: UnsafeBufferPointer<Self>, _ b: UnsafeBufferPointer<Self>,
        into y: UnsafeMutableBufferPointer<Self>
    ) {
        ElementwiseKernels.select(condition, a, b, into: y)
    }
}

/// A pointwise function of one tensor, evaluated by ``TensorScalar/map(_:_:into:)``.
public enum UnaryFunction<Scalar: TensorScalar>: Sendable {
    case negate, exp, log, tanh, sigmoid, relu, square, sqrt
    case power(Scalar)
    case clamp(Scalar, Scalar)
}

/// A pointwise function of two broadcast tensors, evaluated by ``TensorScalar/combine(_:_:_:into:layout:)``.
///
/// The derivative cases are fused backward kernels: each saves two or three passes over memory in
/// the hottest pullbacks and is itself differentiable (see `Tensor+Elementwise.swift`).
public enum BinaryFunction<Scalar: TensorScalar>: Sendable {
    case add, subtract, multiply, divide
    /// `rhs · (1 − lhs²)`: the tanh pullback, lhs = tanh(x), rhs = upstream gradient.
    case tanhDerivative
    /// `lhs > 0 ? rhs : 0`: the relu pullback, lhs = x.
    case reluDerivative
    /// `lo ≤ lhs ≤ hi ? rhs : 0`: the clamp pullback, lhs = x.
    case clampDerivative(Scalar, Scalar)
}

/// A tensor seen as `[outer, count, inner]` around one axis: the shape every axis kernel works on.
public struct AxisView: Sendable, Equatable {
    public var outer: Int
    public var count: Int
    public var inner: Int

    init(shape: [Int], axis: Int) {
        outer = shape[..<axis].reduce(1, *)
        count = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }
}
