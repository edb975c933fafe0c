#if Viewer
import CSDL2
import Environments
import Experiments
import Foundation
import MetaLearning
import Testing
import Viewer

/// Draws `ViewerScene` at step 1, episode 0, time 2 and checks pixels at positions computed with
/// the arena's transform: the same assertions hold offscreen and in a real window under Xvfb.
struct RenderedScene {
    static let (width, height) = (640, 480)
    static let position = Timeline.Position(step: 1, episode: 0, time: 2)
    let renderer = PointRobotRenderer(recording: ViewerScene.recording(), shownEpisodes: 1)

    var transform: ArenaTransform { renderer.arena.transform(fitting: ViewerLayout(width: Self.width, height: Self.height).scene) }

    func draw(on painter: Painter) {
        renderer.draw(on: painter, width: Self.width, height: Self.height, position: Self.position)
    }

    /// The pixel containing a world point, shifted by (dx, dy) pixels.
    func pixel(_ p: Point2, dx: Int = 0, dy: Int = 0) -> (x: Int, y: Int) {
        let q = transform.pixel(p)
        return (Int(q.x.rounded(.down)) + dx, Int(q.y.rounded(.down)) + dy)
    }

    func check(_ colour: (Int, Int) -> Color) {
        func at(_ p: (x: Int, y: Int)) -> Color { colour(p.x, p.y) }
        // A line's pixels depend on the rasteriser's sub-pixel rules (SDL's software and OpenGL
        // renderers differ by one pixel): across a line, look at the three pixels around it.
        func across(_ p: (x: Int, y: Int), vertical: Bool) -> [Color] {
            (-1...1).map { vertical ? colour(p.x + $0, p.y) : colour(p.x, p.y + $0) }
        }
        #expect(at(pixel(ViewerScene.task.goal)) == Palette.goal, "goal")
        #expect(at(pixel(Point2(-0.3, -0.3))) == Palette.obstacle, "obstacle")
        #expect(at(pixel(Point2(0, -0.2))) == Palette.step(1), "the robot, at time 2 of step 1")
        #expect(across(pixel(Point2(0, -0.1)), vertical: true).contains(Palette.step(1)), "the current episode's path so far, drawn opaque")
        #expect(!across(pixel(Point2(0, -0.35)), vertical: true).contains(Palette.step(1)), "the current episode's future is not drawn yet")
        #expect(at(pixel(.zero, dx: -3, dy: -3)) == Palette.start, "the start marker's corner")
        #expect(at(pixel(Point2(0.5, -0.5))) == Palette.arena, "empty arena")
        // Step 0 is finished: drawn faded, a grey between its colour and the arena's white.
        let faded = across(pixel(Point2(0.15, 0)), vertical: false).min { $0.red < $1.red }!
        #expect(faded.red == faded.green && faded.green == faded.blue && faded.red > Palette.step(0).red && faded.red < 250,
                "step 0's faded path: \(faded)")
        let outside = (transform.area.x - 5, transform.area.y + 5)
        #expect(colour(Int(outside.0), Int(outside.1)) == Palette.background, "outside the arena")
    }
}

@Suite("Point-robot renderer")
struct PointRobotRendererTests {
    @Test func offscreenPixelsAreWhereTheArenaTransformPutsThem() throws {
        let scene = RenderedScene()
        let canvas = try OffscreenCanvas(width: RenderedScene.width, height: RenderedScene.height, font: try FontFile.locate())
        scene.draw(on: canvas.painter)
        scene.check { canvas.pixel(x: $0, y: $1) }
    }

    @Test func theSummaryDrawsEveryStepAndTheAgentNowhere() throws {
        let scene = RenderedScene()
        let canvas = try OffscreenCanvas(width: RenderedScene.width, height: RenderedScene.height)
        scene.renderer.draw(on: canvas.painter, width: RenderedScene.width, height: RenderedScene.height, position: nil)
        // The whole of step 1's path, to its end at (0, −0.4), without the robot's outline.
        let end = scene.pixel(Point2(0, -0.35))
        #expect((-1...1).contains { canvas.pixel(x: end.x + $0, y: end.y) != Palette.arena }, "step 1's last segment is drawn in the summary")
        let robot = scene.pixel(Point2(0, -0.2), dx: 5)
        #expect(canvas.pixel(x: robot.x, y: robot.y) != Palette.agentOutline)
    }

