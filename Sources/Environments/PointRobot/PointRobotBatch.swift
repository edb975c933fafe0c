/// A batch of point robots stepped together, state as structure-of-arrays.
///
/// See `PointRobotFamily` for the environment's definition. Dynamics are deterministic, so the
/// seeds given to `reset` are not consumed.
public struct PointRobotBatch: VectorEnvironment {
    public let family: PointRobotFamily
    public let count: Int
    public let autoreset: AutoresetMode

    // Per-environment state.
    private var x: [Double], y: [Double], vx: [Double], vy: [Double]
    private var elapsed: [Int]
    /// The episode of the trial each environment is in, from 0.
    private var episode: [Int]
    private var isFinished: [Bool]
    // Per-environment task parameters, unpacked so the step loop reads arrays only.
    private var tasks: [PointRobotTask]
    private var goalX: [Double], goalY: [Double]
    private var bound: [Double], scale: [Double], damping: [Double]
    private var driftX: [Double], driftY: [Double]
    // Every environment's obstacles in one flat list: environment i owns the discs
    // obstacleStart[i] ..< obstacleStart[i + 1].
    private var obstacleStart: [Int]
    private var obstacleX: [Double] = [], obstacleY: [Double] = [], obstacleRadius: [Double] = []

    public init(family: PointRobotFamily, count: Int, autoreset: AutoresetMode = .disabled) {
        precondition(count > 0, "a batch needs at least one environment, got \(count)")
        self.family = family
        self.count = count
        self.autoreset = autoreset
        let zeros = [Double](repeating: 0, count: count)
        (x, y, vx, vy) = (zeros, zeros, zeros, zeros)
        (goalX, goalY, bound, scale, damping, driftX, driftY) = (zeros, zeros, zeros, zeros, zeros, zeros, zeros)
        elapsed = [Int](repeating: 0, count: count)
        episode = [Int](repeating: 0, count: count)
        isFinished = [Bool](repeating: false, count: count)
        obstacleStart = [Int](repeating: 0, count: count + 1)
        tasks = []
    }

    public var horizon: Int { family.trialLength }

    public var observationSpace: Space {
        let n = family.observationSize
        return .box(lower: [Double](repeating: -.infinity, count: n), upper: [Double](repeating: .infinity, count: n))
    }

    /// The policy sees the box of the first task's bound; families that vary the bound per task
    /// clip each environment's actions to its own.
    public var actionSpace: Space {
        let b = tasks.first?.actionBound ?? family.actionBound.range.upperBound
        return .box(lower: [-b, -b], upper: [b, b])
    }

    /// The task of each environment since the last reset.
    public var currentTasks: [PointRobotTask] { tasks }

    /// Positions (x, y) of every environment.
    public var positions: [Point2] { (0..<count).map { Point2(x[$0], y[$0]) } }

    public mutating func reset(tasks: [PointRobotTask], seeds: [UInt64], into buffers: inout StepBuffers) {
        precondition(tasks.count == count, "\(tasks.count) tasks for a batch of \(count)")
        precondition(seeds.count == count, "\(seeds.count) seeds for a batch of \(count)")
        self.tasks = tasks
        obstacleX.removeAll(keepingCapacity: true)
        obstacleY.removeAll(keepingCapacity: true)
        obstacleRadius.removeAll(keepingCapacity: true)
        for i in 0..<count {
            let task = tasks[i]
            goalX[i] = task.goal.x
            goalY[i] = task.goal.y
            bound[i] = task.actionBound
            scale[i] = task.actionScale
            damping[i] = task.damping
            driftX[i] = task.drift.x
            driftY[i] = task.drift.y
            obstacleStart[i] = obstacleX.count
            for disc in task.obstacles {
                obstacleX.append(disc.center.x)
                obstacleY.append(disc.center.y)
                obstacleRadius.append(disc.radius)
            }
            obstacleStart[i + 1] = obstacleX.count
            restart(i)
            episode[i] = 0
            buffers.rewards[i] = 0
            buffers.terminated[i] = false
            buffers.truncated[i] = false
            buffers.episodeEnded[i] = false
        }
        writeObservations(into: &buffers.observations)
    }

    /// The same task in every environment.
    public mutating func reset(task: PointRobotTask, seeds: [UInt64], into buffers: inout StepBuffers) {
        reset(tasks: Array(repeating: task, count: count), seeds: seeds, into: &buffers)
    }

    private mutating func restart(_ i: Int) {
        x[i] = tasks[i].start.x
        y[i] = tasks[i].start.y
        vx[i] = 0
        vy[i] = 0
        elapsed[i] = 0
        isFinished[i] = false
    }

