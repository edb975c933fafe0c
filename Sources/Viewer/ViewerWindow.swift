#if Viewer
import CSDL2
import Foundation

/// Why the window could not be opened.
public enum WindowError: Error, CustomStringConvertible, Equatable {
    case noDisplay(driver: String)
    case sdl(String)

    public var description: String {
        switch self {
        case .noDisplay(let driver):
            "no display to open a window on (SDL chose its \(driver) video driver; is DISPLAY set?): use --record DIR to write the frames as PNG, or metarl render for one picture"
        case .sdl(let reason): "could not open the viewer window: \(reason)"
        }
    }
}

/// A resizable SDL window with a renderer: the viewer's screen.
///
/// SDL wants windows made and driven from the main thread; this type is used by the `metarl`
/// command on its main thread only, and is not `Sendable`.
public final class ViewerWindow {
    private let window: OpaquePointer
    private let renderer: OpaquePointer
    public private(set) var painter: Painter!
    /// SDL's video driver (`x11`, `wayland`, …).
    public let driver: String
    /// SDL's render driver (`opengl`, `software`, …).
    public let rendererName: String

    /// - Parameter vsync: wait for the display's refresh on `present` (SDL simulates it where the
    ///   driver cannot); off, frames are shown as fast as they are drawn (for benchmarks).
    /// - Throws: `WindowError.noDisplay` when SDL finds only its offscreen or dummy drivers.
    public init(title: String, width: Int, height: Int, font: FontFile?, vsync: Bool = true) throws {
        guard SDL_InitSubSystem(SDL_INIT_VIDEO) == 0 else { throw WindowError.sdl(String(cString: SDL_GetError())) }
        driver = SDL_GetCurrentVideoDriver().map { String(cString: $0) } ?? "none"
        guard !["offscreen", "dummy", "evdev"].contains(driver) else {
            SDL_QuitSubSystem(SDL_INIT_VIDEO)
            throw WindowError.noDisplay(driver: driver)
        }
        let flags = SDL_WINDOW_RESIZABLE.rawValue | SDL_WINDOW_SHOWN.rawValue
        guard let window = SDL_CreateWindow(title, METARL_SDL_WINDOWPOS_CENTERED, METARL_SDL_WINDOWPOS_CENTERED,
                                            Int32(width), Int32(height), flags) else {
            let reason = String(cString: SDL_GetError())
            SDL_QuitSubSystem(SDL_INIT_VIDEO)
            throw WindowError.sdl(reason)
        }
        let sync = vsync ? SDL_RENDERER_PRESENTVSYNC.rawValue : 0
        guard let renderer = SDL_CreateRenderer(window, -1, SDL_RENDERER_ACCELERATED.rawValue | sync)
                ?? SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE.rawValue | sync) else {
            let reason = String(cString: SDL_GetError())
            SDL_DestroyWindow(window)
            SDL_QuitSubSystem(SDL_INIT_VIDEO)
            throw WindowError.sdl(reason)
        }
        self.window = window
        self.renderer = renderer
        var info = SDL_RendererInfo()
        SDL_GetRendererInfo(renderer, &info)
        rendererName = info.name.map { String(cString: $0) } ?? "unknown"
        painter = Painter(renderer: renderer, font: font)
    }

    deinit {
        painter = nil  // its textures belong to the renderer
        SDL_DestroyRenderer(renderer)
        SDL_DestroyWindow(window)
        SDL_QuitSubSystem(SDL_INIT_VIDEO)
    }

    /// The drawable size in pixels.
    public var size: (width: Int, height: Int) { painter.outputSize }

    public func setTitle(_ title: String) { SDL_SetWindowTitle(window, title) }

    /// Shows what has been drawn since the last call.
    public func present() { SDL_RenderPresent(renderer) }

    /// The colour of a pixel of what has been drawn (before `present`).
    public func pixel(x: Int, y: Int) -> Color {
        SDL_RenderFlush(renderer)
        var rect = SDL_Rect(x: Int32(x), y: Int32(y), w: 1, h: 1)
        var bytes: [UInt8] = [0, 0, 0, 0]
        _ = bytes.withUnsafeMutableBytes { SDL_RenderReadPixels(renderer, &rect, METARL_SDL_PIXELFORMAT_RGBA32, $0.baseAddress, 4) }
        return Color(red: bytes[0], green: bytes[1], blue: bytes[2], alpha: bytes[3])
    }

    /// The keys the viewer reacts to, decoded from SDL events.
    public enum Input: Equatable {
        case quit, togglePause, frameBack, frameForward, faster, slower, jump(Int), nextTask, replay, screenshot, toggleHelp
    }

    /// Every input waiting in SDL's queue.
    public func pendingInputs() -> [Input] {
        var inputs: [Input] = []
        var event = SDL_Event()
        while SDL_PollEvent(&event) != 0 {
            if event.type == SDL_QUIT.rawValue { inputs.append(.quit); continue }
            guard event.type == SDL_KEYDOWN.rawValue else { continue }
            let key = Int(event.key.keysym.sym)
            func code(_ k: SDL_KeyCode) -> Int { Int(k.rawValue) }
            switch key {
            case code(SDLK_q), code(SDLK_ESCAPE): inputs.append(.quit)
            case code(SDLK_SPACE): inputs.append(.togglePause)
            case code(SDLK_LEFT): inputs.append(.frameBack)
            case code(SDLK_RIGHT): inputs.append(.frameForward)
            case code(SDLK_UP): inputs.append(.faster)
            case code(SDLK_DOWN): inputs.append(.slower)
            case code(SDLK_0)...code(SDLK_9): inputs.append(.jump(key - code(SDLK_0)))
            case code(SDLK_n): inputs.append(.nextTask)
            case code(SDLK_r): inputs.append(.replay)
            case code(SDLK_s): inputs.append(.screenshot)
            case code(SDLK_h): inputs.append(.toggleHelp)
            default: break
            }
        }
        return inputs
    }

    /// Seconds since an arbitrary origin, from SDL's high-resolution counter.
    public static func now() -> Double {
        Double(SDL_GetPerformanceCounter()) / Double(SDL_GetPerformanceFrequency())
    }

    public static func sleep(seconds: Double) {
        if seconds > 0 { SDL_Delay(UInt32(seconds * 1000)) }
    }
}
#endif
