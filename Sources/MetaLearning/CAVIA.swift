import Autodiff

/// CAVIA, fast context adaptation (Zintgraf, Shiarlis, Kurin, Hofmann & Whiteson, ICML 2019):
/// a context vector φ is fed to the first layer beside the observation, reset to 0 for every
/// task, and is the only thing the inner loop adapts; the shared weights (the policy's, and the
/// context's first-layer weights W_φ) are meta-learned.
///
/// The first layer computes s·W + φ·W_φ + b, so the context acts through the bias b + φ·W_φ.
/// MetaRL keeps that effective bias in the policy's parameters: at φ = 0 it is b, and the inner
/// step φ' = φ − β∇_φL moves it by −β·∇_bL·W_φᵀW_φ (∇_φL = ∇_bL·W_φᵀ). The adapted policy is
/// then an ordinary policy that sampling, evaluation and the viewer use unchanged.
public enum CAVIA {
    public struct Settings: Sendable, Equatable, Codable {
        /// Context parameters (5).
        public var contextSize: Int = 5
        /// β, the context's inner step size; 0 takes `fast-lr` (CAVIA's RL code uses 1.0 with
        /// its larger context; default 0).
        public var contextStepSize: Double = 0

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Settings()
            contextSize = try c.decodeIfPresent(Int.self, forKey: .contextSize) ?? d.contextSize
            contextStepSize = try c.decodeIfPresent(Double.self, forKey: .contextStepSize) ?? d.contextStepSize
        }
    }

    public static let entry = MetaLearnerEntry(
        name: "cavia", summary: "CAVIA: only first-layer context inputs adapt",
        paper: "Zintgraf et al. 2019", metaLearned: "θ and the context's weights W_φ", outers: ["trpo", "adam", "ppo"]
    ) { policy, settings, rng in
        let hidden = policy.parameterShapes[0][1]
        let fanIn = policy.parameterShapes[0][0] + settings.cavia.contextSize
        // Glorot-uniform over the first layer with the context's inputs counted in.
        let bound = Float(6.0 / Double(fanIn + hidden)).squareRoot()
        let weights = Tensor<Float>.uniform([settings.cavia.contextSize, hidden], in: -bound...bound, using: &rng)
        let base = settings.maml.innerStepSize
        let beta = settings.cavia.contextStepSize > 0 ? settings.cavia.contextStepSize : base
        return GradientMetaLearner(
            name: "cavia", policy: policy, inner: settings.maml, rule: ContextStep(scale: beta / base),
            optimizer: OuterOptimizers.make(settings.outer.isEmpty ? "trpo" : settings.outer, settings),
            extra: [StateTensor("learner.cavia.context_weights", weights)])
    }

    /// b ← b − (β/α₀)·s·∇_bL·W_φᵀW_φ for a step of size s, every other parameter unchanged.
    struct ContextStep: AdaptationRule {
        /// β/α₀: the context's step size per unit of the inner step size.
        let scale: Double

        func step<Scalar>(policy: Policy, _ theta: [Tensor<Scalar>], contextWeights: Tensor<Scalar>,
                          biasGradient: Tensor<Scalar>, alpha: Scalar) -> [Tensor<Scalar>] {
            let h = biasGradient.count
            let contextGradient = biasGradient.reshaped([1, h]).matmul(contextWeights.transposed())
            let shift = contextGradient.matmul(contextWeights).reshaped([h])
            var result = theta
            result[1] = theta[1] - Scalar(scale) * alpha * shift
            return result
        }

        func adapt(policy: Policy, _ theta: [Tensor<Float>], extra: [Tensor<Float>], on batch: PolicyGradientBatch<Float>,
                   stepSize: Float) -> [Tensor<Float>] {
            let g = batch.innerGradient(policy: policy, parameters: theta)
            return step(policy: policy, theta, contextWeights: extra[0], biasGradient: g[1], alpha: stepSize)
        }

        func map<Scalar>(policy: Policy, x: [Tensor<Scalar>], batches: [PolicyGradientBatch<Scalar>], stepSizes: [Scalar],
                         references: [ActionDistribution<Scalar>]?, needs: TermsNeeded) -> any AdaptationMap<Scalar> {
            let count = policy.parameterShapes.count
            guard needs != .value else {
                var points = [Array(x.prefix(count)).map(\.detached)]
                for (batch, alpha) in zip(batches, stepSizes) {
                    let g = batch.innerGradient(policy: policy, parameters: points.last!)
                    points.append(step(policy: policy, points.last!, contextWeights: x[count].detached, biasGradient: g[1], alpha: alpha))
                }
                return PointsOnlyMap(points: points)
            }
            return GraphStepMap(x: x) { variables in
                var points = [Array(variables.prefix(count))]
                for (batch, alpha) in zip(batches, stepSizes) {
                    let theta = points.last!
                    let loss = batch.innerLoss(policy: policy, parameters: theta, objective: .reinforce)
                    let biasGradient = gradients(of: loss, wrt: [theta[1]], createGraph: true)[0]
                    points.append(step(policy: policy, theta, contextWeights: variables[count], biasGradient: biasGradient, alpha: alpha))
                }
                return points
            }
        }
    }
}
