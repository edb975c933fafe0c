import Autodiff
import Environments
import MetaLearning
import TestSupport
import Testing

/// The exact meta-gradient of a tabular MDP, and the estimators measured against it.
@Suite("Tabular MDP")
struct TabularMDPTests {
    let chain = TabularMDP(chainOf: 3, horizon: 3)

    /// J by dynamic programming agrees with the mean return of many sampled episodes.
    @Test func theExactReturnIsTheMeanSampledReturn() throws {
        let mdp = TabularMDP(states: 3, actions: 2, horizon: 4, seed: 2)
        let theta = mdp.parameters(seed: 2)
        var rng = testGenerator(3)
        let episodes = mdp.sample(theta, count: 40_000, using: &rng)
        let returns = episodes.episodeReturns
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(returns.count - 1)
        let exact = mdp.expectedReturn(theta).scalar
        #expect(abs(mean - exact) < 4 * (variance / Double(returns.count)).squareRoot(), "sampled \(mean), exact \(exact)")
    }

    /// The exact meta-gradient is the derivative of J(θ + α∇J(θ)), checked by central differences.
    @Test func theExactMetaGradientMatchesFiniteDifferences() throws {
        let theta = chain.parameters(seed: 1)
        let analytic = chain.exactMetaGradient(theta, stepSize: 1).scalars
        func objective(_ point: [Tensor<Double>]) -> Double { chain.expectedReturn(chain.adapted(point, stepSize: 1)).scalar }
        var offset = 0
        var report = FiniteDifferences.Report()
        for (i, tensor) in theta.enumerated() {
            for e in 0..<tensor.count {
                let numerical = FiniteDifferences.centralDifference(step: 1e-6) { objective(FiniteDifferences.replacing(i, element: e, by: $0, in: theta)) }
                report.compare(analytic[offset + e], numerical, input: i, element: e, absolute: 1e-8, relative: 1e-6)
            }
            offset += tensor.count
        }
        #expect(report.passed, "\(report)")
    }

    /// DiCE and the whole-trajectory estimator average to the exact meta-gradient; the estimators
    /// that leave out (all or the cross-time part of) the sampling distribution's term are
    /// detected as biased.
    @Test func unbiasedEstimatorsConvergeAndBiasedOnesAreDetected() throws {
        let theta = chain.parameters(seed: 1)
        var z: [TabularMDP.Estimator: Double] = [:]
        var relativeBias: [TabularMDP.Estimator: Double] = [:]
        for estimator in TabularMDP.Estimator.allCases {
            let report = chain.measureBias(estimator, at: theta, stepSize: 1, episodes: 10, batches: 1500, seed: 4, threads: 2)
            z[estimator] = report.largestZ
            relativeBias[estimator] = report.biasNorm / report.exactNorm
        }
        #expect(z[.dice]! < 4.5 && z[.trajectory]! < 4.5, "\(z)")
        #expect(z[.reinforce]! > 10 && z[.lvc]! > 8, "\(z)")
        // LVC keeps the sampling term's within-step part, so its bias is a small fraction of the
        // meta-gradient; REINFORCE drops the whole term, which is most of it here.
        #expect(relativeBias[.lvc]! < 0.3 && relativeBias[.reinforce]! > 0.5, "\(relativeBias)")
    }

    /// The standard error of the mean falls as 1/√N.
    @Test func theStandardErrorFallsAsOneOverRootN() throws {
        let theta = chain.parameters(seed: 1)
        let few = chain.measureBias(.dice, at: theta, stepSize: 1, episodes: 10, batches: 300, seed: 5, threads: 2)
        let many = chain.measureBias(.dice, at: theta, stepSize: 1, episodes: 10, batches: 1200, seed: 5, threads: 2)
        let ratio = few.meanStandardError / many.meanStandardError
        #expect(abs(ratio - 2) < 0.3, "stderr ratio \(ratio) for 4× the batches")
    }
}
