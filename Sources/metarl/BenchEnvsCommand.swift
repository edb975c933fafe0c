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
        let result: EnvironmentBenchmark.Result
        var observed: String
        switch loaded.family {
        case .pointRobot(let family):
            if observation != nil { throw CommandFailure(description: "--observation applies to gridworlds; \(loaded.name) is a point-robot spec") }
            observed = "position"
            result = benchmark.run(distribution: family) { PointRobotBatch(family: family, count: $0, autoreset: .nextStep) }
        case .gridworld(var family):
            if let observation {
                switch observation {
                case "coordinates", "position": family.observation = .coordinates
                case "one-hot": family.observation = .oneHot
                case "grid": family.observation = .grid
                case "egocentric": family.observation = .egocentric(size: viewSize, occlusion: occlusion)
                default:
                    throw ValidationError("--observation must be coordinates, one-hot, grid or egocentric, got \(observation)")
                }
            }
            observed = family.observation.name
            if case .egocentric(let size, let occluded) = family.observation {
                observed += " \(size)×\(size)" + (occluded ? " occluded" : " see-through")
            }
            let chosen = family
            result = benchmark.run(distribution: chosen) { GridworldBatch(family: chosen, count: $0, autoreset: .nextStep) }
        }
        if json {
            try printJSON(result)
        } else {
            print("\(loaded.name) (\(observed) observation): \(result.environments) environments, \(result.threads) threads, \(result.stepsPerEnvironment) steps each")
            print(String(format: "  steps/s (median of %d)   %.3g", result.repeats, result.stepsPerSecond))
            print("  runs                     " + result.runs.map { String(format: "%.3g", $0) }.joined(separator: "  "))
        }
    }
}
