// Operations that move elements without computing with them: reshaping, broadcasting and its
// adjoint, transposition, slicing and concatenation. Each pullback is the adjoint movement.

extension Array where Element == Int {
    /// A copy with the element at `index` replaced (used for shapes).
    func replacing(_ index: Int, with value: Int) -> [Int] {
        var copy = self
        copy[index] = value
        return copy
    }
}

extension Tensor {
    /// The same elements under another shape with the same element count.
    @specialized(where Scalar == Float)
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor.recording(newShape, scalars, inputs: [self]) { g, x, _, _ in [g.reshaped(x[0].shape)] }
    }

    /// A rank-1 tensor of all elements.
    @specialized(where Scalar == Float)
    public func flattened() -> Tensor { reshaped([count]) }

    /// The tensor repeated along broadcast axes to `target` (NumPy rules).
    @specialized(where Scalar == Float)
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        guard let layout = BroadcastLayout(shape, target), layout.shape == target else {
            preconditionFailure("shape \(shape) does not broadcast to \(target)")
        }
        let values = Tensor.makeScalars(count: layout.count) { out in
            scalars.withUnsafeBufferPointer { Scalar.copyStrided($0, strides: layout.lhsStrides, shape: target, into: out) }
        }
        return Tensor.recording(target, values, inputs: [self]) { g, x, _, _ in [g.summed(toShape: x[0].shape)] }
    }

    /// The adjoint of broadcasting: sums over the axes along which `target` was broadcast to this
    /// tensor's shape.
    @specialized(where Scalar == Float)
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(target.count <= rank, "cannot sum \(shape) down to \(target)")
        var result = self
        let offset = rank - target.count
        for axis in 0..<rank {
            let extent = axis < offset ? 1 : target[axis - offset]
            if shape[axis] != extent {
                precondition(extent == 1, "cannot sum \(shape) down to \(target)")
                result = result.sum(alongAxis: axis, keepingDimension: true)
            }
        }
        return result.reshaped(target)
    }

    /// The axes permuted: axis `i` of the result is axis `permutation[i]` of this tensor.
    @specialized(where Scalar == Float)
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.sorted() == Array(0..<rank), "\(permutation) is no permutation of \(rank) axes")
        let newShape = permutation.map { shape[$0] }
        let strides = BroadcastLayout.strides(of: shape, broadcastTo: shape)
        let values = Tensor.makeScalars(count: count) { out in
            scalars.withUnsafeBufferPointer {
                Scalar.copyStrided($0, strides: permutation.map { strides[$0] }, shape: newShape, into: out)
            }
        }
        let inverse = (0..<rank).map { axis in permutation.firstIndex(of: axis)! }
        return Tensor.recording(newShape, values, inputs: [self]) { g, _, _, _ in [g.permuted(inverse)] }
    }

    /// The matrix transpose (a rank-2 tensor with its two axes swapped).
    @specialized(where Scalar == Float)
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, got shape \(shape)")
        return permuted([1, 0])
    }

    /// The elements whose index along `axis` lies in `range`.
    @specialized(where Scalar == Float)
    public func slice(_ range: Range<Int>, alongAxis axis: Int) -> Tensor {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for shape \(shape)")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice \(range) out of bounds 0..<\(shape[axis])")
        let view = AxisView(shape: shape, axis: axis)
        var newShape = shape
        newShape[axis] = range.count
        let run = range.count * view.inner
        var values = [Scalar]()
        values.reserveCapacity(view.outer * run)
        for o in 0..<view.outer {
            let start = (o * view.count + range.lowerBound) * view.inner
            values.append(contentsOf: scalars[start..<(start + run)])
        }
        let fullShape = shape
        return Tensor.recording(newShape, values, inputs: [self]) { g, _, _, _ in
            [g.padded(into: fullShape, at: range.lowerBound, alongAxis: axis)]
        }
    }

    /// The adjoint of `slice`: this tensor placed at `offset` along `axis` of a zero tensor of `shape`.
    @specialized(where Scalar == Float)
    func padded(into target: [Int], at offset: Int, alongAxis axis: Int) -> Tensor {
        let view = AxisView(shape: target, axis: axis)
        let run = shape[axis] * view.inner
        var values = [Scalar](repeating: 0, count: target.reduce(1, *))
        for o in 0..<view.outer {
            let start = (o * view.count + offset) * view.inner
            values.replaceSubrange(start..<(start + run), with: scalars[(o * run)..<((o + 1) * run)])
        }
        let range = offset..<(offset + shape[axis])
        return Tensor.recording(target, values, inputs: [self]) { g, _, _, _ in [g.slice(range, alongAxis: axis)] }
    }

    /// The tensors joined along `axis`; all other extents must agree.
    @specialized(where Scalar == Float)
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let first = tensors[0].shape
        precondition(axis >= 0 && axis < first.count, "axis \(axis) out of range for shape \(first)")
        for t in tensors {
            precondition(t.rank == first.count && (0..<first.count).allSatisfy { $0 == axis || t.shape[$0] == first[$0] },
                         "cannot concatenate shapes \(tensors.map(\.shape)) along axis \(axis)")
        }
        var newShape = first
        newShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let outer = first[..<axis].reduce(1, *)
        var values = [Scalar]()
        values.reserveCapacity(newShape.reduce(1, *))
        for o in 0..<outer {
            for t in tensors {
                let run = t.count / Swift.max(outer, 1)
                values.append(contentsOf: t.scalars[(o * run)..<((o + 1) * run)])
            }
        }
        let extents = tensors.map { $0.shape[axis] }
        return recording(newShape, values, inputs: tensors) { g, _, _, needed in
            var start = 0
            return extents.enumerated().map { i, extent in
                defer { start += extent }
                return needed[i] ? g.slice(start..<(start + extent), alongAxis: axis) : nil
            }
        }
    }
}
