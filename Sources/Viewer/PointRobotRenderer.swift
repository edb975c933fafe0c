#if Viewer
import Environments
import Experiments

/// Draws a point-robot recording: the arena, goal (and its reward radius), obstacles and start;
/// the trajectories, one colour per adaptation step, earlier ones faded; the robot; and the
/// heads-up display.
public struct PointRobotRenderer: AdaptationRenderer {
    public let recording: AdaptationRecording
    /// Episodes drawn per adaptation step (the first ones sampled).
    public let shownEpisodes: Int
    public let arena: PointRobotArena
    let family: PointRobotFamily
    let task: PointRobotTask
    public let timeline: Timeline
    /// `paths[s][e]`: the positions of shown episode e after s adaptation steps, in world units
    /// (read out of the episodes once; every frame only maps them to pixels).
    private let paths: [[[Point2]]]

    public init(recording: AdaptationRecording, shownEpisodes: Int) {
        precondition(shownEpisodes >= 1, "show at least one episode")
        self.recording = recording
        self.shownEpisodes = min(shownEpisodes, recording.episodes.map(\.episodeCount).min() ?? 1)
        guard let (family, task) = recording.pointRobot else { preconditionFailure("a point-robot renderer for a \(recording.family.name) recording") }
        self.family = family
        self.task = task
        let shown = self.shownEpisodes
        timeline = Timeline(lengths: recording.episodes.map { Array($0.lengths.prefix(shown)) })
        let paths = recording.episodes.indices.map { step in (0..<shown).map { recording.trajectory(step: step, episode: $0) } }
        self.paths = paths
        // The view fits the trajectories too, so that a path leaving the family's region stays in sight.
        arena = PointRobotArena(family: family, task: task, including: paths.flatMap { $0.flatMap { $0 } })
    }

    /// One picture: the playback at `position`, or with nil every shown trajectory of every step
    /// (the summary `metarl render` writes).
    public func draw(on painter: Painter, width: Int, height: Int, position: Timeline.Position?,
                     stepsPerSecond: Double?, showsHelp: Bool, status: HeadsUpDisplay.PlaybackStatus?) {
        let layout = ViewerLayout(width: width, height: height)
        painter.clear(Palette.background)
        let transform = arena.transform(fitting: layout.scene)
        drawArena(on: painter, transform)
        // Episodes that run off the arena are cut at its edge.
        painter.clip(to: transform.area.inset(by: 1))
        drawTrajectories(on: painter, transform, upTo: position)
        drawGoal(on: painter, transform)
        if let position {
            let points = paths[position.step][position.episode]
            let here = transform.pixel(points[min(position.time, points.count - 1)])
            painter.fillCircle(center: here, radius: 7, Palette.agentOutline)
            painter.fillCircle(center: here, radius: 5.5, Palette.step(position.step))
        }
        painter.clip(to: nil)
        let hud = HeadsUpDisplay(recording: recording, position: position, shownEpisodes: shownEpisodes, stepsPerSecond: stepsPerSecond,
                                 status: status)
        painter.drawPanel(hud, in: layout.panel)
        painter.drawStatus(status, in: layout.scene)
        if showsHelp { painter.drawHelp(in: layout.scene) }
    }

    public func drawPanels(on painter: Painter, width: Int, height: Int) {
        let layout = ViewerLayout(width: width, height: height)
        painter.clear(Palette.background)
        for (step, rects) in panelRects(count: recording.adaptationSteps + 1, in: layout.scene).enumerated() {
            drawPanelTitle(step, in: rects.title, on: painter)
            let transform = arena.transform(fitting: rects.scene)
            drawArena(on: painter, transform)
            painter.clip(to: transform.area.inset(by: 1))
            drawTrajectories(on: painter, transform, upTo: nil, only: step)
            drawGoal(on: painter, transform)
            painter.clip(to: nil)
        }
        painter.drawPanel(HeadsUpDisplay(recording: recording, position: nil, shownEpisodes: shownEpisodes), in: layout.panel)
    }

    // MARK: The scene

    private func drawArena(on painter: Painter, _ t: ArenaTransform) {
        painter.fill(t.area, Palette.arena)
        // Grid lines with their coordinates written inside the arena's bottom and left edges.
        let spacing = arena.gridSpacing
        func label(_ value: Double) -> String { String(format: spacing < 0.1 ? "%.2f" : "%.1f", value) }
        var k = (arena.lower.x / spacing).rounded(.up)
        while k * spacing <= arena.lower.x + arena.side {
            let x = t.pixel(Point2(k * spacing, 0)).x
            painter.fill(PixelRect(x: x - 0.5, y: t.area.y, width: 1, height: t.area.height), k == 0 ? Palette.border.withAlpha(90) : Palette.gridLine)
            painter.text(label(k * spacing), x: x + 3, y: t.area.maxY - 16, size: .small, Palette.mutedText)
            k += 1
        }
        k = (arena.lower.y / spacing).rounded(.up)
        while k * spacing <= arena.lower.y + arena.side {
            let y = t.pixel(Point2(0, k * spacing)).y
            painter.fill(PixelRect(x: t.area.x, y: y - 0.5, width: t.area.width, height: 1), k == 0 ? Palette.border.withAlpha(90) : Palette.gridLine)
            painter.text(label(k * spacing), x: t.area.x + 3, y: y - 15, size: .small, Palette.mutedText)
            k += 1
        }
        painter.stroke(t.area, Palette.border)
        for obstacle in task.obstacles {
            painter.fillCircle(center: t.pixel(obstacle.center), radius: t.pixels(obstacle.radius), Palette.obstacle)
        }
        let start = t.pixel(task.start)
        painter.fill(PixelRect(x: start.x - 4, y: start.y - 4, width: 8, height: 8), Palette.start)
    }

    private func drawGoal(on painter: Painter, _ t: ArenaTransform) {
        let goal = t.pixel(task.goal)
        let radius = family.reward.goalRadius
        if radius > 0 {
            painter.fillCircle(center: goal, radius: t.pixels(radius), Palette.goal.withAlpha(28))
            painter.strokeCircle(center: goal, radius: t.pixels(radius), width: 1.5, Palette.goal.withAlpha(150))
        }
        painter.fillCircle(center: goal, radius: 7, Palette.goal)
    }

    private func drawTrajectories(on painter: Painter, _ t: ArenaTransform, upTo position: Timeline.Position?, only: Int? = nil) {
        for step in 0...recording.adaptationSteps {
            if let position, step > position.step { break }
            if let only, step != only { continue }
            for episode in 0..<shownEpisodes {
                let points = paths[step][episode].map(t.pixel)
                let colour = Palette.step(step)
                guard let position, step == position.step else {
                    // A finished step (or the summary): every episode, faded unless in the summary.
                    painter.polyline(points, width: position == nil ? 2 : 1.5, colour.withAlpha(position == nil ? 150 : 70))
                    continue
                }
                if episode < position.episode {
                    painter.polyline(points, width: 2, colour.withAlpha(120))
                } else if episode == position.episode {
                    painter.polyline(Array(points.prefix(position.time + 1)), width: 2.5, colour)
                }
            }
        }
    }

}
#endif
