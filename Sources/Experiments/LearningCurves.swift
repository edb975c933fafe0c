import Foundation

/// The curves `metarl plot` draws, computed from recorded runs: per setting, the mean over seeds
/// and a 95% confidence band at each point, for the learning curves (return against iterations or
/// environment steps) and the adaptation curve (return against adaptation steps or the episodes
/// of a trial, from each run's last evaluation).
public struct LearningCurves: Sendable {
    /// One line with its band: x, the mean over seeds, and the band's lower and upper edges
    /// (equal to the mean where there is one seed).
    public struct Series: Sendable, Equatable {
        public var x: [Double]
        public var mean: [Double]
        public var lower: [Double]
        public var upper: [Double]
        public var seeds: Int

        public init(x: [Double], mean: [Double], lower: [Double], upper: [Double], seeds: Int) {
            (self.x, self.mean, self.lower, self.upper, self.seeds) = (x, mean, lower, upper, seeds)
        }
    }

    public enum Source: String, Sendable, CaseIterable {
        /// `progress.csv`: the meta-batch's returns before and after adaptation.
        case training
        /// `eval.csv`: held-out returns before adaptation and after the last step (or in the first
        /// and last episodes of a trial).
        case evaluation = "eval"
    }

    public enum XAxis: String, Sendable, CaseIterable {
        case iterations
        case steps
    }

    public struct Setting: Sendable {
        public init(label: String, before: Series? = nil, after: Series? = nil, adaptation: Series? = nil) {
            self.label = label
            self.before = before
            self.after = after
            self.adaptation = adaptation
        }

        public var label: String
        /// Before adaptation (step 0, the first episode of a trial) and after it.
        public var before: Series?
        public var after: Series?
        /// The last evaluation's return at each adaptation step or trial episode.
        public var adaptation: Series?
    }

    public var settings: [Setting]
    public var source: Source
    public var xAxis: XAxis
    /// Whether the runs adapt in memory (the adaptation curve is then over a trial's episodes).
    public var trialEpisodes: Bool

    public init(settings: [Setting], source: Source, xAxis: XAxis, trialEpisodes: Bool) {
        self.settings = settings
        self.source = source
        self.xAxis = xAxis
        self.trialEpisodes = trialEpisodes
    }

    /// - Parameter smoothing: each run's training curve is a moving average over this many
    ///   iterations before seeds are combined (1: none).
    public init(groups: [SettingGroup], source: Source, xAxis: XAxis, smoothing: Int) {
        self.source = source
        self.xAxis = xAxis
        trialEpisodes = groups.first?.runs.first?.configuration.adaptsInMemory ?? false
        settings = groups.map { group in
            let curves: [(x: [Double], before: [Double], after: [Double])] = group.runs.map { run in
                switch source {
                case .training:
                    let rows = run.progress.filter { $0["iteration"] != nil }
                    let x = rows.map { xAxis == .iterations ? $0["iteration"]! : $0["environment_steps"] ?? .nan }
                    return (x, Self.movingAverage(rows.map { $0["returns/before"] ?? .nan }, window: smoothing),
                            Self.movingAverage(rows.map { $0["returns/after"] ?? .nan }, window: smoothing))
                case .evaluation:
                    let iterations = Array(Set(run.evaluations.compactMap { $0["iteration"] })).sorted()
                    var x: [Double] = [], before: [Double] = [], after: [Double] = []
                    for i in iterations {
                        let rows = run.evaluations.filter { $0["iteration"] == i }
                        guard let first = rows.min(by: { $0["step"]! < $1["step"]! }), let last = rows.max(by: { $0["step"]! < $1["step"]! }) else { continue }
                        x.append(xAxis == .iterations ? i : first["environment_steps"] ?? .nan)
                        before.append(first["mean_return"] ?? .nan)
                        after.append(last["mean_return"] ?? .nan)
                    }
                    return (x, before, after)
                }
            }
            let adaptation = group.runs.compactMap(\.lastEvaluation).map { evaluation in
                evaluation.returns.keys.sorted().map { (Double($0), evaluation.returns[$0]!) }
            }
            return Setting(label: group.label, before: Self.combine(curves.map { ($0.x, $0.before) }),
                           after: Self.combine(curves.map { ($0.x, $0.after) }),
                           adaptation: Self.combine(adaptation.map { ($0.map(\.0), $0.map(\.1)) }))
        }
    }

    /// The seeds' curves combined point by point over the points all of them have (runs of one
    /// setting may have got to different iterations); x is the seeds' mean x there.
    static func combine(_ curves: [(x: [Double], y: [Double])]) -> Series? {
        let length = curves.map(\.y.count).min() ?? 0
        guard length > 0 else { return nil }
        var series = Series(x: [], mean: [], lower: [], upper: [], seeds: curves.count)
        for i in 0..<length {
            let ys = curves.map { $0.y[i] }.filter(\.isFinite)
            let xs = curves.map { $0.x[i] }.filter(\.isFinite)
            guard let stats = SeedStatistics(ys), !xs.isEmpty else { continue }
            series.x.append(xs.reduce(0, +) / Double(xs.count))
            series.mean.append(stats.mean)
            let half = stats.confidenceHalfWidth ?? 0
            series.lower.append(stats.mean - half)
            series.upper.append(stats.mean + half)
        }
        return series.x.isEmpty ? nil : series
    }

    /// The trailing moving average over `window` values (fewer at the start).
    static func movingAverage(_ values: [Double], window: Int) -> [Double] {
        guard window > 1 else { return values }
        var out: [Double] = [], sum = 0.0
        out.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            sum += v
            if i >= window { sum -= values[i - window] }
            out.append(sum / Double(min(i + 1, window)))
        }
        return out
    }
}
