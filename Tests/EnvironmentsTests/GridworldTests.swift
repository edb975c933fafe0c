import Environments
import Foundation
import Testing

private func testGenerator(_ index: Int) -> SplitMix64 { RandomStream.derive(seed: 20_170_000, purpose: .testFixture, index: index) }

/// A family on a hand-drawn map, and a batch of `count` environments all on its first task.
func gridworld(
    _ rows: [String], actions: GridworldFamily.ActionSet = .moves(noop: false), observation: GridworldFamily.ObservationMode = .coordinates,
    configure: (inout GridworldFamily) -> Void = { _ in }
) throws -> GridworldFamily {
    var family = GridworldFamily(map: .fixed(try GridMap.parse(rows.joined(separator: "\n"), file: "test")), actions: actions,
                                 observation: observation)
    configure(&family)
    return family
}

func batch(_ family: GridworldFamily, count: Int = 1, autoreset: AutoresetMode = .disabled, task: GridworldTask? = nil,
           seed: UInt64 = 1) -> (GridworldBatch, StepBuffers) {
    var rng = SplitMix64(seed: seed)
    let task = task ?? family.sampleTask(using: &rng)
    var env = GridworldBatch(family: family, count: count, autoreset: autoreset)
    var buffers = env.makeBuffers()
    env.reset(tasks: Array(repeating: task, count: count), seeds: (0..<count).map { UInt64($0) &+ seed }, into: &buffers)
    return (env, buffers)
}

@Suite("Gridworld maps and specs")
struct GridMapTests {
    @Test func parsesCellsStartAndHeading() throws {
        let map = try GridMap.parse("#####\n#v.G#\n#~KD#\n#####\n", file: "m")
        #expect(map.width == 5 && map.height == 4)
        #expect(map.start == GridPoint(1, 1) && map.startHeading == 1)
        #expect(map[GridPoint(3, 1)] == .goal && map[GridPoint(1, 2)] == .lava)
        #expect(map[GridPoint(2, 2)] == .key(.yellow) && map[GridPoint(3, 2)] == .door(.yellow, .locked))
        #expect(map[GridPoint(-1, 0)] == .wall, "outside the map is wall")
        #expect(map.goals == [GridPoint(3, 1)])
        #expect(try GridMap.parse(map.text, file: "again") == map, "text round-trips")
    }

