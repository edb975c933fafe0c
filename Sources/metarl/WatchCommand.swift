import ArgumentParser
import Experiments
import Foundation
import Viewer

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch a policy adapt to a held-out task, in a window or recorded as PNG frames.",
        discussion: """
            Samples a held-out task, rolls out the policy (step 0), adapts it --steps times exactly \
            as `metarl eval` does, rolls out after each step, and then plays it all back: one \
            colour per adaptation step, earlier episodes faded, the robot's current position, and \
            the returns per step beside the arena. Everything is sampled before playback starts.

            Controls (also on screen with h):
              space        pause / play
              ← →          one frame back / forward
              ↑ ↓          faster / slower
              0–9          jump to that adaptation step
              n            next held-out task
              r            replay
              s            screenshot (PNG, into --screenshots)
              h            help
              q, Esc       quit (closing the window quits too)

            With --record nothing is opened and no display is needed: --record FILE.mp4 (or .webm, \
            .gif) encodes the playback with ffmpeg (on the PATH; Debian's `ffmpeg` package) at \
            --speed / --stride frames a second, so it plays at the window's pace; --record DIR writes \
            every frame as a PNG, compressed on all cores. --stride N keeps every Nth frame. The \
            viewer needs the Viewer trait (SDL2), on by default.

            Examples:
              metarl watch runs/nav
              metarl watch runs/nav --task 7 --steps 2 --episodes 3
              metarl watch --random sparse-semicircle
              metarl watch runs/nav --record frames/ --episodes 2
              metarl watch runs/nav --record talk.mp4
              metarl watch runs/nav --record readme.gif --size 560x380 --stride 3 --episodes 2
            """
    )

    @OptionGroup var recording: RecordingOptions

    @Option(parsing: .unconditional, help: "Episodes shown per adaptation step (the first ones sampled).")
    var episodes = 5

    @Option(parsing: .unconditional, help: "Playback speed in environment steps per second (↑/↓ change it).")
    var speed = 60.0

    @Option(help: "Record instead of opening a window: a .mp4, .webm or .gif file (through ffmpeg), or a new or empty directory for PNG frames.")
    var record: String?

    @Option(parsing: .unconditional, help: "With --record: keep every Nth frame (default 1).")
    var stride = 1

    @Option(help: "Size of recorded frames, WIDTHxHEIGHT, \(PictureSize.rangeHelp).")
    var size = PictureSize(width: 1120, height: 760)

    @Option(help: "Where `s` saves screenshots.")
    var screenshots = "."

    func validate() throws {
        try size.validate()
        try recording.validate(shownEpisodes: episodes)
        try require(stride, "--stride", in: 1...10_000)
        if stride != 1 && record == nil { throw ValidationError("--stride thins a recording; give it with --record") }
        guard Playback.speeds.contains(speed) else {
            throw ValidationError("--speed must be between \(Playback.speeds.lowerBound) and \(Playback.speeds.upperBound) steps per second, got \(speed)")
        }
    }

    func run() throws {
        #if Viewer
        if let record {
            let target = RecordingTarget(path: record)
            switch target {
            case .frames(let directory):
                try prepareEmptyDirectory(directory, flag: "--record")
            case .video(let url, let format):
                guard !FileManager.default.fileExists(atPath: url.path) else {
                    throw CommandFailure(description: "--record \(record) exists; remove it or give another name")
                }
                do {
                    try WritableFolder.probe(url.deletingLastPathComponent())
                } catch let error as RunError {
                    throw CommandFailure(description: "--record: \(error)")
                }
                // Before any sampling: a missing encoder is reported at once.
                if VideoEncoderCheck.ffmpeg == nil { throw CommandFailure(description: RecordingError.ffmpegMissing(format: format).description) }
            }
            let recorded = try recording.record(taskIndex: recording.task)
            let clock = ContinuousClock(), start = clock.now
            let frames = try AdaptationViewer.recordFrames(recorded, shownEpisodes: episodes, to: target,
                                                           width: size.width, height: size.height, stride: stride, stepsPerSecond: speed)
            let seconds = (clock.now - start).inSeconds
            print(String(format: "wrote %d frames to %@ in %.2f s (%.1f ms per frame, %dx%d)", frames, record, seconds,
                         1000 * seconds / Double(max(frames, 1)), size.width, size.height))
            return
        }
        let first = try recording.record(taskIndex: recording.task)
        try AdaptationViewer.watch(
            first, shownEpisodes: episodes, stepsPerSecond: speed, screenshots: URL(fileURLWithPath: screenshots),
            load: { try recording.record(taskIndex: $0) }, report: { print($0) })
        #else
        throw CommandFailure(description: viewerMissingMessage)
        #endif
    }
}

/// Creates `directory` if needed and insists that it holds nothing, so that no earlier output is
/// overwritten or mixed in.
func prepareEmptyDirectory(_ directory: URL, flag: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw CommandFailure(description: "\(flag) \(directory.path) is a file, not a directory") }
        let contents = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        guard contents.isEmpty else { throw CommandFailure(description: "\(flag) \(directory.path) is not empty; give a new or empty directory") }
    }
    do {
        try WritableFolder.create(directory)
        try WritableFolder.probe(directory)
    } catch let error as RunError {
        throw CommandFailure(description: "\(flag): \(error)")
    }
}
