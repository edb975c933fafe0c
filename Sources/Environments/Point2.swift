/// A point or vector in the plane.
public struct Point2: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var x: Double
    public var y: Double

    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }

    public static let zero = Point2(0, 0)

    /// Euclidean length.
    public var length: Double { (x * x + y * y).squareRoot() }

    public static func + (a: Point2, b: Point2) -> Point2 { Point2(a.x + b.x, a.y + b.y) }
    public static func - (a: Point2, b: Point2) -> Point2 { Point2(a.x - b.x, a.y - b.y) }
    public static func * (k: Double, p: Point2) -> Point2 { Point2(k * p.x, k * p.y) }

    public var description: String { "(\(x), \(y))" }
}
