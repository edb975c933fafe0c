import Autodiff
import Environments
import RealModule

/// RL² (Duan et al. 2016; Wang et al. 2016) trained with PPO: a recurrent policy whose hidden
/// state, carried across the episodes of a trial, is where adaptation happens. Each meta-update
/// runs PPO over the meta-batch's trials — GAE across the whole trial, the clipped surrogate, a
/// value loss and an entropy bonus, several epochs of minibatches of whole trials, the gradient's
/// norm clipped, Adam.
public struct RL2: TrialMetaLearner {
    /// RL²-PPO's settings. Defaults are VariBAD's RL² configuration for GridNavi
    /// (`config/gridworld/args_grid_rl2.py`); garage's `RL2PPO` is noted where it differs.
    public struct Settings: Sendable, Equatable, Codable {
        /// The recurrent core (VariBAD and garage: a GRU).
        public var cell = RecurrentPolicy.CellKind.gru
        /// The core's width (VariBAD and garage: 64).
        public var hiddenSize = 64
        /// γ (VariBAD 0.95; garage 0.99).
        public var discount = 0.95
        /// GAE's λ (VariBAD 0.95; garage's example 0.95, its default 1).
        public var gaeLambda = 0.95
        /// ε of the clipped ratio (VariBAD 0.05; garage's example 0.2).
        public var clip = 0.05
        /// Passes over each meta-batch (VariBAD 2; garage's example 10).
        public var epochs = 2
        /// Minibatches of whole trials per pass (VariBAD 4).
        public var minibatches = 4
        /// Weight of the value loss ½(V − R)² (VariBAD 0.5).
        public var valueCoefficient = 0.5
        /// Weight of the entropy bonus (VariBAD 0.01; garage 0.02, added to the reward).
        public var entropyCoefficient = 0.01
        /// Adam's step (VariBAD 7e-4).
        public var learningRate = 7e-4
        /// The gradient's global norm is clipped to this (VariBAD 0.5).
        public var maxGradientNorm = 0.5
        /// Trials sampled together in one batch of environments (and the unit of the gradient's
        /// work): a fixed size, so numbers do not depend on the thread count.
        public var trialsPerBatch = 16
        /// Whether rewards are divided by a running standard deviation of the discounted return
        /// before GAE (VariBAD's `norm_rew_for_policy`: on for its point robots, off for GridNavi).
        /// Only the learning signal is scaled: the policy still sees the raw reward as input.
        public var normalisesRewards = false

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Settings()
            cell = try c.decodeIfPresent(RecurrentPolicy.CellKind.self, forKey: .cell) ?? d.cell
            hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
            discount = try c.decodeIfPresent(Double.self, forKey: .discount) ?? d.discount
            gaeLambda = try c.decodeIfPresent(Double.self, forKey: .gaeLambda) ?? d.gaeLambda
            clip = try c.decodeIfPresent(Double.self, forKey: .clip) ?? d.clip
            epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
            minibatches = try c.decodeIfPresent(Int.self, forKey: .minibatches) ?? d.minibatches
            valueCoefficient = try c.decodeIfPresent(Double.self, forKey: .valueCoefficient) ?? d.valueCoefficient
            entropyCoefficient = try c.decodeIfPresent(Double.self, forKey: .entropyCoefficient) ?? d.entropyCoefficient
            learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? d.learningRate
            maxGradientNorm = try c.decodeIfPresent(Double.self, forKey: .maxGradientNorm) ?? d.maxGradientNorm
            trialsPerBatch = try c.decodeIfPresent(Int.self, forKey: .trialsPerBatch) ?? d.trialsPerBatch
            normalisesRewards = try c.decodeIfPresent(Bool.self, forKey: .normalisesRewards) ?? d.normalisesRewards
        }
    }

    public static let entry = MetaLearnerEntry(
        name: "rl2", summary: "RL²: a GRU policy adapts within a trial, trained by PPO",
        paper: "Duan et al. 2016", metaLearned: "θ (GRU, heads)", outers: [],
        builder: .memory { policy, settings, rng in RL2(policy: policy, settings: settings.rl2, shuffleSeed: rng.next()) })

    public let name = "rl2"
    public let policy: RecurrentPolicy
    public let settings: Settings
    public private(set) var optimizer: Adam<Float>
    /// Meta-updates taken: with `shuffleSeed`, it seeds each update's minibatch order.
    public private(set) var updates = 0
    public let shuffleSeed: UInt64
    /// The running moments of the discounted return that scale rewards when
    /// `settings.normalisesRewards` (checkpointed, so a resumed run scales as the unbroken one).
    public private(set) var returnMoments = RunningMoments()

    public init(policy: RecurrentPolicy, settings: Settings, shuffleSeed: UInt64) {
        self.policy = policy
        self.settings = settings
        self.shuffleSeed = shuffleSeed
        optimizer = Adam(learningRate: Float(settings.learningRate))
    }

    public var objective: RL2Objective {
        RL2Objective(policy: policy, clip: settings.clip, valueCoefficient: settings.valueCoefficient,
                     entropyCoefficient: settings.entropyCoefficient)
    }

    public var metricColumns: [String] { Self.metricColumns }
    public static let metricColumns = ["loss/policy", "loss/value", "entropy", "kl/approx", "clip_fraction", "grad_norm"]

    /// PPO on `trials` from `parameters`: advantages normalised over all steps, then `epochs`
    /// passes of `minibatches` Adam steps, each on whole trials.
    /// - Throws: `NonFiniteValueError` when a loss, gradient or the updated parameters hold a NaN
    ///   or an infinity (the parameters are then left as they were).
    /// Under MPI each process computes its share of each minibatch's pieces; the gradients are
    /// gathered and summed in piece order, so every process takes the step one process would.
    public mutating func update(_ parameters: [Tensor<Float>], trials: [Trial], threads: Int, group: any TaskGroup) throws
        -> (parameters: [Tensor<Float>], metrics: [Metric]) {
        precondition(!trials.isEmpty, "RL² updates on at least one trial")
        var rewardScale: Float = 1
        if settings.normalisesRewards {
            returnMoments.add(trials.flatMap { discountedReturnsSoFar($0.rewards) })
            rewardScale = 1 / (returnMoments.variance + 1e-8).squareRoot()
        }
        var estimates = trials.map { trial in
            let rewards = rewardScale == 1 ? trial.rewards : trial.rewards.map { Swift.min(Swift.max($0 * rewardScale, -10), 10) }
            return trialAdvantages(rewards: rewards, values: trial.values, discount: settings.discount, lambda: settings.gaeLambda)
        }
        normaliseAdvantages(&estimates)
        let advantages = estimates.map(\.advantages), returns = estimates.map(\.returns)
        var theta = parameters.map(\.detached)
        var optimizer = self.optimizer
        var rng = RandomStream.derive(seed: shuffleSeed, purpose: .minibatchShuffling, index: updates)
        let objective = self.objective
        let chunk = settings.trialsPerBatch
        let minibatches = Swift.min(settings.minibatches, trials.count)
        var totals = RL2Objective.Totals()
        var steps = 0, norms = 0.0
        for _ in 0..<settings.epochs {
            let order = Array(0..<trials.count).shuffled(using: &rng)
            for m in 0..<minibatches {
                let members = order[(m * order.count / minibatches)..<((m + 1) * order.count / minibatches)]
                let stepCount = members.reduce(0) { $0 + trials[$1].length }
                let weight = Float(1) / Float(stepCount)
                let pieces = (members.count + chunk - 1) / chunk
                let snapshot = theta
                let mine = group.tasks(of: pieces)
                let computed = Parallel.map(mine.count, threads: threads) { offset in
                    let p = mine.lowerBound + offset
                    let lower = members.startIndex + p * chunk
                    let sequences = TrialSequences<Float>(trials, indices: members[lower..<Swift.min(lower + chunk, members.endIndex)],
                                                          advantages: advantages, returns: returns)
                    return objective.lossAndGradient(sequences, parameters: snapshot, weight: weight)
                }
                let parts = group.size == 1 ? computed : Self.gathered(computed, group: group, shapes: snapshot.map(\.shape))
                var gradient = parts[0].gradients
                for part in parts.dropFirst() {
                    for i in gradient.indices { for j in gradient[i].indices { gradient[i][j] += part.gradients[i][j] } }
                }
                for part in parts { totals.add(part.totals) }
                steps += stepCount
                let norm = gradient.reduce(0.0) { total, g in g.reduce(total) { $0 + Double($1) * Double($1) } }.squareRoot()
                guard norm.isFinite else { throw NonFiniteValueError("RL²'s PPO gradient") }
                norms += norm
                let scale = norm > settings.maxGradientNorm ? Float(settings.maxGradientNorm / norm) : 1
                let tensors = zip(gradient, theta).map { g, p in Tensor(shape: p.shape, scalars: scale == 1 ? g : g.map { $0 * scale }) }
                optimizer.update(&theta, along: tensors)
            }
        }
        for tensor in theta { try NonFiniteValueError.check(tensor.scalars, "the updated parameters") }
        self.optimizer = optimizer
        updates += 1
        let n = Double(steps)
        return (theta, [Metric("loss/policy", totals.policyLoss / n), Metric("loss/value", totals.valueLoss / n),
                        Metric("entropy", totals.entropy / n), Metric("kl/approx", totals.approximateKL / n),
                        Metric("clip_fraction", totals.clipped / n),
                        Metric("grad_norm", norms / Double(settings.epochs * minibatches))])
    }

    /// R_t = γR_{t−1} + r_t from the trial's start: the statistic whose spread scales the rewards
    /// (as baselines' `VecNormalize`, which VariBAD uses, keeps it per environment).
    private func discountedReturnsSoFar(_ rewards: [Float]) -> [Float] {
        var running: Float = 0
        return rewards.map { running = running * Float(settings.discount) + $0; return running }
    }

    typealias Piece = (loss: Float, gradients: [[Float]], totals: RL2Objective.Totals)

    /// Every process's pieces, in piece order: each piece's loss, gradient (flattened) and totals.
    private static func gathered(_ local: [Piece], group: any TaskGroup, shapes: [[Int]]) -> [Piece] {
        let sizes = shapes.map { $0.reduce(1, *) }
        let width = sizes.reduce(0, +)
        let flatGradients: [Float] = local.flatMap { piece in piece.gradients.flatMap { $0 } }
        let gradients = group.gatherRows(flatGradients, width: width)
        var figures: [Double] = []
        for piece in local {
            let t = piece.totals
            figures += [Double(piece.loss), t.policyLoss, t.valueLoss, t.entropy, t.approximateKL, t.clipped]
        }
        let rows = group.gatherRows(figures, width: 6)
        var out: [Piece] = []
        for (flat, row) in zip(gradients, rows) {
            var pieces: [[Float]] = [], start = 0
            for n in sizes {
                pieces.append(Array(flat[start..<(start + n)]))
                start += n
            }
            var sums = RL2Objective.Totals()
            sums.policyLoss = row[1]
            sums.valueLoss = row[2]
            sums.entropy = row[3]
            sums.approximateKL = row[4]
            sums.clipped = row[5]
            out.append((Float(row[0]), pieces, sums))
        }
        return out
    }

    /// Advantages to mean 0 and standard deviation 1 over every step of the meta-batch.
    private func normaliseAdvantages(_ estimates: inout [(advantages: [Float], returns: [Float])]) {
        var sum = 0.0, squares = 0.0, count = 0.0
        for e in estimates { for a in e.advantages { sum += Double(a); squares += Double(a) * Double(a); count += 1 } }
        let mean = sum / count
        let std = Swift.max(squares / count - mean * mean, 0).squareRoot()
        for i in estimates.indices {
            estimates[i].advantages = estimates[i].advantages.map { Float((Double($0) - mean) / (std + 1e-8)) }
        }
    }

    /// Adam's t and moments and the update count, under `optimizer.adam.*` and `rl2.updates`.
    public var state: [StateTensor] {
        let s = optimizer.state
        var tensors = [StateTensor("rl2.updates", Tensor(shape: [1], scalars: [Float(updates)])),
                       StateTensor("rl2.return_moments", Tensor(shape: [3], scalars: returnMoments.scalars)),
                       StateTensor("optimizer.adam.step", Tensor(shape: [1], scalars: [Float(s.step)]))]
        for (i, (first, second)) in zip(s.firstMoment, s.secondMoment).enumerated() {
            tensors.append(StateTensor("optimizer.adam.first_moment.\(i)", first))
            tensors.append(StateTensor("optimizer.adam.second_moment.\(i)", second))
        }
        return tensors
    }

    public mutating func restore(_ state: [StateTensor]) throws {
        updates = Int(try state.tensor("rl2.updates", count: 1).scalars[0])
        // Runs saved before reward normalisation existed have no moments: they never used them.
        returnMoments = state.contains { $0.name == "rl2.return_moments" }
            ? RunningMoments(scalars: try state.tensor("rl2.return_moments", count: 3).scalars) : RunningMoments()
        let step = Int(try state.tensor("optimizer.adam.step", count: 1).scalars[0])
        guard step > 0 else {
            optimizer.state = .init(step: 0, firstMoment: [], secondMoment: [])
            return
        }
        let shapes = policy.parameterShapes
        var first: [Tensor<Float>] = [], second: [Tensor<Float>] = []
        for (i, shape) in shapes.enumerated() {
            let count = shape.reduce(1, *)
            first.append(Tensor(shape: shape, scalars: try state.tensor("optimizer.adam.first_moment.\(i)", count: count).scalars))
            second.append(Tensor(shape: shape, scalars: try state.tensor("optimizer.adam.second_moment.\(i)", count: count).scalars))
        }
        optimizer.state = .init(step: step, firstMoment: first, secondMoment: second)
    }
}

