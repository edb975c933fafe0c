import Autodiff
import RealModule

/// Whole trials laid out time-major for the GRU (`[T, B, ·]`, T the longest trial), with each
/// step's targets: what one gradient of RL²'s PPO loss is computed over.
public struct TrialSequences<Scalar: TensorScalar>: Sendable {
    public let steps: Int
    public let batch: Int
    public var features: [Scalar]
    public var actions: [Float]
    /// Steps past the end of a shorter trial are padding.
    public var isStep: [Bool]
    public var oldLogProbabilities: [Scalar]
    public var advantages: [Scalar]
    public var returns: [Scalar]

    /// Trials `indices` of `trials`, with their (normalised) advantages and value targets.
    public init(_ trials: [Trial], indices: ArraySlice<Int>, advantages: [[Float]], returns: [[Float]]) {
        let f = trials[indices.first!].featureSize, a = trials[indices.first!].actionSize
        steps = indices.map { trials[$0].length }.max() ?? 0
        batch = indices.count
        let rows = steps * batch
        features = [Scalar](repeating: 0, count: rows * f)
        actions = [Float](repeating: 0, count: rows * a)
        isStep = [Bool](repeating: false, count: rows)
        oldLogProbabilities = [Scalar](repeating: 0, count: rows)
        self.advantages = oldLogProbabilities
        self.returns = oldLogProbabilities
        for (b, index) in indices.enumerated() {
            let trial = trials[index]
            for t in 0..<trial.length {
                let row = t * batch + b
                for j in 0..<f { features[row * f + j] = Scalar(trial.features[t * f + j]) }
                for j in 0..<a { actions[row * a + j] = trial.actions[t * a + j] }
                isStep[row] = true
                oldLogProbabilities[row] = Scalar(trial.logProbabilities[t])
                self.advantages[row] = Scalar(advantages[index][t])
                self.returns[row] = Scalar(returns[index][t])
            }
        }
    }

