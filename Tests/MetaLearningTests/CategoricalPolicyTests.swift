import Autodiff
import Environments
import MetaLearning
import RealModule
import TestSupport
import Testing

@Suite("Categorical MLP policy and MAML-TRPO on discrete actions")
struct CategoricalPolicyTests {
    let policy = CategoricalMLPPolicy(observationSize: 2, actionCount: 5, hidden: [6], activation: .tanh)

    @Test func probabilitiesSumToOneAndSelectTheAction() {
        var rng = testGenerator(80)
        let theta = policy.initialParameters(as: Double.self, using: &rng)
        let observations = Tensor<Double>(shape: [3, 2], scalars: [0, 0, 1, 2, 4, 4])
        let logp = policy.logProbabilities(observations, parameters: theta)
        for row in 0..<3 {
            let total = (0..<5).map { Double.exp(logp.scalars[row * 5 + $0]) }.reduce(0, +)
            #expect(abs(total - 1) < 1e-12)
        }
        let actions = Tensor<Double>(shape: [3, 1], scalars: [4, 0, 2])
        let selected = CategoricalMLPPolicy.logProbability(of: actions, logProbabilities: logp).scalars
        #expect(selected == [logp.scalars[4], logp.scalars[5], logp.scalars[12]])
    }

    @Test func klDivergenceMatchesTheDefinitionAndVanishesAtItself() {
        let p = [0.5, 0.25, 0.25], q = [0.2, 0.3, 0.5]
        let lp = Tensor<Double>(shape: [1, 3], scalars: p.map { Double.log($0) })
        let lq = Tensor<Double>(shape: [1, 3], scalars: q.map { Double.log($0) })
        let expected = zip(p, q).map { $0 * Double.log($0 / $1) }.reduce(0, +)
        #expect(abs(CategoricalMLPPolicy.klDivergence(from: lp, to: lq).scalar - expected) < 1e-12)
        #expect(abs(CategoricalMLPPolicy.klDivergence(from: lp, to: lp).scalar) < 1e-15)
    }

    /// Sampled actions follow π: frequencies over 20,000 draws within 4 standard errors.
    @Test func samplingFollowsTheProbabilities() {
        var rng = testGenerator(81)
        let theta = policy.initialParameters(as: Float.self, using: &rng).map { $0 * 3 }
        let rows = 20_000
        let observation: [Float] = [0.5, -1]
        let actions = policy.sampleActions(observations: Array((0..<rows).flatMap { _ in observation }), rows: rows,
                                           parameters: theta, using: &rng)
        let logp = policy.logProbabilities(Tensor(shape: [1, 2], scalars: observation), parameters: theta).scalars
        for a in 0..<5 {
            let p = Double(Float.exp(logp[a]))
            let frequency = Double(actions.filter { $0 == Float(a) }.count) / Double(rows)
            #expect(abs(frequency - p) < 4 * (p * (1 - p) / Double(rows)).squareRoot() + 1e-4, "action \(a): \(frequency) vs \(p)")
        }
    }

    /// A one-task MAML fixture on GridNavi (categorical policy), in Double.
    static func fixture() throws -> (MAMLTRPO, [Tensor<Double>], MAMLTRPO.TaskRollout<Double>) {
        let spec = try EnvironmentSpec.load("gridnavi-5x5")
        guard var family = spec.family.base as? GridworldFamily else { throw SpecError(file: "gridnavi-5x5", message: "not a gridworld") }
        family.episodesPerTrial = 1
        let policy = Policy.categorical(CategoricalMLPPolicy(observationSize: 2, actionCount: 5, hidden: [6], activation: .tanh))
        var hyper = MAMLTRPO.Hyperparameters()
        hyper.innerStepSize = 0.5
        let maml = MAMLTRPO(policy: policy, hyperparameters: hyper)
        var rng = testGenerator(82)
        let theta = policy.initialParameters(as: Float.self, using: &rng)
        let sampler = EpisodeSampler(environment: GridworldBatch(family: family, count: 4), policy: policy)
        let task = family.sampleTask(using: &rng)
        let (rollout, _) = try maml.collect(task: task, parameters: theta, sampler: sampler, using: &rng)
        func double(_ b: PolicyGradientBatch<Float>) throws -> PolicyGradientBatch<Double> {
            try hyper.policyGradientBatch(b.episodes) as PolicyGradientBatch<Double>
        }
        let converted = MAMLTRPO.TaskRollout(train: try rollout.train.map(double), valid: try double(rollout.valid))
        return (maml, theta.map { $0.converted(to: Double.self) }, converted)
    }

    @Test("The meta-gradient of a categorical policy matches finite differences")
    func metaGradientMatchesFiniteDifferences() throws {
        let (maml, theta, rollout) = try Self.fixture()
        let references = maml.surrogate(theta, rollout: rollout, references: nil, differentiable: false).references
        let report = FiniteDifferences.checkGradient(
            of: { maml.surrogate($0, rollout: rollout, references: references, differentiable: true).loss },
            at: theta, weights: Tensor(1))
        #expect(report.passed, "\(report)")
    }

    @Test("The factored KL curvature of a categorical policy matches finite differences")
    func klHessianMatchesFiniteDifferences() throws {
        let (maml, theta, rollout) = try Self.fixture()
        let factored = maml.curvature(at: theta, rollout: rollout)
        let references = factored.references.scored
        let kl: FiniteDifferences.Function = { maml.surrogate($0, rollout: rollout, references: references, differentiable: true).kl }
        #expect(abs(kl(theta).scalar) < 1e-12)
        var rng = testGenerator(83)
        let v = theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let report = FiniteDifferences.checkHessianVectorProduct(of: kl, at: theta, direction: v)
        #expect(report.passed, "\(report)")
        let directHv = ParameterVector.flatten(FiniteDifferences.hessianVectorProduct(of: kl, at: theta, direction: v))
        let factoredHv = factored.klHessianProduct(ParameterVector.flatten(v))
        let gap = (factoredHv - directHv).squared().sum().scalar.squareRoot()
        #expect(gap < 1e-10 * (1 + directHv.squared().sum().scalar.squareRoot()), "H·v gap \(gap)")
    }
}
