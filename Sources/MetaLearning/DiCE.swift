import Autodiff

/// DiCE, the Infinitely Differentiable Monte-Carlo Estimator (Foerster, Farquhar, Al-Shedivat,
/// Rocktäschel, Xing & Whiteson, ICML 2018), as the inner objective of MAML (ProMP's
/// `VPG-DiCE-MAML`): the inner loss is
///
///     L = −Σ_t w_t [⊡(S_t)·q_t + (1 − ⊡(log π_t))·⊡(S_{t−1})·b_t],   ⊡(x) = exp(x − ⊥x),
///
/// S_t = Σ_{t' ≤ t} log π(a_t'|s_t') within the episode, q_t = γ^t r_t and b_t = γ^t V(s_t) (Mao
/// et al. 2019's baseline, which keeps every order of derivative unbiased), both divided by the
/// batch's advantage scale so its step is the size of the others'. ⊡ is 1 in value and its
/// derivatives of every order are those of the expected return, so differentiating through the
/// inner step includes how the pre-update episodes' distribution depends on θ — to all orders,
/// with the causal structure LVC leaves out. ⊥ is taken at the policy that sampled the episodes,
/// so away from it the loss is the importance-weighted one and the map stays the derivative of
/// what it evaluates. The meta-gradient runs through a recorded graph (`GraphStepMap`).
public enum DiCE {
    public static let entry = MetaLearnerEntry(
        name: "dice", summary: "MAML with the DiCE inner loss (unbiased estimator)",
        paper: "Foerster et al. 2018", metaLearned: "θ", outers: ["adam", "trpo", "ppo"]
    ) { policy, settings, _ in
        GradientMetaLearner(name: "dice", policy: policy, inner: settings.maml, rule: InnerStep(discount: settings.maml.discount),
                            optimizer: OuterOptimizers.make(settings.outer.isEmpty ? "adam" : settings.outer, settings))
    }

    /// The DiCE loss of a batch at θ (tracked), as a graph.
    public static func loss<Scalar>(policy: Policy, parameters: [Tensor<Scalar>], batch: PolicyGradientBatch<Scalar>,
                                    discount: Double, reference: ActionDistribution<Scalar>? = nil, baseline: Bool = true)
        -> Tensor<Scalar> {
        let episodes = batch.episodes
        let rows = episodes.stepCount
        let weights = batch.stepWeights.scalars
        var q = [Scalar](repeating: 0, count: rows)
        var b = [Scalar](repeating: 0, count: rows)
        let scale = batch.advantageScale
        for (start, length) in zip(episodes.episodeStarts, episodes.lengths) {
            var power = 1.0
            for t in 0..<length {
                let row = start + t
                q[row] = weights[row] * Scalar(power * Double(episodes.rewards[row]) / scale)
                b[row] = baseline ? weights[row] * Scalar(power * batch.values[row] / scale) : 0
                power *= discount
            }
        }
        let logProbability = batch.logProbabilities(of: policy, parameters: parameters)
        let segments = zip(episodes.episodeStarts, episodes.lengths).map { $0..<($0 + $1) }
        let sums = logProbability.cumulativeSum(segments: segments)
        // ⊡ holds its argument at the sampling policy's value: 1 there, an importance weight elsewhere.
        let held = reference.map { $0.logProbability(of: batch.actions) } ?? logProbability.detached
        let heldSums = held.cumulativeSum(segments: segments)
        let objective = (sums - heldSums).exp() * Tensor(shape: [rows, 1], scalars: q)
            + (1 - (logProbability - held).exp()) * ((sums - logProbability) - (heldSums - held)).exp()
            * Tensor(shape: [rows, 1], scalars: b)
        return -objective.sum()
    }

    /// θ' = θ − α∇L_DiCE(θ).
    struct InnerStep: AdaptationRule {
        let discount: Double
        /// ⊡ is held at the sampling policy.
        var readsReferences: Bool { true }

        func step<Scalar>(policy: Policy, _ theta: [Tensor<Scalar>], batch: PolicyGradientBatch<Scalar>, alpha: Scalar,
                          reference: ActionDistribution<Scalar>? = nil, createGraph: Bool) -> [Tensor<Scalar>] {
            let tracked = theta.map { $0.isTracked ? $0 : Tensor.variable($0) }
            let objective = loss(policy: policy, parameters: tracked, batch: batch, discount: discount, reference: reference)
            let g = gradients(of: objective, wrt: tracked, createGraph: createGraph)
            return zip(createGraph ? tracked : theta, g).map { $0 - alpha * $1 }
        }

        func adapt(policy: Policy, _ theta: [Tensor<Float>], extra: [Tensor<Float>], on batch: PolicyGradientBatch<Float>,
                   stepSize: Float) -> [Tensor<Float>] {
            step(policy: policy, theta.map(\.detached), batch: batch, alpha: stepSize, createGraph: false)
        }

        func map<Scalar>(policy: Policy, x: [Tensor<Scalar>], batches: [PolicyGradientBatch<Scalar>], stepSizes: [Scalar],
                         references: [ActionDistribution<Scalar>]?, needs: TermsNeeded) -> any AdaptationMap<Scalar> {
            guard needs != .value else {
                var points = [x.map(\.detached)]
                for (i, (batch, alpha)) in zip(batches, stepSizes).enumerated() {
                    points.append(step(policy: policy, points.last!, batch: batch, alpha: alpha, reference: references?[i],
                                       createGraph: false))
                }
                return PointsOnlyMap(points: points)
            }
            return GraphStepMap(x: x) { variables in
                var points = [variables]
                for (i, (batch, alpha)) in zip(batches, stepSizes).enumerated() {
                    points.append(step(policy: policy, points.last!, batch: batch, alpha: alpha, reference: references?[i],
                                       createGraph: true))
                }
                return points
            }
        }
    }
}