    public var stepCount: Int { isStep.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// RL²'s PPO objective (Schulman et al. 2017) over whole trials, to be minimised:
///
///     L = Σ_t w·( −min(ρ_t A_t, clip(ρ_t, 1 ± ε) A_t) + c_v·½(V(h_t) − R_t)² − c_e·H[π(·|h_t)] )
///
/// with ρ_t = π(a_t|h_t)/π_old(a_t|h_t), h_t the GRU's state after reading step t, and w the
/// weight of a step (1 over the steps of the minibatch). Its gradient runs back through the heads
/// and through time into the GRU (`GRUCell.backward`), by hand.
public struct RL2Objective: Sendable {
    public let policy: RecurrentPolicy
    /// ε of the clipped ratio.
    public let clip: Double
    public let valueCoefficient: Double
    public let entropyCoefficient: Double

    public init(policy: RecurrentPolicy, clip: Double, valueCoefficient: Double, entropyCoefficient: Double) {
        self.policy = policy
        self.clip = clip
        self.valueCoefficient = valueCoefficient
        self.entropyCoefficient = entropyCoefficient
    }

    /// The sums behind the metrics a minibatch reports (each over its steps, unweighted).
    public struct Totals: Sendable {
        public var policyLoss = 0.0
        public var valueLoss = 0.0
        public var entropy = 0.0
        /// Σ (log π_old − log π): the usual estimate of KL(π_old ‖ π) times the step count.
        public var approximateKL = 0.0
        /// Steps whose ratio left [1 − ε, 1 + ε].
        public var clipped = 0.0

        mutating func add(_ other: Totals) {
            policyLoss += other.policyLoss
            valueLoss += other.valueLoss
            entropy += other.entropy
            approximateKL += other.approximateKL
            clipped += other.clipped
        }
    }

    /// L and ∂L/∂θ (in `parameterShapes` order) over `sequences`, each step weighted `weight`.
    @specialized(where Scalar == Float)
    public func lossAndGradient<Scalar: TensorScalar>(
        _ sequences: TrialSequences<Scalar>, parameters: [Tensor<Scalar>], weight: Scalar
    ) -> (loss: Scalar, gradients: [[Scalar]], totals: Totals) {
        let h = policy.hiddenSize, k = policy.headSize, a = policy.actionSize
        let rows = sequences.steps * sequences.batch
        let trace = policy.run(sequences.features, steps: sequences.steps, batch: sequences.batch, parameters: parameters)
        // h₁ … h_T: the trace without h₀.
        let (outputs, values) = trace.hidden.withUnsafeBufferPointer { hs in
            policy.heads(UnsafeBufferPointer(rebasing: hs[(sequences.batch * h)...]), rows: rows, parameters: parameters)
        }
        let logStd = policy.logStdIndex.map { parameters[$0].scalars } ?? []
        var dOutputs = [Scalar](repeating: 0, count: rows * k)
        var dValues = [Scalar](repeating: 0, count: rows)
        var dLogStd = [Scalar](repeating: 0, count: logStd.count)
        var loss: Scalar = 0
        var totals = Totals()
        let epsilon = Scalar(clip), cv = Scalar(valueCoefficient), ce = Scalar(entropyCoefficient)
        var probabilities = [Scalar](repeating: 0, count: k)
        let gaussianEntropy = logStd.reduce(Scalar(0)) { $0 + $1 } + Scalar(Double(k) * 0.5 * Double.log(2 * Double.pi * Double.exp(1)))
        outputs.withUnsafeBufferPointer { out in
            sequences.actions.withUnsafeBufferPointer { act in
                for row in 0..<rows where sequences.isStep[row] {
                    let o = UnsafeBufferPointer(rebasing: out[(row * k)..<((row + 1) * k)])
                    let action = UnsafeBufferPointer(rebasing: act[(row * a)..<((row + 1) * a)])
                    let logp = policy.logProbability(of: action, outputs: o, logStd: logStd)
                    let old = sequences.oldLogProbabilities[row], advantage = sequences.advantages[row]
                    let ratio = Scalar.exp(logp - old)
                    let unclipped = ratio * advantage
                    let bounded = Swift.min(Swift.max(ratio, 1 - epsilon), 1 + epsilon)
                    let clippedTerm = bounded * advantage
                    let surrogate = Swift.min(unclipped, clippedTerm)
                    // The clipped term is flat in θ; the minimum follows the unclipped one where it is the smaller.
                    let dSurrogate = unclipped <= clippedTerm ? ratio * advantage : 0
                    let valueError = values[row] - sequences.returns[row]
                    var entropy: Scalar
                    if policy.isDiscrete {
                        let normaliser = RecurrentPolicy.logSumExp(o)
                        entropy = 0
                        for j in 0..<k {
                            probabilities[j] = Scalar.exp(o[j] - normaliser)
                            entropy -= probabilities[j] * (o[j] - normaliser)
                        }
                        let chosen = Int(action[0])
                        for j in 0..<k {
                            let dLogp = (j == chosen ? 1 : 0) - probabilities[j]
                            let dEntropy = -probabilities[j] * (o[j] - normaliser + entropy)
                            dOutputs[row * k + j] = weight * (-dSurrogate * dLogp - ce * dEntropy)
                        }
                    } else {
                        entropy = gaussianEntropy
                        for j in 0..<k {
                            let sigma = Scalar.exp(logStd[j])
                            let z = (Scalar(action[j]) - o[j]) / sigma
                            dOutputs[row * k + j] = -weight * dSurrogate * z / sigma
                            dLogStd[j] += -weight * dSurrogate * (z * z - 1) - weight * ce
                        }
                    }
                    dValues[row] = weight * cv * valueError
                    loss += weight * (-surrogate + cv * valueError * valueError / 2 - ce * entropy)
                    totals.policyLoss -= Double(surrogate)
                    totals.valueLoss += Double(valueError * valueError / 2)
                    totals.entropy += Double(entropy)
                    totals.approximateKL += Double(old - logp)
                    if ratio < 1 - epsilon || ratio > 1 + epsilon { totals.clipped += 1 }
                }
            }
        }
        // Back through the heads: ∂L/∂h_t and the heads' own gradients.
        var dHidden = [Scalar](repeating: 0, count: rows * h)
        var dHeadWeight = [Scalar](repeating: 0, count: h * k)
        var dValueWeight = [Scalar](repeating: 0, count: h)
        if rows > 0 {
            trace.hidden.withUnsafeBufferPointer { hs in
                let states = hs.baseAddress! + sequences.batch * h
                parameters[policy.headIndex].scalars.withUnsafeBufferPointer { w in
                    Scalar.gemm(transposeA: false, transposeB: true, m: rows, n: h, k: k, a: dOutputs, lda: k, b: w.baseAddress!,
                                ldb: k, beta: 0, c: &dHidden, ldc: h)
                }
                parameters[policy.valueIndex].scalars.withUnsafeBufferPointer { w in
                    Scalar.gemm(transposeA: false, transposeB: true, m: rows, n: h, k: 1, a: dValues, lda: 1, b: w.baseAddress!,
                                ldb: 1, beta: 1, c: &dHidden, ldc: h)
                }
                Scalar.gemm(transposeA: true, transposeB: false, m: h, n: k, k: rows, a: states, lda: h, b: dOutputs, ldb: k,
                            beta: 0, c: &dHeadWeight, ldc: k)
                Scalar.gemm(transposeA: true, transposeB: false, m: h, n: 1, k: rows, a: states, lda: h, b: dValues, ldb: 1,
                            beta: 0, c: &dValueWeight, ldc: 1)
            }
        }
        var dHeadBias = [Scalar](repeating: 0, count: k)
        for row in 0..<rows { for j in 0..<k { dHeadBias[j] += dOutputs[row * k + j] } }
        let dValueBias = [dValues.reduce(0, +)]
        var gradients = policy.backpropagate(trace, features: sequences.features, hiddenGradients: dHidden, parameters: parameters)
            + [dHeadWeight, dHeadBias]
        if !policy.isDiscrete { gradients.append(dLogStd) }
        gradients += [dValueWeight, dValueBias]
        return (loss, gradients, totals)
    }
}

/// Generalised advantage estimation (Schulman et al. 2016) over one trial, run across the
/// episode boundaries inside it (RL²'s trial is one long episode of the meta-MDP) and cut at the
/// trial's end, after which the value is 0:
///
///     δ_t = r_t + γ V_{t+1} − V_t,   A_t = δ_t + γλ A_{t+1},   R_t = A_t + V_t.
public func trialAdvantages(rewards: [Float], values: [Float], discount: Double, lambda: Double)
    -> (advantages: [Float], returns: [Float]) {
    precondition(rewards.count == values.count, "\(rewards.count) rewards and \(values.count) values")
    let n = rewards.count
    var advantages = [Float](repeating: 0, count: n)
    var running = 0.0
    for t in stride(from: n - 1, through: 0, by: -1) {
        let next = t + 1 < n ? Double(values[t + 1]) : 0
        let delta = Double(rewards[t]) + discount * next - Double(values[t])
        running = delta + discount * lambda * running
        advantages[t] = Float(running)
    }
    let returns = zip(advantages, values).map { $0 + $1 }
    return (advantages, returns)
}
