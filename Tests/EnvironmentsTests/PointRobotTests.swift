import Environments
import Testing

@Suite("Point robot")
struct PointRobotTests {
    /// One robot of `family` on `task`, stepped with the given actions; the buffers after each step.
    func rollout(_ family: PointRobotFamily, _ task: PointRobotTask, _ actions: [[Float]],
                 autoreset: AutoresetMode = .disabled) -> [StepBuffers] {
        var batch = PointRobotBatch(family: family, count: 1, autoreset: autoreset)
        var buffers = batch.makeBuffers()
        batch.reset(tasks: [task], seeds: [0], into: &buffers)
        var history: [StepBuffers] = []
        for action in actions {
            batch.step(action, into: &buffers)
            history.append(buffers)
        }
        return history
    }

    @Test func navigationClipsActionsPerAxisAndRewardsNegativeDistance() {
        let task = PointRobotTask(goal: Point2(0.3, -0.2))
        let steps = rollout(.navigation, task, [[0.5, -0.05], [0.05, 0]])
        #expect(steps[0].observations == [0.1, -0.05])   // 0.5 clipped to 0.1
        let d0 = (Point2(0.1, -0.05) - task.goal).length
        #expect(abs(Double(steps[0].rewards[0]) + d0) < 1e-6)
        #expect(steps[1].observations == [Float(0.15), -0.05])
        #expect(!steps[1].terminated[0] && !steps[1].truncated[0])
    }

    /// MAML's rule: done when within 0.01 of the goal on *both* axes.
    @Test func navigationTerminatesInsideTheGoalBoxOnly() {
        let task = PointRobotTask(goal: Point2(0.1, 0.1))
        let near = rollout(.navigation, task, [[0.1, 0.095]])
        #expect(near[0].terminated[0])
        let oneAxis = rollout(.navigation, task, [[0.1, 0.08]])
        #expect(!oneAxis[0].terminated[0])
    }

    @Test func episodesAreTruncatedAtTheHorizon() {
        var family = PointRobotFamily.navigation
        family.horizon = 3
        let steps = rollout(family, PointRobotTask(goal: Point2(0.5, 0.5)), Array(repeating: [0, 0], count: 4))
        #expect(steps.map { $0.truncated[0] } == [false, false, true, true])
        #expect(steps.map { $0.terminated[0] } == [false, false, false, false])
        #expect(steps[3].rewards[0] == 0)  // autoreset disabled: a finished robot earns nothing
    }

    /// A trial of episodes on one task: back to the start after each, the trial reported as one
    /// episode, each episode's end flagged (an early one too).
    @Test func aTrialRunsItsEpisodesOnOneTask() {
        var family = PointRobotFamily.navigation
        family.horizon = 3
        family.episodesPerTrial = 3
        let task = PointRobotTask(goal: Point2(0.1, 0), start: Point2(0, 0))
        // Episode 1 reaches the goal box at its first step (an early end), episodes 2 and 3 wander.
        let steps = rollout(family, task, [[0.1, 0], [0, 0.1], [0, 0.1], [0, 0.1], [0, -0.1], [0, -0.1], [0, -0.1], [0, 0]])
        #expect(steps.map { $0.episodeEnded[0] } == [true, false, false, true, false, false, true, true])
        #expect(steps.map { $0.terminated[0] || $0.truncated[0] } == [false, false, false, false, false, false, true, true])
        #expect(steps[0].observations == [0, 0], "after the goal the robot is back at its start")
        #expect(steps[3].observations == [0, 0], "after the horizon too")
        #expect(abs(steps[4].observations[1] + 0.1) < 1e-6 && steps[4].rewards[0] < 0)
        #expect(steps[7].rewards[0] == 0)
        #expect(PointRobotBatch(family: family, count: 1).horizon == 9)
    }

    @Test func nextStepAutoresetRestartsTheEpisode() {
        var family = PointRobotFamily.navigation
        family.horizon = 2
        let task = PointRobotTask(goal: Point2(0.5, 0.5), start: Point2(0.2, 0))
        let steps = rollout(family, task, [[0.1, 0], [0.1, 0], [0.1, 0], [0.1, 0]], autoreset: .nextStep)
        #expect(steps[1].truncated[0])
        #expect(steps[2].observations == [0.2, 0] && !steps[2].truncated[0] && steps[2].rewards[0] == 0)
        #expect(abs(steps[3].observations[0] - 0.3) < 1e-6)
    }

    @Test func momentumIntegratesVelocityWithDamping() {
        var family = PointRobotFamily.navigation
        family.dynamics = .momentum
        family.termination = .never
        let task = PointRobotTask(goal: Point2(1, 1), damping: 0.5)
        let steps = rollout(family, task, [[0.1, 0], [0, 0]])
        // v = 0.1, x = 0.1; then v = 0.05, x = 0.15.
        #expect(zip(steps[0].observations, [0.1, 0, 0.1, 0]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(zip(steps[1].observations, [0.15, 0, 0.05, 0]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func sparseRewardIsOneMinusDistanceInsideTheRadius() {
        var family = PointRobotFamily.navigation
        family.reward = .init(kind: .sparse(radius: 0.2))
        family.termination = .never
        let task = PointRobotTask(goal: Point2(0.25, 0))
        let steps = rollout(family, task, [[0.04, 0], [0.04, 0]])  // d = 0.21, then 0.17
        #expect(steps[0].rewards[0] == 0)
        #expect(abs(Double(steps[1].rewards[0]) - 0.83) < 1e-6)
    }

