import TOMLKit

extension PointRobotFamily {
    /// Reads a point-robot spec (the keys after `family` and `description`), validating every
    /// value; see `envs/point-robot/*.toml` for the format, documented in the README.
    init(spec: inout SpecTable) throws {
        let file = spec.file
        let horizon = try spec.integer("horizon", in: EnvironmentSpec.horizonLimit, "the horizon (steps per episode)") ?? 100
        let episodes = try spec.integer("episodes_per_trial", in: 1...1000, "episodes per trial") ?? 1

        let dynamicsName = try spec.string("dynamics") ?? "velocity"
        guard let dynamics = Dynamics(rawValue: dynamicsName) else {
            throw spec.error("dynamics", "unknown dynamics \"\(dynamicsName)\"; expected \"velocity\" or \"momentum\"")
        }
        guard let goal = try spec.pointDistribution("goal", default: nil) else {
            throw spec.error(nil, "missing `goal`: a point [x, y] or a distribution table")
        }
        let start = try spec.pointDistribution("start", default: .zero)!
        let drift = try spec.pointDistribution("drift", default: .zero)!
        let actionBound = try spec.scalarDistribution("action_bound", default: 0.1)
        guard actionBound.range.lowerBound > 0 else { throw spec.error("action_bound", "must be positive") }
        let actionScale = try spec.scalarDistribution("action_scale", default: 1)
        guard actionScale.range.lowerBound > 0 else { throw spec.error("action_scale", "must be positive") }
        let damping = try spec.scalarDistribution("damping", default: 0)
        guard damping.range.lowerBound >= 0 && damping.range.upperBound <= 1 else {
            throw spec.error("damping", "must lie in [0, 1], found \(damping.range)")
        }
        if dynamics == .velocity && damping != .fixed(0) {
            throw spec.error("damping", "damping only applies to momentum dynamics (set `dynamics = \"momentum\"`)")
        }
        let observesGoal = try spec.bool("observe_goal") ?? false

        var reward = Reward(kind: .distance)
        if var r = try spec.table("reward") {
            let kind = try r.string("kind") ?? "distance"
            switch kind {
            case "distance": reward.kind = .distance
            case "squared-distance": reward.kind = .squaredDistance
            case "sparse":
                guard let radius = try r.number("radius") else { throw r.error(nil, "a sparse reward needs `radius`") }
                guard radius > 0 else { throw r.error("radius", "must be positive, found \(radius)") }
                reward.kind = .sparse(radius: radius)
            default:
                throw r.error("kind", "unknown reward \"\(kind)\"; expected \"distance\", \"squared-distance\" or \"sparse\"")
            }
            if kind != "sparse" && r.contains("radius") { throw r.error("radius", "only a sparse reward has a radius") }
            reward.successBonus = try r.number("success_bonus", default: 0)
            reward.successRadius = try r.number("success_radius", default: 0)
            reward.controlCost = try r.number("control_cost", default: 0)
            if reward.successBonus != 0 && reward.successRadius <= 0 {
                throw r.error("success_radius", "a success bonus needs a positive success radius")
            }
            guard reward.controlCost >= 0 else { throw r.error("control_cost", "must not be negative") }
            try r.finish()
        }

        var termination = Termination.never
        if var t = try spec.table("termination") {
            let kind = try t.string("kind") ?? "never"
            switch kind {
            case "never": termination = .never
            case "box":
                guard let w = try t.number("half_width"), w > 0 else { throw t.error("half_width", "a box termination needs a positive `half_width`") }
                termination = .box(halfWidth: w)
            case "radius":
                guard let r = try t.number("radius"), r > 0 else { throw t.error("radius", "a radius termination needs a positive `radius`") }
                termination = .radius(r)
            default:
                throw t.error("kind", "unknown termination \"\(kind)\"; expected \"never\", \"box\" or \"radius\"")
            }
            try t.finish()
        }

        var obstacles = ObstacleDistribution.fixed([])
        if var o = try spec.table("obstacles") {
            if let fixed = o.value("fixed") {
                guard let list = fixed.array else { throw o.error("fixed", "expected a list of { center = [x, y], radius = r }") }
                obstacles = .fixed(try list.map { item in
                    guard let t = item.table else { throw o.error("fixed", "expected { center = [x, y], radius = r }") }
                    var disc = SpecTable(t, file: file, path: o.keyPath("fixed"))
                    guard let c = disc.value("center") else { throw disc.error(nil, "an obstacle needs `center`") }
                    let center = try SpecTable.point(c, at: disc.keyPath("center"), file: file)
                    guard let radius = try disc.number("radius"), radius > 0 else { throw disc.error("radius", "an obstacle needs a positive `radius`") }
                    try disc.finish()
                    return CircleObstacle(center: center, radius: radius)
                })
            } else if var random = try o.table("random") {
                guard let count = try random.integer("count", in: 0...1000, "the number of obstacles") else {
                    throw random.error(nil, "missing `count`, the number of obstacles per task")
                }
                let radius = try random.scalarDistribution("radius", default: 0.05)
                guard radius.range.lowerBound > 0 else { throw random.error("radius", "must be positive") }
                guard let boxValue = random.value("box"), let corners = boxValue.array, corners.count == 2 else {
                    throw random.error("box", "expected the box centres are drawn from, [[x_lo, y_lo], [x_hi, y_hi]]")
                }
                let lower = try SpecTable.point(corners[0], at: random.keyPath("box"), file: file)
                let upper = try SpecTable.point(corners[1], at: random.keyPath("box"), file: file)
                guard lower.x < upper.x && lower.y < upper.y else { throw random.error("box", "empty box \(lower) – \(upper)") }
                try random.finish()
                obstacles = .random(count: count, radius: radius, lower: lower, upper: upper)
            } else {
                throw o.error(nil, "expected `fixed = […]` or `random = { … }`")
            }
            try o.finish()
        }

        self.init(dynamics: dynamics, goal: goal, start: start, actionBound: actionBound, actionScale: actionScale,
                  damping: damping, drift: drift, obstacles: obstacles, reward: reward, termination: termination,
                  horizon: horizon, observesGoal: observesGoal, episodesPerTrial: episodes)
        try checkFeasible(spec)
    }

    /// Settings that parse but cannot work together.
    private func checkFeasible(_ spec: SpecTable) throws {
        switch obstacles {
        case .fixed(let discs):
            if case .fixed(let s) = start, let disc = discs.first(where: { $0.contains(s) }) {
                throw spec.error("obstacles.fixed", "the start \(s) lies inside the obstacle at \(disc.center)")
            }
            if case .fixed(let g) = goal, let disc = discs.first(where: { $0.contains(g) }) {
                throw spec.error("obstacles.fixed", "the goal \(g) lies inside the obstacle at \(disc.center)")
            }
        case .random(let count, let radius, let lower, let upper):
            // Rejection sampling must be able to place every disc: demand that the discs cover at
            // most half of the box, so most draws succeed.
            let r = radius.range.upperBound
            let covered = Double(count) * Double.pi * r * r
            if covered > 0.5 * (upper.x - lower.x) * (upper.y - lower.y) {
                throw spec.error("obstacles.random", "\(count) obstacles of radius up to \(r) cover more than half the box; make fewer or smaller ones")
            }
        }
    }
}
