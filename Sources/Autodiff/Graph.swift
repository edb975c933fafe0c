/// The pullback of one operation: given the gradient flowing into its output (`upstream`), the
/// gradients flowing into each of its `inputs`, or `nil` where `needed` is false or the input has
/// no influence. A gradient may come back in any shape that broadcasts to its input's shape (it
/// then stands for its broadcast); the engine materialises it only when it must.
///
/// Pullbacks are written with tensor operations, and receive the inputs and output as arguments
/// rather than capturing them. When a gradient is asked for with `createGraph`, the engine passes
/// the tracked tensors and the pullback's own operations are recorded, so the gradient can be
/// differentiated again; otherwise it passes detached copies and nothing is recorded.
typealias Pullback<Scalar: TensorScalar> = @Sendable (
    _ upstream: Tensor<Scalar>, _ inputs: [Tensor<Scalar>], _ output: Tensor<Scalar>, _ needed: [Bool]
) -> [Tensor<Scalar>?]

/// How a tracked tensor was computed: its operands and the operation's pullback. Immutable, so a
/// graph can be read from several threads; the gradients themselves accumulate in the local state
/// of one `gradients(of:…)` call.
@usableFromInline
final class GraphNode<Scalar: TensorScalar>: Sendable {
    let inputs: [Tensor<Scalar>]
    let pullback: Pullback<Scalar>?
    /// The output's value, so that a pullback can use it without the node owning its own tensor.
    let shape: [Int]
    let scalars: [Scalar]

    init(inputs: [Tensor<Scalar>], pullback: Pullback<Scalar>?, shape: [Int], scalars: [Scalar]) {
        self.inputs = inputs
        self.pullback = pullback
        self.shape = shape
        self.scalars = scalars
    }

    /// The output as a tracked tensor (for pullbacks that build a graph).
    var trackedOutput: Tensor<Scalar> { Tensor(shape: shape, scalars: scalars, node: self) }
}

extension Tensor {
    /// The result of an operation with value `scalars`: tracked, with `pullback`, when any input is.
    @specialized(where Scalar == Float)
    static func recording(
        _ shape: [Int], _ scalars: [Scalar], inputs: [Tensor], pullback: @escaping Pullback<Scalar>
    ) -> Tensor {
        guard inputs.contains(where: { $0._node != nil }) else {
            return Tensor(shape: shape, scalars: scalars, node: nil)
        }
        return Tensor(shape: shape, scalars: scalars,
                      node: GraphNode(inputs: inputs, pullback: pullback, shape: shape, scalars: scalars))
    }

    /// An array of `count` elements filled by `body`, without initialising it first.
    @specialized(where Scalar == Float)
    @inline(__always)
    static func makeScalars(
        count: Int, _ body: (UnsafeMutableBufferPointer<Scalar>) -> Void
    ) -> [Scalar] {
        [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            body(buffer)
            initialized = count
        }
    }
}
