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
    /// One picture: the playback at `position`, or with nil the summary of every step; a
    /// window's paused or ended playback (`status`) is said in the heads-up display and over the scene.
    func draw(on painter: Painter, width: Int, height: Int, position: Timeline.Position?,
              stepsPerSecond: Double?, showsHelp: Bool, status: HeadsUpDisplay.PlaybackStatus?)
    /// The summary with one panel per adaptation step (or episode of a trial), each showing
    /// only that step's trajectories, so that steps do not hide each other.
    func drawPanels(on painter: Painter, width: Int, height: Int)
}

extension AdaptationRenderer {
    public func draw(on painter: Painter, width: Int, height: Int, position: Timeline.Position?) {
        draw(on: painter, width: width, height: height, position: position, stepsPerSecond: nil, showsHelp: false, status: nil)
    }

    public func draw(on painter: Painter, width: Int, height: Int, position: Timeline.Position?,
                     stepsPerSecond: Double?, showsHelp: Bool) {
        draw(on: painter, width: width, height: height, position: position, stepsPerSecond: stepsPerSecond, showsHelp: showsHelp,
             status: nil)
    }

    /// The panels of `drawPanels`: as near square a grid as fits `count` in `scene`, each with room for its title.
    public func panelRects(count: Int, in scene: PixelRect) -> [(title: PixelRect, scene: PixelRect)] {
        let columns = Int(Double(count).squareRoot().rounded(.up)), rows = (count + columns - 1) / columns
        let w = scene.width / Double(columns), h = scene.height / Double(rows)
        return (0..<count).map { i in
            let x = scene.x + Double(i % columns) * w, y = scene.y + Double(i / columns) * h
            return (PixelRect(x: x + 4, y: y, width: w - 8, height: 22), PixelRect(x: x + 4, y: y + 24, width: w - 8, height: h - 30))
        }
    }

    /// A panel's title: a swatch of the step's (or episode's) colour, then its name and mean return.
    func drawPanelTitle(_ step: Int, in rect: PixelRect, on painter: Painter) {
        let name = recording.stages == .trialEpisodes ? "episode \(step + 1) of the trial" : "after \(step) step\(step == 1 ? "" : "s")"
        painter.fill(PixelRect(x: rect.x, y: rect.y + 5, width: 18, height: 12), Palette.step(step))
        painter.text(name + String(format: " · mean return %.2f", recording.meanReturns[step]), x: rect.x + 24, y: rect.y + 2,
                     size: .body, maxWidth: rect.width - 24, Palette.text)
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

    /// The playback's state over the top of the scene, where a viewer looks.
    func drawStatus(_ status: HeadsUpDisplay.PlaybackStatus?, in scene: PixelRect) {
        guard let notice = status?.notice else { return }
        let size = measure(notice, size: .body)
        let box = PixelRect(x: scene.x + 12, y: scene.y + 12, width: Double(size.width) + 24, height: Double(size.height) + 12)
        fill(box, Palette.overlay)
        stroke(box, Palette.border)
        text(notice, x: box.x + 12, y: box.y + 6, size: .body, Palette.text)
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
