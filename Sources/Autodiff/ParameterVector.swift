/// Flattening a list of parameter tensors into one vector and back, as TRPO's conjugate gradient
/// and line search need. Both directions are differentiable.
public enum ParameterVector {
    /// All elements of `tensors`, in order, as one rank-1 tensor.
    @specialized(where Scalar == Float)
    public static func flatten<Scalar>(_ tensors: [Tensor<Scalar>]) -> Tensor<Scalar> {
        precondition(!tensors.isEmpty, "flatten needs at least one tensor")
        return Tensor.concatenate(tensors.map { $0.flattened() }, alongAxis: 0)
    }

    /// `vector` cut into consecutive tensors of the given shapes.
    /// - Precondition: `vector` is rank 1 with exactly as many elements as the shapes hold.
    @specialized(where Scalar == Float)
    public static func unflatten<Scalar>(_ vector: Tensor<Scalar>, shapes: [[Int]]) -> [Tensor<Scalar>] {
        let total = shapes.reduce(0) { $0 + $1.reduce(1, *) }
        precondition(vector.rank == 1 && vector.count == total,
                     "a vector of shape \(vector.shape) cannot fill shapes \(shapes) (\(total) elements)")
        var start = 0
        return shapes.map { shape in
            let count = shape.reduce(1, *)
            defer { start += count }
            return vector.slice(start..<(start + count), alongAxis: 0).reshaped(shape)
        }
    }
}
