import Environments
import Experiments
import Foundation
import MetaLearning
import Testing
import Viewer

/// A hand-made gridworld recording: one episode walking right along the corridor of
///
///     #######
///     #>...G#
///     #.....#
///     #~.#..#
///     #######
///
/// with MiniGrid actions (turn, forward) and an egocentric 3×3 view.
enum GridScene {
    static func family() throws -> GridworldFamily {
        let map = try GridMap.parse("#######\n#>...G#\n#.....#\n#~.#..#\n#######", file: "scene")
        var family = GridworldFamily(map: .fixed(map), actions: .minigrid, observation: .egocentric(size: 3, occlusion: false))
        family.horizon = 10
        return family
    }

    /// Forward, forward, then turn right (down): positions (1,1) → (2,1) → (3,1), facing down.
    static func recording() throws -> AdaptationRecording {
        let family = try family()
        var rng = SplitMix64(seed: 1)
        let task = family.sampleTask(using: &rng)
        var episodes = EpisodeBatch(observationSize: 27, actionSize: 1)
        episodes.append(observations: Array(repeating: 0, count: 3 * 27), actions: [2, 2, 1], rewards: [0, 0, 0],
                        finalObservation: Array(repeating: 0, count: 27), environmentSeed: 7)
        return AdaptationRecording(specName: "scene", family: AnyEnvironmentFamily(family), task: task, taskIndex: 0, seed: 1,
                                   policyDescription: "hand-made", stepSizes: [], episodes: [episodes])
    }
}

@Suite("Gridworld recordings")
struct GridworldRecordingTests {
    @Test func replayingTheActionsGivesTheStates() throws {
        let frames = try GridScene.recording().gridworldFrames(step: 0, episode: 0)
        #expect(frames.map(\.position) == [GridPoint(1, 1), GridPoint(2, 1), GridPoint(3, 1), GridPoint(3, 1)])
        #expect(frames.map(\.heading) == [0, 0, 0, 1])
        #expect(frames.allSatisfy { $0.cells == nil }, "nothing on this map can change")
    }

    /// Sampled episodes replay to the positions their (x, y) observations recorded — slips included.
    @Test func replayMatchesSampledEpisodesWithSlip() throws {
        var family = try GridScene.family()
        family.actions = .moves(noop: false)
        family.observation = .coordinates
        family.slip = .fixed(0.3)
        let policy = Policy.categorical(CategoricalMLPPolicy(observationSize: 2, actionCount: 4, hidden: [4], activation: .tanh))
        var rng = SplitMix64(seed: 3)
        let task = family.sampleTask(using: &rng)
        let sampler = EpisodeSampler(environment: GridworldBatch(family: family, count: 6), policy: policy)
        let episodes = sampler.sample(task: task, parameters: policy.initialParameters(using: &rng), using: &rng)
        let recording = AdaptationRecording(specName: "slip", family: AnyEnvironmentFamily(family), task: task, taskIndex: 0,
                                            seed: 1, policyDescription: "", stepSizes: [], episodes: [episodes])
        for e in 0..<episodes.episodeCount {
            let frames = recording.gridworldFrames(step: 0, episode: e)
            let start = episodes.episodeStarts[e]
            let observed = (0..<episodes.lengths[e]).map {
                GridPoint(Int(episodes.observations[2 * (start + $0)]), Int(episodes.observations[2 * (start + $0) + 1]))
            } + [GridPoint(Int(episodes.finalObservations[2 * e]), Int(episodes.finalObservations[2 * e + 1]))]
            #expect(frames.map(\.position) == observed, "episode \(e)")
        }
    }

    @Test func viewFootprintAndVisitCounts() {
        let t = GridTransform(width: 7, height: 4, fitting: PixelRect(x: 0, y: 0, width: 700, height: 800))
        #expect(t.cell == 100 && t.area.y == 200)
        #expect(t.tile(GridPoint(2, 1)) == PixelRect(x: 200, y: 300, width: 100, height: 100))
        // Facing down from (3, 1) with a 3×3 view: rows 1…3, columns 2…4.
        let view = t.viewCells(at: GridPoint(3, 1), heading: 1, size: 3)
        #expect(view.lower == GridPoint(2, 1) && view.upper == GridPoint(4, 3))
        var visits = VisitCounts(width: 7, height: 4)
        visits.add([GridPoint(1, 1), GridPoint(2, 1), GridPoint(2, 1)])
        #expect(visits[GridPoint(2, 1)] == 2 && visits[GridPoint(1, 1)] == 1 && visits.maximum == 2)
    }
}

