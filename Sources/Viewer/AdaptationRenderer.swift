#if Viewer
import Environments
import Experiments

/// A renderer of one family's adaptation recordings: what `watch`, `render` and `bench render`
/// draw with. Each family has one (`PointRobotRenderer`, `GridworldRenderer`).
public protocol AdaptationRenderer: Sendable {
    var recording: AdaptationRecording { get }
    /// Episodes drawn per adaptation step.
    var shownEpisodes: Int { get }
    var timeline: Timeline { get }
    /// One picture: the playback at `position`, or with nil the summary of every step.
    func draw(on painter: Painter, width: Int, height: Int, position: Timeline.Position?,
              stepsPerSecond: Double?, showsHelp: Bool)
}

extension AdaptationRenderer {
    public func draw(on painter: Painter, width: Int, height: Int, position: Timeline.Position?) {
        draw(on: painter, width: width, height: height, position: position, stepsPerSecond: nil, showsHelp: false)
    }
}

/// Each family's renderer, by the family's name: adding a family adds its line here.
let renderers: [String: @Sendable (AdaptationRecording, Int) -> any AdaptationRenderer] = [
    PointRobotFamily.name: { PointRobotRenderer(recording: $0, shownEpisodes: $1) },
    GridworldFamily.name: { GridworldRenderer(recording: $0, shownEpisodes: $1) },
]

/// The renderer for `recording`'s family.
public func makeRenderer(for recording: AdaptationRecording, shownEpisodes: Int) -> any AdaptationRenderer {
    guard let make = renderers[recording.family.name] else { preconditionFailure("no renderer for the \(recording.family.name) family") }
    return make(recording, shownEpisodes)
}

/// The viewer's keys, as the help overlay and `watch --help` list them.
public enum AdaptationControls {
    public static let all: [(key: String, action: String)] = [
        ("space", "pause / play"), ("← →", "one frame back / forward"), ("↑ ↓", "faster / slower"),
        ("0–9", "jump to adaptation step"), ("n", "next task"), ("r", "replay"),
        ("s", "screenshot (PNG)"), ("h", "this help"), ("q, Esc", "quit"),
    ]

}

extension Painter {
    /// The heads-up display, line by line, in the panel.
    func drawPanel(_ hud: HeadsUpDisplay, in panel: PixelRect) {
        var y = panel.y
        for line in hud.lines {
            switch line.style {
            case .title:
                y += Double(text(line.text, x: panel.x, y: y, size: .title, maxWidth: panel.width, Palette.text).height) + 4
            case .body:
                y += Double(max(text(line.text, x: panel.x, y: y, size: .body, maxWidth: panel.width, Palette.text).height, 10)) + 3
            case .muted:
                y += Double(max(text(line.text, x: panel.x, y: y, size: .body, maxWidth: panel.width, Palette.mutedText).height, 10)) + 3
            case .step(let step):
                let height = Double(max(measure(line.text).height, 16))
                fill(PixelRect(x: panel.x, y: y + height / 2 - 6, width: 22, height: 12), Palette.step(step))
                text(line.text, x: panel.x + 30, y: y, maxWidth: panel.width - 30, Palette.text)
                y += height + 3
            }
        }
    }

    func drawHelp(in scene: PixelRect) {
        let box = PixelRect(x: scene.x + 30, y: scene.y + 30, width: min(360, scene.width - 60), height: 40 + 24 * Double(AdaptationControls.all.count))
        fill(box, Palette.overlay)
        stroke(box, Palette.border)
        var y = box.y + 14
        for (key, action) in AdaptationControls.all {
            text(key, x: box.x + 16, y: y, Palette.text)
            text(action, x: box.x + 110, y: y, Palette.mutedText)
            y += 24
        }
    }
}
#endif
