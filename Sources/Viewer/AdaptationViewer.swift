#if Viewer
import Experiments
import Foundation

/// Shows recordings of adaptation: played back in a window, written frame by frame, or drawn as
/// one summary picture. Recording (rolling out and adapting the policy) is done before playback
/// starts, so drawing never waits for the policy.
public enum AdaptationViewer {
    /// Plays `recording` in a window until the user quits; `n` records the next held-out task
    /// with `load(taskIndex)` and plays it.
    /// - Parameters:
    ///   - screenshots: the folder `s` writes PNG screenshots to.
    ///   - report: receives one line per event worth telling (a screenshot written or not, a task loaded).
    /// - Throws: `WindowError` when no window can be opened, `FontError` without a font, and
    ///   whatever `load` throws.
    public static func watch(
        _ recording: AdaptationRecording, shownEpisodes: Int, stepsPerSecond: Double, screenshots: URL,
        load: (Int) throws -> AdaptationRecording, report: (String) -> Void
    ) throws {
        let font = try FontFile.locate()
        var renderer = makeRenderer(for: recording, shownEpisodes: shownEpisodes)
        let window = try ViewerWindow(title: title(recording), width: 1120, height: 760, font: font)
        var playback = Playback(timeline: renderer.timeline, stepsPerSecond: stepsPerSecond)
        var showsHelp = false
        var last = ViewerWindow.now()
        let frameBudget = 1.0 / 60
        while true {
            for input in window.pendingInputs() {
                switch input {
                case .quit: return
                case .togglePause: playback.togglePause()
                case .frameBack: playback.stepFrame(by: -1)
                case .frameForward: playback.stepFrame(by: 1)
                case .faster: playback.faster()
                case .slower: playback.slower()
                case .jump(let step): playback.jump(toStep: step)
                case .replay: playback.replay()
                case .toggleHelp: showsHelp.toggle()
                case .screenshot:
                    // A screenshot that cannot be written is reported; the playback goes on.
                    let size = window.size
                    let position = playback.current
                    let name = "\(renderer.recording.specName)-task\(renderer.recording.taskIndex)-step\(position.step)-frame\(playback.frame).png"
                    let path = screenshots.appendingPathComponent(name).path
                    do {
                        let canvas = try OffscreenCanvas(width: size.width, height: size.height, font: font)
                        renderer.draw(on: canvas.painter, width: size.width, height: size.height, position: position,
                                      stepsPerSecond: playback.stepsPerSecond, showsHelp: false)
                        try canvas.savePNG(to: path)
                        report("screenshot: \(path)")
                    } catch {
                        report("screenshot failed: \(error)")
                    }
                case .nextTask:
                    // Sampling and adapting take a moment: say so on screen meanwhile.
                    let size = window.size
                    renderer.draw(on: window.painter, width: size.width, height: size.height, position: playback.current,
                                  stepsPerSecond: playback.stepsPerSecond, showsHelp: false)
                    window.painter.text("sampling and adapting on task \(renderer.recording.taskIndex + 1)…",
                                        x: ViewerLayout.margin + 12, y: ViewerLayout.margin + 10, Palette.text)
                    window.present()
                    let next = try load(renderer.recording.taskIndex + 1)
                    renderer = makeRenderer(for: next, shownEpisodes: shownEpisodes)
                    playback = Playback(timeline: renderer.timeline, stepsPerSecond: playback.stepsPerSecond)
                    window.setTitle(title(next))
                    report("task \(next.taskIndex): \(HeadsUpDisplay.taskDetails(next).first ?? "")")
                }
            }
            let now = ViewerWindow.now()
            playback.advance(by: min(now - last, 0.25))
            last = now
            let size = window.size
            let status: HeadsUpDisplay.PlaybackStatus = playback.isPaused ? .paused : playback.isAtEnd ? .ended : .playing
            renderer.draw(on: window.painter, width: size.width, height: size.height, position: playback.current,
                          stepsPerSecond: playback.stepsPerSecond, showsHelp: showsHelp, status: status)
            window.present()
            // Without vsync (Xvfb, some drivers) present returns at once: keep to 60 frames a second.
            ViewerWindow.sleep(seconds: frameBudget - (ViewerWindow.now() - now))
        }
    }

    /// Writes the playback to `target` — every `stride`th frame as `frame-00000.png`, … into a
    /// new or empty folder (compressed on several threads), or as one video encoded by ffmpeg
    /// at `stepsPerSecond / stride` frames a second, so that it plays at the window's speed.
    /// Returns the number of frames written.
    /// - Throws: `CanvasError` naming a file that could not be written, `FontError` without a
    ///   font, `RecordingError` when ffmpeg is missing or fails.
    @discardableResult
    public static func recordFrames(
        _ recording: AdaptationRecording, shownEpisodes: Int, to target: RecordingTarget, width: Int, height: Int,
        stride: Int = 1, stepsPerSecond: Double = 60
    ) throws -> Int {
        precondition(stride >= 1, "record every frame or every n-th, got \(stride)")
        let font = try FontFile.locate()
        let renderer = makeRenderer(for: recording, shownEpisodes: shownEpisodes)
        let canvas = try OffscreenCanvas(width: width, height: height, font: font)
        let frames = Array(Swift.stride(from: 0, to: renderer.timeline.frameCount, by: stride))
        var pixels: [UInt8] = []
        switch target {
        case .frames(let directory):
            let writer = ParallelPNGWriter(workers: ProcessInfo.processInfo.activeProcessorCount)
            for (index, frame) in frames.enumerated() {
                renderer.draw(on: canvas.painter, width: width, height: height, position: renderer.timeline.position(ofFrame: frame))
                canvas.copyPixels(into: &pixels)
                try writer.write(pixels, width: width, height: height,
                                 to: directory.appendingPathComponent(String(format: "frame-%05d.png", index)).path)
            }
            try writer.finish()
        case .video(let url, let format):
            let encoder = try VideoEncoder(url: url, format: format, width: width, height: height,
                                           framesPerSecond: stepsPerSecond / Double(stride))
            for frame in frames {
                renderer.draw(on: canvas.painter, width: width, height: height, position: renderer.timeline.position(ofFrame: frame))
                var copy: [UInt8] = []   // each queued frame its own buffer
                canvas.copyPixels(into: &copy)
                try encoder.write(copy)
            }
            try encoder.finish()
        }
        return frames.count
    }

    /// One picture of the task with every shown trajectory before and after adaptation, and the
    /// returns per step: the picture for a paper or a README.
    /// With `panels`, one panel per adaptation step (or episode of a trial) instead of all on one.
    public static func renderSummary(
        _ recording: AdaptationRecording, shownEpisodes: Int, to path: String, width: Int, height: Int, panels: Bool = false
    ) throws {
        let canvas = try OffscreenCanvas(width: width, height: height, font: try FontFile.locate())
        let renderer = makeRenderer(for: recording, shownEpisodes: shownEpisodes)
        if panels {
            renderer.drawPanels(on: canvas.painter, width: width, height: height)
        } else {
            renderer.draw(on: canvas.painter, width: width, height: height, position: nil)
        }
        try canvas.savePNG(to: path)
    }

    static func title(_ recording: AdaptationRecording) -> String {
        "MetaRL — \(recording.specName), task \(recording.taskIndex)"
    }
}
#endif