#if Viewer
@Suite("Gridworld renderer")
struct GridworldRendererTests {
    @Test func tilesAgentHeatMapAndViewFootprintAtTheirCells() throws {
        let renderer = GridworldRenderer(recording: try GridScene.recording(), shownEpisodes: 1)
        let (width, height) = (900, 500)
        let canvas = try OffscreenCanvas(width: width, height: height)
        // Time 3: the agent at (3, 1), facing down; its view covers columns 2…4, rows 1…3.
        renderer.draw(on: canvas.painter, width: width, height: height, position: Timeline.Position(step: 0, episode: 0, time: 3))
        let t = renderer.mapTransform(in: ViewerLayout(width: width, height: height).scene)
        func corner(_ x: Int, _ y: Int) -> Color {
            let tile = t.tile(GridPoint(x, y))
            return canvas.pixel(x: Int(tile.x + 4), y: Int(tile.y + 4))
        }
        func centre(_ x: Int, _ y: Int) -> Color {
            let c = t.center(GridPoint(x, y))
            return canvas.pixel(x: Int(c.x), y: Int(c.y))
        }
        #expect(corner(0, 0) == Palette.wall, "wall")
        #expect(corner(6, 2) == Palette.wall, "the right wall")
        #expect(corner(1, 3) == Palette.lava, "lava")
        #expect(corner(5, 1) == Palette.gridGoal, "goal")
        #expect(centre(3, 1) == Palette.agent, "the agent")
        #expect(corner(1, 2) == Palette.arena, "an unvisited floor cell outside the view is plain")
        let visited = corner(1, 1)
        #expect(visited.red == visited.blue && visited.red < Palette.arena.red, "a visited cell is tinted with step 0's grey: \(visited)")
        let seen = corner(2, 2)
        #expect(seen != Palette.arena && seen.blue > seen.red, "a floor cell in the view is tinted blue: \(seen)")
    }

    @Test func theMapHasCellCoordinatesAndTheHeatMapALegend() throws {
        let renderer = GridworldRenderer(recording: try GridScene.recording(), shownEpisodes: 1)
        let (width, height) = (900, 500)
        let canvas = try OffscreenCanvas(width: width, height: height, font: try FontFile.locate())
        renderer.draw(on: canvas.painter, width: width, height: height, position: nil)
        let t = renderer.mapTransform(in: ViewerLayout(width: width, height: height).scene)
        func darkest(x: ClosedRange<Int>, y: ClosedRange<Int>) -> Int {
            var least = 255
            for yy in y { for xx in x { least = min(least, Int(canvas.pixel(x: xx, y: yy).red)) } }
            return least
        }
        // A digit above each column's centre and left of each row's; nothing above the map's corner gap.
        for column in 0..<7 {
            let c = Int(t.center(GridPoint(column, 0)).x)
            #expect(darkest(x: (c - 4)...(c + 4), y: Int(t.area.y - 14)...Int(t.area.y - 2)) < 160, "column \(column)'s number")
        }
        let row = Int(t.center(GridPoint(0, 3)).y)
        #expect(darkest(x: Int(t.area.x - 14)...Int(t.area.x - 3), y: (row - 5)...(row + 5)) < 160, "row 3's number")
        // The legend below the map: after its label, eight swatches of step 0's grey, from
        // faint to strong, each the colour blended over the arena's white.
        let label = canvas.painter.measure("visits per cell, step 0:  1", size: .small)
        let left = t.area.x + Double(label.width) + 6, y = Int(t.area.maxY + 7 + 7)
        for i in 0..<8 {
            let alpha = Double(UInt8(25 + 130 * Double(i) / 7)) / 255
            let expected = Double(Palette.step(0).red) * alpha + 255 * (1 - alpha)
            let seen = canvas.pixel(x: Int(left) + 14 * i + 7, y: y)
            #expect(abs(Double(seen.red) - expected) <= 2 && seen.red == seen.blue, "swatch \(i): \(seen), expected \(expected)")
        }
    }
}
#endif