    @Test func theViewFitsTrajectoriesThatLeaveTheFamilysRegion() throws {
        var far = EpisodeBatch(observationSize: 2, actionSize: 2)
        far.append(observations: [0, 0, 5, 0], actions: [0, 0, 0, 0], rewards: [0, 0], finalObservation: [10, 0])
        let recording = AdaptationRecording(specName: "navigation", family: AnyEnvironmentFamily(PointRobotFamily.navigation), task: ViewerScene.task, taskIndex: 0,
                                            seed: 1, policyDescription: "", stepSizes: [], episodes: [far])
        let renderer = PointRobotRenderer(recording: recording, shownEpisodes: 1)
        // Navigation's goals and start lie in [-0.5, 0.5]²; the path runs to x = 10, and the view with it.
        #expect(renderer.arena.lower.x + renderer.arena.side > 10 && renderer.arena.lower.x < -0.5)
        #expect(PointRobotArena(family: .navigation, task: ViewerScene.task).side < 2)
        let canvas = try OffscreenCanvas(width: 640, height: 480)
        renderer.draw(on: canvas.painter, width: 640, height: 480, position: nil)
        let t = renderer.arena.transform(fitting: ViewerLayout(width: 640, height: 480).scene)
        // The path's far end is inside the picture, in step 0's colour (faded over white), and nothing right of the arena.
        let end = t.pixel(Point2(9.5, 0))
        #expect((-1...1).contains { canvas.pixel(x: Int(end.x), y: Int(end.y) + $0) != Palette.arena }, "the path reaches x = 9.5")
        #expect(canvas.pixel(x: Int(t.area.maxX) + 4, y: Int(t.pixel(.zero).y)) == Palette.background, "nothing drawn right of the arena")
    }

    @Test func panelsShowEachStepAloneAndTheWindowSaysWhenItIsPaused() throws {
        let renderer = RenderedScene().renderer
        let canvas = try OffscreenCanvas(width: 900, height: 500, font: try FontFile.locate())
        renderer.drawPanels(on: canvas.painter, width: 900, height: 500)
        let rects = renderer.panelRects(count: 2, in: ViewerLayout(width: 900, height: 500).scene)
        // Step 0's path passes (0.15, 0); step 1's runs down x = 0 to (0, −0.4) (ViewerScene).
        func around(_ p: Point2, panel: Int) -> [Color] {
            let q = renderer.arena.transform(fitting: rects[panel].scene).pixel(p)
            return (-1...1).flatMap { dx in (-1...1).map { dy in canvas.pixel(x: Int(q.x) + dx, y: Int(q.y) + dy) } }
        }
        func grey(_ c: Color) -> Bool { c.red == c.green && c.green == c.blue && c.red > 160 && c.red < 200 }   // not the axis line (217)
        func orange(_ c: Color) -> Bool { Int(c.red) > Int(c.blue) + 60 }   // step 1's colour, faded over white
        #expect(around(Point2(0.15, 0), panel: 0).contains(where: grey), "step 0's path in the first panel")
        #expect(!around(Point2(0.15, 0), panel: 1).contains(where: grey), "and not in the second")
        #expect(around(Point2(0, -0.35), panel: 1).contains(where: orange), "step 1's path in the second panel")
        #expect(!around(Point2(0, -0.35), panel: 0).contains(where: orange), "and not in the first")
        // The status: in the heads-up display's lines and over the scene.
        let paused = HeadsUpDisplay(recording: renderer.recording, position: RenderedScene.position, shownEpisodes: 1, status: .paused)
        #expect(paused.lines.contains { $0.text.hasPrefix("PAUSED") })
        let ended = HeadsUpDisplay(recording: renderer.recording, position: RenderedScene.position, shownEpisodes: 1, status: .ended)
        #expect(ended.lines.contains { $0.text.hasPrefix("PLAYBACK ENDED") })
        #expect(!HeadsUpDisplay(recording: renderer.recording, position: RenderedScene.position, shownEpisodes: 1, status: .playing)
            .lines.contains { $0.text.hasPrefix("PAUSED") || $0.text.hasPrefix("PLAYBACK") })
        let window = try OffscreenCanvas(width: 640, height: 480, font: try FontFile.locate())
        renderer.draw(on: window.painter, width: 640, height: 480, position: RenderedScene.position, stepsPerSecond: 60,
                      showsHelp: false, status: .paused)
        let scene = ViewerLayout(width: 640, height: 480).scene
        // The notice's box, outlined at 12 pixels into the scene; without a status nothing is there.
        let edge = (x: Int(scene.x + 12), y: Int(scene.y + 20))
        #expect(window.pixel(x: edge.x, y: edge.y) == Palette.border, "the notice's outline")
        let playing = try OffscreenCanvas(width: 640, height: 480, font: try FontFile.locate())
        renderer.draw(on: playing.painter, width: 640, height: 480, position: RenderedScene.position, stepsPerSecond: 60,
                      showsHelp: false, status: .playing)
        #expect(playing.pixel(x: edge.x, y: edge.y) != Palette.border)
    }

    @Test func aMissingFontNamedByTheEnvironmentIsAClearError() {
        #expect(throws: FontError.unreadable(path: "/nonexistent.ttf", reason: "METARL_FONT names a file that does not exist or cannot be read")) {
            try FontFile.locate(environment: ["METARL_FONT": "/nonexistent.ttf"])
        }
    }
}

