// Broadcasting arithmetic (NumPy rules). The pullback of a broadcast operand sums the upstream
// gradient back down to that operand's shape (`summed(toShape:)`).

extension Tensor {
    /// Applies a pointwise binary kernel with broadcasting; the result is untracked.
    @specialized(where Scalar == Float)
    func combined(with other: Tensor, _ function: BinaryFunction<Scalar>) -> (shape: [Int], scalars: [Scalar]) {
        guard let layout = BroadcastLayout(shape, other.shape) else {
            preconditionFailure("shapes \(shape) and \(other.shape) do not broadcast")
        }
        let values = Tensor.makeScalars(count: layout.count) { out in
            scalars.withUnsafeBufferPointer { l in
                other.scalars.withUnsafeBufferPointer { r in
                    Scalar.combine(function, l, r, into: out, layout: layout)
                }
            }
        }
        return (layout.shape, values)
    }

    @specialized(where Scalar == Float)
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (shape, values) = lhs.combined(with: rhs, .add)
        return recording(shape, values, inputs: [lhs, rhs]) { g, x, _, needed in
            [needed[0] ? g.summed(toShape: x[0].shape) : nil,
             needed[1] ? g.summed(toShape: x[1].shape) : nil]
        }
    }

    @specialized(where Scalar == Float)
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (shape, values) = lhs.combined(with: rhs, .subtract)
        return recording(shape, values, inputs: [lhs, rhs]) { g, x, _, needed in
            [needed[0] ? g.summed(toShape: x[0].shape) : nil,
             needed[1] ? (-g).summed(toShape: x[1].shape) : nil]
        }
    }

    @specialized(where Scalar == Float)
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (shape, values) = lhs.combined(with: rhs, .multiply)
        return recording(shape, values, inputs: [lhs, rhs]) { g, x, _, needed in
            [needed[0] ? (g * x[1]).summed(toShape: x[0].shape) : nil,
             needed[1] ? (g * x[0]).summed(toShape: x[1].shape) : nil]
        }
    }

    @specialized(where Scalar == Float)
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (shape, values) = lhs.combined(with: rhs, .divide)
        return recording(shape, values, inputs: [lhs, rhs]) { g, x, y, needed in
            // ∂(a/b)/∂b = −a/b² = −y/b.
            [needed[0] ? (g / x[1]).summed(toShape: x[0].shape) : nil,
             needed[1] ? (-(g * y) / x[1]).summed(toShape: x[1].shape) : nil]
        }
    }

    @specialized(where Scalar == Float)
    public static prefix func - (x: Tensor) -> Tensor {
        let values = x.mapped(.negate)
        return recording(x.shape, values, inputs: [x]) { g, _, _, _ in [-g] }
    }

    // Scalars broadcast as rank-0 tensors.
    @specialized(where Scalar == Float)
    public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs + Tensor(rhs) }
    @specialized(where Scalar == Float)
    public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) + rhs }
    @specialized(where Scalar == Float)
    public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs - Tensor(rhs) }
    @specialized(where Scalar == Float)
    public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) - rhs }
    @specialized(where Scalar == Float)
    public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs * Tensor(rhs) }
    @specialized(where Scalar == Float)
    public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) * rhs }
    @specialized(where Scalar == Float)
    public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs / Tensor(rhs) }
    @specialized(where Scalar == Float)
    public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) / rhs }
}