    @Test(arguments: [
        ("..\n.x\n", 2, 2, "unknown map character 'x'"),
        ("...\n..\n", 2, 3, "row 2 has 2 cells, row 1 has 3"),
        ("S.\n.S\n", 2, 2, "a second start"),
        ("\n\n", 1, 1, "the map is empty"),
    ])
    func mapErrorsNameLineAndColumn(text: String, line: Int, column: Int, message: String) {
        #expect {
            try GridMap.parse(text, file: "maps/bad.txt")
        } throws: { error in
            guard let e = error as? SpecError else { return false }
            return e.file == "maps/bad.txt" && e.line == line && e.column == column && e.message.contains(message)
        }
    }

    /// Writes a spec and its map into a fresh folder and loads it.
    func load(spec: String, map: String) throws -> EnvironmentSpec {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-grid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try map.write(to: folder.appendingPathComponent("map.txt"), atomically: true, encoding: .utf8)
        try ("family = \"gridworld\"\nmap = \"map.txt\"\n" + spec).write(to: folder.appendingPathComponent("s.toml"), atomically: true, encoding: .utf8)
        return try EnvironmentSpec.load(file: folder.appendingPathComponent("s.toml"), shownAs: "s.toml")
    }

    func specError(spec: String, map: String) -> SpecError? {
        do {
            _ = try load(spec: spec, map: map)
            return nil
        } catch {
            return error as? SpecError
        }
    }

    @Test func anUnknownCharacterInAMapFileNamesTheMapFileLineAndColumn() {
        let error = specError(spec: "", map: "S..\n.?G\n")
        #expect(error?.file.hasSuffix("map.txt") == true && error?.line == 2 && error?.column == 2, "\(String(describing: error))")
    }

    @Test func aNonRectangularMapFileIsRefused() {
        let error = specError(spec: "", map: "S..\n.G\n")
        #expect(error?.line == 2 && error?.message.contains("rectangular") == true, "\(String(describing: error))")
    }

    @Test func aGoalOnAWallIsRefusedWithItsCell() {
        let error = specError(spec: "goal = [1, 0]\n", map: "S#.\n...\n")
        #expect(error?.key == "goal" && error?.message.contains("(1, 0) is a wall") == true
                && error?.message.contains("line 1, column 2") == true, "\(String(describing: error))")
    }

    @Test func anUnreachableGoalIsRefused() {
        let error = specError(spec: "", map: "S.#G\n..#.\n")
        #expect(error?.key == "goal" && error?.message.contains("no goal is reachable") == true
                && error?.message.contains("line 1, column 4") == true, "\(String(describing: error))")
    }

    @Test func noFreeCellForARandomGoalIsRefused() {
        let error = specError(spec: "goal = \"free\"\n", map: "S#\n##\n")
        #expect(error?.key == "goal" && error?.message.contains("no cell to put a goal on") == true, "\(String(describing: error))")
    }

    @Test func aMissingMapFileAndAnUnknownKeyAreNamed() {
        #expect(specError(spec: "map_size = 3\n", map: "SG\n")?.key == "map_size")
        #expect(specError(spec: "observation = \"pixels\"\n", map: "SG\n")?.key == "observation")
        #expect(specError(spec: "view_size = 5\n", map: "SG\n")?.key == "view_size", "a view size needs an egocentric view")
        #expect(specError(spec: "slip = 1.5\n", map: "SG\n")?.key == "slip")
    }

    @Test func everyPresetLoadsAndSamplesTasks() throws {
        for name in ["gridnavi-5x5", "empty-8x8", "four-rooms", "lava-crossing", "door-key", "maze-random", "permuted-actions"] {
            let spec = try EnvironmentSpec.load(name)
            guard let family = spec.family.base as? GridworldFamily else { Issue.record("\(name) is not a gridworld"); continue }
            var rng = testGenerator(1)
            let tasks = family.sampleTasks(count: 20, using: &rng)
            for task in tasks {
                let reachable = Set(task.map.reachable(from: task.start))
                #expect(task.goals.contains(where: reachable.contains), "\(name): a reachable goal")
            }
        }
    }

    /// GridNavi's goal is uniform over the 21 cells outside the start's corner; four rooms' never
    /// lands on a wall or the start.
    @Test func goalSamplingAvoidsWallsAndExcludedCells() throws {
        guard let gridnavi = try EnvironmentSpec.load("gridnavi-5x5").family.base as? GridworldFamily,
              let rooms = try EnvironmentSpec.load("four-rooms").family.base as? GridworldFamily else { throw SpecError(file: "", message: "") }
        var rng = testGenerator(2)
        var counts: [GridPoint: Int] = [:]
        for task in gridnavi.sampleTasks(count: 4200, using: &rng) { counts[task.goals[0], default: 0] += 1 }
        let excluded: Set = [GridPoint(0, 0), GridPoint(0, 1), GridPoint(1, 0), GridPoint(1, 1)]
        #expect(counts.count == 21 && counts.keys.allSatisfy { !excluded.contains($0) })
        #expect(counts.values.allSatisfy { abs($0 - 200) < 4 * 14 }, "uniform: about 200 each, \(counts.values.sorted())")
        for task in rooms.sampleTasks(count: 2000, using: &rng) {
            #expect(task.map[task.goals[0]] == .goal && task.goals[0] != task.start)
            #expect(try GridMap.parse(String(contentsOfFile: "envs/gridworld/four-rooms.txt", encoding: .utf8), file: "")[task.goals[0]] == .empty)
        }
    }

    @Test func generatorsMakeValidMaps() {
        var rng = testGenerator(3)
        for _ in 0..<50 {
            let maze = MapGenerator.maze(width: 11, height: 9).generate(using: &rng)
            // A perfect maze on 5×4 rooms: every room reachable.
            let rooms = maze.points.filter { $0.x % 2 == 1 && $0.y % 2 == 1 }
            #expect(Set(maze.reachable(from: GridPoint(1, 1))).isSuperset(of: rooms))
            let four = MapGenerator.fourRooms(size: 11).generate(using: &rng)
            #expect(four.reachable(from: GridPoint(1, 1)).count == four.points.filter { four[$0] == .empty }.count, "doorways join all rooms")
            let lava = MapGenerator.lavaCrossing(size: 9).generate(using: &rng)
            #expect(lava.points.filter { lava[$0] == .lava }.count == 6, "one river of 7 cells with one gap")
            #expect(lava.reachable(from: GridPoint(1, 1)).contains(GridPoint(7, 7)))
            let doorKey = MapGenerator.doorKey(size: 8).generate(using: &rng)
            #expect(doorKey.points.filter { doorKey[$0].object == .key }.count == 1)
            #expect(doorKey.reachable(from: doorKey.start!).contains(GridPoint(6, 6)), "through the door")
        }
    }
}

