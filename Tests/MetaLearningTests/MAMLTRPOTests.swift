import Autodiff
import Environments
import MetaLearning
import TestSupport
import Testing

@Suite("MAML-TRPO")
struct MAMLTRPOTests {
    /// A small navigation problem with fixed episodes: the sampled train and validation batches of
    /// one task, in Double for finite differences.
    static func fixture(
        innerSteps: Int = 1, firstOrder: Bool = false, objective: InnerObjective = .reinforce,
        outerLoss: OuterLoss = .final, halvesStep: Bool = false
    ) throws -> (MAMLTRPO, [Tensor<Double>], MAMLTRPO.TaskRollout<Double>) {
        var family = PointRobotFamily.navigation
        family.horizon = 15
        let policy = GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: [6], activation: .tanh)
        var hyper = MAMLTRPO.Hyperparameters()
        hyper.innerSteps = innerSteps
        hyper.innerStepSize = 0.5
        hyper.firstOrder = firstOrder
        hyper.innerObjective = objective
        hyper.outerLoss = outerLoss
        hyper.halvesStepAfterFirst = halvesStep
        let maml = MAMLTRPO(policy: .gaussian(policy), hyperparameters: hyper)
        var rng = testGenerator(70)
        let theta = policy.initialParameters(as: Float.self, using: &rng)
        let sampler = EpisodeSampler(environment: PointRobotBatch(family: family, count: 4), policy: .gaussian(policy))
        let task = PointRobotTask(goal: Point2(0.3, -0.2))
        let (rollout, _) = try maml.collect(task: task, parameters: theta, sampler: sampler, using: &rng)
        func double(_ b: PolicyGradientBatch<Float>) throws -> PolicyGradientBatch<Double> {
            try hyper.policyGradientBatch(b.episodes) as PolicyGradientBatch<Double>
        }
        let converted = MAMLTRPO.TaskRollout(train: try rollout.train.map(double), valid: try double(rollout.valid))
        return (maml, theta.map { $0.converted(to: Double.self) }, converted)
    }

    @Test("The meta-gradient through the inner step matches finite differences of the surrogate")
    func metaGradientMatchesFiniteDifferences() throws {
        let (maml, theta, rollout) = try Self.fixture()
        let references = maml.surrogate(theta, rollout: rollout, references: nil, differentiable: false).references
        let loss: FiniteDifferences.Function = { maml.surrogate($0, rollout: rollout, references: references, differentiable: true).loss }
        let report = FiniteDifferences.checkGradient(of: loss, at: theta, weights: Tensor(1))
        #expect(report.passed, "\(report)")
    }

    @Test("Two inner steps: the meta-gradient is still exact")
    func twoStepMetaGradient() throws {
        let (maml, theta, rollout) = try Self.fixture(innerSteps: 2)
        #expect(rollout.train.count == 2)
        let references = maml.surrogate(theta, rollout: rollout, references: nil, differentiable: false).references
        let report = FiniteDifferences.checkGradient(
            of: { maml.surrogate($0, rollout: rollout, references: references, differentiable: true).loss },
            at: theta, weights: Tensor(1))
        #expect(report.passed, "\(report)")
    }

    @Test("The KL's Hessian–vector product through the inner step matches finite differences")
    func klHessianMatchesFiniteDifferences() throws {
        let (maml, theta, rollout) = try Self.fixture()
        let references = maml.surrogate(theta, rollout: rollout, references: nil, differentiable: false).references
        let kl: FiniteDifferences.Function = { maml.surrogate($0, rollout: rollout, references: references, differentiable: true).kl }
        #expect(abs(kl(theta).scalar) < 1e-12)
        var rng = testGenerator(71)
        let v = theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let report = FiniteDifferences.checkHessianVectorProduct(of: kl, at: theta, direction: v)
        #expect(report.passed, "\(report)")
    }

    /// First-order MAML uses ∇L at θ' for θ: a different, and not the exact, gradient.
    @Test func firstOrderDropsTheSecondOrderTerms() throws {
        let (exactMAML, theta, rollout) = try Self.fixture()
        let (firstOrderMAML, _, _) = try Self.fixture(firstOrder: true)
        let references = exactMAML.surrogate(theta, rollout: rollout, references: nil, differentiable: false).references
        let x = theta.map { Tensor.variable($0) }
        let exact = gradients(of: exactMAML.surrogate(x, rollout: rollout, references: references, differentiable: true).loss, wrt: x)
        let approximate = gradients(of: firstOrderMAML.surrogate(x, rollout: rollout, references: references, differentiable: true).loss, wrt: x)
        // First order: the gradient of the outer loss at θ' with respect to θ' itself.
        let adapted = InnerLoop.adapt(theta, policy: exactMAML.policy, batches: rollout.train, stepSizes: [0.5], createGraph: false)
        var noAdaptation = exactMAML.hyperparameters
        noAdaptation.innerSteps = 0
        let outerOnly = MAMLTRPO(policy: exactMAML.policy, hyperparameters: noAdaptation)
        let y = adapted.map { Tensor.variable($0) }
        let atAdapted = gradients(of: outerOnly.surrogate(y, rollout: MAMLTRPO.TaskRollout(train: [], valid: rollout.valid),
                                                          references: references, differentiable: true).loss, wrt: y)
        let firstOrderGap = zip(approximate, atAdapted).map { ($0 - $1).squared().sum().scalar }.reduce(0, +)
        let exactGap = zip(exact, approximate).map { ($0 - $1).squared().sum().scalar }.reduce(0, +)
        #expect(firstOrderGap < 1e-20, "first-order gradient differs from ∇L(θ') by \(firstOrderGap)")
        #expect(exactGap > 1e-8, "exact and first-order gradients coincide (\(exactGap))")
    }

    /// The update uses the factored forms Jᵀ∇L and Jᵀ H_KL J; they must equal the direct
    /// derivatives through the inner steps (which the tests above check against finite differences).
    @Test(arguments: [(1, false, OuterLoss.final), (2, false, .final), (1, true, .final),
                      (2, false, .everyStep), (3, false, .everyStep), (2, true, .everyStep)])
    func factoredCurvatureMatchesTheDirectDerivatives(innerSteps: Int, firstOrder: Bool, outerLoss: OuterLoss) throws {
        let (maml, theta, rollout) = try Self.fixture(innerSteps: innerSteps, firstOrder: firstOrder, outerLoss: outerLoss,
                                                      halvesStep: true)
        let factored = maml.curvature(at: theta, rollout: rollout)
        let references = factored.references.scored
        let direct: FiniteDifferences.Function = { maml.surrogate($0, rollout: rollout, references: references, differentiable: true).loss }
        let directGradient = ParameterVector.flatten(FiniteDifferences.gradient(of: direct, at: theta))
        let gap = (factored.metaGradient - directGradient).squared().sum().scalar.squareRoot()
        #expect(gap < 1e-10 * (1 + directGradient.squared().sum().scalar.squareRoot()), "meta-gradient gap \(gap)")

        var rng = testGenerator(72)
        let v = theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let kl: FiniteDifferences.Function = { maml.surrogate($0, rollout: rollout, references: references, differentiable: true).kl }
        let directHv = ParameterVector.flatten(FiniteDifferences.hessianVectorProduct(of: kl, at: theta, direction: v))
        let factoredHv = factored.klHessianProduct(ParameterVector.flatten(v))
        let hvGap = (factoredHv - directHv).squared().sum().scalar.squareRoot()
        #expect(hvGap < 1e-10 * (1 + directHv.squared().sum().scalar.squareRoot()), "H·v gap \(hvGap)")
    }

    /// The multi-step loss is the mean of MAML's loss after each step, each adapted policy scored on
    /// the episodes it sampled; its meta-gradient matches finite differences.
    @Test func everyStepLossAveragesTheLossAfterEachStep() throws {
        let (every, theta, rollout) = try Self.fixture(innerSteps: 2, outerLoss: .everyStep, halvesStep: true)
        let (twoSteps, _, _) = try Self.fixture(innerSteps: 2, halvesStep: true)
        let (oneStep, _, _) = try Self.fixture(innerSteps: 1)
        let afterTwo = twoSteps.surrogate(theta, rollout: rollout, references: nil, differentiable: false)
        // θ₁ scored on the second train batch, which θ₁ sampled.
        let firstOnly = MAMLTRPO.TaskRollout(train: [rollout.train[0]], valid: rollout.train[1])
        let afterOne = oneStep.surrogate(theta, rollout: firstOnly, references: nil, differentiable: false)
        let x = theta.map { Tensor.variable($0) }
        let references = every.surrogate(theta, rollout: rollout, references: nil, differentiable: false).references
        #expect(references.count == 2)
        let mean = every.surrogate(x, rollout: rollout, references: references, differentiable: true)
        // The surrogate is exactly 0 at its reference; compare the gradients, which are not.
        let expected = zip(
            gradients(of: oneStep.surrogate(x, rollout: firstOnly, references: afterOne.references, differentiable: true).loss, wrt: x),
            gradients(of: twoSteps.surrogate(x, rollout: rollout, references: afterTwo.references, differentiable: true).loss, wrt: x)
        ).map { 0.5 * ($0 + $1) }
        let actual = gradients(of: mean.loss, wrt: x)
        let gap = zip(actual, expected).map { ($0 - $1).squared().sum().scalar }.reduce(0, +).squareRoot()
        #expect(gap < 1e-12, "every-step gradient differs from the mean of the per-step ones by \(gap)")

        let report = FiniteDifferences.checkGradient(
            of: { every.surrogate($0, rollout: rollout, references: references, differentiable: true).loss },
            at: theta, weights: Tensor(1))
        #expect(report.passed, "\(report)")
    }

    /// ProMP's LVC form changes the meta-gradient's estimate, not the adaptation: with one inner
    /// step, Jᵀg = (I − αH)g gains α Σ_t w_tÂ_t (∇log π_t · g) ∇log π_t, H's extra outer products.
    @Test func lowVarianceCurvatureAddsTheSamplingDistributionTerm() throws {
        let (reinforce, theta, rollout) = try Self.fixture()
        let (lvc, _, _) = try Self.fixture(objective: .lvc)
        let (firstOrder, _, _) = try Self.fixture(firstOrder: true)
        let alpha = reinforce.hyperparameters.innerStepSize
        let batch = rollout.train[0]

        let adaptedByReinforce = InnerLoop.adapt(theta, policy: reinforce.policy, batches: rollout.train, stepSizes: [0.5], createGraph: true)
        let adaptedByLVC = InnerLoop.adapt(theta, policy: lvc.policy, batches: rollout.train, stepSizes: [0.5],
                                           createGraph: true, objective: .lvc)
        let adaptationGap = zip(adaptedByReinforce, adaptedByLVC).map { ($0 - $1).squared().sum().scalar }.reduce(0, +)
        #expect(adaptationGap < 1e-24, "θ' differs by \(adaptationGap)")

        // The outer gradient g at θ', and each step's score ∇log π_t at θ.
        let g = firstOrder.curvature(at: theta, rollout: rollout).metaGradient
        let x = theta.map { Tensor.variable($0) }
        let logProbabilities = batch.logProbabilities(of: reinforce.policy, parameters: x)
        let weights = batch.weightedAdvantages.scalars
        var expected = reinforce.curvature(at: theta, rollout: rollout).metaGradient
        for t in 0..<batch.episodes.stepCount {
            var pick = [Double](repeating: 0, count: weights.count)
            pick[t] = 1
            let score = ParameterVector.flatten(gradients(of: (logProbabilities * Tensor(shape: [weights.count, 1], scalars: pick)).sum(), wrt: x))
            expected = expected + (alpha * weights[t] * Tensor.dot(score, g).scalar) * score
        }
        let actual = lvc.curvature(at: theta, rollout: rollout).metaGradient
        let scale = expected.squared().sum().scalar.squareRoot()
        let gap = (actual - expected).squared().sum().scalar.squareRoot()
        #expect(gap < 1e-10 * (1 + scale), "LVC meta-gradient off by \(gap) (norm \(scale))")
        let added = (actual - reinforce.curvature(at: theta, rollout: rollout).metaGradient).squared().sum().scalar.squareRoot()
        #expect(added > 1e-4 * scale, "the LVC term is negligible (\(added)), so this test could not fail")

        // The factored form agrees with automatic differentiation of the direct form.
        let references = lvc.curvature(at: theta, rollout: rollout).references.scored
        let direct = ParameterVector.flatten(gradients(of: lvc.surrogate(x, rollout: rollout, references: references, differentiable: true).loss, wrt: x))
        let directGap = (direct - actual).squared().sum().scalar.squareRoot()
        #expect(directGap < 1e-10 * (1 + scale), "factored and direct LVC meta-gradients differ by \(directGap)")
    }
}
