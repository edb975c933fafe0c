import RealModule
/// A row-major array of scalars with a shape, which may be a node of a differentiable graph.
///
/// A `Tensor` is a value. Operations never mutate their operands; they return new tensors. A tensor
/// is *tracked* when it was made with ``variable(_:)`` or computed from a tracked tensor: it then
/// remembers how it was computed, and ``gradients(of:wrt:seed:createGraph:)`` can differentiate it.
/// The graph is held by the tensors themselves — there is no tape and no global state — so
/// independent graphs can be built and differentiated on different threads at once.
public struct Tensor<Scalar: TensorScalar>: Sendable {
    /// The extent of each axis; `[]` for a scalar.
    public let shape: [Int]
    /// The elements in row-major order.
    public let scalars: [Scalar]
    /// How this tensor was computed, when it is tracked.
    @usableFromInline let _node: GraphNode<Scalar>?

    /// Creates an untracked tensor.
    /// - Precondition: `scalars.count` is the product of `shape`, and no extent is negative.
    public init(shape: [Int], scalars: [Scalar]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) holds \(shape.reduce(1, *)) elements, got \(scalars.count)")
        self.init(shape: shape, scalars: scalars, node: nil)
    }

    @usableFromInline
    init(shape: [Int], scalars: [Scalar], node: GraphNode<Scalar>?) {
        self.shape = shape
        self.scalars = scalars
        self._node = node
    }

    /// A rank-0 tensor.
    public init(_ value: Scalar) {
        self.init(shape: [], scalars: [value], node: nil)
    }

    /// A rank-1 tensor.
    public init(_ values: [Scalar]) {
        self.init(shape: [values.count], scalars: values, node: nil)
    }

    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: [Scalar](repeating: 0, count: shape.reduce(1, *)))
    }

    public static func ones(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: [Scalar](repeating: 1, count: shape.reduce(1, *)))
    }

    public static func filled(_ value: Scalar, shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: [Scalar](repeating: value, count: shape.reduce(1, *)))
    }

    /// Elements drawn uniformly from `range`.
    public static func uniform(
        _ shape: [Int], in range: ClosedRange<Scalar>, using rng: inout some RandomNumberGenerator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Scalar]()
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(Scalar.random(in: range, using: &rng)) }
        return Tensor(shape: shape, scalars: values)
    }

    /// Elements drawn from N(mean, standardDeviation²) by the Box–Muller transform.
    ///
    /// Inlinable so that callers in other modules get it specialised for their scalar and
    /// generator: the policy samplers draw noise every environment step, and the unspecialised
    /// generic draw (`Scalar.random` looked up at run time) cost as much as the policy's forward pass.
    @inlinable
    public static func normal(
        _ shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1,
        using rng: inout some RandomNumberGenerator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Scalar]()
        values.reserveCapacity(count + 1)
        while values.count < count {
            // u1 in (0, 1] keeps the logarithm finite.
            let u1 = 1 - Scalar.random(in: 0..<1, using: &rng)
            let u2 = Scalar.random(in: 0..<1, using: &rng)
            let radius = (-2 * Scalar.log(u1)).squareRoot()
            let angle = 2 * Scalar.pi * u2
            values.append(mean + standardDeviation * radius * Scalar.cos(angle))
            values.append(mean + standardDeviation * radius * Scalar.sin(angle))
        }
        values.removeLast(values.count - count)
        return Tensor(shape: shape, scalars: values)
    }

    /// A leaf of a differentiable graph: the values of `tensor`, to be differentiated with respect to.
    public static func variable(_ tensor: Tensor) -> Tensor {
        Tensor(shape: tensor.shape, scalars: tensor.scalars,
               node: GraphNode(inputs: [], pullback: nil, shape: tensor.shape, scalars: tensor.scalars))
    }

    /// The number of elements.
    @inlinable public var count: Int { scalars.count }
    /// The number of axes.
    @inlinable public var rank: Int { shape.count }
    /// Whether operations on this tensor are recorded for differentiation.
    @inlinable public var isTracked: Bool { _node != nil }

    /// The same values, cut from the graph: gradients do not flow through the result.
    @inlinable public var detached: Tensor {
        Tensor(shape: shape, scalars: scalars, node: nil)
    }

    /// The only element of a one-element tensor.
    public var scalar: Scalar {
        precondition(count == 1, "scalar of a tensor with shape \(shape)")
        return scalars[0]
    }

    /// The same values as a leaf of a new graph (``variable(_:)`` of the detached values).
    public var asVariable: Tensor { .variable(self) }

    /// Converts the elements to another scalar type (the result is untracked).
    public func converted<Other: TensorScalar>(to: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(shape: shape, scalars: scalars.map { Other($0) })
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        let more = count > 8 ? ", … (\(count) elements)" : ""
        return "Tensor\(shape)(\(shown)\(more))\(isTracked ? " tracked" : "")"
    }
}
