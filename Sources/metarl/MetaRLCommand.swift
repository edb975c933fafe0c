import ArgumentParser
import Autodiff
import Foundation

@main
struct MetaRLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metarl",
        abstract: "Meta-reinforcement learning: environment families, meta-learners, benchmarks.",
        discussion: """
            MetaRL trains policies that adapt to a new task in a few policy-gradient steps.

            Examples:
              metarl envs list                 the environment presets
              metarl envs show navigation      a preset's parameters and a few of its tasks
              metarl bench autodiff            time the differentiable core (release build)
              metarl bench autodiff --json     the same, as one JSON object
            """,
        version: "0.1.0",
        subcommands: [TrainCommand.self, EvalCommand.self, EnvsCommand.self, BenchCommand.self]
    )

    static func main() {
        // One BLAS thread, tensor buffers kept by the allocator: see ComputeEnvironment.
        ComputeEnvironment.prepare()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            // --help and --version end here too, with status 0; every bad input exits with 2.
            guard exitCode(for: error) != .success else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}
