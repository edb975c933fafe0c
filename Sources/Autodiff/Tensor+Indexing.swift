// Selecting elements by index or by condition: `gathering` picks the log-probability of the taken
// action from a [batch, actions] table; `selecting` chooses between two tensors by a mask.

/// A Boolean tensor, used to select between two tensors. Masks carry no gradient.
public struct TensorMask: Sendable, Equatable {
    public let shape: [Int]
    public let values: [Bool]

    public init(shape: [Int], values: [Bool]) {
        precondition(shape.reduce(1, *) == values.count, "mask shape \(shape) holds \(shape.reduce(1, *)) values, got \(values.count)")
        self.shape = shape
        self.values = values
    }
}

extension Tensor {
    /// The elements for which `predicate` holds, as a mask.
    @specialized(where Scalar == Float)
    public func mask(where predicate: (Scalar) -> Bool) -> TensorMask {
        TensorMask(shape: shape, values: scalars.map(predicate))
    }

    /// `y[…, j, …] = x[…, indices[…, j, …], …]` along `axis` (PyTorch's `gather`): `indices` has
    /// this tensor's shape except that its extent along `axis` may differ.
    ///
    /// - Parameters:
    ///   - indices: row-major, `indexShape.reduce(1, *)` of them, each in `0..<shape[axis]`.
    ///   - indexShape: this tensor's shape with any extent along `axis`.
    @specialized(where Scalar == Float)
    public func gathering(indices: [Int], indexShape: [Int], alongAxis axis: Int) -> Tensor {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for shape \(shape)")
        precondition(indexShape.count == rank && (0..<rank).allSatisfy { $0 == axis || indexShape[$0] == shape[$0] },
                     "index shape \(indexShape) does not fit tensor shape \(shape) along axis \(axis)")
        precondition(indices.count == indexShape.reduce(1, *), "\(indices.count) indices for shape \(indexShape)")
        let view = AxisView(shape: shape, axis: axis)
        let values = Tensor.makeScalars(count: indices.count) { out in
            scalars.withUnsafeBufferPointer { x in
                indices.withUnsafeBufferPointer { Scalar.gather(x, view: view, indices: $0, count: indexShape[axis], into: out) }
            }
        }
        let extent = shape[axis]
        return Tensor.recording(indexShape, values, inputs: [self]) { g, _, _, _ in
            [g.scatteredAdding(indices: indices, alongAxis: axis, extent: extent)]
        }
    }

    /// The adjoint of `gathering`: a tensor with `extent` along `axis`, zero except that each
    /// element of this tensor is added at its index.
    @specialized(where Scalar == Float)
    public func scatteredAdding(indices: [Int], alongAxis axis: Int, extent: Int) -> Tensor {
        precondition(indices.count == count, "\(indices.count) indices for \(count) elements")
        var newShape = shape
        newShape[axis] = extent
        let view = AxisView(shape: newShape, axis: axis)
        var values = [Scalar](repeating: 0, count: newShape.reduce(1, *))
        scalars.withUnsafeBufferPointer { x in
            indices.withUnsafeBufferPointer { index in
                values.withUnsafeMutableBufferPointer {
                    Scalar.scatterAdd(x, view: view, indices: index, count: shape[axis], into: $0)
                }
            }
        }
        let indexShape = shape
        return Tensor.recording(newShape, values, inputs: [self]) { g, _, _, _ in
            [g.gathering(indices: indices, indexShape: indexShape, alongAxis: axis)]
        }
    }

    /// `condition ? a : b`, element by element; `a` and `b` broadcast to the mask's shape.
    @specialized(where Scalar == Float)
    public static func selecting(_ condition: TensorMask, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = condition.shape
        let x = a.broadcast(to: shape), y = b.broadcast(to: shape)
        let values = makeScalars(count: condition.values.count) { out in
            condition.values.withUnsafeBufferPointer { c in
                x.scalars.withUnsafeBufferPointer { xa in
                    y.scalars.withUnsafeBufferPointer { Scalar.select(c, xa, $0, into: out) }
                }
            }
        }
        let inverted = TensorMask(shape: shape, values: condition.values.map { !$0 })
        return recording(shape, values, inputs: [x, y]) { g, _, _, needed in
            let zero = Tensor.zeros([])
            return [needed[0] ? selecting(condition, g, zero) : nil,
                    needed[1] ? selecting(inverted, g, zero) : nil]
        }
    }
}
