import Autodiff
import Environments
@testable import MetaLearning
import TestSupport
import Testing

/// The hand-written gradient and Hessian–vector products of the inner loss, against the tensor
/// core's own double backward (itself checked against finite differences in AutodiffTests) and
/// against central differences of the gradient.
@Suite("Inner-loss curvature")
struct InnerLossCurvatureTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var categorical: Bool
        var activation: MLP.Activation
        var objective: InnerObjective
        /// Put one log σ below its floor, where its derivatives vanish.
        var clampedLogStd = false
        var testDescription: String {
            "\(categorical ? "categorical" : "gaussian") \(activation) \(objective)\(clampedLogStd ? " clamped" : "")"
        }
    }

    static let cases: [Case] = [
        Case(categorical: false, activation: .tanh, objective: .reinforce),
        Case(categorical: false, activation: .tanh, objective: .lvc),
        Case(categorical: false, activation: .relu, objective: .reinforce),
        Case(categorical: false, activation: .relu, objective: .lvc),
        Case(categorical: false, activation: .tanh, objective: .lvc, clampedLogStd: true),
        Case(categorical: true, activation: .tanh, objective: .reinforce),
        Case(categorical: true, activation: .tanh, objective: .lvc),
        Case(categorical: true, activation: .relu, objective: .lvc),
    ]

    /// A two-hidden-layer policy, random parameters, and a batch of 3 episodes with arbitrary
    /// observations, actions and rewards, in Double.
    /// With `repeatedObservations`, every observation is one of three, as on a gridworld, so the
    /// batch feeds the network its distinct observations and gathers the outputs to the steps.
    static func fixture(_ c: Case, repeatedObservations: Bool = false) throws -> (Policy, [Tensor<Double>], PolicyGradientBatch<Double>) {
        let policy: Policy = c.categorical
            ? .categorical(CategoricalMLPPolicy(observationSize: 3, actionCount: 4, hidden: [5, 4], activation: c.activation))
            : .gaussian(GaussianMLPPolicy(observationSize: 3, actionSize: 2, hidden: [5, 4], activation: c.activation))
        var rng = testGenerator(90)
        var theta = policy.initialParameters(as: Double.self, using: &rng).map { $0 + Tensor.uniform($0.shape, in: -0.4...0.4, using: &rng) }
        if c.clampedLogStd { theta[theta.count - 1] = Tensor([-20, 0.3]) }
        var episodes = EpisodeBatch(observationSize: 3, actionSize: policy.actionSize)
        let pool: [[Float]] = [[0.5, -1, 0.25], [-0.75, 0.3, 1], [0.1, 0.9, -0.6]]
        for length in repeatedObservations ? [9, 12, 7] : [4, 6, 3] {
            let observations = repeatedObservations
                ? (0..<length).flatMap { _ in pool[Int.random(in: 0..<3, using: &rng)] }
                : (0..<(3 * length)).map { _ in Float.random(in: -1...1, using: &rng) }
            let actions = (0..<(policy.actionSize * length)).map { _ in
                c.categorical ? Float(Int.random(in: 0..<4, using: &rng)) : Float.random(in: -2...2, using: &rng)
            }
            let rewards = (0..<length).map { _ in Float.random(in: -1...1, using: &rng) }
            episodes.append(observations: observations, actions: actions, rewards: rewards, finalObservation: [0, 0, 0])
        }
        // Advantages left unnormalised: normalised ones sum to zero under the batch's weights,
        // which would hide a constant term of the log σ derivative.
        let batch = try PolicyGradientBatch<Double>(episodes, discount: 0.9, gaeLambda: 0.95, weighting: .episode,
                                                    normalizesAdvantages: false)
        return (policy, theta, batch)
    }

    @Test(arguments: cases)
    func gradientMatchesTheGraph(_ c: Case) throws {
        let (policy, theta, batch) = try Self.fixture(c)
        let x = theta.map { Tensor.variable($0) }
        let expected = ParameterVector.flatten(gradients(of: batch.innerLoss(policy: policy, parameters: x, objective: c.objective), wrt: x))
        let actual = InnerLossCurvature(policy: policy, parameters: theta, batch: batch, objective: c.objective).gradient
        let gap = (actual - expected).squared().sum().scalar.squareRoot()
        #expect(gap < 1e-12 * (1 + expected.squared().sum().scalar.squareRoot()), "gradient gap \(gap)")
        if c.clampedLogStd { #expect(actual.scalars[actual.count - 2] == 0, "a clamped log σ has a zero derivative") }
    }

    @Test(arguments: cases)
    func hessianProductMatchesDoubleBackwardAndFiniteDifferences(_ c: Case) throws {
        let (policy, theta, batch) = try Self.fixture(c)
        let curvature = InnerLossCurvature(policy: policy, parameters: theta, batch: batch, objective: c.objective)
        var rng = testGenerator(91)
        let v = ParameterVector.flatten(theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) })
        let actual = curvature.hessianProduct(v)
        let scale = 1 + actual.squared().sum().scalar.squareRoot()

        // The graph: ∇(∇L · v).
        let x = theta.map { Tensor.variable($0) }
        let g = ParameterVector.flatten(gradients(of: batch.innerLoss(policy: policy, parameters: x, objective: c.objective),
                                                  wrt: x, createGraph: true))
        let byGraph = ParameterVector.flatten(gradients(of: Tensor.dot(g, v), wrt: x))
        let graphGap = (actual - byGraph).squared().sum().scalar.squareRoot()
        #expect(graphGap < 1e-10 * scale, "H·v differs from the double backward by \(graphGap)")

        // Central differences of the hand-written gradient (the LVC form's Hessian is a property
        // of the estimator, not of the gradient's values, so only REINFORCE's is checked this way).
        if c.objective == .reinforce {
            let h = 1e-5
            let shapes = theta.map(\.shape)
            func gradient(at offset: Double) -> Tensor<Double> {
                let point = ParameterVector.unflatten(ParameterVector.flatten(theta) + offset * v, shapes: shapes)
                return InnerLossCurvature(policy: policy, parameters: point, batch: batch, objective: .reinforce).gradient
            }
            let numerical = (gradient(at: h) - gradient(at: -h)) / (2 * h)
            let fdGap = (actual - numerical).squared().sum().scalar.squareRoot()
            #expect(fdGap < 1e-6 * scale, "H·v differs from central differences by \(fdGap)")
        }
    }

    /// Hessian and Fisher products summed over row blocks equal those over the whole batch (its
    /// 13 rows in blocks of 3, 3, 3 and 4, against one block).
    @Test(arguments: cases)
    func productsByRowBlocksMatchTheWholeBatch(_ c: Case) throws {
        let (policy, theta, batch) = try Self.fixture(c)
        var rng = testGenerator(92)
        let v = ParameterVector.flatten(theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) })
        func gap(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
            (a - b).squared().sum().scalar.squareRoot() / (1 + b.squared().sum().scalar.squareRoot())
        }
        let whole = InnerLossCurvature(policy: policy, parameters: theta, batch: batch, objective: c.objective, blockRows: 100)
        let blocked = InnerLossCurvature(policy: policy, parameters: theta, batch: batch, objective: c.objective, blockRows: 4)
        #expect(whole.blocks.count == 1 && blocked.blocks.map(\.rows.count) == [3, 3, 3, 4])
        #expect(gap(blocked.hessianProduct(v), whole.hessianProduct(v)) < 1e-13)

        let current = batch.distribution(of: policy, parameters: theta)
        func fisher(_ rows: Int) -> PolicyOutputFisher<Double> {
            PolicyOutputFisher(policy: policy, inputs: batch.networkInputs, rows: batch.observationRows, parameters: theta,
                               current: current, rowWeights: batch.stepWeights, blockRows: rows)
        }
        #expect(gap(fisher(4).product(v), fisher(100).product(v)) < 1e-13)
    }

    /// Running the network once per distinct observation and gathering its outputs gives the
    /// same loss, gradients (by the graph and by hand), Hessian and Fisher products as running it
    /// on every step.
    @Test(arguments: cases)
    func gatheredObservationsMatchTheDenseBatch(_ c: Case) throws {
        let (policy, theta, gathered) = try Self.fixture(c, repeatedObservations: true)
        let dense = gathered.densified()
        #expect(gathered.observationRows?.distinctCount == 3 && gathered.networkInputs.shape == [3, 3])
        #expect(dense.observationRows == nil && dense.networkInputs.shape == [28, 3])
        func gap(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
            (a - b).squared().sum().scalar.squareRoot() / (1 + b.squared().sum().scalar.squareRoot())
        }
        func graphGradient(_ batch: PolicyGradientBatch<Double>) -> (Double, Tensor<Double>) {
            let x = theta.map { Tensor.variable($0) }
            let loss = batch.innerLoss(policy: policy, parameters: x, objective: c.objective)
            return (loss.scalar, ParameterVector.flatten(gradients(of: loss, wrt: x)))
        }
        let (gatheredLoss, gatheredGradient) = graphGradient(gathered)
        let (denseLoss, denseGradient) = graphGradient(dense)
        #expect(abs(gatheredLoss - denseLoss) < 1e-13 * (1 + abs(denseLoss)), "loss \(gatheredLoss) vs \(denseLoss)")
        #expect(gap(gatheredGradient, denseGradient) < 1e-13)

        var rng = testGenerator(93)
        let v = ParameterVector.flatten(theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) })
        let byHand = InnerLossCurvature(policy: policy, parameters: theta, batch: gathered, objective: c.objective)
        let denseByHand = InnerLossCurvature(policy: policy, parameters: theta, batch: dense, objective: c.objective, blockRows: 5)
        #expect(gap(byHand.gradient, denseGradient) < 1e-13)
        #expect(gap(denseByHand.gradient, denseGradient) < 1e-13)
        #expect(gap(byHand.hessianProduct(v), denseByHand.hessianProduct(v)) < 1e-13)

        func fisher(_ batch: PolicyGradientBatch<Double>) -> Tensor<Double> {
            PolicyOutputFisher(policy: policy, inputs: batch.networkInputs, rows: batch.observationRows, parameters: theta,
                               current: batch.distribution(of: policy, parameters: theta), rowWeights: batch.stepWeights,
                               blockRows: 5).product(v)
        }
        let denseFisher = fisher(dense)
        #expect(denseFisher.squared().sum().scalar > 1e-6, "a Fisher product that vanishes compares nothing")
        #expect(gap(fisher(gathered), denseFisher) < 1e-13)
    }

    @Test func rowBlocksCoverTheRowsInNearlyEqualParts() {
        for (rows, maximum) in [(2000, 244), (13, 4), (5, 10), (0, 3), (7, 1)] {
            let blocks = RowMajor.rowBlocks(rows, maximum: maximum)
            #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == rows, "\(rows) rows by \(maximum)")
            #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            let sizes = blocks.map(\.count)
            #expect(sizes.max()! <= max(maximum, 0) && sizes.max()! - sizes.min()! <= 1, "\(sizes)")
        }
        #expect(RowMajor.rowBlocks(2000, maximum: 244).count == 9)
    }

    @Test func transposeSwapsRowsAndColumns() {
        // [[1, 2, 3], [4, 5, 6]] is 2 × 3; its transpose [[1, 4], [2, 5], [3, 6]] is 3 × 2.
        #expect(RowMajor.transpose([1, 2, 3, 4, 5, 6] as [Float], rows: 2, columns: 3) == [1, 4, 2, 5, 3, 6])
        #expect(RowMajor.transpose([7, 8, 9] as [Float], rows: 1, columns: 3) == [7, 8, 9])
        #expect(RowMajor.transpose([] as [Float], rows: 0, columns: 4) == [])
    }

    /// The adaptation without a graph takes the same step as the one with it.
    @Test func plainAdaptationMatchesTheRecordedOne() throws {
        let (policy, theta, batch) = try Self.fixture(Self.cases[0])
        let plain = InnerLoop.adapt(theta, policy: policy, batches: [batch, batch], stepSizes: [0.3, 0.1], createGraph: false)
        let recorded = InnerLoop.adapt(theta, policy: policy, batches: [batch, batch], stepSizes: [0.3, 0.1], createGraph: true)
        let gap = zip(plain, recorded).map { ($0 - $1.detached).squared().sum().scalar }.reduce(0, +).squareRoot()
        #expect(gap < 1e-12, "adapted parameters differ by \(gap)")
        #expect(plain.allSatisfy { !$0.isTracked })
    }
}
