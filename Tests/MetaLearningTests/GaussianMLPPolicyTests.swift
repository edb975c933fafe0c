import Autodiff
import Environments
import MetaLearning
import RealModule
import Testing

@Suite("Gaussian MLP policy")
struct GaussianMLPPolicyTests {
    let policy = GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: [8], activation: .tanh)

    @Test func parametersEndWithALogStdOfTheInitialStd() {
        var rng = RandomStream.derive(seed: 1, purpose: .parameterInitialisation)
        let p = policy.initialParameters(as: Double.self, using: &rng)
        #expect(p.map(\.shape) == [[2, 8], [8], [8, 2], [2], [2]])
        #expect(p.last!.scalars == [0, 0])
    }

    /// log N(a; μ, σ²) against the closed form, dimension by dimension.
    @Test func logProbabilityMatchesTheClosedForm() {
        let mean = Tensor<Double>(shape: [2, 2], scalars: [0.5, -1, 2, 0])
        let logStd = Tensor<Double>([Double.log(0.5), Double.log(2)])
        let actions = Tensor<Double>(shape: [2, 2], scalars: [0, 0, 1, 1])
        let logp = GaussianMLPPolicy.logProbability(of: actions, mean: mean, logStd: logStd).scalars
        func density(_ a: Double, _ m: Double, _ s: Double) -> Double {
            -0.5 * ((a - m) / s) * ((a - m) / s) - Double.log(s) - 0.5 * Double.log(2 * .pi)
        }
        let expected = [density(0, 0.5, 0.5) + density(0, -1, 2), density(1, 2, 0.5) + density(1, 0, 2)]
        #expect(zip(logp, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(logp) vs \(expected)")
    }

    @Test func klDivergenceMatchesTheClosedForm() {
        let p = (mean: Tensor<Double>(shape: [1, 2], scalars: [0, 1]), logStd: Tensor<Double>([0, Double.log(2)]))
        let q = (mean: Tensor<Double>(shape: [1, 2], scalars: [1, 1]), logStd: Tensor<Double>([Double.log(3), 0]))
        let kl = GaussianMLPPolicy.klDivergence(from: p, to: q).scalar
        // KL(N(μ₁,σ₁²) ‖ N(μ₂,σ₂²)) = log(σ₂/σ₁) + (σ₁² + (μ₁−μ₂)²)/(2σ₂²) − ½, per dimension.
        let expected = (Double.log(3) + (1 + 1) / 18 - 0.5) + (Double.log(0.5) + 4.0 / 2 - 0.5)
        #expect(abs(kl - expected) < 1e-12)
        #expect(abs(GaussianMLPPolicy.klDivergence(from: p, to: p).scalar) < 1e-15)
    }

    @Test func sampledActionsHaveThePolicysMeanAndSpread() {
        var rng = RandomStream.derive(seed: 2, purpose: .parameterInitialisation)
        var parameters = policy.initialParameters(as: Float.self, using: &rng)
        parameters[parameters.count - 1] = Tensor([Float.log(0.5), Float.log(2)])
        let rows = 20_000
        let observations = [Float](repeating: 0.3, count: 2 * rows)
        var sampling = RandomStream.derive(seed: 3, purpose: .policySampling)
        let actions = policy.sampleActions(observations: observations, rows: rows, parameters: parameters, using: &sampling)
        let mean = policy.distribution(Tensor(shape: [1, 2], scalars: [0.3, 0.3]), parameters: parameters).mean.scalars
        for d in 0..<2 {
            let column = stride(from: d, to: actions.count, by: 2).map { Double(actions[$0]) }
            let m = column.reduce(0, +) / Double(rows)
            let s = (column.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(rows)).squareRoot()
            let sigma = d == 0 ? 0.5 : 2.0
            #expect(abs(m - Double(mean[d])) < 4 * sigma / Double(rows).squareRoot(), "dimension \(d): mean \(m)")
            #expect(abs(s - sigma) < 0.03 * sigma, "dimension \(d): std \(s)")
        }
    }

    @Test func theStandardDeviationIsBoundedBelow() {
        let parameters: [Tensor<Double>] = [.zeros([2, 8]), .zeros([8]), .zeros([8, 2]), .zeros([2]), Tensor([-50, 0])]
        let (_, logStd) = policy.distribution(Tensor<Double>.zeros([1, 2]), parameters: parameters)
        #expect(abs(logStd.scalars[0] - Double.log(1e-6)) < 1e-12)
    }
}
