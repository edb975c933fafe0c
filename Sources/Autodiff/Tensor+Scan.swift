// Running sums within segments of rows: DiCE's cumulative log-probabilities of each episode.

extension Tensor {
    /// Running sums down the rows of a rank-2 tensor, restarting at every segment: row r of the
    /// result is the sum of rows `start…r` of its segment (`reversed`: of rows `r…end`).
    ///
    /// The pullback of a prefix sum is the suffix sum of the upstream gradient and the other way
    /// round, itself recorded through this operation, so the result differentiates to any order.
    /// - Parameter segments: the rows, split into consecutive ranges that cover them in order.
    /// - Complexity: O(rows × columns), against O(rows² × columns) for a triangular matrix product.
    @specialized(where Scalar == Float)
    public func cumulativeSum(segments: [Range<Int>], reversed: Bool = false) -> Tensor {
        precondition(rank == 2, "cumulativeSum needs a rank-2 tensor, got shape \(shape)")
        let (rows, columns) = (shape[0], shape[1])
        precondition(segments.first?.lowerBound ?? 0 == 0 && segments.last?.upperBound ?? 0 == rows
                     && zip(segments, segments.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound },
                     "segments \(segments) do not cover \(rows) rows in order")
        var values = scalars
        for segment in segments where segment.count > 1 {
            let order = reversed ? Array(segment.reversed()) : Array(segment)
            for (previous, row) in zip(order, order.dropFirst()) {
                for j in 0..<columns { values[row * columns + j] += values[previous * columns + j] }
            }
        }
        return Tensor.recording(shape, values, inputs: [self]) { g, _, _, _ in
            [g.cumulativeSum(segments: segments, reversed: !reversed)]
        }
    }
}