/// Count, mean and variance of a stream of values, merged batch by batch (Chan et al.'s parallel
/// update). Kept in Float so that the checkpointed state is the state itself and a resumed run
/// goes on bit for bit.
public struct RunningMoments: Sendable, Equatable {
    public private(set) var count: Float = 0
    public private(set) var mean: Float = 0
    public private(set) var variance: Float = 1

    public init() {}

    init(scalars: [Float]) {
        count = scalars[0]; mean = scalars[1]; variance = scalars[2]
    }

    var scalars: [Float] { [count, mean, variance] }

    /// Merges a batch of values.
    public mutating func add(_ values: [Float]) {
        guard !values.isEmpty else { return }
        let n = Double(values.count)
        let batchMean = values.reduce(0.0) { $0 + Double($1) } / n
        let batchVariance = values.reduce(0.0) { $0 + (Double($1) - batchMean) * (Double($1) - batchMean) } / n
        guard count > 0 else {
            (count, mean, variance) = (Float(n), Float(batchMean), Float(batchVariance))
            return
        }
        let m = Double(count), total = m + n
        let delta = batchMean - Double(mean)
        let combined = (Double(variance) * m + batchVariance * n + delta * delta * m * n / total) / total
        (count, mean, variance) = (Float(total), Float(Double(mean) + delta * n / total), Float(combined))
    }
}
