import Foundation
import TOMLKit

// Cell-valued parameters as written in gridworld specs:
//   "map"                                   the cells the map marks (G, S or an arrow)
//   "free"                                  uniform over the free cells reachable from the start
//   [x, y]                                  fixed
//   { free = true, exclude = [[x, y], …] }  free cells but these
//   { region = [[x0, y0], [x1, y1]], exclude = […] }   free cells of the box
//   { choice = [[x, y], …] }                one of the cells
extension SpecTable {
    mutating func cellDistribution(_ key: String, default fallback: GridworldFamily.CellDistribution) throws -> GridworldFamily.CellDistribution {
        guard let v = value(key) else { return fallback }
        let at = keyPath(key)
        if let name = v.string {
            switch name {
            case "map": return .map
            case "free": return .free(excluding: [])
            default: throw error(key, "unknown choice \"\(name)\"; expected \"map\", \"free\", a cell [x, y] or a table")
            }
        }
        if v.type == .array { return .fixed(try Self.cell(v, at: at, file: file)) }
        guard let t = v.table else {
            throw error(key, "expected \"map\", \"free\", a cell [x, y] or a table (free, region, choice), found \(Self.describe(v))")
        }
        var spec = SpecTable(t, file: file, path: at)
        let excluded = try spec.value("exclude").map { try Self.cells($0, at: spec.keyPath("exclude"), file: file) } ?? []
        let result: GridworldFamily.CellDistribution
        if let free = try spec.bool("free") {
            guard free else { throw spec.error("free", "`free = false` means nothing; leave it out or use region/choice") }
            result = .free(excluding: excluded)
        } else if let r = spec.value("region") {
            let corners = try Self.cells(r, at: spec.keyPath("region"), file: file)
            guard corners.count == 2, corners[0].x <= corners[1].x, corners[0].y <= corners[1].y else {
                throw spec.error("region", "expected two corners [[x0, y0], [x1, y1]] with x0 ≤ x1 and y0 ≤ y1")
            }
            result = .region(lower: corners[0], upper: corners[1], excluding: excluded)
        } else if let c = spec.value("choice") {
            let cells = try Self.cells(c, at: spec.keyPath("choice"), file: file)
            guard !cells.isEmpty else { throw spec.error("choice", "empty list: nothing to choose from") }
            if !excluded.isEmpty { throw spec.error("exclude", "leave the cells out of `choice` instead") }
            result = .choice(cells)
        } else {
            throw error(key, "expected one of `free`, `region`, `choice` in the table")
        }
        try spec.finish()
        return result
    }

    static func cell(_ v: TOMLValueConvertible, at key: String, file: String) throws -> GridPoint {
        guard let array = v.array, array.count == 2, let x = array[0].int, let y = array[1].int, array[0].type == .int, array[1].type == .int else {
            throw SpecError(file: file, key: key, message: "expected a cell [x, y] of two integers, found \(describe(v))")
        }
        return GridPoint(x, y)
    }

    static func cells(_ v: TOMLValueConvertible, at key: String, file: String) throws -> [GridPoint] {
        guard let array = v.array else {
            throw SpecError(file: file, key: key, message: "expected a list of cells [[x, y], …], found \(describe(v))")
        }
        return try array.map { try cell($0, at: key, file: file) }
    }
}

