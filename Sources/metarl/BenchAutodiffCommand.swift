import ArgumentParser
import Experiments
import Foundation
import MetaLearning

struct BenchAutodiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autodiff",
        abstract: "Time forward, forward+backward and a Hessian–vector product of a policy-gradient loss, or a GRU/LSTM.",
        discussion: """
            --network mlp (default): a Gaussian policy-gradient loss of a tanh MLP 2→H→H→2 with a \
            learned log-std on a batch of rows, single-threaded. Prints medians over --repeats timed \
            runs (after a few untimed ones), and the GFLOP/s of one rows×H·H×H matrix product.

            --network gru or lstm: the recurrent core over --batch sequences of --steps steps with \
            --input inputs (RL²'s shape on GridNavi by default: 60 × 64 × 9, 64 hidden units), \
            forward and forward + backpropagation through time.

            Compare with PyTorch on one thread, same shapes (scripts/torch-bench.py; needs torch):
              python3 scripts/torch-bench.py mlp
              python3 scripts/torch-bench.py gru --steps 60 --batch 64 --input 9 --hidden 64
            OpenBLAS picks its kernels for the CPU unless OPENBLAS_CORETYPE says otherwise; the \
            report names the kernels used.
            """
    )

    @Option(help: "The network: mlp, gru or lstm.")
    var network = "mlp"

    @Option(parsing: .unconditional, help: "Rows in the batch (mlp).")
    var rows = 4000

    @Option(parsing: .unconditional, help: "Width of both hidden layers (mlp), or of the recurrent state.")
    var hidden = 64

    @Option(parsing: .unconditional, help: "Steps per sequence (gru, lstm).")
    var steps = 60

    @Option(parsing: .unconditional, help: "Sequences in the batch (gru, lstm).")
    var batch = 64

    @Option(parsing: .unconditional, help: "Inputs per step (gru, lstm).")
    var input = 9

    @Option(parsing: .unconditional, help: "Timed runs per figure; the median is printed.")
    var repeats = 200

    @Flag(help: "Print one JSON object with forward_ms, forward_backward_ms, hvp_ms, sgemm_gflops.")
    var json = false

    func validate() throws {
        try require(rows, "--rows", in: 1...10_000_000)
        try require(hidden, "--hidden", in: 1...10_000)
        try require(repeats, "--repeats", in: 1...1_000_000)
        guard ["mlp", "gru", "lstm"].contains(network) else { throw ValidationError("--network must be mlp, gru or lstm, got \"\(network)\"") }
        try require(steps, "--steps", in: 1...100_000)
        try require(batch, "--batch", in: 1...100_000)
        try require(input, "--input", in: 1...100_000)
    }

    func run() throws {
        if let kind = RecurrentPolicy.CellKind(rawValue: network) {
            let result = RecurrentBenchmark(cellKind: kind, steps: steps, batch: batch, inputSize: input, hidden: hidden,
                                            repeats: repeats).run()
            if json {
                try printJSON(result)
            } else {
                print("\(network.uppercased()) \(input)→\(hidden), \(batch) sequences × \(steps) steps, median of \(repeats) runs, one thread")
                print("BLAS kernels \(result.blasCore), pointwise kernels \(result.kernelInstructionSet)")
                print(String(format: "  forward                 %8.3f ms", result.forwardMilliseconds))
                print(String(format: "  forward + backward      %8.3f ms", result.forwardBackwardMilliseconds))
            }
            return
        }
        let result = AutodiffBenchmark(rows: rows, hidden: hidden, repeats: repeats).run()
        if json {
            try printJSON(result)
        } else {
            print("tanh MLP 2→\(hidden)→\(hidden)→2, \(rows) rows, median of \(repeats) runs, one thread")
            print("BLAS kernels \(result.blasCore), pointwise kernels \(result.kernelInstructionSet)")
            print(String(format: "  forward                 %8.3f ms", result.forwardMilliseconds))
            print(String(format: "  forward + backward      %8.3f ms", result.forwardBackwardMilliseconds))
            print(String(format: "  Hessian–vector product  %8.3f ms", result.hessianVectorProductMilliseconds))
            print(String(format: "  sgemm %d×%d·%d×%d     %8.1f GFLOP/s", rows, hidden, hidden, hidden, result.sgemmGigaflops))
        }
    }
}
