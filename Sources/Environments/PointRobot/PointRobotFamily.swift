/// The point-robot family: a point in the plane that moves by its actions toward a goal.
///
/// **Description.** A point mass in ℝ², started at the task's start position; each step it moves by
/// its (clipped, scaled) action, plus the task's drift. Obstacles are discs it cannot enter: the
/// whole segment of a move is tested against every disc, and a move that would touch one stops at
/// the first contact point (with momentum, the velocity is zeroed). Stopping there rather than
/// cancelling the move keeps the next position a continuous function of the action, so a policy
/// near a disc is not rewarded for timid steps, and the robot can come as close as the disc allows.
///
/// **Task distribution.** Goal, start, action bound and scale, damping, drift and obstacles are each
/// fixed or drawn per task (`PointDistribution`, `ScalarDistribution`, `ObstacleDistribution`).
///
/// **Actions.** Box [−bound, bound]² as seen by the policy; actions outside are clipped per axis.
///
/// **Dynamics.** `velocity`: s ← s + scale·clip(a) + drift (MAML's 2D navigation).
/// `momentum`: v ← (1 − damping)·v + scale·clip(a), s ← s + v + drift (ProMP's momentum point).
///
/// **Observation.** (x, y), then (vx, vy) with momentum, then the goal (gx, gy) if `observesGoal`
/// (the oracle that knows its task).
///
/// **Reward.** With d = ‖s − g‖ after the move: `distance` −d (MAML); `squaredDistance` −d²;
/// `sparse` 1 − d when d ≤ radius, else 0 (PEARL, VariBAD). Plus `successBonus` on every step with
/// d ≤ `successRadius`, minus `controlCost`·‖a‖² of the clipped, scaled action.
///
/// **Termination.** `box(halfWidth)`: |x − gx| < w and |y − gy| < w (MAML's navigation, w = 0.01);
/// `radius(r)`: d < r; `never`. **Horizon.** Truncated after `horizon` steps.
///
/// References: Finn et al. 2017 (cbfinn/maml_rl `point_env_randgoal.py`, pytorch-maml-rl
/// `navigation.py`); Rakelly et al. 2019 (PEARL, oyster `point_robot.py`); Zintgraf et al. 2020
/// (VariBAD); Rothfuss et al. 2019 (ProMP point variants).
public struct PointRobotFamily: TaskDistribution, Equatable, Codable {
    public enum Dynamics: String, Sendable, Codable, CaseIterable {
        case velocity, momentum
    }

    public enum RewardKind: Sendable, Equatable, Codable {
        case distance
        case squaredDistance
        /// 1 − d inside `radius`, 0 outside.
        case sparse(radius: Double)
    }

    public struct Reward: Sendable, Equatable, Codable {
        public var kind: RewardKind
        public var successBonus: Double
        public var successRadius: Double
        public var controlCost: Double

        public init(kind: RewardKind, successBonus: Double = 0, successRadius: Double = 0, controlCost: Double = 0) {
            self.kind = kind
            self.successBonus = successBonus
            self.successRadius = successRadius
            self.controlCost = controlCost
        }
    }

    public enum Termination: Sendable, Equatable, Codable {
        case never
        case box(halfWidth: Double)
        case radius(Double)
    }

    /// Obstacles of a task: a fixed list, or `count` discs with radius drawn from `radius` and
    /// centres uniform in the box, none covering the start or the goal.
    public enum ObstacleDistribution: Sendable, Equatable, Codable {
        case fixed([CircleObstacle])
        case random(count: Int, radius: ScalarDistribution, lower: Point2, upper: Point2)
    }

    public var dynamics: Dynamics
    public var goal: PointDistribution
    public var start: PointDistribution
    public var actionBound: ScalarDistribution
    public var actionScale: ScalarDistribution
    public var damping: ScalarDistribution
    public var drift: PointDistribution
    public var obstacles: ObstacleDistribution
    public var reward: Reward
    public var termination: Termination
    public var horizon: Int
    public var observesGoal: Bool
    /// Episodes per trial, stored only when more than 1 (so that checkpoints written before
    /// trials existed decode, and mean what they meant).
    private var trialEpisodes: Int?

    /// A trial is this many episodes on the same task: the robot goes back to its start after
    /// each, and the batch reports the trial as one episode (as the gridworld does).
    public var episodesPerTrial: Int {
        get { trialEpisodes ?? 1 }
        set { trialEpisodes = newValue == 1 ? nil : newValue }
    }

    /// Steps in a trial: the longest an episode of the batch can last.
    public var trialLength: Int { horizon * episodesPerTrial }

    public init(
        dynamics: Dynamics = .velocity, goal: PointDistribution, start: PointDistribution = .fixed(.zero),
        actionBound: ScalarDistribution = .fixed(0.1), actionScale: ScalarDistribution = .fixed(1),
        damping: ScalarDistribution = .fixed(0), drift: PointDistribution = .fixed(.zero),
        obstacles: ObstacleDistribution = .fixed([]), reward: Reward = Reward(kind: .distance),
        termination: Termination = .never, horizon: Int = 100, observesGoal: Bool = false, episodesPerTrial: Int = 1
    ) {
        self.dynamics = dynamics
        self.goal = goal
        self.start = start
        self.actionBound = actionBound
        self.actionScale = actionScale
        self.damping = damping
        self.drift = drift
        self.obstacles = obstacles
        self.reward = reward
        self.termination = termination
        self.horizon = horizon
        self.observesGoal = observesGoal
        self.episodesPerTrial = episodesPerTrial
    }

    /// MAML's 2D navigation, exactly: goal uniform in [−0.5, 0.5]², start at the origin, velocity
    /// actions clipped to ±0.1, reward −‖s − g‖, done when within 0.01 of the goal on both axes,
    /// 100 steps.
    public static let navigation = PointRobotFamily(
        goal: .uniformBox(lower: Point2(-0.5, -0.5), upper: Point2(0.5, 0.5)),
        termination: .box(halfWidth: 0.01))

    public func sampleTasks(count: Int, using rng: inout some RandomNumberGenerator) -> [PointRobotTask] {
        (0..<count).map { _ in sampleTask(using: &rng) }
    }

    public func sampleTask(using rng: inout some RandomNumberGenerator) -> PointRobotTask {
        let goal = goal.sample(using: &rng)
        let start = start.sample(using: &rng)
        var task = PointRobotTask(
            goal: goal, start: start,
            actionBound: actionBound.sample(using: &rng), actionScale: actionScale.sample(using: &rng),
            damping: damping.sample(using: &rng), drift: drift.sample(using: &rng))
        switch obstacles {
        case .fixed(let list):
            task.obstacles = list
        case .random(let count, let radius, let lower, let upper):
            // Rejection sampling: an obstacle may not cover the start or the goal. Validation
            // checks that the box leaves room, so this ends.
            while task.obstacles.count < count {
                let disc = CircleObstacle(
                    center: PointDistribution.uniformBox(lower: lower, upper: upper).sample(using: &rng),
                    radius: radius.sample(using: &rng))
                if !disc.contains(start) && !disc.contains(goal) { task.obstacles.append(disc) }
            }
        }
        return task
    }

    /// Floats per observation.
    public var observationSize: Int { (dynamics == .momentum ? 4 : 2) + (observesGoal ? 2 : 0) }
}
