import Environments
import Experiments
import Foundation

/// The text beside the arena: what is shown, where the playback is, and the returns per step.
public struct HeadsUpDisplay: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public enum Style: Sendable, Equatable {
            case title, body, muted
            /// A return row with the colour swatch of its adaptation step.
            case step(Int)
        }

        public var text: String
        public var style: Style
    }

    public var lines: [Line]

    /// Whether a window's playback runs, is paused or has reached its last frame.
    public enum PlaybackStatus: Sendable, Equatable {
        case playing, paused, ended

        /// What the window says of it (nothing while playing).
        public var notice: String? {
            switch self {
            case .playing: nil
            case .paused: "PAUSED · space plays, ← → step"
            case .ended: "PLAYBACK ENDED · r replays, n next task"
            }
        }
    }

    /// - Parameters:
    ///   - position: the frame shown; nil for the summary picture (no playback state).
    ///   - shownEpisodes: episodes drawn per step (the returns are over all sampled episodes).
    ///   - status: the window's playback state (nil for a picture).
    public init(recording: AdaptationRecording, position: Timeline.Position?, shownEpisodes: Int, stepsPerSecond: Double? = nil,
                status: PlaybackStatus? = nil) {
        var lines: [Line] = []
        func add(_ text: String, _ style: Line.Style = .body) { lines.append(Line(text: text, style: style)) }
        add("\(recording.specName) · \(recording.family.name.replacingOccurrences(of: "-", with: " "))", .title)
        if let notice = status?.notice { add(notice) }
        add("policy: \(recording.policyDescription)", .muted)
        add("task \(recording.taskIndex) of seed \(recording.seed)")
        for detail in Self.taskDetails(recording) { add("  \(detail)", .muted) }
        if let first = recording.stepSizes.first {
            let later = recording.stepSizes.dropFirst().first
            add(later.map { $0 == first ? "α = \(Self.short(first)) every step" : "α = \(Self.short(first)), then \(Self.short($0))" }
                ?? "α = \(Self.short(first))")
        }
        add("")
        let trial = recording.stages == .trialEpisodes
        if let position {
            add(trial ? "episode \(position.step + 1) of the trial (of \(recording.episodes.count))"
                : "adaptation step \(position.step) of \(recording.adaptationSteps)")
            let length = recording.episodes[position.step].lengths[position.episode]
            add("\(trial ? "trial" : "episode") \(position.episode + 1) of \(shownEpisodes) · t = \(position.time) / \(length)")
            let soFar = recording.rewards(step: position.step, episode: position.episode).prefix(position.time)
                .reduce(0.0) { $0 + Double($1) }
            add("return so far \(Self.value(soFar))")
            add("")
        }
        let episodes = recording.episodes.first?.episodeCount ?? 0
        add(trial ? "mean return over \(episodes) trials" : "mean return over \(episodes) episodes", .muted)
        for (step, value) in recording.meanReturns.enumerated() {
            let reached = position.map { step <= $0.step } ?? true
            add("\(trial ? "episode \(step + 1)" : "step \(step)")   \(reached ? Self.value(value) : "…")", .step(step))
        }
        if let stepsPerSecond {
            add("")
            add("\(Self.short(stepsPerSecond)) steps/s · h: help", .muted)
        }
        self.lines = lines
    }

    /// The task's parameters that differ between tasks of its family.
    static func taskDetails(_ recording: AdaptationRecording) -> [String] { recording.family.details(of: recording.task) }

    static func value(_ v: Double) -> String { String(format: "%.2f", v) }
    static func short(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e6 ? String(Int(v)) : String(format: "%g", v)
    }
}
