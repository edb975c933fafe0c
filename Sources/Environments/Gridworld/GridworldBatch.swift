/// A batch of gridworlds stepped together.
///
/// **Layout.** Each environment owns a copy of its map as one byte per cell (a `CellPalette`
/// code), padded with wall on every side — one cell, or the view size for egocentric views — so
/// no step or view ever checks a bound. The agent's state is one small struct per environment.
/// Everything is allocated in `init` and `reset`; `step` only reads and writes those arrays and
/// the caller's `StepBuffers`, through unsafe buffers inside one loop per action set, so
/// stepping allocates nothing (`metarl bench envs` counts it).
///
/// **Randomness.** Slip draws from a SplitMix64 stream per environment, seeded by `reset`.
public struct GridworldBatch: VectorEnvironment {
    public let family: GridworldFamily
    public let count: Int
    public let autoreset: AutoresetMode

    /// Per-environment state, 32 bytes: what a step reads and writes.
    struct AgentState {
        var x: Int16 = 0, y: Int16 = 0
        var heading: UInt8 = 0
        /// The code of the object carried, or `nothing`.
        var carrying: UInt8 = AgentState.nothing
        var isFinished = false
        /// The map holds doors or keys, so a new episode must restore it.
        var hasMutableCells = false
        var elapsed: Int32 = 0
        var episode: Int32 = 0
        var startX: Int16 = 0, startY: Int16 = 0
        var startHeading: UInt8 = 0
        /// Slip when a draw from `rng` is below this (p · 2⁶⁴); 0 never slips.
        var slipThreshold: UInt64 = 0
        var rng: UInt64 = 0

        static let nothing: UInt8 = 0xFF
    }

    /// The map's size and the observation's, fixed for the family (a generated map's size is
    /// worked out by generating one, so it is done once, here).
    let mapWidth: Int, mapHeight: Int
    public let observationSize: Int
    /// Cells of wall around the map.
    let padding: Int
    let paddedWidth: Int, paddedHeight: Int
    var cellsPerGrid: Int { paddedWidth * paddedHeight }
    var states: [AgentState]
    var grids: [UInt8]
    var initialGrids: [UInt8]
    /// `count × actions`, only when the family permutes actions.
    var permutations: [UInt8]
    /// Scratch for one egocentric view (codes, then visibility).
    var viewCodes: [UInt8]
    var viewVisible: [Bool]
    /// `viewOffsets(size:)` for the four headings, flattened: computed once, read every step.
    var viewOffsetTable: [Int] = []
    private(set) var tasks: [GridworldTask] = []

    public init(family: GridworldFamily, count: Int, autoreset: AutoresetMode = .disabled) {
        precondition(count > 0, "a batch needs at least one environment, got \(count)")
        self.family = family
        self.count = count
        self.autoreset = autoreset
        let (w, h) = family.mapSize
        (mapWidth, mapHeight) = (w, h)
        observationSize = family.observationSize
        if case .egocentric(let size, _) = family.observation { padding = size } else { padding = 1 }
        paddedWidth = w + 2 * padding
        paddedHeight = h + 2 * padding
        states = Array(repeating: AgentState(), count: count)
        grids = Array(repeating: CellPalette.wallCode, count: count * paddedWidth * paddedHeight)
        initialGrids = grids
        permutations = family.permutesActions ? Array(repeating: 0, count: count * family.actions.count) : []
        let viewCells = { if case .egocentric(let size, _) = family.observation { size * size } else { 0 } }()
        viewCodes = Array(repeating: 0, count: viewCells)
        viewVisible = Array(repeating: false, count: viewCells)
        if case .egocentric(let size, _) = family.observation { viewOffsetTable = viewOffsets(size: size).flatMap { $0 } }
    }

    public var horizon: Int { family.trialLength }

    public var observationSpace: Space {
        let n = observationSize
        let (w, h) = (mapWidth, mapHeight)
        let upper: Double
        switch family.observation {
        case .coordinates: upper = Double(max(w, h, 4) - 1)
        case .oneHot: upper = 1
        case .grid, .egocentric: upper = Double(GridCell.Object.agent.rawValue)
        }
        return .box(lower: Array(repeating: 0, count: n), upper: Array(repeating: upper, count: n))
    }

    public var actionSpace: Space { .discrete(count: family.actions.count) }

    /// The task of each environment since the last reset.
    public var currentTasks: [GridworldTask] { tasks }

