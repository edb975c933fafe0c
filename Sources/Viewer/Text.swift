#if Viewer
import CSDL2
import Foundation

/// Text sizes of the heads-up display, in points.
public enum TextSize: Int32, Sendable, CaseIterable {
    case small = 12
    case body = 15
    case title = 19
}

/// Why the viewer cannot draw text.
public enum FontError: Error, CustomStringConvertible, Equatable {
    case notFound(searched: [String])
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let searched):
            "no TrueType font for the viewer's text: install the Debian package fonts-dejavu-core, or set METARL_FONT to a .ttf file (looked at \(searched.joined(separator: ", ")))"
        case .unreadable(let path, let reason):
            "cannot read the font \(path): \(reason)"
        }
    }
}

/// A TrueType font file the viewer writes its text with.
public struct FontFile: Sendable, Equatable {
    public let path: String

    /// DejaVu Sans from `fonts-dejavu-core` (Debian), or the file named by `METARL_FONT`.
    public static let candidates = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/local/share/fonts/DejaVuSans.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
    ]

    /// - Throws: `FontError.notFound` naming every place looked at.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> FontFile {
        if let chosen = environment["METARL_FONT"], !chosen.isEmpty {
            guard FileManager.default.isReadableFile(atPath: chosen) else {
                throw FontError.unreadable(path: chosen, reason: "METARL_FONT names a file that does not exist or cannot be read")
            }
            return FontFile(path: chosen)
        }
        guard let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) else {
            throw FontError.notFound(searched: candidates)
        }
        return FontFile(path: found)
    }
}

/// Rendered strings as textures of one renderer, so that a heads-up display redrawn 60 times a
/// second renders each distinct string once.
final class TextCache {
    private struct Key: Hashable {
        var text: String
        var size: Int32
        var color: Color
    }

    private let renderer: OpaquePointer
    private let font: FontFile
    private var fonts: [Int32: OpaquePointer] = [:]
    private var textures: [Key: (texture: OpaquePointer, width: Int32, height: Int32)] = [:]
    private struct FitKey: Hashable {
        var text: String
        var size: Int32
        var maxWidth: Double
    }
    private var fits: [FitKey: String] = [:]
    private static let capacity = 512

    init(renderer: OpaquePointer, font: FontFile) {
        self.renderer = renderer
        self.font = font
        _ = Self.fontEngineReady
    }

    /// SDL_ttf is initialised once per process, by whichever thread draws text first (a static
    /// `let` is initialised exactly once, thread-safely).
    private static let fontEngineReady: Bool = TTF_Init() == 0

    deinit {
        for entry in textures.values { SDL_DestroyTexture(entry.texture) }
        for font in fonts.values { TTF_CloseFont(font) }
    }

    func draw(_ string: String, x: Double, y: Double, size: TextSize, color: Color) -> (width: Int, height: Int) {
        guard !string.isEmpty, let entry = texture(string, size: size, color: color) else { return (0, 0) }
        var target = SDL_FRect(x: Float(x.rounded()), y: Float(y.rounded()), w: Float(entry.width), h: Float(entry.height))
        SDL_RenderCopyF(renderer, entry.texture, nil, &target)
        return (Int(entry.width), Int(entry.height))
    }

    func measure(_ string: String, size: TextSize) -> (width: Int, height: Int) {
        guard let handle = open(size) else { return (0, 0) }
        var w: Int32 = 0, h: Int32 = 0
        TTF_SizeUTF8(handle, string, &w, &h)
        return (Int(w), Int(h))
    }

    /// `string`, or as much of it as fits in `maxWidth` followed by "…"; worked out once per
    /// string and width, since the display draws the same lines every frame.
    func fitted(_ string: String, size: TextSize, maxWidth: Double) -> String {
        guard maxWidth.isFinite else { return string }
        let key = FitKey(text: string, size: size.rawValue, maxWidth: maxWidth)
        if let known = fits[key] { return known }
        var shown = string
        if Double(measure(shown, size: size).width) > maxWidth {
            while !shown.isEmpty && Double(measure(shown + "…", size: size).width) > maxWidth { shown.removeLast() }
            shown += "…"
        }
        if fits.count >= Self.capacity { fits.removeAll(keepingCapacity: true) }
        fits[key] = shown
        return shown
    }

    private func open(_ size: TextSize) -> OpaquePointer? {
        if let handle = fonts[size.rawValue] { return handle }
        guard let handle = TTF_OpenFont(font.path, Int32(size.rawValue)) else { return nil }
        fonts[size.rawValue] = handle
        return handle
    }

    private func texture(_ string: String, size: TextSize, color: Color) -> (texture: OpaquePointer, width: Int32, height: Int32)? {
        let key = Key(text: string, size: size.rawValue, color: color)
        if let entry = textures[key] { return entry }
        guard let handle = open(size),
              let surface = TTF_RenderUTF8_Blended(handle, string, SDL_Color(r: color.red, g: color.green, b: color.blue, a: color.alpha))
        else { return nil }
        defer { SDL_FreeSurface(surface) }
        guard let texture = SDL_CreateTextureFromSurface(renderer, surface) else { return nil }
        if textures.count >= Self.capacity {
            for entry in textures.values { SDL_DestroyTexture(entry.texture) }
            textures.removeAll(keepingCapacity: true)
        }
        let entry = (texture, surface.pointee.w, surface.pointee.h)
        textures[key] = entry
        return entry
    }
}
#endif
