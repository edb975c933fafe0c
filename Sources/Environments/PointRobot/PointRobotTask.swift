/// A circular obstacle the point robot cannot enter.
public struct CircleObstacle: Sendable, Equatable, Hashable, Codable {
    public var center: Point2
    public var radius: Double

    public init(center: Point2, radius: Double) {
        self.center = center
        self.radius = radius
    }

    public func contains(_ p: Point2) -> Bool { (p - center).length < radius }
}

/// One point-robot task: every parameter a task can vary, drawn from a `PointRobotFamily`.
public struct PointRobotTask: Sendable, Equatable, Codable {
    /// Where the reward is centred.
    public var goal: Point2
    /// The position every episode starts from.
    public var start: Point2
    /// Actions are clipped to [−bound, bound] per axis …
    public var actionBound: Double
    /// … and then multiplied by this scale.
    public var actionScale: Double
    /// Momentum dynamics only: v ← (1 − damping)·v + a.
    public var damping: Double
    /// Added to the position every step, whatever the action (a current the agent must learn).
    public var drift: Point2
    public var obstacles: [CircleObstacle]

    public init(goal: Point2, start: Point2 = .zero, actionBound: Double = 0.1, actionScale: Double = 1,
                damping: Double = 0, drift: Point2 = .zero, obstacles: [CircleObstacle] = []) {
        self.goal = goal
        self.start = start
        self.actionBound = actionBound
        self.actionScale = actionScale
        self.damping = damping
        self.drift = drift
        self.obstacles = obstacles
    }
}
