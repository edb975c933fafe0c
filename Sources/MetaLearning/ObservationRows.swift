import Autodiff

/// Which row of a batch's distinct observations each step observed: the network runs once per
/// distinct observation, and its outputs are gathered to the steps for the head (a step's output
/// is its observation's). Derivatives flow back the other way: a distinct row's adjoint is the
/// sum of its steps' (`scatteringAdding`), and tangents, like outputs, are gathered.
public struct ObservationRows: Sendable, Equatable {
    /// Each step's row of the distinct observations.
    public let rows: [Int32]
    /// How many distinct rows there are.
    public let distinctCount: Int

    public init(rows: [Int32], distinctCount: Int) {
        precondition(rows.allSatisfy { $0 >= 0 && Int($0) < distinctCount }, "a step's row outside 0..<\(distinctCount)")
        self.rows = rows
        self.distinctCount = distinctCount
    }

    public var stepCount: Int { rows.count }

    /// A step-major `[steps, width]` matrix from a `[distinctCount, width]` one.
    func gathering<Scalar: TensorScalar>(_ distinct: [Scalar], width: Int) -> [Scalar] {
        precondition(distinct.count == distinctCount * width, "\(distinct.count) values for \(distinctCount) rows of \(width)")
        var out = [Scalar](repeating: 0, count: rows.count * width)
        distinct.withUnsafeBufferPointer { distinct in
            out.withUnsafeMutableBufferPointer { out in
                for (step, row) in rows.enumerated() {
                    let source = Int(row) * width
                    for j in 0..<width { out[step * width + j] = distinct[source + j] }
                }
            }
        }
        return out
    }

    /// The adjoint of `gathering`: each distinct row the sum of its steps' rows, in step order.
    func scatteringAdding<Scalar: TensorScalar>(_ steps: [Scalar], width: Int) -> [Scalar] {
        precondition(steps.count == rows.count * width, "\(steps.count) values for \(rows.count) steps of \(width)")
        var out = [Scalar](repeating: 0, count: distinctCount * width)
        steps.withUnsafeBufferPointer { steps in
            out.withUnsafeMutableBufferPointer { out in
                for (step, row) in rows.enumerated() {
                    let target = Int(row) * width
                    for j in 0..<width { out[target + j] += steps[step * width + j] }
                }
            }
        }
        return out
    }

    /// `gathering` as a recorded operation on a `[distinctCount, width]` tensor.
    func gathering<Scalar: TensorScalar>(_ distinct: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(distinct.rank == 2 && distinct.shape[0] == distinctCount,
                     "a tensor of shape \(distinct.shape) gathered from \(distinctCount) rows")
        let width = distinct.shape[1]
        var indices = [Int](repeating: 0, count: rows.count * width)
        for (step, row) in rows.enumerated() {
            for j in 0..<width { indices[step * width + j] = Int(row) }
        }
        return distinct.gathering(indices: indices, indexShape: [rows.count, width], alongAxis: 0)
    }
}
