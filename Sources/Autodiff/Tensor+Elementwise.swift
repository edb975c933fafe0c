// Pointwise functions of one tensor. Each pullback is written with differentiable operations, so
// its own derivative — needed for Hessian–vector products — comes from the same definitions.

extension Tensor {
    /// Applies a pointwise kernel; the result is untracked.
    @specialized(where Scalar == Float)
    func mapped(_ function: UnaryFunction<Scalar>) -> [Scalar] {
        Tensor.makeScalars(count: count) { out in
            scalars.withUnsafeBufferPointer { Scalar.map(function, $0, into: out) }
        }
    }

    /// eˣ; derivative eˣ (the output).
    @specialized(where Scalar == Float)
    public func exp() -> Tensor {
        Tensor.recording(shape, mapped(.exp), inputs: [self]) { g, _, y, _ in [g * y] }
    }

    /// The natural logarithm; derivative 1/x.
    @specialized(where Scalar == Float)
    public func log() -> Tensor {
        Tensor.recording(shape, mapped(.log), inputs: [self]) { g, x, _, _ in [g / x[0]] }
    }

    /// tanh x; derivative 1 − tanh² x, applied by the fused `tanhDerivative` kernel.
    @specialized(where Scalar == Float)
    public func tanh() -> Tensor {
        Tensor.recording(shape, mapped(.tanh), inputs: [self]) { g, _, y, _ in
            [Tensor.tanhPullback(output: y, upstream: g)]
        }
    }

    /// `upstream · (1 − output²)`, differentiable in both arguments.
    @specialized(where Scalar == Float)
    static func tanhPullback(output y: Tensor, upstream g: Tensor) -> Tensor {
        let (shape, values) = y.combined(with: g, .tanhDerivative)
        return recording(shape, values, inputs: [y, g]) { u, x, _, needed in
            // ∂/∂y [g(1 − y²)] = −2yg;  ∂/∂g = 1 − y².
            [needed[0] ? scaledProduct(x[0], x[1], u, scale: -2) : nil,
             needed[1] ? tanhPullback(output: x[0], upstream: u) : nil]
        }
    }

    /// k·a·b·c element by element, for tensors of one shape: a fused product for pullbacks.
    @specialized(where Scalar == Float)
    static func scaledProduct(_ a: Tensor, _ b: Tensor, _ c: Tensor, scale: Scalar) -> Tensor {
        precondition(a.shape == b.shape && b.shape == c.shape, "scaledProduct of shapes \(a.shape), \(b.shape), \(c.shape)")
        let values = makeScalars(count: a.count) { out in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    c.scalars.withUnsafeBufferPointer { Scalar.scaledProduct(pa, pb, $0, scale: scale, into: out) }
                }
            }
        }
        return recording(a.shape, values, inputs: [a, b, c]) { u, x, _, needed in
            [needed[0] ? scaledProduct(x[1], x[2], u, scale: scale) : nil,
             needed[1] ? scaledProduct(x[0], x[2], u, scale: scale) : nil,
             needed[2] ? scaledProduct(x[0], x[1], u, scale: scale) : nil]
        }
    }

    /// The logistic function 1/(1 + e⁻ˣ); derivative σ(1 − σ).
    @specialized(where Scalar == Float)
    public func sigmoid() -> Tensor {
        Tensor.recording(shape, mapped(.sigmoid), inputs: [self]) { g, _, y, _ in [g * y * (1 - y)] }
    }

    /// max(x, 0). The derivative at 0 is taken as 0 (the subgradient PyTorch also uses).
    @specialized(where Scalar == Float)
    public func relu() -> Tensor {
        Tensor.recording(shape, mapped(.relu), inputs: [self]) { g, x, _, _ in
            [Tensor.reluPullback(input: x[0], upstream: g)]
        }
    }

    /// `input > 0 ? upstream : 0`; linear in `upstream`, and locally constant in `input`.
    @specialized(where Scalar == Float)
    static func reluPullback(input x: Tensor, upstream g: Tensor) -> Tensor {
        let (shape, values) = x.combined(with: g, .reluDerivative)
        return recording(shape, values, inputs: [x, g]) { u, x, _, needed in
            [nil, needed[1] ? reluPullback(input: x[0], upstream: u) : nil]
        }
    }

    /// x²; derivative 2x.
    @specialized(where Scalar == Float)
    public func squared() -> Tensor {
        Tensor.recording(shape, mapped(.square), inputs: [self]) { g, x, _, _ in [2 * x[0] * g] }
    }

    /// √x; derivative 1/(2√x).
    @specialized(where Scalar == Float)
    public func squareRoot() -> Tensor {
        Tensor.recording(shape, mapped(.sqrt), inputs: [self]) { g, _, y, _ in [g / (2 * y)] }
    }

    /// xᵖ for a constant exponent; derivative p·xᵖ⁻¹. Defined for negative x when p is an integer.
    @specialized(where Scalar == Float)
    public func raised(to exponent: Scalar) -> Tensor {
        Tensor.recording(shape, mapped(.power(exponent)), inputs: [self]) { g, x, _, _ in
            [g * exponent * x[0].raised(to: exponent - 1)]
        }
    }

    /// Each element limited to `range`.
    ///
    /// Subgradient convention: the derivative is 1 on the closed interval `lower ... upper`,
    /// boundaries included, and 0 outside it (PyTorch's `clamp` convention). A value sitting exactly
    /// on a bound therefore still passes its gradient through.
    @specialized(where Scalar == Float)
    public func clamped(to range: ClosedRange<Scalar>) -> Tensor {
        let lower = range.lowerBound, upper = range.upperBound
        return Tensor.recording(shape, mapped(.clamp(lower, upper)), inputs: [self]) { g, x, _, _ in
            [Tensor.clampPullback(input: x[0], upstream: g, lower: lower, upper: upper)]
        }
    }

    @specialized(where Scalar == Float)
    static func clampPullback(input x: Tensor, upstream g: Tensor, lower: Scalar, upper: Scalar) -> Tensor {
        let (shape, values) = x.combined(with: g, .clampDerivative(lower, upper))
        return recording(shape, values, inputs: [x, g]) { u, x, _, needed in
            [nil, needed[1] ? clampPullback(input: x[0], upstream: u, lower: lower, upper: upper) : nil]
        }
    }
}
