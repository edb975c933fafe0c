import ArgumentParser
import Environments
import Experiments
import Foundation

struct BenchEnvsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envs",
        abstract: "Environment steps per second: a batch stepped with random actions, no policy (release build).",
        discussion: """
            Splits --environments environments over --threads threads (each thread steps its own \
            slice), draws a uniform random action for every environment at every step, and steps \
            with autoreset on the next step. Batches are built and warmed up before timing. Prints \
            the median over --repeats runs of --steps steps each.

            Examples:
              metarl bench envs four-rooms                       # position (x, y) observation
              metarl bench envs four-rooms --observation egocentric --threads 1
              metarl bench envs navigation --json
            """
    )

    @Argument(help: "A preset's short name or a path to a spec file.")
    var spec: String

    @Option(parsing: .unconditional, help: "Environments in the batch.")
    var environments = 4096

    @Option(parsing: .unconditional, help: "Steps per environment in each timed run.")
    var steps = 1000

    @Option(parsing: .unconditional, help: "Timed runs; the median is reported.")
    var repeats = 5

    @Option(parsing: .unconditional, help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "Gridworlds: replace the spec's observation (coordinates, one-hot, grid, egocentric).")
    var observation: String?

    @Option(parsing: .unconditional, help: "Egocentric view: cells per side (odd).")
    var viewSize = 7

    @Flag(inversion: .prefixedNo, help: "Egocentric view: walls and closed doors hide what is behind them.")
    var occlusion = true

    @Flag(help: "Print one JSON object with steps_per_second.")
    var json = false

    func validate() throws {
        try require(environments, "--environments", in: 1...10_000_000)
        try require(steps, "--steps", in: 1...100_000_000)
        try require(repeats, "--repeats", in: 1...10_000)
        if let threads, threads < 1 || threads > environments {
            throw ValidationError("--threads must lie in 1...\(environments), got \(threads)")
        }
        try require(viewSize, "--view-size", in: 3...63)
        guard viewSize % 2 == 1 else { throw ValidationError("--view-size must be odd and at least 3, got \(viewSize)") }
    }

    func run() throws {
        let loaded = try EnvironmentSpec.load(spec)
        let benchmark = EnvironmentBenchmark(environments: environments, steps: steps,
                                             threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, repeats: repeats)
        var family = loaded.family
        if let observation {
            do {
                func observing<F: EnvironmentFamily>(_ f: F) throws -> AnyEnvironmentFamily {
                    AnyEnvironmentFamily(try f.observing(observation, viewSize: viewSize, occlusion: occlusion))
                }
                family = try observing(family.base)
            } catch let error as SpecError {
                throw CommandFailure(description: "--observation: \(error.message) (\(loaded.name) is a \(family.name) spec)")
            }
        }
        func measure<F: EnvironmentFamily>(_ f: F) -> EnvironmentBenchmark.Result {
            benchmark.run(distribution: f) { f.makeBatch(count: $0, autoreset: .nextStep) }
        }
        let result = measure(family.base)
        let observed = family.base.observationName
        if json {
            try printJSON(result)
        } else {
            print("\(loaded.name) (\(observed) observation): \(result.environments) environments, \(result.threads) threads, \(result.stepsPerEnvironment) steps each")
            print(String(format: "  steps/s (median of %d)   %.3g", result.repeats, result.stepsPerSecond))
            print("  runs                     " + result.runs.map { String(format: "%.3g", $0) }.joined(separator: "  "))
        }
    }
}
