import RealModule

/// The element type of a ``Tensor``: `Float` for training, `Double` for finite-difference checks.
///
/// Every operation of the differentiable core is written once, generically. The bulk loops, where
/// the time goes, are requirements of this protocol so that each is compiled for the concrete scalar
/// (`Float+TensorScalar.swift`, `Double+TensorScalar.swift` forward to the generic kernels in
/// `Kernels/`, which the compiler specialises at those call sites). Generic code calling a tensor op
/// therefore pays one witness-table call per op, never one per element.
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