    /// Where each agent is, and its heading.
    public var agents: [(position: GridPoint, heading: Int)] {
        states.map { (GridPoint(Int($0.x), Int($0.y)), Int($0.heading)) }
    }

    /// The cell at `p` of environment `i`'s map as it is now (doors opened, keys taken).
    public func cell(_ i: Int, at p: GridPoint) -> GridCell {
        CellPalette.cells[Int(grids[i * cellsPerGrid + (p.y + padding) * paddedWidth + p.x + padding])]
    }

    /// What environment `i` carries, if anything.
    public func carrying(_ i: Int) -> GridCell? {
        let code = states[i].carrying
        return code == AgentState.nothing ? nil : CellPalette.cells[Int(code)]
    }

    public mutating func reset(tasks: [GridworldTask], seeds: [UInt64], into buffers: inout StepBuffers) {
        precondition(tasks.count == count, "\(tasks.count) tasks for a batch of \(count)")
        precondition(seeds.count == count, "\(seeds.count) seeds for a batch of \(count)")
        let (w, h) = (mapWidth, mapHeight)
        let actionCount = family.actions.count
        let stride = cellsPerGrid
        for i in 0..<count {
            let task = tasks[i]
            precondition(task.map.width == w && task.map.height == h,
                         "a \(task.map.width)×\(task.map.height) task in a batch of \(w)×\(h) maps")
            precondition(task.actionPermutation.count == actionCount, "a permutation of \(task.actionPermutation.count) actions, the set has \(actionCount)")
            // Tasks of one sampler share their map: copy the previous grid rather than encode it again.
            if i > 0 && task.map == tasks[i - 1].map {
                initialGrids.withUnsafeMutableBufferPointer { g in
                    g.baseAddress!.advanced(by: i * stride).update(from: g.baseAddress!.advanced(by: (i - 1) * stride), count: stride)
                }
                states[i].hasMutableCells = states[i - 1].hasMutableCells
            } else {
                var hasMutable = false
                for y in 0..<h {
                    for x in 0..<w {
                        let cell = task.map[GridPoint(x, y)]
                        if cell.object == .door || cell.object == .key { hasMutable = true }
                        initialGrids[i * stride + (y + padding) * paddedWidth + x + padding] = CellPalette.code(of: cell)
                    }
                }
                states[i].hasMutableCells = hasMutable
            }
            states[i].startX = Int16(task.start.x)
            states[i].startY = Int16(task.start.y)
            states[i].startHeading = UInt8(task.startHeading)
            states[i].slipThreshold = task.slip <= 0 ? 0 : task.slip >= 1 ? .max : UInt64(task.slip * 0x1p64)
            states[i].rng = seeds[i]
            if family.permutesActions {
                for a in 0..<actionCount { permutations[i * actionCount + a] = UInt8(task.actionPermutation[a]) }
            }
            buffers.rewards[i] = 0
            buffers.terminated[i] = false
            buffers.truncated[i] = false
            buffers.episodeEnded[i] = false
        }
        grids = initialGrids
        self.tasks = tasks
        for i in 0..<count { Self.restart(&states[i], trial: true) }
        writeObservations(into: &buffers.observations)
    }

    /// Puts the agent back at its start; a new trial also starts counting episodes again.
    @inline(__always)
    static func restart(_ s: inout AgentState, trial: Bool) {
        s.x = s.startX
        s.y = s.startY
        s.heading = s.startHeading
        s.carrying = AgentState.nothing
        s.elapsed = 0
        s.isFinished = false
        if trial { s.episode = 0 }
    }

