import Autodiff
import Environments
import RealModule

/// A small finite-horizon MDP whose expected return is computed exactly, so the true
/// meta-gradient ∇_θ J(θ + α∇J(θ)) is known and the learners' sampled estimators can be measured
/// against it: the test no sampled benchmark can give.
///
/// States are observed one-hot, so a categorical policy with no hidden layer is a tabular softmax
/// policy (logits W + b). J(θ) = E[Σ_t r_t] by forward dynamic programming over the state
/// distribution, written in tensor operations: its gradient and Hessian come from autodiff, exactly.
public struct TabularMDP: Sendable {
    public let states: Int
    public let actions: Int
    public let horizon: Int
    /// ρ(s) of the first state.
    public let initial: [Double]
    /// P(s' | s, a), row (s·actions + a), column s'.
    public let transitions: [Double]
    /// r(s, a), row-major.
    public let rewards: [Double]

    /// A random MDP: rewards in [0, 1] and sharp transitions (each row a normalised cube of
    /// exponential draws, so an action mostly decides the next state: where what a step does
    /// matters later, the cross-time terms LVC drops are large enough to measure).
    public init(states: Int, actions: Int, horizon: Int, seed: UInt64) {
        var rng = RandomStream.derive(seed: seed, purpose: .testFixture, index: 16)
        func normalised(_ count: Int) -> [Double] {
            let draws = (0..<count).map { _ in Double.pow(-Double.log(Double.random(in: 1e-12..<1, using: &rng)), 3) }
            let total = draws.reduce(0, +)
            return draws.map { $0 / total }
        }
        self.states = states
        self.actions = actions
        self.horizon = horizon
        initial = normalised(states)
        // (The chain below is the instance the tests use; this one is for `bench estimators --mdp random`.)
        transitions = (0..<(states * actions)).flatMap { _ in normalised(states) }
        rewards = (0..<(states * actions)).map { _ in Double.random(in: 0..<1, using: &rng) }
    }

    /// Parameters of the tabular policy drawn uniformly from [−1, 1] (a point where the
    /// estimators' biases are visible; at θ = 0 symmetry can hide them).
    public func parameters(seed: UInt64) -> [Tensor<Double>] {
        var rng = RandomStream.derive(seed: seed, purpose: .parameterInitialisation, index: 16)
        return policy.parameterShapes.map { Tensor<Double>.uniform($0, in: -1...1, using: &rng) }
    }

    /// A chain whose reward comes late: action 1 moves one state right (action 0 stays), each
    /// with probability 1 − slip (else the other happens), and only the last state pays 1 per
    /// step. What an early step does shows only in later rewards, so the cross-time terms of the
    /// sampling distribution's derivative — the ones LVC drops — carry much of the meta-gradient.
    public init(chainOf states: Int, horizon: Int, slip: Double = 0.1) {
        self.states = states
        actions = 2
        self.horizon = horizon
        initial = (0..<states).map { $0 == 0 ? 1 : 0 }
        var transitions = [Double](repeating: 0, count: states * 2 * states)
        for s in 0..<states {
            let right = min(s + 1, states - 1)
            for a in 0..<2 {
                let row = (s * 2 + a) * states
                transitions[row + (a == 1 ? right : s)] += 1 - slip
                transitions[row + (a == 1 ? s : right)] += slip
            }
        }
        self.transitions = transitions
        rewards = (0..<(states * 2)).map { $0 / 2 == states - 1 ? 1 : 0 }
    }

    /// The tabular policy: a categorical policy over one-hot states, with no hidden layer.
    public var policy: Policy {
        .categorical(CategoricalMLPPolicy(observationSize: states, actionCount: actions, hidden: [], activation: .tanh))
    }

    /// π(a|s) for every state, `[states, actions]`, from the policy's parameters (W, b).
    func probabilities<Scalar>(_ parameters: [Tensor<Scalar>]) -> Tensor<Scalar> {
        let identity = Tensor<Scalar>(shape: [states, states], scalars: (0..<(states * states)).map { $0 % (states + 1) == 0 ? 1 : 0 })
        return Tensor.linear(identity, parameters[0], parameters[1]).softmax(alongAxis: 1)
    }

    /// J(θ) = E[Σ_{t<H} r(s_t, a_t)], exactly, as a differentiable function of the parameters.
    public func expectedReturn<Scalar>(_ parameters: [Tensor<Scalar>]) -> Tensor<Scalar> {
        let pi = probabilities(parameters)
        let reward = Tensor<Scalar>(shape: [states, actions], scalars: rewards.map { Scalar($0) })
        let step = Tensor<Scalar>(shape: [states * actions, states], scalars: transitions.map { Scalar($0) })
        var distribution = Tensor<Scalar>(shape: [states, 1], scalars: initial.map { Scalar($0) })
        var total = Tensor<Scalar>(0)
        for t in 0..<horizon {
            let joint = distribution * pi  // P(s_t = s, a_t = a)
            total = total + (joint * reward).sum()
            if t + 1 < horizon { distribution = joint.reshaped([1, states * actions]).matmul(step).reshaped([states, 1]) }
        }
        return total
    }

