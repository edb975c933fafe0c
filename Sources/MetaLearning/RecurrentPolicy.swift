import Autodiff
import Environments
import RealModule

/// RL²'s policy (Duan et al. 2016): a GRU over everything the agent has seen in the trial, a
/// distribution head and a value head on its state. At each step it reads the observation, the
/// previous action (one-hot for discrete actions), the previous reward and a flag that a new
/// episode of the trial has just begun — garage's and VariBAD's inputs — so that what the first
/// episode found can shape the later ones. The state starts at zero at each trial and is never
/// reset between the episodes of a trial.
///
/// Parameters, in order: the GRU's four (`GRUCell`), the head's weight `[H, k]` and bias `[k]`
/// (logits, or the Gaussian's mean), the Gaussian's state-independent log σ `[k]`, and the value
/// head's weight `[H, 1]` and bias `[1]`.
public struct RecurrentPolicy: Sendable, Equatable, Codable {
    /// The action space the head draws from.
    public enum Actions: Sendable, Equatable, Codable {
        case discrete(count: Int)
        case box(dimension: Int)
    }

    /// The recurrent core.
    public enum CellKind: String, Sendable, Equatable, Codable, CaseIterable {
        case gru, lstm
    }

    public let observationSize: Int
    public let actions: Actions
    public let hiddenSize: Int
    public let cellKind: CellKind
    /// σ of a Gaussian head before training.
    public let initialStd: Double

    public init(observationSize: Int, actions: Actions, hiddenSize: Int, cellKind: CellKind = .gru, initialStd: Double = 1) {
        precondition(observationSize > 0 && hiddenSize > 0, "a recurrent policy needs positive sizes")
        if case .discrete(let count) = actions { precondition(count >= 2, "a categorical head needs two actions, got \(count)") }
        if case .box(let dimension) = actions { precondition(dimension >= 1, "a Gaussian head needs a dimension, got \(dimension)") }
        precondition(initialStd > 0, "σ must be positive, got \(initialStd)")
        self.observationSize = observationSize
        self.actions = actions
        self.hiddenSize = hiddenSize
        self.cellKind = cellKind
        self.initialStd = initialStd
    }

    private enum CodingKeys: String, CodingKey { case observationSize, actions, hiddenSize, cellKind, initialStd }

