/// The gridworld family: an agent on a map of cells, looking for a goal.
///
/// **Map.** A fixed map (a text file) or one drawn by a `MapGenerator`, once for the family or
/// anew for every task. Outside the map is wall.
///
/// **Task distribution.** Goal cell(s), start cell and heading, slip probability and an action
/// permutation are each fixed or drawn per task (`CellDistribution`, `ScalarDistribution`).
/// Random goals are drawn among the cells reachable from the start, never on a wall, lava, a key,
/// the start or an excluded cell.
///
/// **Actions.** `moves`: up, right, down, left — and first a noop with `noop` (VariBAD's GridNavi);
/// a move into a wall, a closed door or the edge stays put. `minigrid`: turn left, turn right,
/// forward, pickup, drop, toggle, done (MiniGrid). With slip p the intended action is replaced
/// by one drawn uniformly from the set; a permutation remaps the policy's actions first.
///
/// **Observation.** `coordinates` (x, y) — and the heading with MiniGrid actions; `one-hot` of the
/// cell (and heading); `grid`: the whole map as (object, colour, state) per cell, the agent as
/// (10, 0, heading); `egocentric`: MiniGrid's k×k view, the agent at the bottom centre facing up,
/// with walls and closed doors hiding what is behind them (`occlusion`).
///
/// **Reward.** On a goal cell after the step: `goal` — times 1 − 0.9·t/T with `time_decay`
/// (MiniGrid's). On lava: `lava`. Elsewhere: `step` (VariBAD's −0.1). **Termination.** On a goal
/// if `goal_terminates`, on lava if `lava_terminates`. **Horizon.** An episode is truncated after
/// `horizon` steps. A trial is `episodesPerTrial` episodes on the same task: the agent goes back
/// to the start after each, and the batch reports the trial as one episode (VariBAD's BAMDP).
///
/// References: Zintgraf et al. 2020 (VariBAD GridNavi); Chevalier-Boisvert et al. 2023
/// (Farama Minigrid); Sutton, Precup & Singh 1999 (four rooms).
public struct GridworldFamily: TaskDistribution, Equatable, Codable {
    public enum MapSource: Sendable, Equatable, Codable {
        case fixed(GridMap)
        /// Drawn per task with `perTask`, else once from the stream of `seed`.
        case generated(MapGenerator, perTask: Bool, seed: UInt64)
    }

    public enum ActionSet: Sendable, Equatable, Codable {
        case moves(noop: Bool)
        case minigrid

        public var count: Int {
            switch self {
            case .moves(let noop): noop ? 5 : 4
            case .minigrid: 7
            }
        }

        public var names: [String] {
            switch self {
            case .moves(let noop): (noop ? ["noop"] : []) + ["up", "right", "down", "left"]
            case .minigrid: ["left", "right", "forward", "pickup", "drop", "toggle", "done"]
            }
        }

        /// The action set has a heading the agent turns (MiniGrid) rather than absolute moves.
        public var turns: Bool { self == .minigrid }
    }

    public enum ObservationMode: Sendable, Equatable, Codable {
        case coordinates
        case oneHot
        case grid
        case egocentric(size: Int, occlusion: Bool)

        public var name: String {
            switch self {
            case .coordinates: "coordinates"
            case .oneHot: "one-hot"
            case .grid: "grid"
            case .egocentric: "egocentric"
            }
        }
    }

    /// How a task's goal cells or start cell are chosen.
    public enum CellDistribution: Sendable, Equatable, Codable {
        /// The cells the map marks (`G` for goals, the start marker for starts).
        case map
        case fixed(GridPoint)
        /// Uniform over the free cells reachable from the start, minus `excluding`.
        case free(excluding: [GridPoint])
        /// Uniform over the free reachable cells of the box [lower, upper], minus `excluding`.
        case region(lower: GridPoint, upper: GridPoint, excluding: [GridPoint])
        /// One of the cells.
        case choice([GridPoint])
    }

