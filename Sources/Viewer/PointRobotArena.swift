import Environments
import Experiments

/// The part of the plane a point-robot recording is shown in: every place a goal, start or
/// obstacle of the family can be, and this task's, with a margin, as a square.
public struct PointRobotArena: Sendable, Equatable {
    public let lower: Point2
    public let side: Double

    /// - Parameter points: more places to keep in view (the trajectories shown).
    public init(family: PointRobotFamily, task: PointRobotTask, including points: [Point2] = []) {
        var low = task.start, high = task.start
        func include(_ p: Point2, radius: Double = 0) {
            low = Point2(min(low.x, p.x - radius), min(low.y, p.y - radius))
            high = Point2(max(high.x, p.x + radius), max(high.y, p.y + radius))
        }
        for box in [family.goal.boundingBox, family.start.boundingBox] {
            include(box.lower)
            include(box.upper)
        }
        include(task.goal, radius: family.reward.goalRadius)
        for obstacle in task.obstacles { include(obstacle.center, radius: obstacle.radius) }
        for p in points where p.x.isFinite && p.y.isFinite { include(p) }
        let span = max(high.x - low.x, high.y - low.y, 0.2)
        side = span * 1.3
        let center = 0.5 * (low + high)
        lower = center - Point2(side / 2, side / 2)
    }

    /// The transform onto the largest square inside `area`.
    public func transform(fitting area: PixelRect) -> ArenaTransform {
        ArenaTransform(lower: lower, side: side, fitting: area)
    }

    /// Grid spacing in world units: 1, 2 or 5 × a power of ten, giving 4 to 10 lines.
    public var gridSpacing: Double {
        let raw = side / 8
        let power = pow10(floorLog10(raw))
        for factor in [1.0, 2.0, 5.0, 10.0] where factor * power >= raw { return factor * power }
        return 10 * power
    }
}

private func floorLog10(_ x: Double) -> Int {
    var exponent = 0
    var value = x
    while value >= 10 { value /= 10; exponent += 1 }
    while value < 1 { value *= 10; exponent -= 1 }
    return exponent
}

private func pow10(_ exponent: Int) -> Double {
    var result = 1.0
    if exponent >= 0 { for _ in 0..<exponent { result *= 10 } } else { for _ in 0..<(-exponent) { result /= 10 } }
    return result
}

extension PointRobotFamily.Reward {
    /// The radius drawn around the goal: where the sparse reward pays, or where the success bonus
    /// is given; 0 when the reward has neither.
    public var goalRadius: Double {
        if case .sparse(let radius) = kind { return radius }
        return successBonus != 0 ? successRadius : 0
    }
}
