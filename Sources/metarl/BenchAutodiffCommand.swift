import ArgumentParser
import Experiments
import Foundation

struct BenchAutodiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autodiff",
        abstract: "Time forward, forward+backward and a Hessian–vector product of a policy-gradient loss.",
        discussion: """
            The workload of shared/bench/torch_mlp.py: a Gaussian policy-gradient loss of a tanh MLP \
            2→H→H→2 with a learned log-std on a batch of rows, single-threaded. Prints medians over \
            --repeats timed runs (after a few untimed ones), and the GFLOP/s of one rows×H·H×H \
            matrix product. Compare with PyTorch on one thread:
              python3 shared/bench/torch_mlp.py
            OpenBLAS picks its kernels for the CPU unless OPENBLAS_CORETYPE says otherwise; the \
            report names the kernels used.
            """
    )

    @Option(parsing: .unconditional, help: "Rows in the batch.")
    var rows = 4000

    @Option(parsing: .unconditional, help: "Width of both hidden layers.")
    var hidden = 64

    @Option(parsing: .unconditional, help: "Timed runs per figure; the median is printed.")
    var repeats = 200

    @Flag(help: "Print one JSON object with forward_ms, forward_backward_ms, hvp_ms, sgemm_gflops.")
    var json = false

    func validate() throws {
        try require(rows, "--rows", in: 1...10_000_000)
        try require(hidden, "--hidden", in: 1...10_000)
        try require(repeats, "--repeats", in: 1...1_000_000)
    }

    func run() throws {
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
