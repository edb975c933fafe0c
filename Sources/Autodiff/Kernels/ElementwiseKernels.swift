import RealModule
// The pointwise loops of the tensor core: generic, and compiled for Float and Double
// (`@specialized`). The operation is chosen once, outside the loop; the loop bodies are closures
// that `@inline(__always)` folds into the specialised loop.

enum ElementwiseKernels {
    @inline(__always)
    static func unaryLoop<S>(_ x: UnsafeBufferPointer<S>, _ y: UnsafeMutableBufferPointer<S>, _ f: (S) -> S) {
        precondition(x.count == y.count, "unary kernel: \(x.count) inputs for \(y.count) outputs")
        guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
        for i in 0..<x.count { yp[i] = f(xp[i]) }
    }

    @specialized(where S == Float)
    @specialized(where S == Double)
    static func map<S: TensorScalar>(
        _ function: UnaryFunction<S>, _ x: UnsafeBufferPointer<S>, into y: UnsafeMutableBufferPointer<S>
    ) {
        switch function {
        case .negate: unaryLoop(x, y) { -$0 }
        case .exp: unaryLoop(x, y) { S.exp($0) }
        case .log: unaryLoop(x, y) { S.log($0) }
        case .tanh: unaryLoop(x, y) { S.tanh($0) }
        case .sigmoid: unaryLoop(x, y) { 1 / (1 + S.exp(-$0)) }
        // `x < 0 ? 0 : x`, not `x > 0 ? x : 0`: NaN compares false both ways, and must come out NaN
        // (as PyTorch's relu does) so that nothing downstream hides it.
        case .relu: unaryLoop(x, y) { $0 < 0 ? 0 : $0 }
        case .square: unaryLoop(x, y) { $0 * $0 }
        case .sqrt: unaryLoop(x, y) { $0.squareRoot() }
        case .power(let p):
            // An integral exponent is a product, defined for negative bases too; exp(p·log x) is not.
            if p.rounded() == p, let n = Int(exactly: p) {
                unaryLoop(x, y) { S.pow($0, n) }
            } else {
                unaryLoop(x, y) { S.pow($0, p) }
            }
        case .clamp(let lo, let hi): unaryLoop(x, y) { $0 < lo ? lo : ($0 > hi ? hi : $0) }
        }
    }

    @inline(__always)
    static func binaryLoop<S>(
        _ lhs: UnsafeBufferPointer<S>, _ rhs: UnsafeBufferPointer<S>, _ out: UnsafeMutableBufferPointer<S>,
        _ layout: BroadcastLayout, _ f: (S, S) -> S
    ) {
        precondition(out.count == layout.count, "binary kernel: output of \(out.count) for \(layout.shape)")
        guard let l = lhs.baseAddress, let r = rhs.baseAddress, let o = out.baseAddress else { return }
        switch layout.path {
        case .sameShape:
            for i in 0..<layout.count { o[i] = f(l[i], r[i]) }
        case .scalarLeft:
            let a = l[0]
            for i in 0..<layout.count { o[i] = f(a, r[i]) }
        case .scalarRight:
            let b = r[0]
            for i in 0..<layout.count { o[i] = f(l[i], b) }
        case .general:
            // An odometer over every axis but the last; the last axis is one tight loop whose
            // operand strides are each 0 (broadcast) or 1.
            let rank = layout.shape.count
            let width = layout.shape[rank - 1]
            let ls = layout.lhsStrides[rank - 1], rs = layout.rhsStrides[rank - 1]
            var index = [Int](repeating: 0, count: rank)
            var lOffset = 0, rOffset = 0, oOffset = 0
            while oOffset < layout.count {
                let lp = l + lOffset, rp = r + rOffset, op = o + oOffset
                switch (ls, rs) {
                case (1, 1): for j in 0..<width { op[j] = f(lp[j], rp[j]) }
                case (1, 0): let b = rp[0]; for j in 0..<width { op[j] = f(lp[j], b) }
                case (0, 1): let a = lp[0]; for j in 0..<width { op[j] = f(a, rp[j]) }
                default: let a = lp[0], b = rp[0]; for j in 0..<width { op[j] = f(a, b) }
                }
                oOffset += width
                var axis = rank - 2
                while axis >= 0 {
                    index[axis] += 1
                    lOffset += layout.lhsStrides[axis]
                    rOffset += layout.rhsStrides[axis]
                    if index[axis] < layout.shape[axis] { break }
                    lOffset -= layout.lhsStrides[axis] * index[axis]
                    rOffset -= layout.rhsStrides[axis] * index[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }

    @specialized(where S == Float)
    @specialized(where S == Double)
    static func combine<S: TensorScalar>(
        _ function: BinaryFunction<S>, _ lhs: UnsafeBufferPointer<S>, _ rhs: UnsafeBufferPointer<S>,
        into out: UnsafeMutableBufferPointer<S>, layout: BroadcastLayout
    ) {
        switch function {
        case .add: binaryLoop(lhs, rhs, out, layout) { $0 + $1 }
        case .subtract: binaryLoop(lhs, rhs, out, layout) { $0 - $1 }
        case .multiply: binaryLoop(lhs, rhs, out, layout) { $0 * $1 }
        case .divide: binaryLoop(lhs, rhs, out, layout) { $0 / $1 }
        case .tanhDerivative: binaryLoop(lhs, rhs, out, layout) { $1 * (1 - $0 * $0) }
        case .reluDerivative: binaryLoop(lhs, rhs, out, layout) { $0 > 0 ? $1 : 0 }
        case .clampDerivative(let lo, let hi):
            binaryLoop(lhs, rhs, out, layout) { ($0 >= lo && $0 <= hi) ? $1 : 0 }
        }
    }

    @specialized(where S == Float)
    @specialized(where S == Double)
    static func scaledProduct<S: TensorScalar>(
        _ a: UnsafeBufferPointer<S>, _ b: UnsafeBufferPointer<S>, _ c: UnsafeBufferPointer<S>,
        scale: S, into y: UnsafeMutableBufferPointer<S>
    ) {
        precondition(a.count == y.count && b.count == y.count && c.count == y.count,
                     "product kernel: \(a.count), \(b.count), \(c.count) → \(y.count)")
        guard let pa = a.baseAddress, let pb = b.baseAddress, let pc = c.baseAddress, let py = y.baseAddress else { return }
        for i in 0..<y.count { py[i] = scale * pa[i] * pb[i] * pc[i] }
    }

    @specialized(where S == Float)
    @specialized(where S == Double)
    static func select<S>(
        _ condition: UnsafeBufferPointer<Bool>, _ a: UnsafeBufferPointer<S>, _ b: UnsafeBufferPointer<S>,
        into y: UnsafeMutableBufferPointer<S>
    ) {
        precondition(condition.count == y.count && a.count == y.count && b.count == y.count,
                     "select kernel: \(condition.count), \(a.count), \(b.count) → \(y.count)")
        for i in 0..<y.count { y[i] = condition[i] ? a[i] : b[i] }
    }
}