    @Test func bonusControlCostAndDriftEnterTheReward() {
        var family = PointRobotFamily.navigation
        family.reward = .init(kind: .squaredDistance, successBonus: 2, successRadius: 0.5, controlCost: 10)
        family.termination = .never
        let task = PointRobotTask(goal: Point2(0.3, 0), actionScale: 2, drift: Point2(0, 0.1))
        let steps = rollout(family, task, [[0.05, 0]])
        // moved by 2·0.05 = 0.1 plus drift: s = (0.1, 0.1), d² = 0.05; control 10·0.1² = 0.1.
        #expect(zip(steps[0].observations, [0.1, 0.1]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(abs(Double(steps[0].rewards[0]) - (-0.05 + 2 - 0.1)) < 1e-6)
    }

    @Test func aMoveIntoADiscStopsAtTheContactPoint() {
        var family = PointRobotFamily.navigation
        family.termination = .never
        let wall = CircleObstacle(center: Point2(0.2, 0), radius: 0.05)
        let task = PointRobotTask(goal: Point2(0.5, 0), obstacles: [wall])
        let steps = rollout(family, task, [[0.1, 0], [0.1, 0], [0.1, 0], [0, 0.1], [-0.1, 0]])
        #expect(steps[0].observations == [0.1, 0])
        #expect(abs(steps[1].observations[0] - 0.15) < 1e-6 && steps[1].observations[1] == 0)  // touches the disc
        #expect(abs(steps[2].observations[0] - 0.15) < 1e-6)   // pushing on from the contact point: stays
        #expect(abs(steps[3].observations[1] - 0.1) < 1e-6)    // sliding off along the tangent is free
        #expect(abs(steps[4].observations[0] - 0.05) < 1e-6)   // and so is backing away
    }