extension GridworldFamily {
    /// Reads a gridworld spec (the keys after `family` and `description`); see
    /// `envs/gridworld/*.toml` and the README for the format. Map files are found beside the spec.
    init(spec: inout SpecTable, directory: URL?) throws {
        let file = spec.file
        // The map: a file name, or a generator table.
        let map: MapSource
        var mapLabel = "the map"
        guard let mapValue = spec.value("map") else {
            throw spec.error(nil, "missing `map`: a map file beside the spec (\"four-rooms.txt\") or a generator table")
        }
        if let name = mapValue.string {
            let url = name.hasPrefix("/") ? URL(fileURLWithPath: name)
                : (directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).appendingPathComponent(name)
            mapLabel = directory == nil ? name : url.path
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw spec.error("map", "cannot read the map file \(url.path)")
            }
            map = .fixed(try GridMap.parse(text, file: mapLabel))
        } else if let t = mapValue.table {
            var g = SpecTable(t, file: file, path: spec.keyPath("map"))
            guard let kind = try g.string("generator") else {
                throw g.error(nil, "missing `generator` (empty, four-rooms, maze, obstacles, lava-crossing, door-key)")
            }
            func size(_ key: String) throws -> Int {
                guard let n = try g.integer(key) else { throw g.error(nil, "the \(kind) generator needs `\(key)`") }
                return n
            }
            let generator: MapGenerator
            switch kind {
            case "empty": generator = .empty(width: try size("width"), height: try size("height"))
            case "four-rooms": generator = .fourRooms(size: try size("size"))
            case "maze": generator = .maze(width: try size("width"), height: try size("height"))
            case "obstacles":
                generator = .obstacles(width: try size("width"), height: try size("height"), density: try g.number("density", default: 0.2))
            case "lava-crossing": generator = .lavaCrossing(size: try size("size"))
            case "door-key": generator = .doorKey(size: try size("size"))
            default:
                throw g.error("generator", "unknown generator \"\(kind)\"; known: empty, four-rooms, maze, obstacles, lava-crossing, door-key")
            }
            if let problem = generator.sizeProblem { throw g.error(nil, problem) }
            let perTask = try g.bool("per_task") ?? true
            let seed = try g.integer("seed") ?? 0
            guard seed >= 0 else { throw g.error("seed", "must not be negative") }
            try g.finish()
            map = .generated(generator, perTask: perTask, seed: UInt64(seed))
        } else {
            throw spec.error("map", "expected a map file name or a generator table, found \(Self.describeValue(mapValue))")
        }

        let actionName = try spec.string("actions") ?? "moves"
        let actions: ActionSet
        switch actionName {
        case "moves": actions = .moves(noop: false)
        case "moves-noop": actions = .moves(noop: true)
        case "minigrid": actions = .minigrid
        default: throw spec.error("actions", "unknown action set \"\(actionName)\"; expected \"moves\", \"moves-noop\" or \"minigrid\"")
        }

        let observationName = try spec.string("observation") ?? "coordinates"
        let observation: ObservationMode
        switch observationName {
        case "coordinates": observation = .coordinates
        case "one-hot": observation = .oneHot
        case "grid": observation = .grid
        case "egocentric":
            let size = try spec.integer("view_size", in: 3...63, "the view's side") ?? 7
            guard size % 2 == 1 else { throw spec.error("view_size", "must be odd (the agent sits in the middle of its view), found \(size)") }
            observation = .egocentric(size: size, occlusion: try spec.bool("occlusion") ?? true)
        default:
            throw spec.error("observation", "unknown observation \"\(observationName)\"; expected \"coordinates\", \"one-hot\", \"grid\" or \"egocentric\"")
        }
        if observationName != "egocentric" {
            for key in ["view_size", "occlusion"] where spec.contains(key) {
                throw spec.error(key, "only an egocentric observation has `\(key)`")
            }
        }

        let horizon = try spec.integer("horizon", in: EnvironmentSpec.horizonLimit, "the horizon (steps per episode)") ?? 100
        let episodes = try spec.integer("episodes_per_trial", in: 1...1000, "episodes per trial") ?? 1
        let goal = try spec.cellDistribution("goal", default: .map)
        let goalCount = try spec.integer("goal_count", in: 1...10_000, "the number of goals") ?? 1
        let start = try spec.cellDistribution("start", default: .map)
        let heading: StartHeading
        switch try spec.string("start_heading") {
        case nil: heading = .map
        case "random": heading = .random
        case let name?:
            guard let h = Heading.names.firstIndex(of: name) else {
                throw spec.error("start_heading", "unknown heading \"\(name)\"; expected right, down, left, up or random")
            }
            heading = .fixed(h)
        }
        let slip = try spec.scalarDistribution("slip", default: 0)
        guard slip.range.lowerBound >= 0 && slip.range.upperBound <= 1 else {
            throw spec.error("slip", "a probability must lie in [0, 1], found \(slip.range)")
        }
        let permutes = try spec.bool("permute_actions") ?? false

