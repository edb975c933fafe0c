#if Viewer
import CSDL2
import Foundation
import Environments

/// Draws shapes and text with one SDL renderer: a window's or an offscreen canvas's.
///
/// Everything is in pixels with fractional coordinates. Filled shapes are triangles
/// (`SDL_RenderGeometry`), so circles and thick lines cost one call each and blend by their alpha.
public final class Painter {
    let renderer: OpaquePointer
    private var vertices: [SDL_Vertex] = []
    private var text: TextCache?

    init(renderer: OpaquePointer, font: FontFile?) {
        self.renderer = renderer
        SDL_SetRenderDrawBlendMode(renderer, SDL_BLENDMODE_BLEND)
        text = font.map { TextCache(renderer: renderer, font: $0) }
    }

    /// The size of what is drawn on, in pixels.
    public var outputSize: (width: Int, height: Int) {
        var w: Int32 = 0, h: Int32 = 0
        SDL_GetRendererOutputSize(renderer, &w, &h)
        return (Int(w), Int(h))
    }

    /// Restricts drawing to `rect` (whole pixels inside it); nil draws everywhere again.
    public func clip(to rect: PixelRect?) {
        guard let rect else { SDL_RenderSetClipRect(renderer, nil); return }
        let (x0, y0) = (Int32(rect.x.rounded(.up)), Int32(rect.y.rounded(.up)))
        var r = SDL_Rect(x: x0, y: y0, w: Int32(rect.maxX.rounded(.down)) - x0, h: Int32(rect.maxY.rounded(.down)) - y0)
        SDL_RenderSetClipRect(renderer, &r)
    }

    public func clear(_ color: Color) {
        SDL_SetRenderDrawColor(renderer, color.red, color.green, color.blue, color.alpha)
        SDL_RenderClear(renderer)
    }

    public func fill(_ rect: PixelRect, _ color: Color) {
        SDL_SetRenderDrawColor(renderer, color.red, color.green, color.blue, color.alpha)
        var r = SDL_FRect(x: Float(rect.x), y: Float(rect.y), w: Float(rect.width), h: Float(rect.height))
        SDL_RenderFillRectF(renderer, &r)
    }

    /// The outline of `rect`, `width` pixels thick, inside it.
    public func stroke(_ rect: PixelRect, _ color: Color, width: Double = 1) {
        fill(PixelRect(x: rect.x, y: rect.y, width: rect.width, height: width), color)
        fill(PixelRect(x: rect.x, y: rect.maxY - width, width: rect.width, height: width), color)
        fill(PixelRect(x: rect.x, y: rect.y + width, width: width, height: rect.height - 2 * width), color)
        fill(PixelRect(x: rect.maxX - width, y: rect.y + width, width: width, height: rect.height - 2 * width), color)
    }

    /// A disc of `radius` pixels.
    public func fillCircle(center: (x: Double, y: Double), radius: Double, _ color: Color) {
        let segments = Self.segments(radius)
        vertices.removeAll(keepingCapacity: true)
        for k in 0..<segments {
            let a0 = 2 * Double.pi * Double(k) / Double(segments)
            let a1 = 2 * Double.pi * Double(k + 1) / Double(segments)
            append(center.x, center.y, color)
            append(center.x + radius * cos(a0), center.y + radius * sin(a0), color)
            append(center.x + radius * cos(a1), center.y + radius * sin(a1), color)
        }
        flush()
    }

    /// A filled triangle (the gridworld agent, pointing where it faces).
    public func fillTriangle(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double), _ c: (x: Double, y: Double), _ color: Color) {
        vertices.removeAll(keepingCapacity: true)
        append(a.x, a.y, color); append(b.x, b.y, color); append(c.x, c.y, color)
        flush()
    }

    /// A ring of `width` pixels whose outer edge has `radius` pixels.
    public func strokeCircle(center: (x: Double, y: Double), radius: Double, width: Double, _ color: Color) {
        let segments = Self.segments(radius)
        let inner = max(0, radius - width)
        vertices.removeAll(keepingCapacity: true)
        for k in 0..<segments {
            let a0 = 2 * Double.pi * Double(k) / Double(segments)
            let a1 = 2 * Double.pi * Double(k + 1) / Double(segments)
            let (c0, s0, c1, s1) = (cos(a0), sin(a0), cos(a1), sin(a1))
            quad((center.x + radius * c0, center.y + radius * s0), (center.x + radius * c1, center.y + radius * s1),
                 (center.x + inner * c1, center.y + inner * s1), (center.x + inner * c0, center.y + inner * s0), color)
        }
        flush()
    }

    /// A polyline `width` pixels thick through `points`.
    public func polyline(_ points: [(x: Double, y: Double)], width: Double, _ color: Color) {
        guard points.count > 1 else { return }
        let half = width / 2
        vertices.removeAll(keepingCapacity: true)
        for (p, q) in zip(points, points.dropFirst()) {
            let (dx, dy) = (q.x - p.x, q.y - p.y)
            let length = (dx * dx + dy * dy).squareRoot()
            guard length > 1e-9 else { continue }
            // Extend each segment by half the width along itself so that joints leave no gaps.
            let (ux, uy) = (dx / length * half, dy / length * half)
            let (nx, ny) = (-uy, ux)
            quad((p.x - ux + nx, p.y - uy + ny), (q.x + ux + nx, q.y + uy + ny),
                 (q.x + ux - nx, q.y + uy - ny), (p.x - ux - nx, p.y - uy - ny), color)
        }
        flush()
    }

    /// Draws `string` with its top-left corner at (x, y), cut short with "…" where it would be
    /// wider than `maxWidth`; returns its size. Draws nothing, and returns zero, when the painter
    /// has no font.
    @discardableResult
    public func text(_ string: String, x: Double, y: Double, size: TextSize = .body, maxWidth: Double = .infinity,
                     _ color: Color) -> (width: Int, height: Int) {
        guard let text else { return (0, 0) }
        return text.draw(text.fitted(string, size: size, maxWidth: maxWidth), x: x, y: y, size: size, color: color)
    }

    /// The size `string` would take.
    public func measure(_ string: String, size: TextSize = .body) -> (width: Int, height: Int) {
        text?.measure(string, size: size) ?? (0, 0)
    }

    /// Draws whatever is queued (software renderers draw lazily).
    public func flushDrawing() { SDL_RenderFlush(renderer) }

    // MARK: Triangles

    private static func segments(_ radius: Double) -> Int { min(96, max(16, Int(radius))) }

    private func append(_ x: Double, _ y: Double, _ c: Color) {
        vertices.append(SDL_Vertex(position: SDL_FPoint(x: Float(x), y: Float(y)),
                                   color: SDL_Color(r: c.red, g: c.green, b: c.blue, a: c.alpha),
                                   tex_coord: SDL_FPoint(x: 0, y: 0)))
    }

    private func quad(_ a: (Double, Double), _ b: (Double, Double), _ c: (Double, Double), _ d: (Double, Double), _ color: Color) {
        append(a.0, a.1, color); append(b.0, b.1, color); append(c.0, c.1, color)
        append(a.0, a.1, color); append(c.0, c.1, color); append(d.0, d.1, color)
    }

    private func flush() {
        guard !vertices.isEmpty else { return }
        vertices.withUnsafeBufferPointer { buffer in
            _ = SDL_RenderGeometry(renderer, nil, buffer.baseAddress, Int32(buffer.count), nil, 0)
        }
    }
}
#endif
