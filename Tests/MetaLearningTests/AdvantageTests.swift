import Autodiff
@testable import MetaLearning
import TestSupport
import Testing

@Suite("Returns, GAE and advantage normalisation")
struct AdvantageTests {
    /// Two episodes, observations of size 1 (unused here).
    func batch(_ episodes: [[Float]]) -> EpisodeBatch {
        var b = EpisodeBatch(observationSize: 1, actionSize: 1)
        for rewards in episodes {
            b.append(observations: rewards.map { _ in 0 }, actions: rewards.map { _ in 0 }, rewards: rewards, finalObservation: [0])
        }
        return b
    }

    @Test func discountedReturnsRestartAtEachEpisode() {
        let b = batch([[1, 2, 3], [4]])
        let r = b.discountedReturns(discount: 0.5)
        // 1 + 0.5·2 + 0.25·3 = 2.75; 2 + 0.5·3 = 3.5; 3; then 4 alone.
        #expect(r == [2.75, 3.5, 3, 4])
    }

    @Test func gaeMatchesTheHandComputedSum() {
        let b = batch([[1, 2, 3], [5, -1]])
        let values = [0.5, 1.0, 1.5, 2.0, -0.5]
        let (g, l) = (0.9, 0.8)
        let a = b.advantages(values: values, discount: g, lambda: l)
        // Episode 1: δ = r_t + γV_{t+1} − V_t with V after the end = 0.
        let d = [1 + g * 1.0 - 0.5, 2 + g * 1.5 - 1.0, 3 + g * 0 - 1.5]
        let expected1 = [d[0] + g * l * d[1] + g * l * g * l * d[2], d[1] + g * l * d[2], d[2]]
        let e = [5 + g * -0.5 - 2.0, -1 + g * 0 - (-0.5)]
        let expected2 = [e[0] + g * l * e[1], e[1]]
        #expect(zip(a, expected1 + expected2).allSatisfy { abs($0 - $1) < 1e-12 }, "\(a)")
    }

    /// With λ = 1 and V = 0, GAE is the discounted return.
    @Test func gaeWithLambdaOneAndZeroValuesIsTheReturn() {
        let b = batch([[0.5, -1, 2], [3, 1]])
        let a = b.advantages(values: [0, 0, 0, 0, 0], discount: 0.99, lambda: 1)
        #expect(zip(a, b.discountedReturns(discount: 0.99)).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    /// Episodes of lengths 1 and 3: the mean is the mean of the two episode means.
    @Test func normalisationWeighsEpisodesEqually() {
        let b = batch([[0], [0, 0, 0]])
        let n = b.normalized([4, 0, 1, 2], weighting: .episode)
        // Episode means 4 and 1 → mean 2.5; squared deviations: 2.25 | 6.25, 2.25, 0.25 (mean 2.9167).
        let scale = ((2.25 + (6.25 + 2.25 + 0.25) / 3) / 2).squareRoot() + 1e-8
        let expected = [1.5, -2.5, -1.5, -0.5].map { $0 / scale }
        #expect(zip(n, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(n)")
    }

    /// The same batch weighted per step: the plain mean 1.75 and plain root-mean-square deviation.
    @Test func stepWeightedNormalisationWeighsStepsEqually() {
        let b = batch([[0], [0, 0, 0]])
        let n = b.normalized([4, 0, 1, 2], weighting: .step)
        let scale = ((2.25 * 2.25 + 1.75 * 1.75 + 0.75 * 0.75 + 0.25 * 0.25) / 4).squareRoot() + 1e-8
        let expected = [2.25, -1.75, -0.75, 0.25].map { $0 / scale }
        #expect(zip(n, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(n)")
    }

    @Test func stepWeightsAverageOverTimeThenEpisodesOrOverSteps() {
        let b = batch([[0, 0], [0, 0, 0, 0]])
        #expect(b.stepWeights(.episode) == [0.25, 0.25, 0.125, 0.125, 0.125, 0.125])
        #expect(b.stepWeights(.step) == [Double](repeating: 1.0 / 6, count: 6))
        #expect(b.episodeReturns == [0, 0])
    }
}

@Suite("Distinct rows")
struct DistinctRowsTests {
    @Test func rowsAreGroupedByTheirBitsInOrderOfFirstOccurrence() {
        let values: [Float] = [1, 2,  3, 4,  1, 2,  0, 0,  3, 4,  -0.0, 0,  .nan, 1,  .nan, 1]
        let distinct = DistinctRows(values, width: 2)
        #expect(distinct.classOfRow == [0, 1, 0, 2, 1, 3, 4, 4])
        let stored = distinct.table.values
        #expect(stored.count == 10)
        #expect(Array(stored[0..<8]).map(\.bitPattern) == ([1, 2, 3, 4, 0, 0, -0.0, 0] as [Float]).map(\.bitPattern))
        #expect(stored[8].isNaN && stored[9] == 1)
    }