        var reward = Reward()
        if var r = try spec.table("reward") {
            reward.goal = try r.number("goal", default: 1)
            reward.step = try r.number("step", default: 0)
            reward.lava = try r.number("lava", default: 0)
            reward.timeDecay = try r.bool("time_decay") ?? false
            reward.goalTerminates = try r.bool("goal_terminates") ?? true
            reward.lavaTerminates = try r.bool("lava_terminates") ?? true
            try r.finish()
        }

        self.init(map: map, actions: actions, observation: observation, goal: goal, goalCount: goalCount, start: start,
                  startHeading: heading, slip: slip, permutesActions: permutes, reward: reward, horizon: horizon,
                  episodesPerTrial: episodes)
        try validatePlacement(spec: spec, mapLabel: mapLabel)
    }

    /// Checks that tasks can be placed: named cells inside the map and not on walls, a reachable
    /// goal. A fixed map is checked exactly; a generated one by drawing a few maps.
    private func validatePlacement(spec: SpecTable, mapLabel: String) throws {
        func where_(_ p: GridPoint) -> String { "line \(p.y + 1), column \(p.x + 1) of \(mapLabel)" }
        func checkCells(_ distribution: CellDistribution, key: String, on m: GridMap) throws {
            var named: [GridPoint] = []
            switch distribution {
            case .fixed(let p): named = [p]
            case .choice(let cells): named = cells
            case .free(let excluded), .region(_, _, let excluded):
                for p in excluded where !m.contains(p) {
                    throw spec.error(key, "excluded cell \(p) is outside the \(m.width)×\(m.height) map")
                }
            case .map:
                break
            }
            for p in named {
                guard m.contains(p) else { throw spec.error(key, "cell \(p) is outside the \(m.width)×\(m.height) map") }
                let object = m[p].object
                guard m[p].isPassable || object == .goal, object != .lava else {
                    throw spec.error(key, "cell \(p) is a \(object) (\(where_(p))), not a free cell")
                }
            }
        }
        if case .map = start, let shared = sharedMap, shared.start == nil {
            throw spec.error("start", "the map marks no start (S or an arrow): mark one or set `start`")
        }
        if case .map = goal, let shared = sharedMap, shared.goals.isEmpty {
            throw spec.error("goal", "the map marks no goal (G): mark one or set `goal`")
        }
        if case .fixed(let m) = map {
            try checkCells(goal, key: "goal", on: m)
            try checkCells(start, key: "start", on: m)
            // Every start the distribution can give must reach a goal it can give.
            var rng = SplitMix64(seed: 0)
            for _ in 0..<32 {
                do {
                    _ = try place(on: m, using: &rng)
                } catch let problem as PlacementError {
                    var message = "\(problem.description) on \(mapLabel): no task can be made"
                    if case .map = goal, !m.goals.isEmpty {
                        message += " (goals at " + m.goals.map(where_).joined(separator: "; ") + ")"
                    }
                    throw spec.error("goal", message)
                }
            }
        } else if case .generated(let generator, _, let seed) = map {
            var rng = SplitMix64(seed: seed)
            var placed = false
            for _ in 0..<20 where !placed {
                let m = generator.generate(using: &rng)
                try checkCells(goal, key: "goal", on: m)
                if (try? place(on: m, using: &rng)) != nil { placed = true }
            }
            guard placed else { throw spec.error("goal", "no reachable goal on 20 maps drawn by the \(generator.name) generator") }
        }
    }

    private static func describeValue(_ v: TOMLValueConvertible) -> String { SpecTable.describe(v) }
}
