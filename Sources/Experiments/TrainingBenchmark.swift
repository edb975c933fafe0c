import Autodiff
import Environments
import Foundation
import MetaLearning

/// `metarl bench train`: meta-iterations of the default configuration on a spec, in memory (no
/// run directory), timed part by part.
public struct TrainingBenchmark: Sendable {
    public struct Result: Sendable, Codable, Equatable {
        public var secondsPerIteration: Double
        public var secondsSampling: Double
        public var secondsMetaGradient: Double
        public var secondsConjugateGradient: Double
        public var secondsLineSearch: Double
        /// Seconds of an outer step that is not TRPO's (Adam, PPO's epochs after the first gradient, Reptile).
        public var secondsOuterStep: Double
        /// Environment steps per wall-clock second of whole iterations, updates included.
        public var trainingStepsPerSecond: Double
        public var algorithm: String
        /// Environment steps per second during sampling (all tasks, both phases).
        public var samplerStepsPerSecond: Double
        public var peakResidentMegabytes: Double
        /// What `TrainingConfiguration.estimatedMemory(for:)` predicted, the figure runs are refused by.
        public var estimatedMegabytes: Double
        public var iterations: Int
        public var threads: Int
        public var blasCore: String

        enum CodingKeys: String, CodingKey {
            case secondsPerIteration = "seconds_per_iteration"
            case secondsSampling = "sampling_s"
            case secondsMetaGradient = "meta_gradient_s"
            case secondsConjugateGradient = "conjugate_gradient_s"
            case secondsLineSearch = "line_search_s"
            case secondsOuterStep = "outer_step_s"
            case trainingStepsPerSecond = "training_steps_per_second"
            case algorithm
            case samplerStepsPerSecond = "sampler_steps_per_second"
            case peakResidentMegabytes = "peak_rss_mb"
            case estimatedMegabytes = "estimated_memory_mb"
            case iterations, threads
            case blasCore = "blas_core"
        }
    }

    public var configuration: TrainingConfiguration
    public var family: AnyEnvironmentFamily

    public init(configuration: TrainingConfiguration, family: AnyEnvironmentFamily) {
        self.configuration = configuration
        self.family = family
    }

    /// Runs `configuration.iterations` meta-iterations; every figure is the median over them.
    public func run(progress: (IterationReport) -> Void = { _ in }) throws -> Result {
        try configuration.validate()
        try configuration.checkMemory(for: family)
        var trainer = MetaTrainer(configuration: configuration, family: family)
        var reports: [IterationReport] = []
        var stepsPerSecond: [Double] = []
        for _ in 0..<configuration.iterations {
            let report = try trainer.runIteration()
            reports.append(report)
            // Steps actually taken: every task's train and validation episodes.
            let steps = Double(report.environmentSteps)
            stepsPerSecond.append(steps / report.secondsSampling)
            progress(report)
        }
        let median = { (values: [Double]) in Timing.median(values) }
        return Result(
            secondsPerIteration: median(reports.map(\.secondsTotal)),
            secondsSampling: median(reports.map(\.secondsSampling)),
            secondsMetaGradient: median(reports.map { $0.metric("time/meta_gradient") }),
            secondsConjugateGradient: median(reports.map { $0.metric("time/conjugate_gradient") }),
            secondsLineSearch: median(reports.map { $0.metric("time/line_search") }),
            secondsOuterStep: median(reports.map { $0.metric("time/outer_step") }),
            trainingStepsPerSecond: median(reports.map { Double($0.environmentSteps) / $0.secondsTotal }),
            algorithm: configuration.algorithm,
            samplerStepsPerSecond: median(stepsPerSecond),
            peakResidentMegabytes: Self.peakResidentMegabytes(),
            estimatedMegabytes: configuration.estimatedMemory(for: family).bytes / 1e6,
            iterations: configuration.iterations, threads: configuration.threads,
            blasCore: Autodiff.ComputeEnvironment.blasCore)
    }

    /// The process's peak resident set size so far.
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(Linux)
        return Double(usage.ru_maxrss) / 1024          // kilobytes on Linux
        #else
        return Double(usage.ru_maxrss) / (1024 * 1024) // bytes on Darwin
        #endif
    }
}
