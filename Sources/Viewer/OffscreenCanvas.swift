#if Viewer
import CSDL2
import Foundation

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
    /// Draws on this canvas.
    public private(set) var painter: Painter!

    /// - Parameter font: the font text is written with; without one, text is left out.
    /// - Throws: `CanvasError.creationFailed` when SDL cannot allocate the surface or renderer.
    public init(width: Int, height: Int, font: FontFile? = nil) throws {
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
        painter = Painter(renderer: renderer, font: font)
    }

    deinit {
        painter = nil  // its textures belong to the renderer
        SDL_DestroyRenderer(renderer)
        SDL_FreeSurface(surface)
    }

    /// Paints the whole canvas.
    public func clear(_ color: Color) { painter.clear(color) }

    /// Paints the rectangle with top-left corner (x, y), clipped to the canvas.
    public func fillRectangle(x: Int, y: Int, width: Int, height: Int, color: Color) {
        painter.fill(PixelRect(x: Double(x), y: Double(y), width: Double(width), height: Double(height)), color)
    }

    /// The colour of the pixel at column `x`, row `y`.
    public func pixel(x: Int, y: Int) -> Color {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
        SDL_RenderFlush(renderer)
        let row = surface.pointee.pixels.assumingMemoryBound(to: UInt8.self) + y * Int(surface.pointee.pitch)
        let p = row + 4 * x  // RGBA32: bytes in R, G, B, A order whatever the endianness
        return Color(red: p[0], green: p[1], blue: p[2], alpha: p[3])
    }

    /// The canvas's pixels, row after row, 4 bytes (R, G, B, A) each, into `buffer` (resized to
    /// width × height × 4): what a video encoder reads as `rgba` frames.
    public func copyPixels(into buffer: inout [UInt8]) {
        SDL_RenderFlush(renderer)
        let rowBytes = width * 4, pitch = Int(surface.pointee.pitch)
        if buffer.count != rowBytes * height { buffer = [UInt8](repeating: 0, count: rowBytes * height) }
        let source = surface.pointee.pixels.assumingMemoryBound(to: UInt8.self)
        buffer.withUnsafeMutableBufferPointer { out in
            for y in 0..<height { (out.baseAddress! + y * rowBytes).update(from: source + y * pitch, count: rowBytes) }
        }
    }

    /// Writes RGBA `pixels` of a `width × height` picture as a PNG file, atomically, from any
    /// thread (each call has its own surface): the parallel half of `watch --record DIR`.
    /// - Throws: `CanvasError.saveFailed` naming the path and the reason.
    public static func savePNG(pixels: [UInt8], width: Int, height: Int, to path: String) throws {
        var pixels = pixels
        try pixels.withUnsafeMutableBytes { raw in
            guard let surface = SDL_CreateRGBSurfaceWithFormatFrom(raw.baseAddress, Int32(width), Int32(height), 32, Int32(width * 4),
                                                                    METARL_SDL_PIXELFORMAT_RGBA32) else {
                throw CanvasError.saveFailed(path: path, reason: String(cString: SDL_GetError()))
            }
            defer { SDL_FreeSurface(surface) }
            try Self.writePNG(surface, to: path)
        }
    }

    /// Writes the canvas as a PNG file, atomically: under a temporary name first, then renamed,
    /// so that a failure never leaves a half-written picture at `path`.
    /// - Throws: `CanvasError.saveFailed` naming the path and the reason.
    public func savePNG(to path: String) throws {
        SDL_RenderFlush(renderer)
        try Self.writePNG(surface, to: path)
    }

    /// `surface` as a PNG at `path`: under a temporary name, then renamed.
    private static func writePNG(_ surface: UnsafeMutablePointer<SDL_Surface>, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let partial = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())").path
        guard IMG_SavePNG(surface, partial) == 0 else {
            throw CanvasError.saveFailed(path: path, reason: String(cString: SDL_GetError()))
        }
        guard rename(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partial)
            throw CanvasError.saveFailed(path: path, reason: reason)
        }
    }
}
#endif
