import ArgumentParser
import Environments
import Experiments
import Foundation

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time meta-training iterations of a learner with its default configuration (release build).",
        discussion: """
            Runs --iterations meta-iterations in memory (no run directory) and prints the median \
            seconds per iteration with its breakdown (sampling and adaptation for sampling, \
            meta-gradient, conjugate gradient, line search), the sampler's environment steps per \
            second, environment steps per wall-clock second of whole iterations (updates included), \
            and the peak resident memory of the process.

            Examples:
              metarl bench train navigation
              metarl bench train navigation --algo promp --json
              metarl bench train --config configs/rl2-gridnavi.toml --iterations 300
            """
    )

    @Argument(help: "A preset's short name or a path to a spec file (default: the --config file's spec).")
    var spec: String?

    @Option(help: "A settings file (as `metarl train --config` takes) to time instead of the defaults.")
    var config: String?

    @Option(name: .customLong("algo"), help: "The meta-learner (default maml-trpo, or the --config file's; `metarl train --help` lists them).")
    var algorithmOption: String?

    var algorithm: String { algorithmOption ?? "maml-trpo" }

    @Option(help: "The outer optimiser: trpo, adam or ppo (default: the learner's own).")
    var outer: String?

    @Option(parsing: .unconditional, help: "Meta-iterations to time.")
    var iterations = 10

    @Option(parsing: .unconditional, help: "Threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print one JSON object with seconds_per_iteration, peak_rss_mb and the breakdown.")
    var json = false

    func validate() throws {
        try require(iterations, "--iterations", in: 1...1_000_000)
        if let threads { try require(threads, "--threads", in: 1...256) }
    }

    func run() throws {
        let file = try config.map { try TrainingConfiguration.loadGivenKeys(file: URL(fileURLWithPath: $0)) }
        var configuration = file?.configuration ?? TrainingConfiguration()
        if let spec { configuration.spec = spec }
        guard spec != nil || file?.keys.contains("spec") == true else {
            throw ValidationError("give a spec, or a --config file with a `spec` key")
        }
        let loaded = try EnvironmentSpec.load(configuration.spec)
        configuration.iterations = iterations
        if file?.keys.contains("algorithm") != true || algorithmOption != nil { configuration.algorithm = algorithm }
        if let outer { configuration.outer = outer }
        configuration.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let result: TrainingBenchmark.Result
        do {
            result = try TrainingBenchmark(configuration: configuration, family: loaded.family).run()
        } catch RunError.invalidConfiguration(let setting, let reason) {
            throw CommandFailure(description: "--\(setting == "algorithm" ? "algo" : setting): \(reason)")
        }
        if json {
            try printJSON(result)
        } else {
            print("\(loaded.name) \(configuration.algorithm): median of \(iterations) meta-iterations, \(result.threads) threads, BLAS kernels \(result.blasCore)")
            print(String(format: "  seconds per iteration   %.3f", result.secondsPerIteration))
            print(String(format: "    sampling + adapting   %.3f", result.secondsSampling))
            print(String(format: "    meta-gradient         %.3f", result.secondsMetaGradient))
            print(String(format: "    conjugate gradient    %.3f", result.secondsConjugateGradient))
            print(String(format: "    line search           %.3f", result.secondsLineSearch))
            print(String(format: "    other outer step      %.3f", result.secondsOuterStep))
            print(String(format: "  sampler steps/s         %.0f", result.samplerStepsPerSecond))
            print(String(format: "  training steps/s        %.0f (whole iterations)", result.trainingStepsPerSecond))
            print(String(format: "  peak resident memory    %.0f MB (estimated before the run: %.0f MB)",
                         result.peakResidentMegabytes, result.estimatedMegabytes))
        }
    }
}
