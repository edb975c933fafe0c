// Sums, means and maxima, over all elements or along one axis, and the softmax family built on them.

extension Tensor {
    /// The sum along `axis`, which is removed unless `keepingDimension`.
    @specialized(where Scalar == Float)
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for shape \(shape)")
        let view = AxisView(shape: shape, axis: axis)
        let values = Tensor.makeScalars(count: view.outer * view.inner) { out in
            scalars.withUnsafeBufferPointer { Scalar.sumAxis($0, view: view, into: out) }
        }
        let kept = shape.replacing(axis, with: 1)
        let newShape = keepingDimension ? kept : Array(shape[..<axis] + shape[(axis + 1)...])
        // The gradient is left in the kept shape; the engine broadcasts it while accumulating.
        return Tensor.recording(newShape, values, inputs: [self]) { g, _, _, _ in [g.reshaped(kept)] }
    }

    /// The sum of all elements, as a rank-0 tensor.
    @specialized(where Scalar == Float)
    public func sum() -> Tensor {
        flattened().sum(alongAxis: 0)
    }

    /// The mean of all elements, as a rank-0 tensor.
    @specialized(where Scalar == Float)
    public func mean() -> Tensor {
        sum() / Scalar(Swift.max(count, 1))
    }

    /// The mean along `axis`.
    @specialized(where Scalar == Float)
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        sum(alongAxis: axis, keepingDimension: keepingDimension) / Scalar(shape[axis])
    }

    /// The maximum along `axis` and the index where it is first reached.
    ///
    /// The gradient flows to that first maximal element only (ties do not share it).
    @specialized(where Scalar == Float)
    public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for shape \(shape)")
        let view = AxisView(shape: shape, axis: axis)
        var argmax = [Int](repeating: 0, count: view.outer * view.inner)
        let values = Tensor.makeScalars(count: view.outer * view.inner) { out in
            scalars.withUnsafeBufferPointer { x in
                argmax.withUnsafeMutableBufferPointer { Scalar.maxAxis(x, view: view, into: out, argmax: $0) }
            }
        }
        let kept = shape.replacing(axis, with: 1)
        let newShape = keepingDimension ? kept : Array(shape[..<axis] + shape[(axis + 1)...])
        let inputShape = shape
        let indices = argmax
        return Tensor.recording(newShape, values, inputs: [self]) { g, _, _, _ in
            [g.reshaped(kept).scatteredAdding(indices: indices, alongAxis: axis, extent: inputShape[axis])]
        }
    }

    /// The largest element, as a rank-0 tensor (gradient to its first occurrence).
    @specialized(where Scalar == Float)
    public func max() -> Tensor {
        flattened().max(alongAxis: 0)
    }

    /// log Σ exp x along `axis`, computed stably by subtracting the (detached) maximum first; the
    /// maximum's contribution to the gradient cancels exactly, so detaching it changes nothing.
    @specialized(where Scalar == Float)
    public func logSumExp(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let shift = max(alongAxis: axis, keepingDimension: true).detached
        let result = (self - shift).exp().sum(alongAxis: axis, keepingDimension: true).log() + shift
        return keepingDimension ? result : result.reshaped(Array(shape[..<axis] + shape[(axis + 1)...]))
    }

    /// log softmax along `axis`: x − log Σ exp x.
    @specialized(where Scalar == Float)
    public func logSoftmax(alongAxis axis: Int) -> Tensor {
        self - logSumExp(alongAxis: axis, keepingDimension: true)
    }

    /// softmax along `axis`: exp x / Σ exp x.
    @specialized(where Scalar == Float)
    public func softmax(alongAxis axis: Int) -> Tensor {
        logSoftmax(alongAxis: axis).exp()
    }
}
