import Foundation

/// How a scalar task parameter is chosen for each task.
public enum ScalarDistribution: Sendable, Equatable, Codable {
    case fixed(Double)
    /// Uniform on lower...upper.
    case uniform(lower: Double, upper: Double)
    /// One of the values, with equal probability.
    case choice([Double])

    public func sample(using rng: inout some RandomNumberGenerator) -> Double {
        switch self {
        case .fixed(let value): value
        case .uniform(let lower, let upper): lower == upper ? lower : Double.random(in: lower...upper, using: &rng)
        case .choice(let values): values[Int.random(in: 0..<values.count, using: &rng)]
        }
    }

    /// The smallest and largest value it can take.
    public var range: ClosedRange<Double> {
        switch self {
        case .fixed(let value): value...value
        case .uniform(let lower, let upper): lower...upper
        case .choice(let values): values.min()!...values.max()!
        }
    }
}

/// How a point-valued task parameter (a goal, a start, a drift) is chosen for each task.
public enum PointDistribution: Sendable, Equatable, Codable {
    case fixed(Point2)
    /// Uniform over the axis-aligned box [lower.x, upper.x] × [lower.y, upper.y].
    case uniformBox(lower: Point2, upper: Point2)
    /// On the circle of `radius` around `center`, at an angle uniform in lower...upper (radians);
    /// 0...2π is the whole circle, 0...π the upper half.
    case arc(center: Point2, radius: Double, lowerAngle: Double, upperAngle: Double)
    /// `count` points evenly spaced on the arc (both ends included), one of them per task: PEARL's
    /// fixed goal sets.
    case arcGrid(center: Point2, radius: Double, lowerAngle: Double, upperAngle: Double, count: Int)
    /// One of the points, with equal probability.
    case choice([Point2])

    public func sample(using rng: inout some RandomNumberGenerator) -> Point2 {
        switch self {
        case .fixed(let point):
            return point
        case .uniformBox(let lower, let upper):
            let x = lower.x == upper.x ? lower.x : Double.random(in: lower.x...upper.x, using: &rng)
            let y = lower.y == upper.y ? lower.y : Double.random(in: lower.y...upper.y, using: &rng)
            return Point2(x, y)
        case .arc(let center, let radius, let lowerAngle, let upperAngle):
            let angle = lowerAngle == upperAngle ? lowerAngle : Double.random(in: lowerAngle...upperAngle, using: &rng)
            return center + radius * Point2(cos(angle), sin(angle))
        case .arcGrid(let center, let radius, let lowerAngle, let upperAngle, let count):
            return points(center: center, radius: radius, lowerAngle: lowerAngle, upperAngle: upperAngle, count: count)[
                Int.random(in: 0..<count, using: &rng)]
        case .choice(let points):
            return points[Int.random(in: 0..<points.count, using: &rng)]
        }
    }

    /// The points of an `arcGrid`, in order of angle.
    public func points(center: Point2, radius: Double, lowerAngle: Double, upperAngle: Double, count: Int) -> [Point2] {
        (0..<count).map { i in
            let angle = count == 1 ? lowerAngle : lowerAngle + (upperAngle - lowerAngle) * Double(i) / Double(count - 1)
            return center + radius * Point2(cos(angle), sin(angle))
        }
    }

    /// A box that holds every point the distribution can produce.
    public var boundingBox: (lower: Point2, upper: Point2) {
        switch self {
        case .fixed(let p): return (p, p)
        case .uniformBox(let lower, let upper): return (lower, upper)
        case .arc(let c, let r, _, _), .arcGrid(let c, let r, _, _, _): return (c - Point2(r, r), c + Point2(r, r))
        case .choice(let points):
            return (Point2(points.map(\.x).min()!, points.map(\.y).min()!), Point2(points.map(\.x).max()!, points.map(\.y).max()!))
        }
    }
}
