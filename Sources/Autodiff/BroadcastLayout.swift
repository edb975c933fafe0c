/// How two shapes broadcast against each other (NumPy rules): the result shape and, for each
/// operand, the element stride along every result axis (0 where that operand is broadcast).
public struct BroadcastLayout: Sendable, Equatable {
    public let shape: [Int]
    public let lhsStrides: [Int]
    public let rhsStrides: [Int]
    public let count: Int

    /// Which loop the kernel can take: the common cases avoid index arithmetic entirely.
    enum Path: Sendable, Equatable { case sameShape, scalarLeft, scalarRight, general }
    let path: Path

    /// - Returns: `nil` when the shapes do not broadcast.
    public init?(_ lhs: [Int], _ rhs: [Int]) {
        let rank = max(lhs.count, rhs.count)
        let l = Array(repeating: 1, count: rank - lhs.count) + lhs
        let r = Array(repeating: 1, count: rank - rhs.count) + rhs
        var shape = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            guard l[axis] == r[axis] || l[axis] == 1 || r[axis] == 1 else { return nil }
            shape[axis] = Swift.max(l[axis], r[axis])
        }
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.lhsStrides = BroadcastLayout.strides(of: l, broadcastTo: shape)
        self.rhsStrides = BroadcastLayout.strides(of: r, broadcastTo: shape)
        let lhsCount = lhs.reduce(1, *), rhsCount = rhs.reduce(1, *)
        if l == r {
            path = .sameShape
        } else if lhsCount == 1 {
            path = .scalarLeft
        } else if rhsCount == 1 {
            path = .scalarRight
        } else {
            path = .general
        }
    }

    /// Row-major strides of `shape`, with 0 along axes where it is broadcast up to `target`.
    static func strides(of shape: [Int], broadcastTo target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: shape.count)
        var step = 1
        for axis in (0..<shape.count).reversed() {
            strides[axis] = (shape[axis] == 1 && target[axis] != 1) ? 0 : step
            step *= shape[axis]
        }
        return strides
    }
}
