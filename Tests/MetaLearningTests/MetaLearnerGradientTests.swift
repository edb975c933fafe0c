import Autodiff
import Environments
import MetaLearning
import TestSupport
import Testing

/// Every gradient-based learner's meta-gradient against central finite differences of its own
/// objective, in Double, on fixed episodes: at a point away from where the episodes were sampled
/// (so PPO's clipping, the likelihood ratios of LVC and DiCE, and the inner-KL penalty are all
/// active), against the references taken where they were sampled.
@Suite("Meta-learner gradients")
struct MetaLearnerGradientTests {
    struct Fixture {
        let learner: GradientMetaLearner
        let x0: [Tensor<Double>]
        let rollout: TaskRollout<Double>
        let references: TaskReferences<Double>
    }

    /// `name`'s learner on a small navigation task, with its rollout sampled at x0.
    static func fixture(_ name: String, innerSteps: Int = 1, outer: String = "", categorical: Bool = false,
                        outerLoss: OuterLoss = .final) throws -> Fixture {
        var settings = MetaLearnerSettings()
        settings.maml.innerSteps = innerSteps
        settings.maml.outerLoss = outerLoss
        settings.maml.innerStepSize = 0.5
        settings.outer = outer
        settings.cavia.contextSize = 3
        var rng = testGenerator(31)
        let entry = try #require(MetaLearners.named(name))
        func build(_ policy: Policy) -> GradientMetaLearner { entry.make(policy, settings, &rng) as! GradientMetaLearner }
        let learner: GradientMetaLearner
        let rollout: TaskRollout<Float>
        var theta: [Tensor<Float>]
        if categorical {
            let spec = try EnvironmentSpec.load("gridnavi-5x5")
            guard var family = spec.family.base as? GridworldFamily else { throw SpecError(file: "gridnavi-5x5", message: "not a gridworld") }
            family.episodesPerTrial = 1
            let policy = Policy.categorical(CategoricalMLPPolicy(observationSize: 2, actionCount: 5, hidden: [5], activation: .tanh))
            learner = build(policy)
            theta = policy.initialParameters(as: Float.self, using: &rng)
            let sampler = EpisodeSampler(environment: GridworldBatch(family: family, count: 4), policy: policy)
            let task = family.sampleTask(using: &rng)
            rollout = try learner.collect(task: task, parameters: theta, sampler: sampler, using: &rng).rollout
        } else {
            var family = PointRobotFamily.navigation
            family.horizon = 12
            let policy = Policy.gaussian(GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: [5], activation: .tanh))
            learner = build(policy)
            theta = policy.initialParameters(as: Float.self, using: &rng)
            let sampler = EpisodeSampler(environment: PointRobotBatch(family: family, count: 4), policy: policy)
            rollout = try learner.collect(task: PointRobotTask(goal: Point2(0.3, -0.2)), parameters: theta, sampler: sampler,
                                          using: &rng).rollout
        }
        func double(_ b: PolicyGradientBatch<Float>) throws -> PolicyGradientBatch<Double> {
            try learner.inner.policyGradientBatch(b.episodes) as PolicyGradientBatch<Double>
        }
        let converted = TaskRollout(train: try rollout.train.map(double), valid: try double(rollout.valid))
        let x0 = learner.metaParameters(theta).map { $0.converted(to: Double.self) }
        let references = learner.taskTerms(at: x0, rollout: converted, references: nil, form: .ratio, constants: [0.7],
                                           needs: .value).references
        return Fixture(learner: learner, x0: x0, rollout: converted, references: references)
    }

    /// x0 moved by a fixed random step of size `scale` per element.
    static func moved(_ x: [Tensor<Double>], scale: Double) -> [Tensor<Double>] {
        var rng = testGenerator(5)
        return x.map { $0 + Tensor<Double>.uniform($0.shape, in: -scale...scale, using: &rng) }
    }

    /// The analytic meta-gradient at x against central differences of the loss there.
    static func check(_ f: Fixture, at x: [Tensor<Double>], form: SurrogateForm) -> FiniteDifferences.Report {
        let constants: [Double?] = f.learner.extraTerms.map { _ in 0.7 }
        func loss(_ point: [Tensor<Double>]) -> Double {
            f.learner.taskTerms(at: point, rollout: f.rollout, references: f.references, form: form, constants: constants,
                                needs: .value).loss
        }
        let analytic = f.learner.taskTerms(at: x, rollout: f.rollout, references: f.references, form: form, constants: constants,
                                           needs: .gradient).metaGradient.scalars
        var report = FiniteDifferences.Report()
        var offset = 0
        for (i, tensor) in x.enumerated() {
            for e in 0..<tensor.count {
                let numerical = FiniteDifferences.centralDifference(step: 1e-6) { delta in
                    loss(FiniteDifferences.replacing(i, element: e, by: delta, in: x))
                }
                report.compare(analytic[offset + e], numerical, input: i, element: e, absolute: 1e-7, relative: 1e-5)
            }
            offset += tensor.count
        }
        return report
    }

    @Test("Each learner's meta-gradient is the derivative of its own objective", arguments: [
        ("maml-trpo", 1, ""), ("maml-trpo", 2, ""), ("maml-vpg", 1, ""), ("maml-ppo", 1, ""), ("maml-ppo", 2, ""),
        ("promp", 1, ""), ("promp", 2, ""), ("e-maml", 1, ""), ("e-maml", 1, "ppo"), ("dice", 1, ""), ("dice", 2, ""),
        ("meta-sgd", 1, ""), ("meta-sgd", 2, "ppo"), ("cavia", 1, ""), ("cavia", 2, ""), ("pretrained", 1, ""),
    ])
    func metaGradientMatchesFiniteDifferences(name: String, innerSteps: Int, outer: String) throws {
        let f = try Self.fixture(name, innerSteps: innerSteps, outer: outer)
        let form = f.learner.optimizer.form
        let report = Self.check(f, at: Self.moved(f.x0, scale: 0.05), form: form)
        #expect(report.passed, "\(name), \(innerSteps) steps, \(form): \(report)")
    }

    @Test("Categorical policies too", arguments: ["maml-trpo", "promp", "dice", "meta-sgd", "cavia"])
    func categoricalMetaGradient(name: String) throws {
        let f = try Self.fixture(name, categorical: true)
        let report = Self.check(f, at: Self.moved(f.x0, scale: 0.05), form: f.learner.optimizer.form)
        #expect(report.passed, "\(name): \(report)")
    }

    /// The multi-step losses score θ₁…θ_k (and θ₀): their meta-gradients and curvature are exact too.
    @Test("Multi-step outer losses", arguments: [OuterLoss.everyStep, .everyStepAndStart])
    func multiStepOuterLosses(outerLoss: OuterLoss) throws {
        for name in ["maml-trpo", "meta-sgd", "promp"] {
            let f = try Self.fixture(name, innerSteps: 2, outerLoss: outerLoss)
            let report = Self.check(f, at: Self.moved(f.x0, scale: 0.05), form: f.learner.optimizer.form)
            #expect(report.passed, "\(name), \(outerLoss): \(report)")
        }
        let f = try Self.fixture("maml-trpo", innerSteps: 2, outerLoss: outerLoss)
        #expect(f.references.scored.count == (outerLoss == .everyStep ? 2 : 3))
    }

    /// PPO's clipping is active at the moved point (or the test would not test it).
    @Test func theClippedSurrogateClipsAtTheMovedPoint() throws {
        let f = try Self.fixture("maml-ppo")
        let x = Self.moved(f.x0, scale: 0.3)
        let clipped = f.learner.taskTerms(at: x, rollout: f.rollout, references: f.references, form: .clipped(epsilon: 0.2),
                                          constants: [], needs: .gradient)
        let plain = f.learner.taskTerms(at: x, rollout: f.rollout, references: f.references, form: .ratio, constants: [],
                                        needs: .gradient)
        #expect(clipped.loss > plain.loss, "min(r·Â, clip(r)·Â) ≤ r·Â, so the clipped loss is the larger")
        #expect(Self.check(f, at: x, form: .clipped(epsilon: 0.2)).passed)
    }

    /// First-order MAML's meta-gradient is the outer gradient at the adapted point.
    @Test func firstOrderIsTheGradientAtTheAdaptedPoint() throws {
        let f = try Self.fixture("fo-maml")
        let terms = f.learner.taskTerms(at: f.x0, rollout: f.rollout, references: nil, form: .ratio, constants: [], needs: .gradient)
        let adapted = f.learner.rule.map(policy: f.learner.policy, x: f.x0, batches: f.rollout.train, stepSizes: [0.5],
                                         references: nil, needs: .value).points[1]
        let outerOnly = try Self.fixture("pretrained")
        let direct = outerOnly.learner.taskTerms(at: adapted, rollout: TaskRollout(train: [], valid: f.rollout.valid),
                                                 references: nil, form: .ratio, constants: [], needs: .gradient)
        let gap = (terms.metaGradient - direct.metaGradient).scalars.map(abs).max()!
        #expect(gap < 1e-12, "first-order gradient differs from the outer gradient at θ' by \(gap)")
    }

    /// vᵀ(F·v) of the trust region's curvature against the second difference of the KL along v,
    /// for the learners TRPO steps, through every kind of adaptation map.
    @Test("The KL curvature through the inner steps matches finite differences",
          arguments: ["maml-trpo", "e-maml", "meta-sgd", "cavia", "dice"])
    func klCurvatureMatchesFiniteDifferences(name: String) throws {
        let f = try Self.fixture(name, innerSteps: 2, outer: "trpo")
        var rng = testGenerator(8)
        let v = f.x0.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let terms = f.learner.taskTerms(at: f.x0, rollout: f.rollout, references: nil, form: .ratio, constants: [0.7],
                                        needs: .curvature)
        let flat = ParameterVector.flatten(v)
        let analytic = Tensor.dot(flat, terms.klHessianProduct(flat)).scalar
        func kl(_ h: Double) -> Double {
            f.learner.taskTerms(at: zip(f.x0, v).map { $0 + h * $1 }, rollout: f.rollout, references: f.references, form: .ratio,
                                constants: [0.7], needs: .value).kl
        }
        let h = 1e-4
        let numerical = (kl(h) - 2 * kl(0) + kl(-h)) / (h * h)
        #expect(abs(analytic - numerical) <= 1e-4 * max(abs(numerical), 1e-3), "\(name): vᵀFv \(analytic), numerical \(numerical)")
    }

    /// The graph-based map, written for any rule, gives the hand-written products of MAML's.
    @Test func theGraphMapEqualsTheHandWrittenOne() throws {
        let f = try Self.fixture("maml-trpo", innerSteps: 2)
        let policy = f.learner.policy
        let hand = GradientStepMap(policy: policy, x: f.x0, batches: f.rollout.train, scales: [0.5, 0.5], learnsStepSizes: false,
                                   objective: .reinforce, firstOrder: false)
        let graph = GraphStepMap(x: f.x0) { variables in
            var points = [variables]
            for batch in f.rollout.train {
                let theta = points.last!
                let g = gradients(of: batch.innerLoss(policy: policy, parameters: theta, objective: .reinforce), wrt: theta,
                                  createGraph: true)
                points.append(zip(theta, g).map { $0 - 0.5 * $1 })
            }
            return points
        }
        var rng = testGenerator(12)
        let width = f.x0.reduce(0) { $0 + $1.count }
        let z: [Int: Tensor<Double>] = [1: .uniform([width], in: -1...1, using: &rng), 2: .uniform([width], in: -1...1, using: &rng)]
        let v = Tensor<Double>.uniform([width], in: -1...1, using: &rng)
        func gap(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double { (a - b).scalars.map(abs).max()! }
        #expect(gap(hand.pullback(z), graph.pullback(z)) < 1e-10)
        for (a, b) in zip(hand.pushforward(v), graph.pushforward(v)) { #expect(gap(a, b) < 1e-10) }
        for (a, b) in zip(hand.points, graph.points) { #expect(gap(ParameterVector.flatten(a), ParameterVector.flatten(b)) < 1e-12) }
    }

    /// Meta-SGD with every α at α₀ adapts exactly as MAML does.
    @Test func metaSGDStartsAsMAML() throws {
        let sgd = try Self.fixture("meta-sgd")
        let maml = try Self.fixture("maml-trpo")
        let count = maml.x0.count
        let a = sgd.learner.rule.map(policy: sgd.learner.policy, x: sgd.x0, batches: sgd.rollout.train, stepSizes: [0.5],
                                     references: nil, needs: .value).points[1]
        let b = maml.learner.rule.map(policy: maml.learner.policy, x: Array(sgd.x0.prefix(count)), batches: sgd.rollout.train,
                                      stepSizes: [0.5], references: nil, needs: .value).points[1]
        #expect(zip(a, b).allSatisfy { ($0 - $1).scalars.allSatisfy { abs($0) < 1e-12 } })
        #expect(sgd.learner.extra.allSatisfy { $0.tensor.scalars.allSatisfy { $0 == 0.5 } }, "α starts at fast-lr, not at the outer rate")
    }

    /// CAVIA moves only the first layer's bias, by −β∇_bL·W_φᵀW_φ.
    @Test func caviaAdaptsOnlyTheContextBias() throws {
        let f = try Self.fixture("cavia")
        let count = f.learner.policy.parameterShapes.count
        let points = f.learner.rule.map(policy: f.learner.policy, x: f.x0, batches: f.rollout.train, stepSizes: [0.5],
                                        references: nil, needs: .value).points
        for i in 0..<count where i != 1 { #expect(points[1][i].scalars == points[0][i].scalars) }
        let g = f.rollout.train[0].innerGradient(policy: f.learner.policy, parameters: points[0])[1]
        let w = f.x0[count]
        let expected = points[0][1] - 0.5 * g.reshaped([1, g.count]).matmul(w.transposed()).matmul(w).reshaped([g.count])
        #expect((points[1][1] - expected).scalars.allSatisfy { abs($0) < 1e-12 })
    }

    /// ProMP's loss is the clipped surrogate plus (1/k) Σᵢ η·KL(π_{θᵢ(x_old)} ‖ π_{θᵢ(x)}) on the
    /// episodes step i sampled: away from the sampling point the penalty is positive, and it is
    /// what the loss adds to the same learner's objective without the term.
    @Test func prompPenalisesEachInnerStepsKLFromItsSamplingPolicy() throws {
        let f = try Self.fixture("promp", innerSteps: 2)
        let x = Self.moved(f.x0, scale: 0.05)
        let form = f.learner.optimizer.form
        let withPenalty = f.learner.taskTerms(at: x, rollout: f.rollout, references: f.references, form: form, constants: [nil],
                                              needs: .value).loss
        let unpenalised = GradientMetaLearner(name: "unpenalised", policy: f.learner.policy, inner: f.learner.inner,
                                              rule: f.learner.rule, optimizer: f.learner.optimizer)
        let surrogate = unpenalised.taskTerms(at: x, rollout: f.rollout, references: f.references, form: form, constants: [],
                                              needs: .value).loss
        let stepSizes = f.learner.trainingStepSizes
        let points = f.learner.rule.map(policy: f.learner.policy, x: x, batches: f.rollout.train, stepSizes: stepSizes,
                                        references: f.references.inner, needs: .value).points
        let sampled = f.learner.rule.map(policy: f.learner.policy, x: f.x0, batches: f.rollout.train, stepSizes: stepSizes,
                                         references: f.references.inner, needs: .value).points
        let eta = ProMP.Settings().initialKLPenalty
        var expected = 0.0
        for (i, batch) in f.rollout.train.enumerated() {
            let old = batch.distribution(of: f.learner.policy, parameters: sampled[i])
            let current = batch.distribution(of: f.learner.policy, parameters: points[i])
            expected += eta / 2 * (old.klDivergence(to: current) * batch.stepWeights).sum().scalar
        }
        #expect(expected > 1e-9, "the moved point is away from the sampling policies")
        #expect(abs((withPenalty - surrogate) - expected) <= 1e-9 * max(1, abs(expected)), "\(withPenalty - surrogate) vs \(expected)")
    }

    /// E-MAML's term credits the pre-update policy with the post-update return: the loss adds
    /// −w·R̄'·Σ_t w_t log π_θ₀(a_t|s_t) over the first inner step's episodes to MAML's objective,
    /// so a task whose adapted policy did well (R̄' > 0) makes its pre-update actions likelier.
    @Test func emamlCreditsThePreUpdateLikelihoodWithThePostUpdateReturn() throws {
        let f = try Self.fixture("e-maml")
        let x = Self.moved(f.x0, scale: 0.05)
        let form = f.learner.optimizer.form
        let normalisedReturn = 0.7
        let withTerm = f.learner.taskTerms(at: x, rollout: f.rollout, references: f.references, form: form,
                                           constants: [normalisedReturn], needs: .value).loss
        let maml = GradientMetaLearner(name: "maml", policy: f.learner.policy, inner: f.learner.inner, rule: f.learner.rule,
                                       optimizer: f.learner.optimizer)
        let surrogate = maml.taskTerms(at: x, rollout: f.rollout, references: f.references, form: form, constants: [],
                                       needs: .value).loss
        let batch = f.rollout.train[0]
        let theta0 = Array(x.prefix(f.learner.policy.parameterShapes.count))
        let logLikelihood = (batch.logProbabilities(of: f.learner.policy, parameters: theta0)
            * batch.stepWeights).sum().scalar
        let expected = -EMAML.Settings().weight * normalisedReturn * logLikelihood
        #expect(abs(expected) > 1e-6)
        #expect(abs((withTerm - surrogate) - expected) <= 1e-9 * max(1, abs(expected)), "\(withTerm - surrogate) vs \(expected)")
    }

    /// DiCE's magic boxes in the second derivative, the order the meta-gradient reads: along a
    /// direction v, with ℓ_t = log π(a_t|s_t) and S_t its running sum within the episode,
    ///
    ///     −L'' = Σ_t q_t (S_t'² + S_t'') + b_t (−ℓ_t'' − ℓ_t'² − 2 ℓ_t' S_{t−1}'),
    ///
    /// from ⊡(S_t)·q_t and (1 − ⊡(ℓ_t))·⊡(S_{t−1})·b_t. The first derivative alone cannot tell the
    /// boxes from plain log-likelihood terms; this does. ℓ's derivatives by central differences.
    @Test func diceLossHasTheMagicBoxesSecondDerivative() throws {
        let f = try Self.fixture("dice")
        let policy = f.learner.policy
        let batch = f.rollout.train[0]
        let theta = Array(f.x0.prefix(policy.parameterShapes.count))
        var rng = testGenerator(9)
        let v = theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let reference = batch.distribution(of: policy, parameters: theta).detached
        func along(_ e: Double) -> [Tensor<Double>] { zip(theta, v).map { $0 + e * $1 } }
        let discount = f.learner.inner.discount
        func loss(_ e: Double) -> Double {
            DiCE.loss(policy: policy, parameters: along(e), batch: batch, discount: discount, reference: reference).scalar
        }
        func logProbabilities(_ e: Double) -> [Double] {
            batch.logProbabilities(of: policy, parameters: along(e)).scalars
        }
        let h = 1e-3
        let numerical = (loss(h) - 2 * loss(0) + loss(-h)) / (h * h)
        let (plus, at, minus) = (logProbabilities(h), logProbabilities(0), logProbabilities(-h))
        let episodes = batch.episodes
        let weights = batch.stepWeights.scalars
        var expected = 0.0
        for (start, length) in zip(episodes.episodeStarts, episodes.lengths) {
            var (power, s1, s2) = (1.0, 0.0, 0.0)  // S_{t−1}' and S_{t−1}''
            for row in start..<(start + length) {
                let l1 = (plus[row] - minus[row]) / (2 * h)
                let l2 = (plus[row] - 2 * at[row] + minus[row]) / (h * h)
                let q = weights[row] * power * Double(episodes.rewards[row]) / batch.advantageScale
                let b = weights[row] * power * batch.values[row] / batch.advantageScale
                let (t1, t2) = (s1 + l1, s2 + l2)
                expected -= q * (t1 * t1 + t2) + b * (-l2 - l1 * l1 - 2 * l1 * s1)
                (s1, s2) = (t1, t2)
                power *= discount
            }
        }
        #expect(batch.values.contains { abs($0) > 1e-3 }, "the baseline term is exercised")
        #expect(abs(numerical - expected) <= 1e-4 * max(1, abs(expected)), "\(numerical) vs \(expected)")
    }

    /// Meta-SGD's plain step — what sampling and evaluation take — uses the learned α:
    /// θ − (s/α₀)·α ⊙ ∇L(θ) for a step of size s, here half of α₀ with α drawn per parameter.
    @Test func metaSGDAdaptsWithItsLearnedStepSizes() throws {
        let f = try Self.fixture("meta-sgd")
        var learner = f.learner
        var rng = testGenerator(3)
        let alphas = learner.extra.map { StateTensor($0.name, Tensor<Float>.uniform($0.tensor.shape, in: 0.1...0.9, using: &rng)) }
        try learner.restore(alphas + learner.state.filter { !$0.name.hasPrefix("learner.meta_sgd") })
        let batch: PolicyGradientBatch<Float> = try learner.inner.policyGradientBatch(f.rollout.train[0].episodes)
        let theta = f.x0.prefix(learner.policy.parameterShapes.count).map { $0.converted(to: Float.self) }
        let adapted = learner.adapt(theta, on: batch, stepSize: learner.inner.innerStepSize / 2)
        let gradient = batch.innerGradient(policy: learner.policy, parameters: theta)
        for i in theta.indices {
            let expected = theta[i] - 0.5 * alphas[i].tensor * gradient[i]
            #expect(zip(adapted[i].scalars, expected.scalars).allSatisfy { abs($0 - $1) <= 1e-6 }, "tensor \(i)")
        }
        #expect(gradient.contains { $0.scalars.contains { abs($0) > 1e-3 } }, "the step moves θ")
    }

    /// ProMP halves η below target/1.5, doubles it above 1.5·target, and keeps it between.
    @Test func prompAdaptsItsKLPenalty() throws {
        var settings = MetaLearnerSettings()
        settings.maml.innerSteps = 3
        var rng = testGenerator(1)
        var learner = MetaLearners.named("promp")!.make(.gaussian(GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: [3],
                                                                                    activation: .tanh)), settings, &rng)
            as! GradientMetaLearner
        var term = learner.extraTerms[0]
        let metrics = term.observe(MetaBatchTerms(loss: 0, kl: 0, gradient: nil, klHessianProduct: nil, innerKLs: [0.001, 0.1, 0.01]))
        #expect(term.state[0].tensor.scalars == [-1, 1, 0], "η = η₀·2^k for k = −1, 1, 0")
        #expect(metrics.map(\.name) == ["promp/inner_kl", "promp/kl_penalty"])
        try learner.restore(term.state + learner.state.filter { !$0.name.hasPrefix("learner.promp") })
        #expect(learner.state.first { $0.name == "learner.promp.kl_penalty_doublings" }?.tensor.scalars == [-1, 1, 0])
        #expect(metrics.last?.value == (2.5e-4 + 1e-3 + 5e-4) / 3)
    }
}