    /// The heading episodes start with.
    public enum StartHeading: Sendable, Equatable, Codable {
        /// The map's start arrow; right for `S` or a start not marked on the map.
        case map
        case fixed(Int)
        /// Uniform over the four, per task.
        case random
    }

    public struct Reward: Sendable, Equatable, Codable {
        public var goal: Double = 1
        public var step: Double = 0
        public var lava: Double = 0
        /// Scale the goal reward by 1 − 0.9·t/T (MiniGrid).
        public var timeDecay: Bool = false
        public var goalTerminates: Bool = true
        public var lavaTerminates: Bool = true

        public init() {}
    }

    public var map: MapSource
    public var actions: ActionSet
    public var observation: ObservationMode
    public var goal: CellDistribution
    /// Goals per task (drawn without replacement); `.map` takes all the map's goals.
    public var goalCount: Int
    public var start: CellDistribution
    public var startHeading: StartHeading
    public var slip: ScalarDistribution
    public var permutesActions: Bool
    public var reward: Reward
    /// Steps per episode.
    public var horizon: Int
    public var episodesPerTrial: Int

    public init(map: MapSource, actions: ActionSet = .moves(noop: false), observation: ObservationMode = .coordinates,
                goal: CellDistribution = .map, goalCount: Int = 1, start: CellDistribution = .map, startHeading: StartHeading = .map,
                slip: ScalarDistribution = .fixed(0), permutesActions: Bool = false, reward: Reward = Reward(),
                horizon: Int = 100, episodesPerTrial: Int = 1) {
        self.map = map
        self.actions = actions
        self.observation = observation
        self.goal = goal
        self.goalCount = goalCount
        self.start = start
        self.startHeading = startHeading
        self.slip = slip
        self.permutesActions = permutesActions
        self.reward = reward
        self.horizon = horizon
        self.episodesPerTrial = episodesPerTrial
    }

    /// The map every task shares, or nil when each task draws its own.
    public var sharedMap: GridMap? {
        switch map {
        case .fixed(let m): return m
        case .generated(let generator, let perTask, let seed):
            guard !perTask else { return nil }
            var rng = SplitMix64(seed: seed)
            return generator.generate(using: &rng)
        }
    }

    /// Width and height of every task's map.
    public var mapSize: (width: Int, height: Int) {
        if let shared = sharedMap { return (shared.width, shared.height) }
        guard case .generated(let generator, _, _) = map else { preconditionFailure() }
        switch generator {
        case .empty(let w, let h), .maze(let w, let h), .obstacles(let w, let h, _): return (w, h)
        case .fourRooms(let s), .lavaCrossing(let s), .doorKey(let s): return (s, s)
        }
    }

    /// Floats per observation.
    public var observationSize: Int {
        let (w, h) = mapSize
        let headingValues = actions.turns ? 1 : 0
        switch observation {
        case .coordinates: return 2 + headingValues
        case .oneHot: return w * h + 4 * headingValues
        case .grid: return 3 * w * h
        case .egocentric(let size, _): return 3 * size * size
        }
    }

    /// Steps in a trial: the longest an episode of the batch can last.
    public var trialLength: Int { horizon * episodesPerTrial }

    public func sampleTasks(count: Int, using rng: inout some RandomNumberGenerator) -> [GridworldTask] {
        let shared = sharedMap
        return (0..<count).map { _ in sampleTask(using: &rng, sharedMap: shared) }
    }

    public func sampleTask(using rng: inout some RandomNumberGenerator) -> GridworldTask {
        sampleTask(using: &rng, sharedMap: sharedMap)
    }

    private func sampleTask(using rng: inout some RandomNumberGenerator, sharedMap: GridMap?) -> GridworldTask {
        var map: GridMap
        if let sharedMap {
            map = sharedMap
        } else {
            guard case .generated(let generator, _, _) = self.map else { preconditionFailure() }
            map = generator.generate(using: &rng)
        }
        // Validation made sure every draw below has something to draw from on a fixed map; a
        // generated one that leaves nothing (a start walled in by random obstacles) is drawn again.
        for _ in 0..<1000 {
            if let task = try? place(on: map, using: &rng) { return task }
            guard case .generated(let generator, true, _) = self.map else { break }
            map = generator.generate(using: &rng)
        }
        preconditionFailure("no valid task on this map; spec validation should have caught it")
    }

