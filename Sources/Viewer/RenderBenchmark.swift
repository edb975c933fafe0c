#if Viewer
import Experiments
import Foundation

/// Times the drawing of playback frames: the viewer's 60-frames-per-second budget is 16.7 ms.
public enum RenderBenchmark {
    public struct Result: Sendable, Encodable {
        public var target: String
        public var width: Int
        public var height: Int
        public var trajectories: Int
        public var framesTimed: Int
        public var medianMilliseconds: Double
        public var framesPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case target, width, height, trajectories
            case framesTimed = "frames_timed"
            case medianMilliseconds = "median_ms_per_frame"
            case framesPerSecond = "frames_per_second"
        }
    }

    /// Draws every frame of the last shown episode of the last step (all other shown episodes of
    /// that step already on screen) `repeats` times, on `painter`, calling `present` after each
    /// frame, and returns the median time per frame.
    public static func time(
        _ recording: AdaptationRecording, shownEpisodes: Int, repeats: Int, target: String,
        width: Int, height: Int, painter: Painter, present: () -> Void
    ) -> Result {
        let renderer = makeRenderer(for: recording, shownEpisodes: shownEpisodes)
        let timeline = renderer.timeline
        let lastLength = timeline.lengths.last!.last!
        let frames = (timeline.frameCount - lastLength - 1)..<timeline.frameCount
        var milliseconds: [Double] = []
        for _ in 0..<repeats {
            for frame in frames {
                let start = DispatchTime.now().uptimeNanoseconds
                renderer.draw(on: painter, width: width, height: height, position: timeline.position(ofFrame: frame), stepsPerSecond: 60, showsHelp: false)
                painter.flushDrawing()
                present()
                milliseconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
        }
        milliseconds.sort()
        let median = milliseconds[milliseconds.count / 2]
        return Result(target: target, width: width, height: height, trajectories: renderer.shownEpisodes,
                      framesTimed: milliseconds.count, medianMilliseconds: median, framesPerSecond: 1000 / median)
    }
}
#endif