    /// A manifest written before LSTMs existed has no `cellKind`: its core is a GRU.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let observationSize = try c.decode(Int.self, forKey: .observationSize), hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        let actions = try c.decode(Actions.self, forKey: .actions), initialStd = try c.decode(Double.self, forKey: .initialStd)
        let valid: Bool
        switch actions {
        case .discrete(let count): valid = count >= 2 && count <= 1_000_000
        case .box(let dimension): valid = dimension >= 1 && dimension <= 1_000_000
        }
        guard valid, (1...1_000_000).contains(observationSize), (1...100_000).contains(hiddenSize), initialStd > 0, initialStd.isFinite else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a recurrent policy needs positive sizes, two actions or more, and σ > 0"))
        }
        self.init(observationSize: observationSize, actions: actions, hiddenSize: hiddenSize,
                  cellKind: try c.decodeIfPresent(CellKind.self, forKey: .cellKind) ?? .gru, initialStd: initialStd)
    }

    /// The policy an action space calls for.
    public static func forActions(_ space: Space, observationSize: Int, hiddenSize: Int, cellKind: CellKind = .gru) -> RecurrentPolicy {
        switch space {
        case .discrete(let count):
            RecurrentPolicy(observationSize: observationSize, actions: .discrete(count: count), hiddenSize: hiddenSize, cellKind: cellKind)
        case .box(let lower, _):
            RecurrentPolicy(observationSize: observationSize, actions: .box(dimension: lower.count), hiddenSize: hiddenSize, cellKind: cellKind)
        }
    }

    public var isDiscrete: Bool { if case .discrete = actions { true } else { false } }

    /// Logits (discrete) or the mean (box): the head's outputs per step.
    public var headSize: Int {
        switch actions {
        case .discrete(let count): count
        case .box(let dimension): dimension
        }
    }

    /// Floats per action as environments take it: the index, or the vector.
    public var actionSize: Int { isDiscrete ? 1 : headSize }

    /// Floats the GRU reads per step: observation, previous action (one-hot or vector), previous
    /// reward, new-episode flag.
    public var featureSize: Int { observationSize + headSize + 2 }

    public var gru: GRUCell { GRUCell(inputSize: featureSize, hiddenSize: hiddenSize) }
    public var lstm: LSTMCell { LSTMCell(inputSize: featureSize, hiddenSize: hiddenSize) }

    var cellShapes: [[Int]] {
        switch cellKind {
        case .gru: gru.parameterShapes
        case .lstm: lstm.parameterShapes
        }
    }

    public var parameterShapes: [[Int]] {
        cellShapes + [[hiddenSize, headSize], [headSize]] + (isDiscrete ? [] : [[headSize]]) + [[hiddenSize, 1], [1]]
    }

    public var parameterNames: [String] {
        GRUCell.parameterNames.map { "policy.\(cellKind.rawValue).\($0)" }
            + (isDiscrete ? ["policy.logits.weight", "policy.logits.bias"] : ["policy.mean.weight", "policy.mean.bias", "policy.log_std"])
            + ["value.weight", "value.bias"]
    }

    /// Where the head's tensors start in the parameter list.
    var headIndex: Int { 4 }
    var logStdIndex: Int? { isDiscrete ? nil : 6 }
    var valueIndex: Int { isDiscrete ? 6 : 7 }

    /// The GRU as PyTorch initialises it; the action head small (×0.01, so that the first policy
    /// is near uniform, as PPO implementations start it), the value head Glorot-uniform, biases 0.
    public func initialParameters<Scalar: TensorScalar>(
        as: Scalar.Type = Scalar.self, using rng: inout some RandomNumberGenerator
    ) -> [Tensor<Scalar>] {
        let glorot = { (input: Int, output: Int) in Scalar(6.0 / Double(input + output)).squareRoot() }
        let headBound = glorot(hiddenSize, headSize) * Scalar(0.01)
        var parameters = cellKind == .gru ? gru.initialParameters(as: Scalar.self, using: &rng)
            : lstm.initialParameters(as: Scalar.self, using: &rng)
        parameters.append(Tensor.uniform([hiddenSize, headSize], in: -headBound...headBound, using: &rng))
        parameters.append(.zeros([headSize]))
        if !isDiscrete { parameters.append(.filled(Scalar(Double.log(initialStd)), shape: [headSize])) }
        let valueBound = glorot(hiddenSize, 1)
        parameters.append(Tensor.uniform([hiddenSize, 1], in: -valueBound...valueBound, using: &rng))
        parameters.append(.zeros([1]))
        return parameters
    }

    /// Writes one step's features into `row` (`featureSize` floats): the observation, the previous
    /// action, the previous reward, and 1 when this step starts an episode after the first.
    @inline(__always)
    public func writeFeatures<Scalar: TensorScalar>(
        into row: UnsafeMutableBufferPointer<Scalar>, observation: UnsafeBufferPointer<Float>,
        previousAction: UnsafeBufferPointer<Float>?, previousReward: Float, startsEpisode: Bool
    ) {
        let o = observationSize, k = headSize
        for j in 0..<o { row[j] = Scalar(observation[j]) }
        for j in 0..<k { row[o + j] = 0 }
        if let previousAction {
            if isDiscrete {
                row[o + Int(previousAction[0])] = 1
            } else {
                for j in 0..<k { row[o + j] = Scalar(previousAction[j]) }
            }
        }
        row[o + k] = Scalar(previousReward)
        row[o + k + 1] = startsEpisode ? 1 : 0
    }

    /// The head's outputs and the values at `rows` hidden states: `rows × headSize` and `rows`.
    @specialized(where Scalar == Float)
    public func heads<Scalar: TensorScalar>(
        _ hidden: UnsafeBufferPointer<Scalar>, rows: Int, parameters: [Tensor<Scalar>]
    ) -> (outputs: [Scalar], values: [Scalar]) {
        let h = hiddenSize, k = headSize
        var outputs = [Scalar](repeating: 0, count: rows * k)
        var values = [Scalar](repeating: 0, count: rows)
        guard rows > 0 else { return (outputs, values) }
        let bias = parameters[headIndex + 1].scalars, valueBias = parameters[valueIndex + 1].scalars[0]
        outputs.withUnsafeMutableBufferPointer { out in
            for r in 0..<rows { for j in 0..<k { out[r * k + j] = bias[j] } }
            parameters[headIndex].scalars.withUnsafeBufferPointer { w in
                Scalar.gemm(transposeA: false, transposeB: false, m: rows, n: k, k: h, a: hidden.baseAddress!, lda: h,
                            b: w.baseAddress!, ldb: k, beta: 1, c: out.baseAddress!, ldc: k)
            }
        }
        values.withUnsafeMutableBufferPointer { out in
            for r in 0..<rows { out[r] = valueBias }
            parameters[valueIndex].scalars.withUnsafeBufferPointer { w in
                Scalar.gemm(transposeA: false, transposeB: false, m: rows, n: 1, k: h, a: hidden.baseAddress!, lda: h,
                            b: w.baseAddress!, ldb: 1, beta: 1, c: out.baseAddress!, ldc: 1)
            }
        }
        return (outputs, values)
    }

    /// log π(a) of one step's action under the head's outputs `o` (and log σ for a Gaussian).
    @inline(__always)
    public func logProbability<Scalar: TensorScalar>(
        of action: UnsafeBufferPointer<Float>, outputs o: UnsafeBufferPointer<Scalar>, logStd: [Scalar]
    ) -> Scalar {
        if isDiscrete {
            return o[Int(action[0])] - Self.logSumExp(o)
        }
        var total: Scalar = 0
        for j in 0..<headSize {
            let z = (Scalar(action[j]) - o[j]) / Scalar.exp(logStd[j])
            total -= z * z / 2 + logStd[j] + Scalar(0.5 * Double.log(2 * Double.pi))
        }
        return total
    }

    @inline(__always)
    static func logSumExp<Scalar: TensorScalar>(_ o: UnsafeBufferPointer<Scalar>) -> Scalar {
        var largest = o[0]
        for v in o.dropFirst() where v > largest { largest = v }
        var sum: Scalar = 0
        for v in o { sum += Scalar.exp(v - largest) }
        return largest + Scalar.log(sum)
    }

    /// Draws one action from the head's outputs `o` into `action`, with the trial's own stream.
    @inline(__always)
    public func sampleAction(
        outputs o: UnsafeBufferPointer<Float>, logStd: [Float], into action: UnsafeMutableBufferPointer<Float>,
        using rng: inout SplitMix64
    ) {
        if isDiscrete {
            let normaliser = Self.logSumExp(o)
            let u = Float.random(in: 0..<1, using: &rng)
            var cumulative: Float = 0
            var chosen = o.count - 1
            for a in 0..<(o.count - 1) {
                cumulative += Float.exp(o[a] - normaliser)
                if u < cumulative { chosen = a; break }
            }
            action[0] = Float(chosen)
        } else {
            for j in 0..<headSize {
                action[j] = o[j] + Float.exp(logStd[j]) * Self.standardNormal(using: &rng)
            }
        }
    }

    /// The entropy of the head's distribution at outputs `o` (nats): −Σ p log p for the
    /// categorical head, Σ log σ + ½d(1 + log 2π) for the Gaussian, whose σ is state-independent.
    @inline(__always)
    public func entropy(outputs o: UnsafeBufferPointer<Float>, logStd: [Float]) -> Float {
        if isDiscrete {
            let normaliser = Self.logSumExp(o)
            var total: Float = 0
            for v in o {
                let logp = v - normaliser
                total -= Float.exp(logp) * logp
            }
            return total
        }
        return logStd.reduce(0, +) + Float(headSize) * 0.5 * (1 + Float.log(2 * Float.pi))
    }

    /// A standard normal draw (Box–Muller).
    @inline(__always)
    static func standardNormal(using rng: inout SplitMix64) -> Float {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng)
        let u2 = Double.random(in: 0..<1, using: &rng)
        return Float((-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2))
    }

    // MARK: - The recurrent core, GRU or LSTM

    /// The core's pass over whole sequences: the states h₀ … h_T (`(T + 1) × B × H`, time-major)
    /// and what backpropagation through time needs.
    public struct SequencePass<Scalar: TensorScalar>: Sendable {
        public let hidden: [Scalar]
        let gru: GRUCell.Trace<Scalar>?
        let lstm: LSTMCell.Trace<Scalar>?
    }

    @specialized(where Scalar == Float)
    public func run<Scalar: TensorScalar>(_ features: [Scalar], steps: Int, batch: Int, parameters: [Tensor<Scalar>]) -> SequencePass<Scalar> {
        let weights = GRUCell.Weights(parameters[0..<4])
        switch cellKind {
        case .gru:
            let trace = gru.forward(features, steps: steps, batch: batch, weights: weights)
            return SequencePass(hidden: trace.hidden, gru: trace, lstm: nil)
        case .lstm:
            let trace = lstm.forward(features, steps: steps, batch: batch, weights: weights)
            return SequencePass(hidden: trace.hidden, gru: nil, lstm: trace)
        }
    }

    /// The core's parameter gradients given ∂L/∂h₁ … ∂L/∂h_T.
    @specialized(where Scalar == Float)
    public func backpropagate<Scalar: TensorScalar>(
        _ pass: SequencePass<Scalar>, features: [Scalar], hiddenGradients: [Scalar], parameters: [Tensor<Scalar>]
    ) -> [[Scalar]] {
        let weights = GRUCell.Weights(parameters[0..<4])
        if let trace = pass.gru { return gru.backward(trace, inputs: features, hiddenGradients: hiddenGradients, weights: weights).parameters }
        return lstm.backward(pass.lstm!, inputs: features, hiddenGradients: hiddenGradients, weights: weights).parameters
    }

    /// The state of `batch` sequences between rollout steps: h (and an LSTM's c), zeros at the
    /// start of a trial.
    public struct RolloutState: Sendable {
        public internal(set) var hidden: [Float]
        var cell: [Float]
        var gruBuffers: GRUCell.StepBuffers<Float>?
    }

    public func initialState(batch: Int) -> RolloutState {
        let zeros = [Float](repeating: 0, count: batch * hiddenSize)
        return RolloutState(hidden: zeros, cell: cellKind == .lstm ? zeros : [],
                            gruBuffers: cellKind == .gru ? GRUCell.StepBuffers(cell: gru, batch: batch) : nil)
    }

    /// One step of the core for `batch` sequences reading `features`.
    public func step(_ features: [Float], batch: Int, state: inout RolloutState, parameters: [Tensor<Float>]) {
        let weights = GRUCell.Weights(parameters[0..<4])
        switch cellKind {
        case .gru: gru.step(features, batch: batch, hidden: &state.hidden, weights: weights, buffers: &state.gruBuffers!)
        case .lstm: lstm.step(features, batch: batch, hidden: &state.hidden, cell: &state.cell, weights: weights)
        }
    }
}
