import Autodiff
import Environments
import Foundation
import MetaLearning
import TestSupport
import Testing

/// An MLP under another name: a network without hand-written products, so the curvature code
/// takes the recorded graph for it.
struct GraphOnlyMLP: PolicyNetwork, Equatable {
    static let kind = "graph-only-mlp"
    let mlp: MLP
    var inputSize: Int { mlp.inputSize }
    var outputSize: Int { mlp.outputSize }
    var parameterShapes: [[Int]] { mlp.parameterShapes }
    var parameterNames: [String] { mlp.parameterNames }
    var summary: String { "graph-only " + mlp.summary }
    func initialParameters<Scalar: TensorScalar>(as: Scalar.Type, using rng: inout some RandomNumberGenerator) -> [Tensor<Scalar>] {
        mlp.initialParameters(as: Scalar.self, using: &rng)
    }
    func callAsFunction<Scalar>(_ x: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> Tensor<Scalar> { mlp(x, parameters: parameters) }
}

@Suite("Policy networks and heads")
struct PolicyNetworkFallbackTests {
    /// The same learner with the MLP's hand-written products and with the graph fallback: the
    /// meta-gradient and the trust region's curvature agree, for both heads and two inner steps.
    @Test("The graph fallback gives the hand-written products' numbers", arguments: [false, true])
    func fallbackMatchesTheFastPath(categorical: Bool) throws {
        let mlp = MLP(layerSizes: categorical ? [2, 5, 4] : [2, 5, 2], activation: .tanh)
        let head: any DistributionHead = categorical ? CategoricalHead(actionCount: 4) : GaussianHead(actionSize: 2)
        let fast = Policy(network: mlp, head: head)
        let general = Policy(network: GraphOnlyMLP(mlp: mlp), head: head)
        var settings = MetaLearnerSettings()
        settings.maml.innerSteps = 2
        settings.maml.innerStepSize = 0.5
        settings.maml.innerObjective = .lvc
        var rng = testGenerator(17)
        let learnerFast = MetaLearners.named("maml-trpo")!.make(fast, settings, &rng) as! GradientMetaLearner
        let learnerGeneral = MetaLearners.named("maml-trpo")!.make(general, settings, &rng) as! GradientMetaLearner
        let theta = fast.initialParameters(as: Float.self, using: &rng)
        let rollout: TaskRollout<Float>
        if categorical {
            let spec = try EnvironmentSpec.load("gridnavi-5x5")
            guard var family = spec.family.base as? GridworldFamily else { throw SpecError(file: "gridnavi-5x5", message: "not a gridworld") }
            family.episodesPerTrial = 1
            family.horizon = 10
            let sampler = EpisodeSampler(environment: GridworldBatch(family: family, count: 4), policy: fast)
            rollout = try learnerFast.collect(task: family.sampleTask(using: &rng), parameters: theta, sampler: sampler, using: &rng).rollout
        } else {
            var family = PointRobotFamily.navigation
            family.horizon = 10
            let sampler = EpisodeSampler(environment: PointRobotBatch(family: family, count: 4), policy: fast)
            rollout = try learnerFast.collect(task: PointRobotTask(goal: Point2(0.2, 0.3)), parameters: theta, sampler: sampler,
                                              using: &rng).rollout
        }
        func double(_ b: PolicyGradientBatch<Float>) throws -> PolicyGradientBatch<Double> {
            try settings.maml.policyGradientBatch(b.episodes) as PolicyGradientBatch<Double>
        }
        let converted = TaskRollout(train: try rollout.train.map(double), valid: try double(rollout.valid))
        let x = theta.map { $0.converted(to: Double.self) }
        let a = learnerFast.taskTerms(at: x, rollout: converted, references: nil, form: .ratio, constants: [], needs: .curvature)
        let b = learnerGeneral.taskTerms(at: x, rollout: converted, references: nil, form: .ratio, constants: [], needs: .curvature)
        func gap(_ u: Tensor<Double>, _ v: Tensor<Double>) -> Double { (u - v).scalars.map(abs).max()! }
        #expect(abs(a.loss - b.loss) < 1e-12 && abs(a.kl - b.kl) < 1e-12)
        #expect(gap(a.metaGradient, b.metaGradient) < 1e-10, "meta-gradients differ by \(gap(a.metaGradient, b.metaGradient))")
        var vrng = testGenerator(3)
        let v = Tensor<Double>.uniform([a.metaGradient.count], in: -1...1, using: &vrng)
        #expect(gap(a.klHessianProduct(v), b.klHessianProduct(v)) < 1e-10)
    }

    /// A manifest's policy as checkpoints before networks and heads were separate wrote it.
    @Test func policiesWrittenBeforeTheSplitStillLoad() throws {
        let old = #"{"network":{"layerSizes":[2,64,64,2],"activation":"tanh"},"initialStd":1,"kind":"gaussian"}"#
        let policy = try JSONDecoder().decode(Policy.self, from: Data(old.utf8))
        #expect(policy == .gaussian(GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: [64, 64], activation: .tanh)))
        let categorical = #"{"network":{"layerSizes":[2,8,5],"activation":"relu"},"kind":"categorical"}"#
        let decoded = try JSONDecoder().decode(Policy.self, from: Data(categorical.utf8))
        #expect(decoded == .categorical(CategoricalMLPPolicy(observationSize: 2, actionCount: 5, hidden: [8], activation: .relu)))
        #expect(decoded.parameterNames.first == "policy.logits.0.weight")
        let again = try JSONDecoder().decode(Policy.self, from: JSONEncoder().encode(policy))
        #expect(again == policy && again.parameterNames.last == "policy.log_std")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Policy.self, from: Data(#"{"network":{"layerSizes":[2,2],"activation":"tanh"},"kind":"beta"}"#.utf8)) }
    }
}