    public mutating func step(_ actions: [Float], into buffers: inout StepBuffers) {
        precondition(actions.count == count, "\(actions.count) actions for \(count) environments")
        precondition(buffers.rewards.count == count, "step buffers for \(buffers.rewards.count) environments, the batch has \(count)")
        let context = StepContext(family: family, paddedWidth: paddedWidth, padding: padding, cellsPerGrid: cellsPerGrid,
                                  autoreset: autoreset)
        states.withUnsafeMutableBufferPointer { states in
            grids.withUnsafeMutableBufferPointer { grids in
                initialGrids.withUnsafeBufferPointer { initialGrids in
                    permutations.withUnsafeBufferPointer { permutations in
                        actions.withUnsafeBufferPointer { actions in
                            buffers.rewards.withUnsafeMutableBufferPointer { rewards in
                                buffers.terminated.withUnsafeMutableBufferPointer { terminated in
                                    buffers.truncated.withUnsafeMutableBufferPointer { truncated in
                                        buffers.episodeEnded.withUnsafeMutableBufferPointer { episodeEnded in
                                            CellPalette.flags.withUnsafeBufferPointer { flags in
                                                let io = StepIO(states: states, grids: grids, initialGrids: initialGrids,
                                                                permutations: permutations, actions: actions, rewards: rewards,
                                                                terminated: terminated, truncated: truncated,
                                                                episodeEnded: episodeEnded, flags: flags)
                                                if family.actions.turns { context.stepMiniGrid(io) } else { context.stepMoves(io) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        writeObservations(into: &buffers.observations)
    }
}

/// The buffers one step reads and writes.
struct StepIO {
    let states: UnsafeMutableBufferPointer<GridworldBatch.AgentState>
    let grids: UnsafeMutableBufferPointer<UInt8>
    let initialGrids: UnsafeBufferPointer<UInt8>
    let permutations: UnsafeBufferPointer<UInt8>
    let actions: UnsafeBufferPointer<Float>
    let rewards: UnsafeMutableBufferPointer<Float>
    let terminated: UnsafeMutableBufferPointer<Bool>
    let truncated: UnsafeMutableBufferPointer<Bool>
    let episodeEnded: UnsafeMutableBufferPointer<Bool>
    /// `CellPalette.flags`.
    let flags: UnsafeBufferPointer<UInt8>
}

/// The constants of one step, and the two stepping loops.
struct StepContext {
    let actionCount: Int
    let permutes: Bool
    let hasNoop: Bool
    let horizon: Int32
    let episodesPerTrial: Int32
    let reward: GridworldFamily.Reward
    let paddedWidth: Int
    let padding: Int
    let cellsPerGrid: Int
    let autoreset: AutoresetMode

    init(family: GridworldFamily, paddedWidth: Int, padding: Int, cellsPerGrid: Int, autoreset: AutoresetMode) {
        actionCount = family.actions.count
        permutes = family.permutesActions
        if case .moves(let noop) = family.actions { hasNoop = noop } else { hasNoop = false }
        horizon = Int32(family.horizon)
        episodesPerTrial = Int32(family.episodesPerTrial)
        reward = family.reward
        self.paddedWidth = paddedWidth
        self.padding = padding
        self.cellsPerGrid = cellsPerGrid
        self.autoreset = autoreset
    }

    @inline(__always)
    static func nextRandom(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The action environment `i` carries out: its policy action, permuted, then perhaps slipped.
    @inline(__always)
    func effectiveAction(_ i: Int, _ s: inout GridworldBatch.AgentState, _ io: StepIO) -> Int {
        let chosen = Int(io.actions[i])
        precondition(chosen >= 0 && chosen < actionCount, "action \(io.actions[i]) outside 0..<\(actionCount)")
        var a = permutes ? Int(io.permutations[i * actionCount + chosen]) : chosen
        if s.slipThreshold != 0 && Self.nextRandom(&s.rng) < s.slipThreshold {
            a = Int(Self.nextRandom(&s.rng) % UInt64(actionCount))
        }
        return a
    }

    @inline(__always)
    func cellIndex(_ i: Int, _ x: Int16, _ y: Int16) -> Int {
        i * cellsPerGrid + (Int(y) + padding) * paddedWidth + Int(x) + padding
    }

    /// A finished environment, before its step: stays finished, or starts over (autoreset).
    @inline(__always)
    func handleFinished(_ i: Int, _ s: inout GridworldBatch.AgentState, _ io: StepIO) {
        io.rewards[i] = 0
        if autoreset == .nextStep {
            restoreGrid(i, s, io)
            GridworldBatch.restart(&s, trial: true)
            io.terminated[i] = false
            io.truncated[i] = false
            io.episodeEnded[i] = false
        }
    }

    @inline(__always)
    func restoreGrid(_ i: Int, _ s: GridworldBatch.AgentState, _ io: StepIO) {
        guard s.hasMutableCells else { return }
        let base = i * cellsPerGrid
        io.grids.baseAddress!.advanced(by: base).update(from: io.initialGrids.baseAddress!.advanced(by: base), count: cellsPerGrid)
    }

    /// Reward, termination and the end of an episode or trial, from the cell the agent ends on.
    @inline(__always)
    func finishStep(_ i: Int, _ s: inout GridworldBatch.AgentState, _ io: StepIO) {
        s.elapsed &+= 1
        let flags = io.flags[Int(io.grids[cellIndex(i, s.x, s.y)])]
        var r: Double
        var ends = false
        if flags & CellPalette.goalBit != 0 {
            r = reward.timeDecay ? reward.goal * (1 - 0.9 * Double(s.elapsed) / Double(horizon)) : reward.goal
            ends = reward.goalTerminates
        } else if flags & CellPalette.lavaBit != 0 {
            r = reward.lava
            ends = reward.lavaTerminates
        } else {
            r = reward.step
        }
        io.rewards[i] = Float(r)
        io.terminated[i] = false
        io.truncated[i] = false
        let episodeEnds = ends || s.elapsed >= horizon
        io.episodeEnded[i] = episodeEnds
        guard episodeEnds else { return }
        if s.episode &+ 1 < episodesPerTrial {
            // The next episode of the trial: back to the start, the trial goes on.
            let episode = s.episode &+ 1
            restoreGrid(i, s, io)
            GridworldBatch.restart(&s, trial: false)
            s.episode = episode
        } else {
            io.terminated[i] = ends
            io.truncated[i] = !ends
            s.isFinished = true
        }
    }

    /// The unit step of each MiniGrid heading (right, down, left, up), per axis.
    static let dx: (Int16, Int16, Int16, Int16) = (1, 0, -1, 0)
    static let dy: (Int16, Int16, Int16, Int16) = (0, 1, 0, -1)

    /// Up, right, down, left (after a noop if the set has one).
    func stepMoves(_ io: StepIO) {
        let (dx, dy) = (Self.dx, Self.dy)
        for i in 0..<io.states.count {
            var s = io.states[i]
            if s.isFinished {
                handleFinished(i, &s, io)
                io.states[i] = s
                continue
            }
            // Up, right, down, left are MiniGrid headings 3, 0, 1, 2; a noop comes first if any.
            let move = Int8(effectiveAction(i, &s, io)) - (hasNoop ? 1 : 0)
            let heading: Int8 = move < 0 ? -1 : Self.pick((3, 0, 1, 2), move)
            if heading >= 0 {
                s.heading = UInt8(heading)
                let tx = s.x &+ Self.pick(dx, heading), ty = s.y &+ Self.pick(dy, heading)
                if io.flags[Int(io.grids[cellIndex(i, tx, ty)])] & CellPalette.passableBit != 0 {
                    s.x = tx
                    s.y = ty
                }
            }
            finishStep(i, &s, io)
            io.states[i] = s
        }
    }

    @inline(__always)
    static func pick<T>(_ t: (T, T, T, T), _ k: Int8) -> T {
        switch k {
        case 0: t.0
        case 1: t.1
        case 2: t.2
        default: t.3
        }
    }

    /// MiniGrid: turn left, turn right, forward, pickup, drop, toggle, done.
    func stepMiniGrid(_ io: StepIO) {
        let (dx, dy) = (Self.dx, Self.dy)
        for i in 0..<io.states.count {
            var s = io.states[i]
            if s.isFinished {
                handleFinished(i, &s, io)
                io.states[i] = s
                continue
            }
            let a = effectiveAction(i, &s, io)
            let h = Int8(s.heading)
            let front = cellIndex(i, s.x &+ Self.pick(dx, h), s.y &+ Self.pick(dy, h))
            let frontCode = io.grids[front]
            let frontFlags = io.flags[Int(frontCode)]
            switch a {
            case 0: s.heading = (s.heading &+ 3) & 3
            case 1: s.heading = (s.heading &+ 1) & 3
            case 2:
                if frontFlags & CellPalette.passableBit != 0 {
                    s.x &+= Self.pick(dx, h)
                    s.y &+= Self.pick(dy, h)
                }
            case 3:
                if frontFlags & CellPalette.keyBit != 0 && s.carrying == GridworldBatch.AgentState.nothing {
                    s.carrying = frontCode
                    io.grids[front] = CellPalette.emptyCode
                }
            case 4:
                if s.carrying != GridworldBatch.AgentState.nothing && frontCode == CellPalette.emptyCode {
                    io.grids[front] = s.carrying
                    s.carrying = GridworldBatch.AgentState.nothing
                }
            case 5:
                if frontFlags & CellPalette.doorBit != 0 {
                    io.grids[front] = CellPalette.toggled(frontCode, carrying: s.carrying)
                }
            default:
                break
            }
            finishStep(i, &s, io)
            io.states[i] = s
        }
    }
}
