/// One gridworld task: its map with the goals painted in, where episodes start, and the dynamics
/// that vary per task.
public struct GridworldTask: Sendable, Equatable, Codable {
    /// The map, goals marked as goal cells (and no others).
    public var map: GridMap
    public var goals: [GridPoint]
    public var start: GridPoint
    /// MiniGrid heading at the start: 0 right, 1 down, 2 left, 3 up.
    public var startHeading: Int
    /// The probability that the intended action is replaced by one drawn uniformly from all.
    public var slip: Double
    /// Action i of the policy does action `actionPermutation[i]` (the identity when unpermuted).
    public var actionPermutation: [Int]

    public init(map: GridMap, goals: [GridPoint], start: GridPoint, startHeading: Int = 0, slip: Double = 0,
                actionPermutation: [Int]) {
        self.map = map
        self.goals = goals
        self.start = start
        self.startHeading = startHeading
        self.slip = slip
        self.actionPermutation = actionPermutation
    }
}
