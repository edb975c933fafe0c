import ArgumentParser
import Autodiff
import Experiments
import Foundation

@main
struct MetaRLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metarl",
        abstract: "Meta-reinforcement learning: environment families, meta-learners, benchmarks.",
        discussion: """
            MetaRL trains policies that adapt to a new task in a few policy-gradient steps.

            Examples:
              metarl train navigation --out runs/nav   meta-train with MAML-TRPO
              metarl eval runs/nav                     returns after 0–3 adaptation steps
              metarl sweep sweep.toml --jobs 2         settings × seeds, with a summary
              metarl report runs/sweep                 results per setting, over seeds
              metarl plot runs/sweep --out curves.png  learning curves, seeds aggregated
              metarl watch runs/nav                    watch it adapt, in a window
              metarl render runs/nav --out nav.png     the same as one picture
              metarl envs list                         the environment presets
              metarl envs show navigation              a preset's parameters and tasks
              metarl bench train navigation            seconds per meta-iteration
              metarl bench autodiff                    the differentiable core vs PyTorch
            """,
        version: RunMetadata.version,
        subcommands: [TrainCommand.self, SweepCommand.self, ReportCommand.self, PlotCommand.self, EvalCommand.self, WatchCommand.self, RenderCommand.self, EnvsCommand.self, BenchCommand.self]
    )

    static func main() {
        relaunchWithBetterBLASKernelsIfNeeded()
        // One BLAS thread, tensor buffers kept by the allocator: see ComputeEnvironment.
        ComputeEnvironment.prepare()
        if let problem = ProcessGroup.start() {
            FileHandle.standardError.write(Data("Error: \(problem)\n".utf8))
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            if ProcessGroup.world.size > 1, !(command is TrainCommand), (command as? SweepCommand)?.mpi != true {
                throw CommandFailure(description: "only `metarl train` and `metarl sweep --mpi` run across MPI processes; run other commands without mpirun")
            }
            try command.run()
            ProcessGroup.finish()
        } catch {
            // --help and --version end here too, with status 0; every bad input exits with 2.
            guard exitCode(for: error) != .success else { exit(withError: error) }
            if ProcessGroup.world.size == 1 || ProcessGroup.world.isLeader || !(error is ValidationError || error is CommandFailure) {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            }
            // The other ranks would wait for this one forever.
            if ProcessGroup.world.size > 1 { ProcessGroup.abort(status: 2) }
            Foundation.exit(2)
        }
    }

    /// Starts this program again with `OPENBLAS_CORETYPE` set when OpenBLAS fell back to generic
    /// kernels on a CPU that runs better ones (see `ComputeEnvironment.recommendedBLASCore`); the
    /// variable is read only when the library loads. Set to anything, it stops the relaunch, so
    /// this happens at most once. If the relaunch fails, the program goes on as it is.
    private static func relaunchWithBetterBLASKernelsIfNeeded() {
        guard let core = ComputeEnvironment.recommendedBLASCore,
              let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        // The executable's own path (not /proc/self/exe), so that ps and top still say "metarl".
        execv(executable, CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
    }
}
