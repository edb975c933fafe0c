import Autodiff

/// Derivative checks against central finite differences, in Double.
///
/// Each check compares *every* element of an analytic derivative with its numerical estimate, so a
/// pullback that drops a term, or sends a gradient to the wrong operand, fails it. Random weights
/// on the outputs make every output element matter.
public enum FiniteDifferences {
    public typealias Function = ([Tensor<Double>]) -> Tensor<Double>

    /// The worst disagreement of a check, for a message that shows both values.
    public struct Report: CustomStringConvertible, Sendable {
        public var worstError: Double = 0
        public var analytic: Double = 0
        public var numerical: Double = 0
        public var input = 0
        public var element = 0
        public var compared = 0

        public init() {}

        public var description: String {
            "\(compared) elements compared; worst at input \(input) element \(element): analytic \(analytic), numerical \(numerical) (scaled error \(worstError))"
        }

        public mutating func compare(_ a: Double, _ n: Double, input: Int, element: Int, absolute: Double, relative: Double) {
            compared += 1
            let error = abs(a - n) / (absolute + relative * max(abs(a), abs(n)))
            if error > worstError || !error.isFinite {
                worstError = error.isFinite ? error : .infinity
                analytic = a
                numerical = n
                self.input = input
                self.element = element
            }
        }

        /// Whether every element agreed within the tolerances.
        public var passed: Bool { worstError <= 1 && compared > 0 }
    }

    /// L(x) = Σ w ⊙ f(x), a scalar that depends on every output element of `f`.
    public static func weightedSum(_ f: @escaping Function, weights: Tensor<Double>) -> Function {
        { inputs in (f(inputs) * weights).sum() }
    }

    /// First derivatives: the gradient of L = Σ w ⊙ f(x) against central differences.
    public static func checkGradient(
        of f: @escaping Function, at inputs: [Tensor<Double>], weights: Tensor<Double>,
        step: Double = 1e-6, absolute: Double = 1e-7, relative: Double = 1e-5
    ) -> Report {
        let loss = weightedSum(f, weights: weights)
        let variables = inputs.map { Tensor.variable($0) }
        let analytic = gradients(of: loss(variables), wrt: variables)
        var report = Report()
        for (i, input) in inputs.enumerated() {
            for e in 0..<input.count {
                let numerical = centralDifference(step: step) { delta in
                    loss(replacing(i, element: e, by: delta, in: inputs)).scalar
                }
                report.compare(analytic[i].scalars[e], numerical, input: i, element: e,
                               absolute: absolute, relative: relative)
            }
        }
        return report
    }

    /// Hessian–vector products: H·v of a scalar `loss`, formed by differentiating ⟨∇loss, v⟩,
    /// against central differences of the (analytic) gradient along v.
    public static func checkHessianVectorProduct(
        of loss: @escaping Function, at inputs: [Tensor<Double>], direction: [Tensor<Double>],
        step: Double = 1e-5, absolute: Double = 1e-6, relative: Double = 1e-5
    ) -> Report {
        let analytic = hessianVectorProduct(of: loss, at: inputs, direction: direction)
        let plus = gradient(of: loss, at: zip(inputs, direction).map { $0 + step * $1 })
        let minus = gradient(of: loss, at: zip(inputs, direction).map { $0 - step * $1 })
        var report = Report()
        for i in inputs.indices {
            for e in 0..<inputs[i].count {
                let numerical = (plus[i].scalars[e] - minus[i].scalars[e]) / (2 * step)
                report.compare(analytic[i].scalars[e], numerical, input: i, element: e,
                               absolute: absolute, relative: relative)
            }
        }
        return report
    }

    /// Third derivatives: the gradient of T(x) = ⟨u, H(x)·v⟩ (three nested reverse passes) against
    /// central differences of T, which is itself evaluated by the checked Hessian–vector product.
    public static func checkThirdOrder(
        of loss: @escaping Function, at inputs: [Tensor<Double>], u: [Tensor<Double>], v: [Tensor<Double>],
        step: Double = 1e-5, absolute: Double = 1e-6, relative: Double = 1e-4
    ) -> Report {
        func contraction(_ point: [Tensor<Double>], createGraph: Bool) -> (Tensor<Double>, [Tensor<Double>]) {
            let x = point.map { Tensor.variable($0) }
            let g = gradients(of: loss(x), wrt: x, createGraph: true)
            let gv = zip(g, v).map { Tensor.dot($0, $1) }.reduce(Tensor(0), +)
            let hv = gradients(of: gv, wrt: x, createGraph: true)
            let t = zip(hv, u).map { Tensor.dot($0, $1) }.reduce(Tensor(0), +)
            return (t, createGraph ? gradients(of: t, wrt: x) : [])
        }
        let analytic = contraction(inputs, createGraph: true).1
        var report = Report()
        for (i, input) in inputs.enumerated() {
            for e in 0..<input.count {
                let numerical = centralDifference(step: step) { delta in
                    contraction(replacing(i, element: e, by: delta, in: inputs), createGraph: false).0.scalar
                }
                report.compare(analytic[i].scalars[e], numerical, input: i, element: e,
                               absolute: absolute, relative: relative)
            }
        }
        return report
    }

    /// ∇loss at a point.
    public static func gradient(of loss: Function, at point: [Tensor<Double>]) -> [Tensor<Double>] {
        let x = point.map { Tensor.variable($0) }
        return gradients(of: loss(x), wrt: x)
    }

    /// H·v at a point, by double backward.
    public static func hessianVectorProduct(
        of loss: Function, at point: [Tensor<Double>], direction: [Tensor<Double>]
    ) -> [Tensor<Double>] {
        let x = point.map { Tensor.variable($0) }
        let g = gradients(of: loss(x), wrt: x, createGraph: true)
        let gv = zip(g, direction).map { Tensor.dot($0, $1) }.reduce(Tensor(0), +)
        return gradients(of: gv, wrt: x)
    }

    /// (f(h) − f(−h)) / 2h.
    public static func centralDifference(step: Double, _ f: (Double) -> Double) -> Double {
        (f(step) - f(-step)) / (2 * step)
    }

    /// The inputs with element `element` of input `index` moved by `delta`.
    public static func replacing(
        _ index: Int, element: Int, by delta: Double, in inputs: [Tensor<Double>]
    ) -> [Tensor<Double>] {
        var moved = inputs
        var values = inputs[index].scalars
        values[element] += delta
        moved[index] = Tensor(shape: inputs[index].shape, scalars: values)
        return moved
    }
}
