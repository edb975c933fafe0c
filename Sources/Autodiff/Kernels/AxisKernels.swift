import RealModule
// Loops along one axis of a tensor seen as [outer, count, inner] (`AxisView`): sums, maxima,
// gathers and scatters, and the strided copy behind transposes and broadcasts. Every sum runs in
// a fixed order, so results do not depend on how work is split across threads.

enum AxisKernels {
    @specialized(where S == Float)
    @specialized(where S == Double)
    static func sumAxis<S: TensorScalar>(
        _ x: UnsafeBufferPointer<S>, view: AxisView, into y: UnsafeMutableBufferPointer<S>
    ) {
        precondition(x.count == view.outer * view.count * view.inner && y.count == view.outer * view.inner,
                     "sum kernel: \(x.count) elements seen as \(view), output \(y.count)")
        guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
        let n = view.count, inner = view.inner
        for o in 0..<view.outer {
            let src = xp + o * n * inner, dst = yp + o * inner
            if inner == 1 {
                var total: S = 0
                for k in 0..<n { total += src[k] }
                dst[0] = total
            } else {
                // Row after row, so the inner loop is contiguous in both operands.
                for i in 0..<inner { dst[i] = 0 }
                for k in 0..<n {
                    let row = src + k * inner
                    for i in 0..<inner { dst[i] += row[i] }
                }
            }
        }
    }

    /// Maxima along the axis, and the index of the first maximum (NaN compares as smaller).
    @specialized(where S == Float)
    @specialized(where S == Double)
    static func maxAxis<S: TensorScalar>(
        _ x: UnsafeBufferPointer<S>, view: AxisView, into y: UnsafeMutableBufferPointer<S>,
        argmax: UnsafeMutableBufferPointer<Int>
    ) {
        precondition(view.count > 0, "max over an empty axis")
        guard let xp = x.baseAddress else { return }
        let n = view.count, inner = view.inner
        for o in 0..<view.outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var best = xp[base], bestIndex = 0
                for k in 1..<n where xp[base + k * inner] > best {
                    best = xp[base + k * inner]
                    bestIndex = k
                }
                y[o * inner + i] = best
                argmax[o * inner + i] = bestIndex
            }
        }
    }

    /// `y[o, j, i] = x[o, indices[o, j, i], i]` for j in 0..<count.
    @specialized(where S == Float)
    @specialized(where S == Double)
    static func gather<S>(
        _ x: UnsafeBufferPointer<S>, view: AxisView, indices: UnsafeBufferPointer<Int>, count: Int,
        into y: UnsafeMutableBufferPointer<S>
    ) {
        let n = view.count, inner = view.inner
        for o in 0..<view.outer {
            for j in 0..<count {
                for i in 0..<inner {
                    let at = (o * count + j) * inner + i
                    let k = indices[at]
                    precondition(k >= 0 && k < n, "gather index \(k) out of range 0..<\(n)")
                    y[at] = x[(o * n + k) * inner + i]
                }
            }
        }
    }

    /// The adjoint of `gather`: `y[o, indices[o, j, i], i] += x[o, j, i]`; `y` must start at zero.
    @specialized(where S == Float)
    @specialized(where S == Double)
    static func scatterAdd<S: TensorScalar>(
        _ x: UnsafeBufferPointer<S>, view: AxisView, indices: UnsafeBufferPointer<Int>, count: Int,
        into y: UnsafeMutableBufferPointer<S>
    ) {
        let n = view.count, inner = view.inner
        for o in 0..<view.outer {
            for j in 0..<count {
                for i in 0..<inner {
                    let at = (o * count + j) * inner + i
                    let k = indices[at]
                    precondition(k >= 0 && k < n, "scatter index \(k) out of range 0..<\(n)")
                    y[(o * n + k) * inner + i] += x[at]
                }
            }
        }
    }

    /// Writes `y` in row-major order of `shape`, reading `x` at the given element strides (a
    /// stride of 0 repeats an element: that is how broadcasting materialises).
    @specialized(where S == Float)
    @specialized(where S == Double)
    static func copyStrided<S>(
        _ x: UnsafeBufferPointer<S>, strides: [Int], shape: [Int], into y: UnsafeMutableBufferPointer<S>
    ) {
        let rank = shape.count
        guard rank > 0 else { y[0] = x[0]; return }
        guard y.count > 0, let xp = x.baseAddress, let yp = y.baseAddress else { return }
        let width = shape[rank - 1], step = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var source = 0, written = 0
        while written < y.count {
            let dst = yp + written, src = xp + source
            switch step {
            case 1: dst.update(from: src, count: width)
            case 0: dst.update(repeating: src[0], count: width)
            default: for j in 0..<width { dst[j] = src[j * step] }
            }
            written += width
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                source += strides[axis]
                if index[axis] < shape[axis] { break }
                source -= strides[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
