import Foundation
import MetaLearning

/// Wall-clock timing for benchmarks: medians over repeated runs, because the machines are noisy.
public enum Timing {
    /// Seconds taken by `body`, measured with a monotonic clock.
    public static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        return (clock.now - start).inSeconds
    }

    /// The median of `repeats` timings of `body`, after `warmup` untimed runs.
    public static func medianSeconds(repeats: Int, warmup: Int = 3, _ body: () throws -> Void) rethrows -> Double {
        precondition(repeats > 0, "medianSeconds needs at least one repeat")
        for _ in 0..<warmup { try body() }
        var samples: [Double] = []
        samples.reserveCapacity(repeats)
        for _ in 0..<repeats { samples.append(try seconds(body)) }
        return median(samples)
    }

    /// The median of a non-empty sample (the mean of the two middle values for an even count).
    public static func median(_ samples: [Double]) -> Double {
        precondition(!samples.isEmpty, "median of no samples")
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