@Suite("Gridworld dynamics")
struct GridworldDynamicsTests {
    /// Steps environment 0 with `actions`, returning its observations after each step.
    func run(_ env: inout GridworldBatch, _ buffers: inout StepBuffers, _ actions: [Int]) -> [[Float]] {
        actions.map { a in
            env.step(Array(repeating: Float(a), count: env.count), into: &buffers)
            return Array(buffers.observations[0..<env.observationSize])
        }
    }

    @Test func movesStopAtWallsAndTheEdge() throws {
        let family = try gridworld(["S..", ".#.", "..G"], actions: .moves(noop: true)) { $0.horizon = 20 }
        var (env, buffers) = batch(family)
        #expect(Array(buffers.observations) == [0, 0])
        // noop, up (edge), left (edge), down, right (into the wall), right … right.
        let path = run(&env, &buffers, [0, 1, 4, 3, 2, 3, 2, 2])
        #expect(path == [[0, 0], [0, 0], [0, 0], [0, 1], [0, 1], [0, 2], [1, 2], [2, 2]])
        #expect(buffers.terminated[0] && buffers.rewards[0] == 1, "the goal ends the episode with its reward")
    }

    @Test func lavaEndsTheEpisodeWithItsPenalty() throws {
        var family = try gridworld(["S~.", "..G"])
        family.reward.lava = -2
        family.reward.step = -0.1
        var (env, buffers) = batch(family)
        _ = run(&env, &buffers, [1])
        #expect(buffers.terminated[0] && !buffers.truncated[0] && buffers.rewards[0] == -2)
    }

    @Test func theStepCostAndTheMiniGridTimeDecay() throws {
        var family = try gridworld(["S..G"], actions: .moves(noop: false))
        family.reward.step = -0.1
        family.reward.timeDecay = true
        family.horizon = 10
        var (env, buffers) = batch(family)
        _ = run(&env, &buffers, [1, 1])
        #expect(buffers.rewards[0] == -0.1)
        _ = run(&env, &buffers, [1])
        #expect(abs(buffers.rewards[0] - Float(1 - 0.9 * 3.0 / 10)) < 1e-6, "1 − 0.9·t/T at t = 3")
    }

    /// MiniGrid's DoorKey in miniature: the locked door stops the agent until it holds the key.
    @Test func keysOpenLockedDoors() throws {
        let family = try gridworld(["#####", "#>KD.G", "#####"].map { $0.padding(toLength: 6, withPad: "#", startingAt: 0) },
                                   actions: .minigrid) { $0.horizon = 50 }
        var (env, buffers) = batch(family)
        let (left, right, forward, pickup, toggle) = (0, 1, 2, 3, 5)
        _ = run(&env, &buffers, [forward])
        #expect(env.agents[0].position == GridPoint(1, 1), "a key blocks the way")
        _ = run(&env, &buffers, [toggle, pickup])
        #expect(env.carrying(0) == .key(.yellow) && env.cell(0, at: GridPoint(2, 1)) == .empty)
        _ = run(&env, &buffers, [forward, forward])
        #expect(env.agents[0].position == GridPoint(2, 1), "the locked door blocks the way")
        _ = run(&env, &buffers, [toggle])
        #expect(env.cell(0, at: GridPoint(3, 1)) == .door(.yellow, .open))
        _ = run(&env, &buffers, [toggle])
        #expect(env.cell(0, at: GridPoint(3, 1)) == .door(.yellow, .closed), "toggling an open door closes it")
        _ = run(&env, &buffers, [forward])
        #expect(env.agents[0].position == GridPoint(2, 1), "a closed door blocks the way")
        _ = run(&env, &buffers, [toggle, forward, forward, left, right, forward])
        #expect(env.agents[0].position == GridPoint(5, 1) && buffers.terminated[0])
    }

