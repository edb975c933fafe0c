import Autodiff
import Foundation

/// TRPO's step (Schulman et al. 2015, Appendix C): solve F·s = g by conjugate gradient with the
/// KL's curvature F, scale s to the trust region's boundary ½sᵀFs = δ, then backtrack along it
/// until the surrogate improves and the KL stays below δ. θ stays where it was when no trial passes.
public struct TrustRegionOptimizer: OuterOptimizer {
    /// δ, the largest mean KL a step may take.
    public var maxKL: Double
    public var conjugateGradientIterations: Int
    /// Added to F for conjugate gradient.
    public var damping: Double
    public var lineSearchSteps: Int
    public var backtrackRatio: Double

    public init(maxKL: Double, conjugateGradientIterations: Int, damping: Double, lineSearchSteps: Int, backtrackRatio: Double) {
        self.maxKL = maxKL
        self.conjugateGradientIterations = conjugateGradientIterations
        self.damping = damping
        self.lineSearchSteps = lineSearchSteps
        self.backtrackRatio = backtrackRatio
    }

    /// δ, the conjugate gradient and the line search of MAML-TRPO's settings.
    public init(_ h: MAMLTRPO.Hyperparameters) {
        self.init(maxKL: h.maxKL, conjugateGradientIterations: h.conjugateGradientIterations, damping: h.conjugateGradientDamping,
                  lineSearchSteps: h.lineSearchSteps, backtrackRatio: h.backtrackRatio)
    }

    public var form: SurrogateForm { .ratio }

    public static let columns = [
        "losses/outer_before", "losses/outer_after", "kl/after", "line_search/trials", "line_search/accepted",
        "time/meta_gradient", "time/conjugate_gradient", "time/line_search",
    ]
    public var metricColumns: [String] { Self.columns }

    public var state: [StateTensor] { [] }
    public mutating func restore(_ state: [StateTensor]) throws {}

    public mutating func step(from x: Tensor<Float>, objective: MetaBatchObjective) throws -> (x: Tensor<Float>, metrics: [Metric]) {
        let clock = ContinuousClock()
        let startGradient = clock.now
        let start = try objective.evaluate(at: x, needs: .curvature)
        let secondsGradient = (clock.now - startGradient).inSeconds
        guard let gradient = start.gradient, let curvature = start.klHessianProduct else {
            preconditionFailure("the objective returned no gradient or curvature")
        }

        let startCG = clock.now
        let damping = Float(self.damping)
        let (direction, curvatureAlongIt) = conjugateGradientWithProduct({ curvature($0) + damping * $0 }, b: gradient,
                                                                         iterations: conjugateGradientIterations)
        let quadratic = 0.5 * Tensor.dot(direction, curvatureAlongIt).scalar
        let secondsCG = (clock.now - startCG).inSeconds
        try NonFiniteValueError.check(direction.scalars + [quadratic], "the conjugate-gradient step")

        // Scale the step to the trust region's boundary, then backtrack.
        let startLineSearch = clock.now
        let step = quadratic > 0 ? direction / Float((Double(quadratic) / maxKL).squareRoot()) : direction * 0
        var stepSize: Float = 1
        var (lossAfter, klAfter, trials, accepted) = (start.loss, Float(0), 0, false)
        var result = x
        for trial in 1...lineSearchSteps {
            let candidate = x - stepSize * step
            let terms = try objective.evaluate(at: candidate, needs: .value)
            trials = trial
            if terms.loss < start.loss && Double(terms.kl) < maxKL {
                (lossAfter, klAfter, accepted) = (terms.loss, terms.kl, true)
                result = candidate
                break
            }
            stepSize *= Float(backtrackRatio)
        }
        try NonFiniteValueError.check(result.scalars, "the updated parameters")
        let metrics = [
            Metric("losses/outer_before", Double(start.loss)), Metric("losses/outer_after", Double(lossAfter)),
            Metric("kl/after", Double(klAfter)),
            Metric("line_search/trials", Double(trials)), Metric("line_search/accepted", accepted ? 1 : 0),
            Metric("time/meta_gradient", secondsGradient), Metric("time/conjugate_gradient", secondsCG),
            Metric("time/line_search", (clock.now - startLineSearch).inSeconds),
        ]
        return (result, metrics)
    }
}