    /// ∇_θ J(θ + α∇J(θ)): the exact meta-gradient of one ascent step of size α.
    public func exactMetaGradient(_ parameters: [Tensor<Double>], stepSize alpha: Double) -> Tensor<Double> {
        let theta = parameters.map { Tensor.variable($0) }
        let g = gradients(of: expectedReturn(theta), wrt: theta, createGraph: true)
        let adapted = zip(theta, g).map { $0 + alpha * $1 }
        return ParameterVector.flatten(gradients(of: expectedReturn(adapted), wrt: theta))
    }

    /// `count` episodes of the full horizon under the policy at `parameters`, one-hot observations.
    public func sample(_ parameters: [Tensor<Double>], count: Int, using rng: inout SplitMix64) -> EpisodeBatch {
        let pi = probabilities(parameters.map(\.detached)).scalars
        func draw(_ weights: ArraySlice<Double>) -> Int {
            let u = Double.random(in: 0..<1, using: &rng)
            var cumulative = 0.0
            for (index, weight) in weights.enumerated() {
                cumulative += weight
                if u < cumulative { return index }
            }
            return weights.count - 1
        }
        var batch = EpisodeBatch(observationSize: states, actionSize: 1)
        for _ in 0..<count {
            var observations: [Float] = []
            var chosen: [Float] = []
            var gained: [Float] = []
            var s = draw(initial[...])
            for _ in 0..<horizon {
                let a = draw(pi[(s * actions)..<((s + 1) * actions)])
                observations += (0..<states).map { $0 == s ? 1 : 0 }
                chosen.append(Float(a))
                gained.append(Float(rewards[s * actions + a]))
                s = draw(transitions[((s * actions + a) * states)..<((s * actions + a + 1) * states)])
            }
            batch.append(observations: observations, actions: chosen, rewards: gained,
                         finalObservation: (0..<states).map { $0 == s ? 1 : 0 }, environmentSeed: 0)
        }
        return batch
    }

    /// The meta-gradient estimators of the field, each as the learners compute it.
    public enum Estimator: String, Sendable, CaseIterable {
        /// pytorch-maml-rl's MAML: the Hessian of −Σ log π·R̂ on fixed episodes, which leaves out
        /// how the pre-update episodes' distribution depends on θ (biased).
        case reinforce
        /// ProMP's LVC: adds each step's ∇log π ∇log πᵀ R̂ but not the cross-time terms (biased,
        /// low variance).
        case lvc
        /// DiCE: the magic box over cumulative log-probabilities (unbiased).
        case dice
        /// MAML with the whole sampling-distribution term: R(τ)(∇²log p(τ) + ∇log p(τ)∇log p(τ)ᵀ)
        /// per episode (unbiased, the highest variance).
        case trajectory

        /// Whether the estimator is unbiased for the true meta-gradient.
        public var isUnbiased: Bool { self == .dice || self == .trajectory }
    }

    /// The policy-gradient batch of raw returns-to-go (no baseline, no normalisation): each step's
    /// weight 1/M, so the REINFORCE loss is −(1/M) Σ_τ Σ_t log π(a_t|s_t) R_t, an unbiased −∇J.
    func rawBatch(_ episodes: EpisodeBatch) -> PolicyGradientBatch<Double> {
        let share = 1 / Double(episodes.episodeCount)
        return PolicyGradientBatch(episodes: episodes, weightedAdvantages: episodes.discountedReturns(discount: 1).map { share * $0 },
                                   stepWeights: Array(repeating: share, count: episodes.stepCount))
    }

    /// One sample of `estimator`'s meta-gradient at θ: the pre-update episodes give its estimate
    /// Ĥ of ∇²J, the post-update episodes (sampled at the exact θ' = θ + α∇J) an unbiased ĝ' of
    /// ∇J(θ'), and the estimate is (I + αĤ)ĝ'. Its expectation is the true meta-gradient exactly
    /// when E[Ĥ] = ∇²J, so its bias is the estimator's Hessian bias, times α, along ∇J(θ').
    public func sampledMetaGradient(
        _ estimator: Estimator, at parameters: [Tensor<Double>], stepSize alpha: Double, episodes: Int, using rng: inout SplitMix64
    ) -> Tensor<Double> {
        sampledMetaGradient(estimator, at: parameters, adapted: adapted(parameters, stepSize: alpha), stepSize: alpha,
                            episodes: episodes, using: &rng)
    }

    /// θ' = θ + α∇J(θ), exactly.
    public func adapted(_ parameters: [Tensor<Double>], stepSize alpha: Double) -> [Tensor<Double>] {
        let exactGradient = ExactGradient.of(expectedReturn, at: parameters)
        return zip(parameters, ParameterVector.unflatten(exactGradient, shapes: parameters.map(\.shape))).map { $0 + alpha * $1 }
    }

