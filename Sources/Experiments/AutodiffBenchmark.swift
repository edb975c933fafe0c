import Autodiff
import Environments
import MetaLearning
import RealModule

/// The autodiff benchmark of `metarl bench autodiff`: the workload of `scripts/torch-bench.py mlp`,
/// so the two can be compared side by side.
///
/// A Gaussian policy-gradient loss −mean(log π(a|s)·Â) for a tanh MLP 2→64→64→2 with a learned
/// log-std on 4,000 rows, timed three ways — forward only, forward and backward, and one
/// Hessian–vector product (backward with the graph recorded, ⟨∇L, v⟩, backward again) — plus the
/// GFLOP/s of the 4000×64·64×64 matrix product. All single-threaded, as the PyTorch reference.
public struct AutodiffBenchmark: Sendable {
    public struct Result: Sendable, Codable, Equatable {
        public var forwardMilliseconds: Double
        public var forwardBackwardMilliseconds: Double
        public var hessianVectorProductMilliseconds: Double
        public var sgemmGigaflops: Double
        public var rows: Int
        public var hidden: Int
        public var repeats: Int
        /// The instruction set of the Float C kernels on this machine ("avx512", "avx2", "baseline").
        public var kernelInstructionSet: String
        /// The BLAS kernel family (OpenBLAS's core name, or "Accelerate").
        public var blasCore: String

        enum CodingKeys: String, CodingKey {
            case forwardMilliseconds = "forward_ms"
            case forwardBackwardMilliseconds = "forward_backward_ms"
            case hessianVectorProductMilliseconds = "hvp_ms"
            case sgemmGigaflops = "sgemm_gflops"
            case rows, hidden, repeats
            case kernelInstructionSet = "kernel_instruction_set"
            case blasCore = "blas_core"
        }
    }

    /// Rows of the batch (4,000 in the reference).
    public var rows = 4000
    /// Width of both hidden layers (64 in the reference).
    public var hidden = 64
    /// Timed runs per measurement; the median is reported.
    public var repeats = 200

    public init(rows: Int = 4000, hidden: Int = 64, repeats: Int = 200) {
        self.rows = rows
        self.hidden = hidden
        self.repeats = repeats
    }

    public func run() -> Result {
        var rng = RandomStream.derive(seed: 0, purpose: .testFixture)
        let network = MLP(layerSizes: [2, hidden, hidden, 2], activation: .tanh)
        // The reference's initialisation: N(0, 1) first layer, N(0, 0.01) after, zero biases.
        var parameters: [Tensor<Float>] = [
            .normal([2, hidden], using: &rng), .zeros([hidden]),
            .normal([hidden, hidden], standardDeviation: 0.1, using: &rng), .zeros([hidden]),
            .normal([hidden, 2], standardDeviation: 0.1, using: &rng), .zeros([2]),
        ]
        parameters.append(.zeros([2]))  // log σ
        let observations = Tensor<Float>.normal([rows, 2], using: &rng)
        let actions = Tensor<Float>.normal([rows, 2], using: &rng)
        let advantages = Tensor<Float>.normal([rows, 1], using: &rng)
        let direction = parameters.map { Tensor<Float>.normal($0.shape, using: &rng) }

        func loss(_ theta: [Tensor<Float>]) -> Tensor<Float> {
            let mean = network(observations, parameters: Array(theta.dropLast()))
            let logStd = theta.last!
            let z = (actions - mean) / logStd.exp()
            let logProbability = (-0.5 * z.squared() - logStd).sum(alongAxis: 1, keepingDimension: true)
            return -(logProbability * advantages).mean()
        }

        let forward = Timing.medianSeconds(repeats: repeats) { _ = loss(parameters) }
        let forwardBackward = Timing.medianSeconds(repeats: repeats) {
            let theta = parameters.map { Tensor.variable($0) }
            _ = gradients(of: loss(theta), wrt: theta)
        }
        let hessianVector = Timing.medianSeconds(repeats: repeats) {
            let theta = parameters.map { Tensor.variable($0) }
            let g = gradients(of: loss(theta), wrt: theta, createGraph: true)
            let gv = zip(g, direction).map { Tensor.dot($0, $1) }.reduce(Tensor(0), +)
            _ = gradients(of: gv, wrt: theta)
        }
        let a = Tensor<Float>.normal([rows, hidden], using: &rng)
        let b = Tensor<Float>.normal([hidden, hidden], using: &rng)
        let product = Timing.medianSeconds(repeats: repeats * 2) { _ = Tensor.matmul(a, b) }
        return Result(
            forwardMilliseconds: forward * 1e3,
            forwardBackwardMilliseconds: forwardBackward * 1e3,
            hessianVectorProductMilliseconds: hessianVector * 1e3,
            sgemmGigaflops: 2 * Double(rows * hidden * hidden) / product / 1e9,
            rows: rows, hidden: hidden, repeats: repeats, kernelInstructionSet: Float.kernelInstructionSet,
            blasCore: ComputeEnvironment.blasCore)
    }
}
