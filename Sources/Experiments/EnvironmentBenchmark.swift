import Dispatch
import Environments
import Foundation
import MetaLearning

/// `metarl bench envs`: raw environment throughput — a batch stepped with random actions and
/// autoreset, split over threads, no policy.
///
/// Each thread owns a slice of the batch (its own `VectorEnvironment`, buffers and action
/// stream), built and warmed up before the clock starts; the timed loop draws random actions and
/// steps, nothing else. Steps per second count every environment step of every thread.
public struct EnvironmentBenchmark: Sendable {
    public struct Result: Sendable, Codable, Equatable {
        public var stepsPerSecond: Double
        /// Median over repeats of the wall time of one timed run.
        public var secondsPerRun: Double
        public var environments: Int
        public var stepsPerEnvironment: Int
        public var threads: Int
        public var repeats: Int
        /// Every repeat's steps per second, in order.
        public var runs: [Double]

        enum CodingKeys: String, CodingKey {
            case stepsPerSecond = "steps_per_second"
            case secondsPerRun = "seconds_per_run"
            case environments
            case stepsPerEnvironment = "steps_per_environment"
            case threads, repeats, runs
        }
    }

    public var environments: Int
    public var steps: Int
    public var threads: Int
    public var repeats: Int

    public init(environments: Int = 4096, steps: Int = 1000, threads: Int, repeats: Int = 5) {
        precondition(environments >= threads && threads >= 1 && steps >= 1 && repeats >= 1, "invalid benchmark sizes")
        self.environments = environments
        self.steps = steps
        self.threads = threads
        self.repeats = repeats
    }

    /// One thread's share: a batch and what stepping it needs, mutated in place by its worker.
    private final class Slice<Environment: VectorEnvironment>: @unchecked Sendable {
        var environment: Environment
        var buffers: StepBuffers
        var actions: [Float]
        var stream: SplitMix64
        let drawActions: @Sendable (inout [Float], inout SplitMix64) -> Void

        init(environment: Environment, stream: SplitMix64, drawActions: @escaping @Sendable (inout [Float], inout SplitMix64) -> Void) {
            self.environment = environment
            buffers = environment.makeBuffers()
            actions = [Float](repeating: 0, count: environment.count * environment.actionSpace.dimension)
            self.stream = stream
            self.drawActions = drawActions
        }

        func run(steps: Int) {
            for _ in 0..<steps {
                drawActions(&actions, &stream)
                environment.step(actions, into: &buffers)
            }
        }
    }

    /// Times `family`'s batches. `makeBatch(count)` builds a batch with autoreset; tasks are drawn
    /// from the family with the benchmark's own stream.
    public func run<Environment: VectorEnvironment, Distribution: TaskDistribution>(
        distribution: Distribution, makeBatch: (Int) -> Environment
    ) -> Result where Distribution.Task == Environment.Task {
        let sizes = (0..<self.threads).map { environments / threads + ($0 < environments % threads ? 1 : 0) }
        let slices = sizes.enumerated().map { index, size -> Slice<Environment> in
            var batch = makeBatch(size)
            var rng = RandomStream.derive(seed: 0, purpose: .trainingTasks, index: index)
            let tasks = distribution.sampleTasks(count: size, using: &rng)
            var buffers = batch.makeBuffers()
            batch.reset(tasks: tasks, seeds: (0..<size).map { _ in rng.next() }, into: &buffers)
            return Slice(environment: batch, stream: RandomStream.derive(seed: 0, purpose: .policySampling, index: index),
                         drawActions: Self.randomActions(for: batch.actionSpace))
        }
        let (threadCount, steps) = (threads, self.steps)
        // Warm up: first touches of every page, caches, branch predictors.
        DispatchQueue.concurrentPerform(iterations: threadCount) { slices[$0].run(steps: min(steps, 100)) }
        var runs: [Double] = []
        var seconds: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<repeats {
            let start = clock.now
            DispatchQueue.concurrentPerform(iterations: threadCount) { slices[$0].run(steps: steps) }
            let elapsed = (clock.now - start).inSeconds
            seconds.append(elapsed)
            runs.append(Double(environments * steps) / elapsed)
        }
        let medianSeconds = seconds.sorted()[seconds.count / 2]
        return Result(stepsPerSecond: Double(environments * steps) / medianSeconds, secondsPerRun: medianSeconds,
                      environments: environments, stepsPerEnvironment: steps, threads: threadCount, repeats: repeats, runs: runs)
    }

    /// A uniform random action per environment. Discrete: 16 bits of a draw per environment,
    /// mapped to 0..<n by multiply-and-shift, four environments per 64-bit draw. Box: uniform in
    /// the bounds.
    static func randomActions(for space: Space) -> @Sendable (inout [Float], inout SplitMix64) -> Void {
        switch space {
        case .discrete(let n):
            return { actions, rng in
                actions.withUnsafeMutableBufferPointer { a in
                    var i = 0
                    while i < a.count {
                        var bits = rng.next()
                        var j = 0
                        while j < 4 && i < a.count {
                            a[i] = Float((UInt32(bits & 0xFFFF) &* UInt32(n)) >> 16)
                            bits >>= 16
                            i += 1
                            j += 1
                        }
                    }
                }
            }
        case .box(let lower, let upper):
            let d = lower.count
            let (lo, width) = (lower.map(Float.init), zip(lower, upper).map { Float($1 - $0) })
            return { actions, rng in
                for i in 0..<actions.count {
                    let u = Float(rng.next() >> 40) * 0x1p-24
                    actions[i] = lo[i % d] + width[i % d] * u
                }
            }
        }
    }
}