    /// Why a task cannot be placed on a map.
    public struct PlacementError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Draws start, heading, goals, slip and permutation on `map`.
    /// - Throws: `PlacementError` when the map leaves no valid start or goal.
    public func place(on map: GridMap, using rng: inout some RandomNumberGenerator) throws -> GridworldTask {
        func pick(_ cells: [GridPoint]) -> GridPoint { cells[Int.random(in: 0..<cells.count, using: &rng)] }
        let start: GridPoint
        switch self.start {
        case .map:
            guard let marked = map.start else { throw PlacementError(description: "the map marks no start (S or an arrow)") }
            start = marked
        case .fixed(let p): start = p
        case .choice(let cells): start = pick(cells)
        case .free(let excluded):
            let cells = map.points.filter { map[$0].object == .empty && !excluded.contains($0) }
            guard !cells.isEmpty else { throw PlacementError(description: "no free cell for the start") }
            start = pick(cells)
        case .region(let lo, let hi, let excluded):
            let cells = map.points.filter { inBox($0, lo, hi) && map[$0].object == .empty && !excluded.contains($0) }
            guard !cells.isEmpty else { throw PlacementError(description: "no free cell for the start in the region") }
            start = pick(cells)
        }
        guard map.contains(start), map[start].isPassable, map[start].object != .lava else {
            throw PlacementError(description: "the start \(start) is not a free cell (\(map[start].object))")
        }
        let reachable = map.reachable(from: start)
        let reachableSet = Set(reachable)

        var goals: [GridPoint]
        let candidates: [GridPoint]
        switch goal {
        case .map: candidates = map.goals
        case .fixed(let p): candidates = [p]
        case .choice(let cells): candidates = cells
        case .free(let excluded):
            candidates = reachable.filter { $0 != start && map[$0].object == .empty && !excluded.contains($0) }
        case .region(let lo, let hi, let excluded):
            candidates = reachable.filter {
                $0 != start && inBox($0, lo, hi) && map[$0].object == .empty && !excluded.contains($0)
            }
        }
        switch goal {
        case .map:
            goals = candidates
        case .fixed:
            goals = candidates
        default:
            // Reachable order is breadth-first; sort so the draw depends on the cells, not the walk.
            var pool = candidates.sorted { ($0.y, $0.x) < ($1.y, $1.x) }
            goals = []
            for _ in 0..<min(goalCount, pool.count) { goals.append(pool.remove(at: Int.random(in: 0..<pool.count, using: &rng))) }
        }
        guard !goals.isEmpty, goals.contains(where: reachableSet.contains) else {
            throw PlacementError(description: goals.isEmpty ? "no cell to put a goal on" : "no goal is reachable from the start \(start)")
        }
        var painted = map
        for p in map.goals { painted[p] = .empty }
        for p in goals { painted[p] = .goal }
        painted.start = start

        let heading: Int
        switch startHeading {
        case .map: heading = map.startHeading ?? 0
        case .fixed(let h): heading = h
        case .random: heading = Int.random(in: 0..<4, using: &rng)
        }
        painted.startHeading = heading
        let slip = slip.sample(using: &rng)
        var permutation = Array(0..<actions.count)
        if permutesActions { permutation.shuffle(using: &rng) }
        return GridworldTask(map: painted, goals: goals, start: start, startHeading: heading, slip: slip,
                             actionPermutation: permutation)
    }

    private func inBox(_ p: GridPoint, _ lo: GridPoint, _ hi: GridPoint) -> Bool {
        p.x >= lo.x && p.x <= hi.x && p.y >= lo.y && p.y <= hi.y
    }
}
