/// Where a playback is and how fast it runs; the window turns keys into these commands.
///
/// Time advances in frames (one frame = one environment step); the speed is in environment steps
/// per second. Playback stops on the last frame until replayed.
public struct Playback: Sendable, Equatable {
    public let timeline: Timeline
    /// The current frame, fractional between two frames.
    public private(set) var position: Double = 0
    public private(set) var isPaused = false
    /// Environment steps shown per second.
    public private(set) var stepsPerSecond: Double

    public static let speeds: ClosedRange<Double> = 7.5...1920

    public init(timeline: Timeline, stepsPerSecond: Double = 60) {
        self.timeline = timeline
        self.stepsPerSecond = min(max(stepsPerSecond, Self.speeds.lowerBound), Self.speeds.upperBound)
    }

    public var frame: Int { Int(position) }
    public var current: Timeline.Position { timeline.position(ofFrame: frame) }
    public var isAtEnd: Bool { frame >= timeline.frameCount - 1 }

    /// Moves on by `seconds` of wall time (nothing while paused).
    public mutating func advance(by seconds: Double) {
        guard !isPaused else { return }
        position = min(position + seconds * stepsPerSecond, Double(timeline.frameCount - 1))
    }

    public mutating func togglePause() { isPaused.toggle() }

    /// One frame forward or back (`by: -1`), pausing the playback.
    public mutating func stepFrame(by frames: Int) {
        isPaused = true
        position = Double(min(max(frame + frames, 0), timeline.frameCount - 1))
    }

    public mutating func faster() { stepsPerSecond = min(stepsPerSecond * 2, Self.speeds.upperBound) }
    public mutating func slower() { stepsPerSecond = max(stepsPerSecond / 2, Self.speeds.lowerBound) }

    /// To the first frame of adaptation step `step`; nothing if there is no such step.
    public mutating func jump(toStep step: Int) {
        if let first = timeline.firstFrame(ofStep: step) { position = Double(first) }
    }

    public mutating func replay() {
        position = 0
        isPaused = false
    }
}
