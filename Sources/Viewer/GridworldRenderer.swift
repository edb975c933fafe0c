#if Viewer
import Environments
import Experiments

/// Draws a gridworld recording: the map's tiles (walls, lava, goals, doors, keys) as they are at
/// the frame shown, a visit heat-map of the adaptation step, the egocentric view's footprint when
/// the agent observes one, the paths through cell centres (one colour per step, earlier ones
/// faded) and the agent as a triangle pointing where it faces.
public struct GridworldRenderer: AdaptationRenderer {
    public let recording: AdaptationRecording
    public let shownEpisodes: Int
    public let timeline: Timeline
    let family: GridworldFamily
    let task: GridworldTask
    /// `frames[s][e]`: the replayed states of shown episode e after s adaptation steps.
    let frames: [[[GridworldFrame]]]
    /// Visits per cell over the shown episodes of each step.
    let visits: [VisitCounts]
    /// `restarts[s][e]`: the frames where the agent was put back at the start (a new episode of
    /// the trial), where its path is not drawn across.
    let restarts: [[[Int]]]

    public init(recording: AdaptationRecording, shownEpisodes: Int) {
        precondition(shownEpisodes >= 1, "show at least one episode")
        guard let (family, task) = recording.gridworld else { preconditionFailure("a gridworld renderer for a \(recording.family.name) recording") }
        self.recording = recording
        self.family = family
        self.task = task
        let shown = min(shownEpisodes, recording.episodes.map(\.episodeCount).min() ?? 1)
        self.shownEpisodes = shown
        timeline = Timeline(lengths: recording.episodes.map { Array($0.lengths.prefix(shown)) })
        frames = recording.episodes.indices.map { step in (0..<shown).map { recording.gridworldFrames(step: step, episode: $0) } }
        restarts = frames.map { episodes in
            episodes.map { path in
                path.indices.dropFirst().filter { abs(path[$0].position.x - path[$0 - 1].position.x) + abs(path[$0].position.y - path[$0 - 1].position.y) > 1 }
            }
        }
        visits = frames.map { episodes in
            var counts = VisitCounts(width: task.map.width, height: task.map.height)
            for episode in episodes { counts.add(episode.map(\.position)) }
            return counts
        }
    }

