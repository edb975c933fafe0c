import ArgumentParser
import Environments
import Experiments
import Foundation
import Viewer

struct BenchRenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Time the viewer's frames: a point-robot episode drawn over the other trajectories of its step.",
        discussion: """
            Samples --trajectories episodes of a random policy on the spec (100 steps each on \
            navigation) and draws every frame of the last one, with all the others on screen and the \
            heads-up display, --repeats times. Prints the median milliseconds per frame and the \
            frames per second that allows (the viewer plays at 60). Offscreen by default (SDL's \
            software renderer, as --record uses); --window draws into a real window (needs a \
            display, e.g. under xvfb-run).
            """
    )

    @Argument(help: "A preset's short name or a path to a spec file.")
    var spec = "navigation"

    @Option(parsing: .unconditional, help: "Trajectories on screen.")
    var trajectories = 20

    @Option(parsing: .unconditional, help: "Times each frame of the episode is drawn.")
    var repeats = 5

    @Option(help: "Frame size, WIDTHxHEIGHT, \(PictureSize.rangeHelp).")
    var size = PictureSize(width: 1120, height: 760)

    @Flag(help: "Draw into a window instead of offscreen.")
    var window = false

    @Flag(help: "Print one JSON object with median_ms_per_frame and frames_per_second.")
    var json = false

    func validate() throws {
        try size.validate()
        try require(trajectories, "--trajectories", in: 1...10_000)
        try require(repeats, "--repeats", in: 1...100_000)
    }

    func run() throws {
        #if Viewer
        let recording = try AdaptationRecording.recordRandomPolicy(
            spec: try EnvironmentSpec.load(spec), taskIndex: 0, seed: 1, steps: 0, episodes: trajectories, halvesStepAfterFirst: true)
        let font = try FontFile.locate()
        let result: RenderBenchmark.Result
        if window {
            let screen = try ViewerWindow(title: "MetaRL bench", width: size.width, height: size.height, font: font, vsync: false)
            let drawable = screen.size
            result = RenderBenchmark.time(recording, shownEpisodes: trajectories, repeats: repeats, target: "window (\(screen.driver), \(screen.rendererName), no vsync)",
                                          width: drawable.width, height: drawable.height, painter: screen.painter, present: screen.present)
        } else {
            let canvas = try OffscreenCanvas(width: size.width, height: size.height, font: font)
            result = RenderBenchmark.time(recording, shownEpisodes: trajectories, repeats: repeats, target: "offscreen",
                                          width: size.width, height: size.height, painter: canvas.painter, present: {})
        }
        if json {
            try printJSON(result)
        } else {
            print("\(result.target) \(result.width)×\(result.height), \(result.trajectories) trajectories: " +
                  String(format: "%.2f ms per frame (median of %d), %.0f frames/s", result.medianMilliseconds, result.framesTimed, result.framesPerSecond))
        }
        #else
        throw CommandFailure(description: viewerMissingMessage)
        #endif
    }
}