    @Test func aDoorWithoutTheKeyStaysLocked() throws {
        let family = try gridworld(["#####", "#>D.G", "#####"], actions: .minigrid) { $0.horizon = 10 }
        var (env, buffers) = batch(family)
        _ = run(&env, &buffers, [5, 2])
        #expect(env.cell(0, at: GridPoint(2, 1)) == .door(.yellow, .locked) && env.agents[0].position == GridPoint(1, 1))
    }

    /// With slip p and four actions, "right" moves right with probability 1 − p + p/4.
    @Test func slipReplacesTheActionAtItsRate() throws {
        let rows = (0..<21).map { $0 == 10 ? String(repeating: ".", count: 10) + "S" + String(repeating: ".", count: 10) : String(repeating: ".", count: 21) }
        var family = try gridworld(rows + ["G" + String(repeating: ".", count: 20)])
        family.slip = .fixed(0.4)
        let n = 8000
        var (env, buffers) = batch(family, count: n, seed: 9)
        env.step(Array(repeating: 1, count: n), into: &buffers)
        let movedRight = (0..<n).filter { buffers.observations[2 * $0] == 11 }.count
        let expected = 0.6 + 0.4 / 4
        let se = (expected * (1 - expected) / Double(n)).squareRoot()
        #expect(abs(Double(movedRight) / Double(n) - expected) < 4 * se, "\(movedRight) of \(n)")
        // Deterministic: the same seeds slip the same way.
        var (again, againBuffers) = batch(family, count: n, seed: 9)
        again.step(Array(repeating: 1, count: n), into: &againBuffers)
        #expect(againBuffers.observations == buffers.observations)
    }

    @Test func aPermutationRemapsTheActions() throws {
        let family = try gridworld(["...", ".S.", "..G"]) { $0.permutesActions = true; $0.horizon = 5 }
        var rng = SplitMix64(seed: 1)
        var task = family.sampleTask(using: &rng)
        task.actionPermutation = [2, 3, 0, 1]   // up ↔ down, right ↔ left
        var (env, buffers) = batch(family, task: task)
        #expect(run(&env, &buffers, [0]) == [[1, 2]], "action 0 (up) moves down")
        #expect(run(&env, &buffers, [3]) == [[2, 2]], "action 3 (left) moves right")
    }

    @Test func autoresetDisabledKeepsAFinishedEpisodeFinished() throws {
        let family = try gridworld(["SG"]) { $0.horizon = 5 }
        var (env, buffers) = batch(family)
        _ = run(&env, &buffers, [1])
        #expect(buffers.terminated[0] && buffers.rewards[0] == 1)
        _ = run(&env, &buffers, [3])
        #expect(buffers.terminated[0] && buffers.rewards[0] == 0 && Array(buffers.observations) == [1, 0])
    }

    @Test func autoresetOnTheNextStepStartsOver() throws {
        let family = try gridworld(["S.G"]) { $0.horizon = 5 }
        var (env, buffers) = batch(family, autoreset: .nextStep)
        _ = run(&env, &buffers, [1, 1])
        #expect(buffers.terminated[0])
        _ = run(&env, &buffers, [1])
        #expect(!buffers.terminated[0] && !buffers.truncated[0] && buffers.rewards[0] == 0 && Array(buffers.observations) == [0, 0],
                "the action is ignored; the observation is the new episode's first")
        _ = run(&env, &buffers, [1])
        #expect(Array(buffers.observations) == [1, 0])
    }

    /// VariBAD's trials: the agent returns to the start after each episode; only the trial's end
    /// is reported.
    @Test func aTrialChainsEpisodes() throws {
        let family = try gridworld(["S..G"]) { $0.horizon = 2; $0.episodesPerTrial = 3; $0.reward.goalTerminates = false }
        var (env, buffers) = batch(family)
        let path = run(&env, &buffers, [1, 1, 1, 1, 1, 1])
        // The observation after an episode's last step is the next episode's first.
        #expect(path == [[1, 0], [0, 0], [1, 0], [0, 0], [1, 0], [2, 0]])
        #expect(buffers.truncated[0] && !buffers.terminated[0], "truncated after 3 × 2 steps")
        #expect(env.horizon == 6)
    }
}