    /// The bug this guards against: a disc thinner than one step used to be walked through,
    /// because only the end of a move was tested.
    @Test func aDiscThinnerThanOneStepBlocksTheDiagonalAcrossIt() {
        var family = PointRobotFamily.navigation
        family.termination = .never
        let disc = CircleObstacle(center: Point2(0.05, 0.05), radius: 0.05)
        let task = PointRobotTask(goal: Point2(0.5, 0.5), obstacles: [disc])
        let steps = rollout(family, task, [[0.1, 0.1], [0.1, 0.1]])
        // The diagonal meets the circle at t·0.1 = 0.05 − 0.05/√2 on each axis.
        let contact = Float(0.05 - 0.05 / 2.0.squareRoot())
        for step in steps {
            #expect(abs(step.observations[0] - contact) < 1e-6 && abs(step.observations[1] - contact) < 1e-6,
                    "stopped at \(step.observations), the contact point is (\(contact), \(contact))")
        }
    }

    @Test func momentumLosesItsVelocityOnContact() {
        var family = PointRobotFamily.navigation
        family.dynamics = .momentum
        family.termination = .never
        let task = PointRobotTask(goal: Point2(1, 0), obstacles: [CircleObstacle(center: Point2(0.3, 0), radius: 0.1)])
        let steps = rollout(family, task, [[0.1, 0], [0.1, 0], [0, 0]])
        // x = 0.1 (v 0.1), then the move of 0.2 stops at 0.2 with v = 0; no push: stays.
        #expect(zip(steps[1].observations, [0.2, 0, 0, 0]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(steps[1].observations)")
        #expect(zip(steps[2].observations, [0.2, 0, 0, 0]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(steps[2].observations)")
    }

    /// Many random policies, tasks and dynamics: no segment of any trajectory comes closer to a
    /// disc's centre than its radius.
    @Test(arguments: [PointRobotFamily.Dynamics.velocity, .momentum])
    func noTrajectorySegmentEverMeetsADisc(dynamics: PointRobotFamily.Dynamics) {
        var family = PointRobotFamily.navigation
        family.dynamics = dynamics
        family.damping = .uniform(lower: 0, upper: 0.2)
        family.drift = .uniformBox(lower: Point2(-0.03, -0.03), upper: Point2(0.03, 0.03))
        family.termination = .never
        family.horizon = 60
        family.obstacles = .random(count: 6, radius: .uniform(lower: 0.01, upper: 0.12),
                                   lower: Point2(-0.5, -0.5), upper: Point2(0.5, 0.5))
        var closest = Double.infinity
        for seed in 0..<40 {
            var rng = RandomStream.derive(seed: UInt64(seed), purpose: .testFixture)
            let count = 16
            let tasks = family.sampleTasks(count: count, using: &rng)
            var batch = PointRobotBatch(family: family, count: count)
            var buffers = batch.makeBuffers()
            batch.reset(tasks: tasks, seeds: [UInt64](repeating: 0, count: count), into: &buffers)
            // Each robot follows a drift of its own plus noise, so most of them hit something.
            let heading = (0..<count).map { _ in Point2(Double.random(in: -0.15...0.15, using: &rng), Double.random(in: -0.15...0.15, using: &rng)) }
            var before = batch.positions
            for _ in 0..<family.horizon {
                var actions = [Float](repeating: 0, count: 2 * count)
                for i in 0..<count {
                    actions[2 * i] = Float(heading[i].x + Double.random(in: -0.1...0.1, using: &rng))
                    actions[2 * i + 1] = Float(heading[i].y + Double.random(in: -0.1...0.1, using: &rng))
                }
                batch.step(actions, into: &buffers)
                let after = batch.positions
                for i in 0..<count {
                    for disc in tasks[i].obstacles {
                        let gap = segmentDistance(from: before[i], to: after[i], point: disc.center) - disc.radius
                        closest = min(closest, gap)
                        #expect(gap > -1e-9, "seed \(seed) robot \(i): \(before[i]) → \(after[i]) enters \(disc)")
                    }
                }
                before = after
            }
        }
        // The policies do reach the discs: the test looks at contacts, not only at near misses.
        #expect(closest < 1e-9, "closest approach \(closest)")
    }

    /// The distance from `point` to the segment a–b.
    func segmentDistance(from a: Point2, to b: Point2, point p: Point2) -> Double {
        let d = b - a, q = p - a
        let length2 = d.x * d.x + d.y * d.y
        let t = length2 > 0 ? min(max((q.x * d.x + q.y * d.y) / length2, 0), 1) : 0
        return (p - (a + t * d)).length
    }

    @Test func observingTheGoalAppendsIt() {
        var family = PointRobotFamily.navigation
        family.observesGoal = true
        let steps = rollout(family, PointRobotTask(goal: Point2(0.3, -0.4)), [[0, 0]])
        #expect(steps[0].observations == [0, 0, 0.3, -0.4])
    }

    @Test func navigationGoalsFillTheBox() {
        var rng = RandomStream.derive(seed: 3, purpose: .trainingTasks)
        let goals = PointRobotFamily.navigation.sampleTasks(count: 2000, using: &rng).map(\.goal)
        #expect(goals.allSatisfy { abs($0.x) <= 0.5 && abs($0.y) <= 0.5 })
        // The corner cell [0.4, 0.5] × [−0.5, −0.4] holds 1% of the box: 20 ± 4.5 of 2,000 goals.
        let corner = goals.filter { $0.x > 0.4 && $0.y < -0.4 }.count
        #expect((8...35).contains(corner), "\(corner) goals in the corner cell")
        let meanX = goals.map(\.x).reduce(0, +) / 2000
        #expect(abs(meanX) < 0.03)
    }

    @Test func randomObstaclesNeverCoverStartOrGoal() {
        var family = PointRobotFamily.navigation
        family.obstacles = .random(count: 5, radius: .uniform(lower: 0.05, upper: 0.15), lower: Point2(-0.5, -0.5), upper: Point2(0.5, 0.5))
        var rng = RandomStream.derive(seed: 4, purpose: .trainingTasks)
        for task in family.sampleTasks(count: 200, using: &rng) {
            #expect(task.obstacles.count == 5)
            #expect(task.obstacles.allSatisfy { !$0.contains(task.start) && !$0.contains(task.goal) })
        }
    }

    @Test func arcGoalsLieOnTheUpperHalfCircle() {
        let family = PointRobotFamily(goal: .arc(center: .zero, radius: 1, lowerAngle: 0, upperAngle: .pi))
        var rng = RandomStream.derive(seed: 5, purpose: .trainingTasks)
        for goal in family.sampleTasks(count: 100, using: &rng).map(\.goal) {
            #expect(abs(goal.length - 1) < 1e-12 && goal.y >= -1e-12)
        }
    }
}

@Suite("Task distributions")
struct TaskDistributionTests {
    /// A pre-sampled list is a distribution: draws come only from it, and all of it gets drawn.
    @Test func aFixedListDrawsOnlyItsTasks() {
        var rng = RandomStream.derive(seed: 11, purpose: .trainingTasks)
        let list = FixedTaskList(PointRobotFamily.navigation.sampleTasks(count: 4, using: &rng))
        let draws = list.sampleTasks(count: 400, using: &rng)
        #expect(draws.allSatisfy { list.tasks.contains($0) })
        #expect(Set(draws.map(\.goal)).count == 4)
    }

    @Test func theSameSeedGivesTheSameTasks() {
        var a = RandomStream.derive(seed: 12, purpose: .trainingTasks, index: 3)
        var b = RandomStream.derive(seed: 12, purpose: .trainingTasks, index: 3)
        let family = PointRobotFamily.navigation
        #expect(family.sampleTasks(count: 10, using: &a) == family.sampleTasks(count: 10, using: &b))
    }
}
