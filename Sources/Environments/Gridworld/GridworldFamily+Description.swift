import Foundation
extension GridworldFamily.CellDistribution: CustomStringConvertible {
    public var description: String {
        func list(_ cells: [GridPoint]) -> String { cells.map(\.description).joined(separator: ", ") }
        switch self {
        case .map: return "as marked on the map"
        case .fixed(let p): return "\(p)"
        case .free(let excluded): return "uniform over reachable free cells" + (excluded.isEmpty ? "" : " except \(list(excluded))")
        case .region(let lo, let hi, let excluded):
            return "uniform over reachable free cells in \(lo)–\(hi)" + (excluded.isEmpty ? "" : " except \(list(excluded))")
        case .choice(let cells): return "one of \(list(cells))"
        }
    }
}

extension GridworldFamily {
    /// The resolved parameters, one per line, as `metarl envs show` prints them.
    public var parameterLines: [(String, String)] {
        let (w, h) = mapSize
        let mapText: String
        switch map {
        case .fixed: mapText = "\(w)×\(h) from a file"
        case .generated(let generator, let perTask, let seed):
            mapText = "\(w)×\(h) by the \(generator.name) generator, " + (perTask ? "a new one per task" : "one for all tasks (seed \(seed))")
        }
        let observationText: String
        switch observation {
        case .coordinates: observationText = "(x, y)" + (actions.turns ? ", heading" : "")
        case .oneHot: observationText = "one-hot cell" + (actions.turns ? " and heading" : "")
        case .grid: observationText = "the whole grid, (object, colour, state) per cell"
        case .egocentric(let size, let occlusion): observationText = "egocentric \(size)×\(size) view" + (occlusion ? ", occluded" : ", sees through walls")
        }
        let headingText: String
        switch startHeading {
        case .map: headingText = "the map's arrow, else right"
        case .fixed(let k): headingText = Heading.names[k]
        case .random: headingText = "uniform"
        }
        var rewardParts = ["goal \(reward.goal)" + (reward.timeDecay ? " × (1 − 0.9·t/T)" : "")]
        if reward.step != 0 { rewardParts.append("step \(reward.step)") }
        if reward.lava != 0 { rewardParts.append("lava \(reward.lava)") }
        var ends: [String] = []
        if reward.goalTerminates { ends.append("goal") }
        if reward.lavaTerminates { ends.append("lava") }
        return [
            ("map", mapText),
            ("actions", actions.names.joined(separator: ", ") + (permutesActions ? " (permuted per task)" : "")),
            ("observation", "\(observationSize) values: \(observationText)"),
            ("goal", goal.description + (goalCount > 1 ? " (\(goalCount) goals)" : "")),
            ("start", start.description + ", heading \(headingText)"),
            ("slip", slip.description),
            ("reward", rewardParts.joined(separator: ", ")),
            ("termination", ends.isEmpty ? "never (truncated at the horizon)" : "on " + ends.joined(separator: " or ")),
            ("horizon", "\(horizon) steps" + (episodesPerTrial > 1 ? " × \(episodesPerTrial) episodes per trial" : "")),
        ]
    }
}

extension GridworldFamily: EnvironmentFamily, SpecLoadable {
    public static let name = "gridworld"

    public func makeBatch(count: Int, autoreset: AutoresetMode) -> GridworldBatch {
        GridworldBatch(family: self, count: count, autoreset: autoreset)
    }

    public func summary(of task: GridworldTask) -> String {
        var line = "goal \(task.goals.map(\.description).joined(separator: " "))  start \(task.start) facing \(Heading.names[task.startHeading])"
        if slip.range.upperBound > 0 { line += String(format: "  slip %.3f", task.slip) }
        if permutesActions { line += "  actions → \(task.actionPermutation)" }
        return line
    }

    public func details(of task: GridworldTask) -> [String] {
        var details = ["goal " + task.goals.map(\.description).joined(separator: " "),
                       "start \(task.start) facing \(Heading.names[task.startHeading])"]
        if slip.range.upperBound > 0 { details.append(String(format: "slip %.2f", task.slip)) }
        if permutesActions {
            let names = actions.names
            details.append("actions → " + task.actionPermutation.map { names[$0] }.joined(separator: ", "))
        }
        return details
    }

    public func picture(of task: GridworldTask) -> String? { task.map.text }

    public var observationName: String {
        guard case .egocentric(let size, let occluded) = observation else { return observation.name }
        return observation.name + " \(size)×\(size)" + (occluded ? " occluded" : " see-through")
    }

    public func observing(_ mode: String, viewSize: Int, occlusion: Bool) throws -> GridworldFamily {
        var family = self
        switch mode {
        case "coordinates", "position": family.observation = .coordinates
        case "one-hot": family.observation = .oneHot
        case "grid": family.observation = .grid
        case "egocentric": family.observation = .egocentric(size: viewSize, occlusion: occlusion)
        default:
            throw SpecError(file: "--observation", message: "must be coordinates, one-hot, grid or egocentric, got \(mode)")
        }
        return family
    }
}