@Suite("Gridworld observations")
struct GridworldObservationTests {
    /// The view's (object) channel at view cell (vx, vy): x to the agent's right, y away from it.
    func object(_ view: ArraySlice<Float>, size: Int, _ vx: Int, _ vy: Int) -> Int {
        Int(view[view.startIndex + 3 * (vx * size + vy)])
    }

    @Test func theEgocentricViewRotatesWithTheHeading() throws {
        // A 3×3 view: the agent at its bottom centre (1, 2).
        let rows = ["#######", "#.....#", "#..G..#", "#..>..#", "#.....#", "#######"]
        for (heading, expectedAhead) in [(0, GridCell.Object.empty), (3, .goal)] {
            let family = try gridworld(rows, actions: .minigrid, observation: .egocentric(size: 3, occlusion: false)) {
                $0.startHeading = .fixed(heading)
                $0.horizon = 5
            }
            let (_, buffers) = batch(family)
            let view = buffers.observations[0..<27]
            #expect(object(view, size: 3, 1, 1) == Int(expectedAhead.rawValue), "heading \(heading): the cell ahead")
            #expect(object(view, size: 3, 1, 2) == Int(GridCell.Object.empty.rawValue), "the agent's own cell shows what it carries: nothing")
        }
        // Facing up from (3, 3): two ahead is (3, 1); the view's left column is x = 2.
        let family = try gridworld(["#######", "#.K...#", "#.....#", "#..^..#", "#.....#", "#######"], actions: .minigrid,
                                   observation: .egocentric(size: 3, occlusion: false)) { $0.startHeading = .map; $0.horizon = 5; $0.goal = .free(excluding: []) }
        let (_, buffers) = batch(family)
        #expect(object(buffers.observations[0..<27], size: 3, 0, 0) == Int(GridCell.Object.key.rawValue))
        // Facing right from (3, 3): ahead is +x, the agent's right is +y (down).
        let right = try gridworld(["#######", "#.....#", "#.....#", "#..>..#", "#....K#", "#######"], actions: .minigrid,
                                  observation: .egocentric(size: 3, occlusion: false)) { $0.startHeading = .map; $0.horizon = 5; $0.goal = .free(excluding: []) }
        let (_, rb) = batch(right)
        #expect(object(rb.observations[0..<27], size: 3, 2, 0) == Int(GridCell.Object.key.rawValue), "(5, 4): two ahead, one right")
    }

    @Test func wallsHideWhatIsBehindThem() throws {
        let rows = ["#######", "#..G..#", "#.###.#", "#..^..#", "#######"]
        let occluded = try gridworld(rows, actions: .minigrid, observation: .egocentric(size: 3, occlusion: true)) { $0.horizon = 5 }
        let (_, buffers) = batch(occluded)
        let view = buffers.observations[0..<27]
        #expect(object(view, size: 3, 1, 1) == Int(GridCell.Object.wall.rawValue), "the wall ahead is seen")
        #expect(object(view, size: 3, 1, 0) == Int(GridCell.Object.unseen.rawValue), "the goal behind it is not")
        #expect(Array(view[(3 * (1 * 3 + 0))..<(3 * (1 * 3 + 0) + 3)]) == [0, 0, 0])
        let seeThrough = try gridworld(rows, actions: .minigrid, observation: .egocentric(size: 3, occlusion: false)) { $0.horizon = 5 }
        let (_, clear) = batch(seeThrough)
        #expect(object(clear.observations[0..<27], size: 3, 1, 0) == Int(GridCell.Object.goal.rawValue))
        #expect(Array(clear.observations[(3 * 1 * 3)..<(3 * 1 * 3 + 3)]) == [8, 1, 0], "goal: object 8, green 1, state 0")
    }

    @Test func oneHotAndFullGridObservations() throws {
        let oneHot = try gridworld(["S.", ".G"], observation: .oneHot)
        var (env, buffers) = batch(oneHot)
        #expect(Array(buffers.observations) == [1, 0, 0, 0])
        env.step([2], into: &buffers)
        #expect(Array(buffers.observations) == [0, 0, 1, 0])
        let full = try gridworld(["S#", ".G"], actions: .minigrid, observation: .grid)
        let (_, fb) = batch(full)
        #expect(Array(fb.observations) == [10, 0, 0, 2, 5, 0, 1, 0, 0, 8, 1, 0], "agent (10, red, heading), wall, empty, goal")
    }
}
