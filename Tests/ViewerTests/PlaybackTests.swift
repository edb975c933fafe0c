import Environments
import Experiments
import MetaLearning
import Testing
import Viewer

@Suite("Playback timeline, controls and layout")
struct PlaybackTests {
    /// Two steps: episodes of 2 and 1 steps, then one of 3 steps → (3 + 2) + 4 = 9 frames.
    let timeline = Timeline(lengths: [[2, 1], [3]])

    @Test func framesWalkThroughStepsEpisodesAndTimes() {
        #expect(timeline.frameCount == 9)
        let positions = (0..<9).map { timeline.position(ofFrame: $0) }
        let expected: [(Int, Int, Int)] = [(0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 1, 0), (0, 1, 1),
                                           (1, 0, 0), (1, 0, 1), (1, 0, 2), (1, 0, 3)]
        #expect(positions == expected.map { Timeline.Position(step: $0.0, episode: $0.1, time: $0.2) })
        #expect(timeline.position(ofFrame: 50) == Timeline.Position(step: 1, episode: 0, time: 3), "clamped to the last frame")
        #expect(timeline.firstFrame(ofStep: 1) == 5)
        #expect(timeline.firstFrame(ofStep: 2) == nil)
    }

    @Test func playbackAdvancesPausesJumpsAndStopsAtTheEnd() {
        var playback = Playback(timeline: timeline, stepsPerSecond: 60)
        playback.advance(by: 0.05)  // 3 frames
        #expect(playback.frame == 3)
        playback.togglePause()
        playback.advance(by: 1)
        #expect(playback.frame == 3, "paused playback does not move")
        playback.togglePause()
        playback.advance(by: 10)
        #expect(playback.frame == 8 && playback.isAtEnd)
        playback.jump(toStep: 1)
        #expect(playback.current == Timeline.Position(step: 1, episode: 0, time: 0))
        playback.jump(toStep: 7)
        #expect(playback.frame == 5, "a step that does not exist changes nothing")
        playback.stepFrame(by: -1)
        #expect(playback.frame == 4 && playback.isPaused)
        playback.stepFrame(by: -10)
        #expect(playback.frame == 0)
        playback.replay()
        #expect(playback.frame == 0 && !playback.isPaused)
    }

    @Test func speedDoublesAndHalvesWithinItsRange() {
        var playback = Playback(timeline: timeline, stepsPerSecond: 60)
        playback.faster()
        #expect(playback.stepsPerSecond == 120)
        for _ in 0..<20 { playback.faster() }
        #expect(playback.stepsPerSecond == Playback.speeds.upperBound)
        for _ in 0..<30 { playback.slower() }
        #expect(playback.stepsPerSecond == Playback.speeds.lowerBound)
    }

    @Test func theArenaMapsWorldCornersOntoTheSquaresCorners() {
        let t = ArenaTransform(lower: Point2(-1, -1), side: 2, fitting: PixelRect(x: 10, y: 20, width: 300, height: 200))
        // The largest square: 200 × 200, centred horizontally at x 60…260.
        #expect(t.area == PixelRect(x: 60, y: 20, width: 200, height: 200))
        #expect(t.pixel(Point2(-1, -1)) == (60, 220), "lower-left is at the bottom")
        #expect(t.pixel(Point2(1, 1)) == (260, 20))
        #expect(t.pixel(Point2(0, 0.5)) == (160, 70))
        #expect(t.pixels(0.1) == 10)
    }

    @Test func theArenaCoversEveryGoalStartAndObstacleWithAMargin() {
        let task = PointRobotTask(goal: Point2(0.3, 0.2), obstacles: [CircleObstacle(center: Point2(-0.6, 0), radius: 0.1)])
        let arena = PointRobotArena(family: .navigation, task: task)
        // x from −0.7 (the obstacle's edge) to 0.5 (the goal box), y from −0.5 to 0.5: span 1.2.
        #expect(abs(arena.side - 1.2 * 1.3) < 1e-12)
        #expect(abs(arena.lower.x - (-0.1 - 0.78)) < 1e-12 && abs(arena.lower.y - (-0.78)) < 1e-12)
        #expect(arena.gridSpacing == 0.2)
    }

    @Test func theHeadsUpDisplayOfATrialNamesItsEpisodes() throws {
        let steps = ViewerScene.recording()
        let trial = AdaptationRecording(specName: steps.specName, family: steps.family, task: steps.task, taskIndex: 0, seed: 1,
                                        policyDescription: "rl2", stepSizes: [], episodes: steps.episodes, stages: .trialEpisodes)
        let hud = HeadsUpDisplay(recording: trial, position: Timeline.Position(step: 1, episode: 0, time: 2), shownEpisodes: 1)
        let text = hud.lines.map(\.text)
        #expect(text.contains("episode 2 of the trial (of 2)"), "\(text)")
        #expect(text.contains("trial 1 of 1 · t = 2 / 4"))
        #expect(text.contains("mean return over 1 trials"))
        #expect(text.contains { $0.hasPrefix("episode 1   ") } && text.contains { $0.hasPrefix("episode 2   ") })
        #expect(!text.contains { $0.hasPrefix("α =") })
    }

    @Test func theHeadsUpDisplayShowsWhereThePlaybackIsAndTheReturnSoFar() throws {
        let recording = ViewerScene.recording()
        let hud = HeadsUpDisplay(recording: recording, position: Timeline.Position(step: 1, episode: 0, time: 2),
                                 shownEpisodes: 1, stepsPerSecond: 60)
        let text = hud.lines.map(\.text)
        #expect(text.contains("adaptation step 1 of 1"))
        #expect(text.contains("episode 1 of 1 · t = 2 / 4"))
        #expect(text.contains("return so far -0.30"), "rewards −0.1 and −0.2 of the first two steps: \(text)")
        #expect(text.contains("α = 0.1"))
        #expect(text.contains("  goal (0.30, 0.20)"))
        #expect(hud.lines.filter { if case .step = $0.style { true } else { false } }.map(\.text)
                == ["step 0   -0.60", "step 1   -1.00"])
    }
}

/// A hand-made recording whose every position is known: step 0 walks right along y = 0, step 1
/// walks down along x = 0.
enum ViewerScene {
    static let task = PointRobotTask(goal: Point2(0.3, 0.2), obstacles: [CircleObstacle(center: Point2(-0.3, -0.3), radius: 0.08)])

    static func recording() -> AdaptationRecording {
        var right = EpisodeBatch(observationSize: 2, actionSize: 2)
        right.append(observations: [0, 0, 0.1, 0, 0.2, 0], actions: [0.1, 0, 0.1, 0, 0.1, 0],
                     rewards: [-0.1, -0.2, -0.3], finalObservation: [0.3, 0])
        var down = EpisodeBatch(observationSize: 2, actionSize: 2)
        down.append(observations: [0, 0, 0, -0.1, 0, -0.2, 0, -0.3], actions: [0, -0.1, 0, -0.1, 0, -0.1, 0, -0.1],
                    rewards: [-0.1, -0.2, -0.3, -0.4], finalObservation: [0, -0.4])
        return AdaptationRecording(specName: "navigation", family: AnyEnvironmentFamily(PointRobotFamily.navigation), task: task, taskIndex: 0, seed: 1,
                                   policyDescription: "hand-made", stepSizes: [0.1], episodes: [right, down])
    }
}