/// The same scene in a real SDL window. `make test` runs the tests under Xvfb and sets
/// METARL_REQUIRE_DISPLAY, so there a missing display fails instead of skipping.
@Suite("Viewer window", .serialized)
struct ViewerWindowTests {
    static let environment = ProcessInfo.processInfo.environment
    static var hasDisplay: Bool { environment["DISPLAY"].map { !$0.isEmpty } ?? false }

    @Test func aDisplayIsThereWhenRequired() {
        if Self.environment["METARL_REQUIRE_DISPLAY"] != nil {
            #expect(Self.hasDisplay, "METARL_REQUIRE_DISPLAY is set but DISPLAY is not: run the tests under xvfb-run")
        }
    }

    @Test(.enabled(if: hasDisplay)) func windowPixelsMatchTheOffscreenOnes() throws {
        let window = try ViewerWindow(title: "MetaRL test", width: RenderedScene.width, height: RenderedScene.height,
                                      font: try FontFile.locate())
        #expect(window.driver == "x11" || window.driver == "wayland", "a real window, not \(window.driver)")
        #expect(window.size == (RenderedScene.width, RenderedScene.height))
        let scene = RenderedScene()
        scene.draw(on: window.painter)
        scene.check { window.pixel(x: $0, y: $1) }
        window.present()
    }

    /// Key presses and the window's close button, posted to SDL's queue, come out as the
    /// viewer's commands.
    @Test(.enabled(if: hasDisplay)) func keysBecomeCommands() throws {
        let window = try ViewerWindow(title: "MetaRL test", width: 320, height: 240, font: nil)
        _ = window.pendingInputs()  // whatever the window manager sent on opening
        func press(_ key: SDL_KeyCode) {
            var event = SDL_Event()
            event.type = SDL_KEYDOWN.rawValue
            event.key.keysym.sym = SDL_Keycode(key.rawValue)
            SDL_PushEvent(&event)
        }
        for key in [SDLK_SPACE, SDLK_LEFT, SDLK_RIGHT, SDLK_UP, SDLK_DOWN, SDLK_3, SDLK_n, SDLK_r, SDLK_s, SDLK_h, SDLK_x, SDLK_ESCAPE] {
            press(key)
        }
        var quit = SDL_Event()
        quit.type = SDL_QUIT.rawValue
        SDL_PushEvent(&quit)
        #expect(window.pendingInputs() == [.togglePause, .frameBack, .frameForward, .faster, .slower, .jump(3), .nextTask,
                                           .replay, .screenshot, .toggleHelp, .quit, .quit])
    }
}
#endif

