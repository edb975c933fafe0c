import Autodiff
import Environments
import MetaLearning

/// `metarl bench autodiff --network gru`: the GRU's pass over a batch of sequences, forward and
/// forward + backward through time, single-threaded — the workload of `scripts/torch-bench.py gru`
/// (PyTorch's `nn.GRU`, same shapes), so the two compare side by side.
///
/// The default shape is RL²'s on GridNavi: 60 steps (a 4-episode trial), 64 sequences, 9 inputs
/// (position, one-hot previous action, previous reward, new-episode flag), 64 hidden units; the
/// loss is Σ_t ⟨w_t, h_t⟩ with fixed random w, so the backward pass carries a gradient into every
/// step.
public struct RecurrentBenchmark: Sendable {
    public struct Result: Sendable, Codable, Equatable {
        public var forwardMilliseconds: Double
        public var forwardBackwardMilliseconds: Double
        public var network: String
        public var steps: Int
        public var batch: Int
        public var inputSize: Int
        public var hidden: Int
        public var repeats: Int
        public var kernelInstructionSet: String
        public var blasCore: String

        enum CodingKeys: String, CodingKey {
            case forwardMilliseconds = "forward_ms"
            case forwardBackwardMilliseconds = "forward_backward_ms"
            case network, steps, batch
            case inputSize = "input"
            case hidden, repeats
            case kernelInstructionSet = "kernel_instruction_set"
            case blasCore = "blas_core"
        }
    }

    public var cellKind: RecurrentPolicy.CellKind
    public var steps: Int
    public var batch: Int
    public var inputSize: Int
    public var hidden: Int
    public var repeats: Int

    public init(cellKind: RecurrentPolicy.CellKind = .gru, steps: Int = 60, batch: Int = 64, inputSize: Int = 9, hidden: Int = 64,
                repeats: Int = 200) {
        self.cellKind = cellKind
        self.steps = steps
        self.batch = batch
        self.inputSize = inputSize
        self.hidden = hidden
        self.repeats = repeats
    }

    public func run() -> Result {
        var rng = RandomStream.derive(seed: 0, purpose: .testFixture)
        let inputs = (0..<(steps * batch * inputSize)).map { _ in Float.random(in: -1...1, using: &rng) }
        let upstream = (0..<(steps * batch * hidden)).map { _ in Float.random(in: -1...1, using: &rng) }
        /// Median seconds of the forward pass, and of the forward pass then the backward one.
        func time<Trace>(_ forwardPass: () -> Trace, _ backwardPass: (Trace) -> Void) -> (Double, Double) {
            (Timing.medianSeconds(repeats: repeats) { _ = forwardPass() },
             Timing.medianSeconds(repeats: repeats) { backwardPass(forwardPass()) })
        }
        let forward: Double, forwardBackward: Double
        switch cellKind {
        case .gru:
            let cell = GRUCell(inputSize: inputSize, hiddenSize: hidden)
            let weights = GRUCell.Weights(cell.initialParameters(as: Float.self, using: &rng)[0..<4])
            (forward, forwardBackward) = time({ cell.forward(inputs, steps: steps, batch: batch, weights: weights) },
                                              { _ = cell.backward($0, inputs: inputs, hiddenGradients: upstream, weights: weights) })
        case .lstm:
            let cell = LSTMCell(inputSize: inputSize, hiddenSize: hidden)
            let weights = GRUCell.Weights(cell.initialParameters(as: Float.self, using: &rng)[0..<4])
            (forward, forwardBackward) = time({ cell.forward(inputs, steps: steps, batch: batch, weights: weights) },
                                              { _ = cell.backward($0, inputs: inputs, hiddenGradients: upstream, weights: weights) })
        }
        return Result(forwardMilliseconds: forward * 1e3, forwardBackwardMilliseconds: forwardBackward * 1e3,
                      network: cellKind.rawValue, steps: steps, batch: batch, inputSize: inputSize, hidden: hidden,
                      repeats: repeats, kernelInstructionSet: Float.kernelInstructionSet, blasCore: ComputeEnvironment.blasCore)
    }
}