    /// More rows than the table's first size, most of them repeats: every class is found again.
    @Test func manyRowsWithFewValues() {
        let values = (0..<3000).flatMap { i in [Float(i % 37), Float(i % 5)] }
        let distinct = DistinctRows(values, width: 2)
        #expect(distinct.count == 185)   // (i mod 37, i mod 5) takes 37·5 values
        for row in 0..<3000 {
            let stored = distinct.table.row(Int(distinct.classOfRow[row]))
            #expect(Array(stored) == [values[2 * row], values[2 * row + 1]])
        }
    }
}

@Suite("Linear feature baseline")
struct LinearFeatureBaselineTests {
    func randomBatch(seed: Int) -> (EpisodeBatch, [Double]) {
        var rng = testGenerator(seed)
        var b = EpisodeBatch(observationSize: 2, actionSize: 2)
        for length in [7, 12, 3] {
            let obs = (0..<(2 * length)).map { _ in Float.random(in: -1...1, using: &rng) }
            b.append(observations: obs, actions: [Float](repeating: 0, count: 2 * length),
                     rewards: (0..<length).map { _ in Float.random(in: -1...0, using: &rng) }, finalObservation: [0, 0])
        }
        return (b, b.discountedReturns(discount: 0.99))
    }

    @Test func featuresCountTimeWithinEachEpisodeAndClipObservations() {
        var b = EpisodeBatch(observationSize: 1, actionSize: 1)
        b.append(observations: [20, -3], actions: [0, 0], rewards: [0, 0], finalObservation: [1])
        b.append(observations: [0.5], actions: [0], rewards: [0], finalObservation: [1])
        let phi = LinearFeatureBaseline(observationSize: 1).features(of: b)
        let expected: [Double] = [10, 100, 0, 0, 0, 1,
                                  -3, 9, 0.01, 0.0001, 0.000001, 1,
                                  0.5, 0.25, 0, 0, 0, 1]
        #expect(zip(phi, expected).allSatisfy { abs($0 - $1) < 1e-15 }, "\(phi)")
    }

    /// The fit solves the ridge normal equations: compare with conjugate gradient on the same
    /// system (another method), and check the ridge objective's gradient vanishes.
    @Test func fitSolvesTheRidgeProblem() throws {
        let (b, targets) = randomBatch(seed: 1)
        try expectRidgeSolution(b, targets: targets)
    }

    /// Observations drawn from a handful of values, as in a gridworld: the fit sums over the
    /// distinct ones, and must still solve the dense normal equations of every step.
    @Test func fitOverRepeatedObservationsSolvesTheRidgeProblem() throws {
        var rng = testGenerator(7)
        var b = EpisodeBatch(observationSize: 2, actionSize: 1)
        for length in [40, 25, 60] {
            let obs = (0..<(2 * length)).map { _ in Float(Int.random(in: 0...2, using: &rng)) }
            b.append(observations: obs, actions: [Float](repeating: 0, count: length),
                     rewards: (0..<length).map { _ in Float.random(in: -1...1, using: &rng) }, finalObservation: [0, 0])
        }
        #expect(DistinctRows(b.observations, width: 2).count <= 9)
        try expectRidgeSolution(b, targets: b.discountedReturns(discount: 0.9))
    }

    func expectRidgeSolution(_ b: EpisodeBatch, targets: [Double]) throws {
        var baseline = LinearFeatureBaseline(observationSize: 2)
        try baseline.fit(b, targets: targets)
        let phi = baseline.features(of: b)
        let n = baseline.featureCount, rows = b.stepCount
        let x = Tensor<Double>(shape: [rows, n], scalars: phi)
        let y = Tensor<Double>(shape: [rows, 1], scalars: targets)
        let gram = Tensor.matmul(x, x, transposingA: true)
        let rhs = Tensor.matmul(x, y, transposingA: true).reshaped([n])
        let solution = conjugateGradient({ p in
            Tensor.matmul(gram, p.reshaped([n, 1])).reshaped([n]) + 1e-5 * p
        }, b: rhs, iterations: 200, residualTolerance: 1e-28)
        let worst = zip(baseline.weights, solution.scalars).map { abs($0 - $1) / (1e-6 + abs($1)) }.max()!
        #expect(worst < 1e-4, "baseline \(baseline.weights) vs CG \(solution.scalars)")
        // ∇ ½‖Xw − y‖² + ½λ‖w‖² = Xᵀ(Xw − y) + λw = 0.
        let w = Tensor<Double>(shape: [n, 1], scalars: baseline.weights)
        let gradient = Tensor.matmul(x, Tensor.matmul(x, w) - y, transposingA: true) + 1e-5 * w
        #expect(gradient.scalars.allSatisfy { abs($0) < 1e-8 }, "\(gradient.scalars)")
        // And the prediction is φ·w, step by step.
        let dense = (0..<rows).map { row in (0..<n).reduce(0.0) { $0 + phi[row * n + $1] * baseline.weights[$1] } }
        #expect(zip(baseline.predict(b), dense).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    /// Targets that are an exact linear function of the features are reproduced.
    @Test func aLinearTargetIsRecovered() throws {
        let (b, _) = randomBatch(seed: 2)
        var baseline = LinearFeatureBaseline(observationSize: 2)
        let trueWeights: [Double] = [0.5, -1, 2, 0.25, -3, 1, 0.5, -0.2]
        let phi = baseline.features(of: b)
        let targets = (0..<b.stepCount).map { row in (0..<8).reduce(0.0) { $0 + phi[row * 8 + $1] * trueWeights[$1] } }
        try baseline.fit(b, targets: targets)
        let worst = zip(baseline.predict(b), targets).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3, "largest prediction error \(worst)")
    }

    @Test func nonFiniteObservationsAreReported() {
        var b = EpisodeBatch(observationSize: 1, actionSize: 1)
        b.append(observations: [.nan, 1], actions: [0, 0], rewards: [1, 1], finalObservation: [1])
        var baseline = LinearFeatureBaseline(observationSize: 1)
        #expect(throws: BaselineError.self) { try baseline.fit(b, targets: [1, 1]) }
    }
}