    public mutating func step(_ actions: [Float], into buffers: inout StepBuffers) {
        precondition(actions.count == 2 * count, "\(actions.count) action values for \(count) robots with 2 each")
        let momentum = family.dynamics == .momentum
        let reward = family.reward
        for i in 0..<count {
            if isFinished[i] {
                switch autoreset {
                case .disabled:
                    buffers.rewards[i] = 0
                    continue
                case .nextStep:
                    restart(i)
                    episode[i] = 0
                    buffers.rewards[i] = 0
                    buffers.terminated[i] = false
                    buffers.truncated[i] = false
                    buffers.episodeEnded[i] = false
                    continue
                }
            }
            let b = bound[i]
            let ax = scale[i] * Swift.min(Swift.max(Double(actions[2 * i]), -b), b)
            let ay = scale[i] * Swift.min(Swift.max(Double(actions[2 * i + 1]), -b), b)
            var moveX: Double, moveY: Double
            if momentum {
                vx[i] = (1 - damping[i]) * vx[i] + ax
                vy[i] = (1 - damping[i]) * vy[i] + ay
                moveX = vx[i] + driftX[i]
                moveY = vy[i] + driftY[i]
            } else {
                moveX = ax + driftX[i]
                moveY = ay + driftY[i]
            }
            if obstacleStart[i] < obstacleStart[i + 1] {
                let reach = firstContact(i, moveX, moveY)
                if reach < 1 {
                    moveX *= reach
                    moveY *= reach
                    vx[i] = 0
                    vy[i] = 0
                }
            }
            let nextX = x[i] + moveX, nextY = y[i] + moveY
            x[i] = nextX
            y[i] = nextY
            elapsed[i] += 1

            let dx = nextX - goalX[i], dy = nextY - goalY[i]
            let distance = (dx * dx + dy * dy).squareRoot()
            var r: Double
            switch reward.kind {
            case .distance: r = -distance
            case .squaredDistance: r = -distance * distance
            case .sparse(let radius): r = distance <= radius ? 1 - distance : 0
            }
            if reward.successBonus != 0 && distance <= reward.successRadius { r += reward.successBonus }
            if reward.controlCost != 0 { r -= reward.controlCost * (ax * ax + ay * ay) }

            let terminated: Bool
            switch family.termination {
            case .never: terminated = false
            case .box(let w): terminated = abs(dx) < w && abs(dy) < w
            case .radius(let radius): terminated = distance < radius
            }
            let truncated = !terminated && elapsed[i] >= family.horizon
            buffers.rewards[i] = Float(r)
            buffers.episodeEnded[i] = terminated || truncated
            if (terminated || truncated) && episode[i] + 1 < family.episodesPerTrial {
                // The next episode of the trial: back to the start, same task; the trial goes on.
                restart(i)
                episode[i] += 1
                buffers.terminated[i] = false
                buffers.truncated[i] = false
            } else {
                buffers.terminated[i] = terminated
                buffers.truncated[i] = truncated
                isFinished[i] = terminated || truncated
            }
        }
        writeObservations(into: &buffers.observations)
    }

    /// The fraction t ∈ [0, 1] of the move (moveX, moveY) that environment i can make before its
    /// segment first touches one of its discs (1 when it touches none).
    ///
    /// The segment p + t·m meets the circle |p + t·m − c| = r where a t² + 2b t + k = 0, with
    /// q = p − c, a = m·m, b = q·m, k = q·q − r². From outside (k > 0) a move heading in (b < 0)
    /// whose discriminant b² − a k is positive enters at the smaller root. From the boundary or
    /// inside (k ≤ 0, where a stop at a contact point may leave it by rounding) a move heading in
    /// is stopped at once and one heading out is free: a robot can always leave a disc it touches.
    /// - Complexity: O(discs of environment i), no allocation.
    @inline(__always)
    private func firstContact(_ i: Int, _ moveX: Double, _ moveY: Double) -> Double {
        let a = moveX * moveX + moveY * moveY
        guard a > 0 else { return 1 }
        var reach = 1.0
        let px = x[i], py = y[i]
        for k in obstacleStart[i]..<obstacleStart[i + 1] {
            let qx = px - obstacleX[k], qy = py - obstacleY[k]
            let b = qx * moveX + qy * moveY
            guard b < 0 else { continue }
            let r = obstacleRadius[k]
            let outside = qx * qx + qy * qy - r * r
            if outside <= 0 { return 0 }
            let discriminant = b * b - a * outside
            guard discriminant > 0 else { continue }
            let t = (-b - discriminant.squareRoot()) / a
            reach = Swift.min(reach, t)
        }
        return reach
    }

    private func writeObservations(into observations: inout [Float]) {
        let n = family.observationSize
        precondition(observations.count == n * count, "observation buffer of \(observations.count) for \(count)×\(n)")
        let momentum = family.dynamics == .momentum
        for i in 0..<count {
            var k = i * n
            observations[k] = Float(x[i]); observations[k + 1] = Float(y[i]); k += 2
            if momentum { observations[k] = Float(vx[i]); observations[k + 1] = Float(vy[i]); k += 2 }
            if family.observesGoal { observations[k] = Float(goalX[i]); observations[k + 1] = Float(goalY[i]) }
        }
    }
}
