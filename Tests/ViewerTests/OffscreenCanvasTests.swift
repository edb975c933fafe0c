#if Viewer
import Foundation
import Testing
import Viewer

@Suite("Offscreen canvas")
struct OffscreenCanvasTests {
    let background = Color(red: 20, green: 24, blue: 32)
    let goal = Color(red: 240, green: 200, blue: 40)

    @Test func rectanglesLandOnTheirPixels() throws {
        let canvas = try OffscreenCanvas(width: 64, height: 48)
        canvas.clear(background)
        canvas.fillRectangle(x: 10, y: 5, width: 8, height: 4, color: goal)
        #expect(canvas.pixel(x: 10, y: 5) == goal)       // top-left corner is inside
        #expect(canvas.pixel(x: 17, y: 8) == goal)       // bottom-right corner is inside
        #expect(canvas.pixel(x: 18, y: 8) == background) // one past the right edge
        #expect(canvas.pixel(x: 17, y: 9) == background) // one past the bottom edge
        #expect(canvas.pixel(x: 0, y: 0) == background)
    }

    @Test func pngFilesAreWritten() throws {
        let canvas = try OffscreenCanvas(width: 16, height: 16)
        canvas.clear(goal)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-canvas-\(getpid()).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try canvas.savePNG(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "not a PNG signature")
    }

    @Test func anUnwritablePathIsAnError() throws {
        let canvas = try OffscreenCanvas(width: 4, height: 4)
        #expect(throws: CanvasError.self) { try canvas.savePNG(to: "/nonexistent-directory/picture.png") }
    }
}
#endif
