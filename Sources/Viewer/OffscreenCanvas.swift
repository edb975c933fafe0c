#if Viewer
import CSDL2

/// Why drawing or saving a picture failed, with SDL's own message.
public enum CanvasError: Error, CustomStringConvertible, Equatable {
    case creationFailed(String)
    case saveFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .creationFailed(let reason): "could not create an offscreen canvas: \(reason)"
        case .saveFailed(let path, let reason): "could not write \(path): \(reason)"
        }
    }
}

/// A picture drawn with SDL's software renderer into memory: no window, no display, no `SDL_Init`.
///
/// Headless recording and PNG export draw here; its pixels are identical under Xvfb, the dummy
/// driver and none at all (PLATFORM.md), so pictures can be compared byte for byte in tests.
public final class OffscreenCanvas {
    public let width: Int
    public let height: Int
    private let surface: UnsafeMutablePointer<SDL_Surface>
    private let renderer: OpaquePointer

    /// - Throws: `CanvasError.creationFailed` when SDL cannot allocate the surface or renderer.
    public init(width: Int, height: Int) throws {
        precondition(width > 0 && height > 0, "canvas size must be positive, got \(width)×\(height)")
        guard let surface = SDL_CreateRGBSurfaceWithFormat(0, Int32(width), Int32(height), 32, METARL_SDL_PIXELFORMAT_RGBA32) else {
            throw CanvasError.creationFailed(String(cString: SDL_GetError()))
        }
        guard let renderer = SDL_CreateSoftwareRenderer(surface) else {
            SDL_FreeSurface(surface)
            throw CanvasError.creationFailed(String(cString: SDL_GetError()))
        }
        self.width = width
        self.height = height
        self.surface = surface
        self.renderer = renderer
    }

    deinit {
        SDL_DestroyRenderer(renderer)
        SDL_FreeSurface(surface)
    }

    /// Paints the whole canvas.
    public func clear(_ color: Color) {
        setColor(color)
        SDL_RenderClear(renderer)
    }

    /// Paints the rectangle with top-left corner (x, y), clipped to the canvas.
    public func fillRectangle(x: Int, y: Int, width: Int, height: Int, color: Color) {
        setColor(color)
        var rect = SDL_Rect(x: Int32(x), y: Int32(y), w: Int32(width), h: Int32(height))
        SDL_RenderFillRect(renderer, &rect)
    }

    /// The colour of the pixel at column `x`, row `y`.
    public func pixel(x: Int, y: Int) -> Color {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
        SDL_RenderFlush(renderer)
        let row = surface.pointee.pixels.assumingMemoryBound(to: UInt8.self) + y * Int(surface.pointee.pitch)
        let p = row + 4 * x  // RGBA32: bytes in R, G, B, A order whatever the endianness
        return Color(red: p[0], green: p[1], blue: p[2], alpha: p[3])
    }

    /// Writes the canvas as a PNG file.
    /// - Throws: `CanvasError.saveFailed` naming the path and SDL_image's reason.
    public func savePNG(to path: String) throws {
        SDL_RenderFlush(renderer)
        guard IMG_SavePNG(surface, path) == 0 else {
            throw CanvasError.saveFailed(path: path, reason: String(cString: SDL_GetError()))
        }
    }

    private func setColor(_ color: Color) {
        SDL_SetRenderDrawColor(renderer, color.red, color.green, color.blue, color.alpha)
    }
}
#endif