    public func draw(on painter: Painter, width: Int, height: Int, position: Timeline.Position?,
                     stepsPerSecond: Double?, showsHelp: Bool, status: HeadsUpDisplay.PlaybackStatus?) {
        let layout = ViewerLayout(width: width, height: height)
        painter.clear(Palette.background)
        let t = mapTransform(in: layout.scene)
        let frame = position.map { frames[$0.step][$0.episode][min($0.time, frames[$0.step][$0.episode].count - 1)] }
        // The heat-map of the step shown (the last step in the summary).
        let heatStep = position?.step ?? recording.adaptationSteps
        drawTiles(on: painter, t, cells: frame?.cells, heat: visits[heatStep], heatColor: Palette.step(heatStep))
        if let frame, case .egocentric(let size, _) = family.observation {
            let (lower, upper) = t.viewCells(at: frame.position, heading: frame.heading, size: size)
            let a = t.tile(lower), b = t.tile(upper)
            painter.fill(PixelRect(x: a.x, y: a.y, width: b.maxX - a.x, height: b.maxY - a.y), Palette.viewFootprint)
        }
        drawPaths(on: painter, t, upTo: position)
        let start = t.center(task.start)
        painter.fill(PixelRect(x: start.x - 3, y: start.y - 3, width: 6, height: 6), Palette.start)
        if let frame { drawAgent(on: painter, t, frame) }
        drawCoordinates(on: painter, t)
        drawHeatLegend(on: painter, t, step: heatStep)
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
            let t = mapTransform(in: rects.scene)
            drawTiles(on: painter, t, cells: nil, heat: visits[step], heatColor: Palette.step(step))
            drawPaths(on: painter, t, upTo: nil, only: step)
            let start = t.center(task.start)
            painter.fill(PixelRect(x: start.x - 3, y: start.y - 3, width: 6, height: 6), Palette.start)
            drawCoordinates(on: painter, t)
            drawHeatLegend(on: painter, t, step: step)
        }
        painter.drawPanel(HeadsUpDisplay(recording: recording, position: nil, shownEpisodes: shownEpisodes), in: layout.panel)
    }

    /// The map's tiles in `scene`, leaving room for the cell coordinates (left and above) and the
    /// heat-map's legend (below).
    public func mapTransform(in scene: PixelRect) -> GridTransform {
        GridTransform(width: task.map.width, height: task.map.height,
                      fitting: PixelRect(x: scene.x + 22, y: scene.y + 16, width: scene.width - 22, height: scene.height - 16 - 26))
    }

    /// Column numbers above the map and row numbers left of it (every cell, or every 2nd, 5th …
    /// where cells are small), as the map file counts them from 0.
    private func drawCoordinates(on painter: Painter, _ t: GridTransform) {
        let every = [1, 2, 5, 10, 20, 50].first { Double($0) * t.cell >= 18 } ?? 100
        for x in stride(from: 0, to: t.width, by: every) {
            let label = "\(x)", size = painter.measure(label, size: .small)
            painter.text(label, x: t.center(GridPoint(x, 0)).x - Double(size.width) / 2, y: t.area.y - 15, size: .small, Palette.mutedText)
        }
        for y in stride(from: 0, to: t.height, by: every) {
            let label = "\(y)", size = painter.measure(label, size: .small)
            painter.text(label, x: t.area.x - 4 - Double(size.width), y: t.center(GridPoint(0, y)).y - Double(size.height) / 2,
                         size: .small, Palette.mutedText)
        }
    }

    /// The heat-map's scale below the map: from one visit to the most any cell had.
    private func drawHeatLegend(on painter: Painter, _ t: GridTransform, step: Int) {
        let most = visits[step].maximum
        guard most > 0 else { return }
        let y = t.area.maxY + 7
        var x = t.area.x
        x += Double(painter.text("visits per cell, \(recording.stages == .trialEpisodes ? "episode \(step + 1)" : "step \(step)"):  1",
                                 x: x, y: y, size: .small, Palette.mutedText).width) + 6
        for i in 0..<8 {
            let alpha = UInt8(25 + 130 * Double(i) / 7)
            painter.fill(PixelRect(x: x, y: y + 1, width: 14, height: 12), Palette.arena)
            painter.fill(PixelRect(x: x, y: y + 1, width: 14, height: 12), Palette.step(step).withAlpha(alpha))
            x += 14
        }
        painter.text("\(most)", x: x + 6, y: y, size: .small, Palette.mutedText)
    }

    private func drawTiles(on painter: Painter, _ t: GridTransform, cells: [GridCell]?, heat: VisitCounts, heatColor: Color) {
        painter.fill(t.area, Palette.arena)
        let most = Double(max(heat.maximum, 1))
        let map = task.map
        for p in map.points {
            let tile = t.tile(p)
            let cell = cells?[p.y * map.width + p.x] ?? map[p]
            switch cell.object {
            case .wall:
                painter.fill(tile, Palette.wall)
            case .lava:
                painter.fill(tile, Palette.lava)
            case .goal:
                painter.fill(tile, Palette.gridGoal)
            case .door:
                if cell.state == GridCell.DoorState.open.rawValue {
                    painter.stroke(tile.inset(by: 2), Palette.door, width: max(2, t.cell / 10))
                } else {
                    painter.fill(tile.inset(by: 1), Palette.door)
                    if cell.state == GridCell.DoorState.locked.rawValue {
                        let c = t.center(p)
                        painter.fillCircle(center: c, radius: t.cell / 8, Palette.wall)
                    }
                }
            case .key:
                let c = t.center(p)
                painter.fillCircle(center: (c.x - t.cell / 8, c.y), radius: t.cell / 6, Palette.door)
                painter.fill(PixelRect(x: c.x - t.cell / 8, y: c.y - t.cell / 20, width: t.cell * 0.35, height: t.cell / 10), Palette.door)
            default:
                let visits = heat[p]
                if visits > 0 { painter.fill(tile, heatColor.withAlpha(UInt8(25 + 130 * Double(visits) / most))) }
            }
        }
        // Cell borders.
        for x in 0...map.width {
            painter.fill(PixelRect(x: t.area.x + Double(x) * t.cell - 0.5, y: t.area.y, width: 1, height: t.area.height), Palette.gridLine)
        }
        for y in 0...map.height {
            painter.fill(PixelRect(x: t.area.x, y: t.area.y + Double(y) * t.cell - 0.5, width: t.area.width, height: 1), Palette.gridLine)
        }
        painter.stroke(t.area, Palette.border)
    }

    /// A small offset per episode, so that paths along the same cells stay apart.
    private func offset(_ episode: Int, _ t: GridTransform) -> Double {
        let spread = t.cell * 0.3
        return shownEpisodes == 1 ? 0 : spread * (Double(episode) / Double(shownEpisodes - 1) - 0.5)
    }

    private func drawPaths(on painter: Painter, _ t: GridTransform, upTo position: Timeline.Position?, only: Int? = nil) {
        for step in 0...recording.adaptationSteps {
            if let position, step > position.step { break }
            if let only, step != only { continue }
            for episode in 0..<shownEpisodes {
                let d = offset(episode, t)
                let points = frames[step][episode].map { frame -> (x: Double, y: Double) in
                    let c = t.center(frame.position)
                    return (c.x + d, c.y + d)
                }
                let colour = Palette.step(step)
                let breaks = restarts[step][episode]
                guard let position, step == position.step else {
                    drawPath(points, breaks: breaks, on: painter, width: position == nil ? 2 : 1.5,
                             colour.withAlpha(position == nil ? 150 : 60))
                    continue
                }
                if episode < position.episode {
                    drawPath(points, breaks: breaks, on: painter, width: 2, colour.withAlpha(110))
                } else if episode == position.episode {
                    drawPath(Array(points.prefix(position.time + 1)), breaks: breaks, on: painter, width: 3, colour)
                }
            }
        }
    }

    /// A path drawn in pieces: a trial's next episode starts where the agent was put back, not
    /// where it walked to.
    private func drawPath(_ points: [(x: Double, y: Double)], breaks: [Int], on painter: Painter, width: Double, _ colour: Color) {
        var start = 0
        for end in breaks + [points.count] where end > start {
            painter.polyline(Array(points[start..<min(end, points.count)]), width: width, colour)
            start = end
            if start >= points.count { break }
        }
    }

    private func drawAgent(on painter: Painter, _ t: GridTransform, _ frame: GridworldFrame) {
        let c = t.center(frame.position)
        let f = Heading.steps[frame.heading]
        let (fx, fy) = (Double(f.x), Double(f.y))
        let r = t.cell * 0.38
        let tip = (c.x + fx * r, c.y + fy * r)
        let left = (c.x - fx * r * 0.7 + fy * r * 0.75, c.y - fy * r * 0.7 - fx * r * 0.75)
        let right = (c.x - fx * r * 0.7 - fy * r * 0.75, c.y - fy * r * 0.7 + fx * r * 0.75)
        painter.fillTriangle(tip, left, right, Palette.agent)
        if frame.carrying != nil { painter.fillCircle(center: (c.x, c.y), radius: t.cell / 10, Palette.door) }
    }
}
#endif
