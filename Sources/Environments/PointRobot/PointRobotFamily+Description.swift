import Foundation

extension ScalarDistribution: CustomStringConvertible {
    public var description: String {
        switch self {
        case .fixed(let v): "\(v)"
        case .uniform(let lo, let hi): "uniform [\(lo), \(hi)]"
        case .choice(let values): "one of \(values)"
        }
    }
}

extension PointDistribution: CustomStringConvertible {
    public var description: String {
        func degrees(_ radians: Double) -> String { String(format: "%g°", radians * 180 / .pi) }
        switch self {
        case .fixed(let p): return "\(p)"
        case .uniformBox(let lo, let hi): return "uniform in [\(lo.x), \(hi.x)] × [\(lo.y), \(hi.y)]"
        case .arc(let c, let r, let a, let b): return "on the arc of radius \(r) around \(c), \(degrees(a)) to \(degrees(b))"
        case .arcGrid(let c, let r, let a, let b, let n): return "one of \(n) points on the arc of radius \(r) around \(c), \(degrees(a)) to \(degrees(b))"
        case .choice(let points): return "one of \(points.map(\.description).joined(separator: ", "))"
        }
    }
}

extension PointRobotFamily {
    /// The resolved parameters, one per line, as `metarl envs show` prints them.
    public var parameterLines: [(String, String)] {
        let rewardText: String
        switch reward.kind {
        case .distance: rewardText = "−distance"
        case .squaredDistance: rewardText = "−distance²"
        case .sparse(let radius): rewardText = "sparse: 1 − distance within \(radius), else 0"
        }
        var extras: [String] = []
        if reward.successBonus != 0 { extras.append("+\(reward.successBonus) within \(reward.successRadius)") }
        if reward.controlCost != 0 { extras.append("−\(reward.controlCost)·‖a‖²") }
        let terminationText: String
        switch termination {
        case .never: terminationText = "never (truncated at the horizon)"
        case .box(let w): terminationText = "within \(w) of the goal on both axes"
        case .radius(let r): terminationText = "within distance \(r) of the goal"
        }
        let obstacleText: String
        switch obstacles {
        case .fixed(let discs): obstacleText = discs.isEmpty ? "none" : discs.map { "disc r=\($0.radius) at \($0.center)" }.joined(separator: "; ")
        case .random(let count, let radius, let lo, let hi): obstacleText = "\(count) discs, radius \(radius), centres uniform in [\(lo.x), \(hi.x)] × [\(lo.y), \(hi.y)]"
        }
        return [
            ("dynamics", dynamics.rawValue),
            ("goal", goal.description),
            ("start", start.description),
            ("action bound", actionBound.description),
            ("action scale", actionScale.description),
            ("damping", damping.description),
            ("drift", drift.description),
            ("obstacles", obstacleText),
            ("reward", ([rewardText] + extras).joined(separator: " ")),
            ("termination", terminationText),
            ("horizon", "\(horizon) steps" + (episodesPerTrial > 1 ? " × \(episodesPerTrial) episodes per trial" : "")),
            ("observation", "\(observationSize) values: position" + (dynamics == .momentum ? ", velocity" : "") + (observesGoal ? ", goal" : "")),
        ]
    }
}

extension PointRobotFamily: EnvironmentFamily, SpecLoadable {
    public static let name = "point-robot"

    init(spec: inout SpecTable, directory: URL?) throws { try self.init(spec: &spec) }

    public func makeBatch(count: Int, autoreset: AutoresetMode) -> PointRobotBatch {
        PointRobotBatch(family: self, count: count, autoreset: autoreset)
    }

    public func summary(of task: PointRobotTask) -> String {
        var line = String(format: "goal (%+.3f, %+.3f)  start (%+.3f, %+.3f)", task.goal.x, task.goal.y, task.start.x, task.start.y)
        if actionBound.range.lowerBound != actionBound.range.upperBound { line += String(format: "  bound %.3f", task.actionBound) }
        if damping.range.upperBound > 0 { line += String(format: "  damping %.3f", task.damping) }
        if !task.obstacles.isEmpty {
            line += "  obstacles " + task.obstacles.map {
                String(format: "(%+.2f, %+.2f; r %.2f)", $0.center.x, $0.center.y, $0.radius)
            }.joined(separator: " ")
        }
        return line
    }

    public func details(of task: PointRobotTask) -> [String] {
        func point(_ p: Point2) -> String { String(format: "(%.2f, %.2f)", p.x, p.y) }
        func short(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e6 ? String(Int(v)) : String(format: "%g", v) }
        var details = ["goal \(point(task.goal))"]
        if task.start != .zero { details.append("start \(point(task.start))") }
        if task.drift != .zero { details.append("drift \(point(task.drift))") }
        if dynamics == .momentum { details.append("damping \(short(task.damping))") }
        if task.actionScale != 1 { details.append("action scale \(short(task.actionScale))") }
        if !task.obstacles.isEmpty { details.append("\(task.obstacles.count) obstacle\(task.obstacles.count == 1 ? "" : "s")") }
        return details
    }
}
