import Environments

/// A rectangle in pixels: top-left corner, width and height.
public struct PixelRect: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var maxX: Double { x + width }
    public var maxY: Double { y + height }

    /// The rectangle shrunk by `margin` on every side.
    public func inset(by margin: Double) -> PixelRect {
        PixelRect(x: x + margin, y: y + margin, width: max(0, width - 2 * margin), height: max(0, height - 2 * margin))
    }
}

/// Maps the plane of a point-robot arena onto a square of pixels, y pointing up.
public struct ArenaTransform: Sendable, Equatable {
    /// The world square shown: lower-left corner and side.
    public let lower: Point2
    public let side: Double
    /// The pixel square it fills.
    public let area: PixelRect

    /// The largest square in `area`, centred, showing the world square `lower`…`lower + side`.
    public init(lower: Point2, side: Double, fitting area: PixelRect) {
        precondition(side > 0, "the world square needs a positive side, got \(side)")
        let pixels = min(area.width, area.height)
        self.lower = lower
        self.side = side
        self.area = PixelRect(x: area.x + (area.width - pixels) / 2, y: area.y + (area.height - pixels) / 2,
                              width: pixels, height: pixels)
    }

    /// Pixels per world unit.
    public var scale: Double { area.width / side }

    /// The pixel position of a world point (fractional: pixel centres are at .5).
    public func pixel(_ p: Point2) -> (x: Double, y: Double) {
        (area.x + (p.x - lower.x) * scale, area.maxY - (p.y - lower.y) * scale)
    }

    /// A world length in pixels.
    public func pixels(_ length: Double) -> Double { length * scale }
}

/// How a viewer picture is divided: the scene on the left, the heads-up display on the right.
public struct ViewerLayout: Sendable, Equatable {
    public static let panelWidth = 330.0
    public static let margin = 16.0

    public let scene: PixelRect
    public let panel: PixelRect

    public init(width: Int, height: Int) {
        let (w, h) = (Double(width), Double(height))
        let panelWidth = min(Self.panelWidth, w * 0.4)
        scene = PixelRect(x: 0, y: 0, width: w - panelWidth, height: h).inset(by: Self.margin)
        panel = PixelRect(x: w - panelWidth, y: 0, width: panelWidth, height: h).inset(by: Self.margin)
    }
}