    func sampledMetaGradient(
        _ estimator: Estimator, at parameters: [Tensor<Double>], adapted: [Tensor<Double>], stepSize alpha: Double, episodes: Int,
        using rng: inout SplitMix64
    ) -> Tensor<Double> {
        let policy = self.policy
        let post = rawBatch(sample(adapted, count: episodes, using: &rng))
        // ĝ' = −∇(REINFORCE loss) at θ'.
        let gPost = ParameterVector.flatten(post.innerGradient(policy: policy, parameters: adapted)) * -1
        let pre = rawBatch(sample(parameters, count: episodes, using: &rng))
        // Ĥ·ĝ' for the estimator's Hessian of J (the losses below are −J).
        let hessianProduct: Tensor<Double>
        switch estimator {
        case .reinforce, .lvc:
            let curvature = InnerLossCurvature(policy: policy, parameters: parameters, batch: pre,
                                               objective: estimator == .lvc ? .lvc : .reinforce)
            hessianProduct = curvature.hessianProduct(gPost) * -1
        case .dice:
            hessianProduct = Self.hessianProduct(at: parameters, along: gPost) {
                DiCE.loss(policy: policy, parameters: $0, batch: pre, discount: 1, baseline: false)
            } * -1
        case .trajectory:
            hessianProduct = Self.hessianProduct(at: parameters, along: gPost) { theta in
                // −(1/M) Σ_τ ⊡(log p(τ)) R(τ): the magic box over each whole episode.
                let logProbability = pre.logProbabilities(of: policy, parameters: theta)
                let segments = zip(pre.episodes.episodeStarts, pre.episodes.lengths).map { $0..<($0 + $1) }
                let fromStart = logProbability.cumulativeSum(segments: segments, reversed: true)
                let returns = pre.episodes.discountedReturns(discount: 1)
                let starts = Set(pre.episodes.episodeStarts)
                let mask = Tensor<Double>(shape: [pre.episodes.stepCount, 1], scalars: (0..<pre.episodes.stepCount).map {
                    starts.contains($0) ? returns[$0] / Double(pre.episodes.episodeCount) : 0
                })
                return -(((fromStart - fromStart.detached).exp()) * mask).sum()
            } * -1
        }
        return gPost + alpha * hessianProduct
    }

    /// H·v of a scalar function by double backward.
    static func hessianProduct(at point: [Tensor<Double>], along v: Tensor<Double>,
                               _ f: ([Tensor<Double>]) -> Tensor<Double>) -> Tensor<Double> {
        let x = point.map { Tensor.variable($0) }
        let g = ParameterVector.flatten(gradients(of: f(x), wrt: x, createGraph: true))
        return ParameterVector.flatten(gradients(of: Tensor.dot(g, v), wrt: x))
    }

    /// An estimator's mean over `batches` samples against the exact meta-gradient.
    public struct BiasReport: Sendable {
        public var estimator: Estimator
        public var batches: Int
        /// ‖mean − exact‖ and ‖exact‖.
        public var biasNorm: Double
        public var exactNorm: Double
        /// The largest |mean − exact| / standard error over the components.
        public var largestZ: Double
        /// The mean standard error of the components of the mean.
        public var meanStandardError: Double
    }

    /// Averages `batches` samples of `estimator` at θ and compares with the exact meta-gradient.
    public func measureBias(
        _ estimator: Estimator, at parameters: [Tensor<Double>], stepSize alpha: Double, episodes: Int, batches: Int, seed: UInt64,
        threads: Int = 1
    ) -> BiasReport {
        let exact = exactMetaGradient(parameters, stepSize: alpha).scalars
        var sum = [Double](repeating: 0, count: exact.count)
        var sumSquares = sum
        let adapted = adapted(parameters, stepSize: alpha)
        let samples = Parallel.map(batches, threads: threads) { batch -> [Double] in
            var rng = RandomStream.derive(seed: seed, purpose: .policySampling, index: batch)
            return sampledMetaGradient(estimator, at: parameters, adapted: adapted, stepSize: alpha, episodes: episodes,
                                       using: &rng).scalars
        }
        for sample in samples {
            for i in sample.indices {
                sum[i] += sample[i]
                sumSquares[i] += sample[i] * sample[i]
            }
        }
        let n = Double(batches)
        let mean = sum.map { $0 / n }
        let standardErrors = zip(sumSquares, mean).map { (($0 / n - $1 * $1) * n / (n - 1) / n).squareRoot() }
        let bias = zip(mean, exact).map { $0 - $1 }
        return BiasReport(
            estimator: estimator, batches: batches, biasNorm: bias.map { $0 * $0 }.reduce(0, +).squareRoot(),
            exactNorm: exact.map { $0 * $0 }.reduce(0, +).squareRoot(),
            largestZ: zip(bias, standardErrors).map { abs($0) / max($1, 1e-300) }.max() ?? 0,
            meanStandardError: standardErrors.reduce(0, +) / Double(standardErrors.count))
    }
}

/// ∇f by reverse mode, flattened.
enum ExactGradient {
    static func of(_ f: ([Tensor<Double>]) -> Tensor<Double>, at point: [Tensor<Double>]) -> Tensor<Double> {
        let x = point.map { Tensor.variable($0) }
        return ParameterVector.flatten(gradients(of: f(x), wrt: x))
    }
}
