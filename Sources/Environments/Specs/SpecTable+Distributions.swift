import Foundation
import TOMLKit

// Task-parameter distributions as written in spec files:
//   scalar:  0.1                    fixed
//            { uniform = [lo, hi] } uniform on [lo, hi]
//            { choice = [a, b, …] } one of the values
//   point:   [x, y]                                             fixed
//            { uniform = [[x_lo, y_lo], [x_hi, y_hi]] }         uniform in the box
//            { arc = { center = [x, y], radius = r, degrees = [from, to] } }
//            { arc_grid = { center = [x, y], radius = r, degrees = [from, to], count = n } }
//            { choice = [[x, y], …] }                           one of the points
extension SpecTable {
    mutating func scalarDistribution(_ key: String, default fallback: Double) throws -> ScalarDistribution {
        guard let v = value(key) else { return .fixed(fallback) }
        let at = keyPath(key)
        if v.type == .int || v.type == .double { return .fixed(try Self.number(v, at: at, file: file)) }
        guard let t = v.table else {
            throw error(key, "expected a number or a table { uniform = [lo, hi] } / { choice = […] }, found \(Self.describe(v))")
        }
        var spec = SpecTable(t, file: file, path: at)
        let result: ScalarDistribution
        if let u = spec.value("uniform") {
            let bounds = try Self.numbers(u, at: spec.keyPath("uniform"), file: file)
            guard bounds.count == 2 else { throw spec.error("uniform", "expected [lo, hi], found \(bounds.count) numbers") }
            guard bounds[0] <= bounds[1] else { throw spec.error("uniform", "empty range: \(bounds[0]) > \(bounds[1])") }
            result = .uniform(lower: bounds[0], upper: bounds[1])
        } else if let c = spec.value("choice") {
            let values = try Self.numbers(c, at: spec.keyPath("choice"), file: file)
            guard !values.isEmpty else { throw spec.error("choice", "empty list: nothing to choose from") }
            result = .choice(values)
        } else {
            throw error(key, "expected `uniform` or `choice` in the table")
        }
        try spec.finish()
        return result
    }

    mutating func pointDistribution(_ key: String, default fallback: Point2?) throws -> PointDistribution? {
        guard let v = value(key) else { return fallback.map { .fixed($0) } }
        let at = keyPath(key)
        if v.type == .array { return .fixed(try Self.point(v, at: at, file: file)) }
        guard let t = v.table else {
            throw error(key, "expected a point [x, y] or a table (uniform, arc, arc_grid, choice), found \(Self.describe(v))")
        }
        var spec = SpecTable(t, file: file, path: at)
        let result: PointDistribution
        if let u = spec.value("uniform") {
            let uAt = spec.keyPath("uniform")
            guard let corners = u.array, corners.count == 2 else {
                throw spec.error("uniform", "expected two corners [[x_lo, y_lo], [x_hi, y_hi]], found \(Self.describe(u))")
            }
            let lower = try Self.point(corners[0], at: uAt, file: file)
            let upper = try Self.point(corners[1], at: uAt, file: file)
            guard lower.x <= upper.x && lower.y <= upper.y else {
                throw spec.error("uniform", "empty box: lower corner \(lower) is not below and left of \(upper)")
            }
            result = .uniformBox(lower: lower, upper: upper)
        } else if let a = spec.value("arc") ?? spec.value("arc_grid") {
            let name = spec.contains("arc") ? "arc" : "arc_grid"
            guard let arcTable = a.table else { throw spec.error(name, "expected a table with center, radius, degrees") }
            var arc = SpecTable(arcTable, file: file, path: spec.keyPath(name))
            let center = try arc.value("center").map { try Self.point($0, at: arc.keyPath("center"), file: file) } ?? .zero
            guard let radius = try arc.number("radius") else { throw arc.error(nil, "missing `radius`") }
            guard radius > 0 else { throw arc.error("radius", "must be positive, found \(radius)") }
            guard let d = arc.value("degrees") else { throw arc.error(nil, "missing `degrees = [from, to]`") }
            let degrees = try Self.numbers(d, at: arc.keyPath("degrees"), file: file)
            guard degrees.count == 2, degrees[0] <= degrees[1] else {
                throw arc.error("degrees", "expected [from, to] with from ≤ to, found \(degrees)")
            }
            let (from, to) = (degrees[0] * .pi / 180, degrees[1] * .pi / 180)
            if name == "arc" {
                result = .arc(center: center, radius: radius, lowerAngle: from, upperAngle: to)
            } else {
                guard let count = try arc.integer("count", in: 1...100_000, "the number of points") else { throw arc.error(nil, "missing `count`") }
                result = .arcGrid(center: center, radius: radius, lowerAngle: from, upperAngle: to, count: count)
            }
            try arc.finish()
        } else if let c = spec.value("choice") {
            guard let list = c.array, !list.isEmpty else { throw spec.error("choice", "expected a non-empty list of points") }
            result = .choice(try list.map { try Self.point($0, at: spec.keyPath("choice"), file: file) })
        } else {
            throw error(key, "expected one of `uniform`, `arc`, `arc_grid`, `choice` in the table")
        }
        try spec.finish()
        return result
    }
}
