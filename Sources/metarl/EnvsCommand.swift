import ArgumentParser
import Environments
import Foundation

struct EnvsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envs",
        abstract: "List the environment presets, or show one spec's resolved parameters.",
        subcommands: [List.self, Show.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the presets in envs/ with a one-line description.",
            discussion: "Presets are read from $METARL_ENVS, else from the first envs/ folder found from the working directory upward.")

        func run() throws {
            guard let directory = EnvironmentSpec.presetDirectory() else {
                throw SpecError(file: "envs/", message: "no presets folder found; run from the MetaRL checkout or set METARL_ENVS")
            }
            var presets: [EnvironmentSpec] = []
            for file in EnvironmentSpec.presetFiles(in: directory) {
                do {
                    presets.append(try EnvironmentSpec.load(file: file))
                } catch {
                    // A broken preset is listed as such rather than silently left out.
                    FileHandle.standardError.write(Data("warning: \(error)\n".utf8))
                }
            }
            let width = presets.map(\.name.count).max() ?? 0
            var family = ""
            for preset in presets {
                if preset.family.name != family {
                    family = preset.family.name
                    print("\(family):")
                }
                print("  \(preset.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(preset.description)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a spec's resolved parameters and a few tasks sampled from it.")

        @Argument(help: "A preset's short name (navigation, sparse-semicircle, …) or a path to a spec file.")
        var spec: String

        @Option(parsing: .unconditional, help: "Tasks to sample and print.")
        var tasks = 5

        @Option(parsing: .unconditional, help: "Seed for the sampled tasks.")
        var seed: UInt64 = 0

        @Flag(inversion: .prefixedNo, help: "Gridworlds: print a sampled task's map.")
        var showMap = true

        func validate() throws {
            try require(tasks, "--tasks", in: 0...100_000)
        }

        func run() throws {
            let loaded = try EnvironmentSpec.load(spec)
            print("\(loaded.name) (\(loaded.family.name)) — \(loaded.description)")
            print("  from \(loaded.path)")
            switch loaded.family {
            case .pointRobot(let family):
                for (key, value) in family.parameterLines {
                    print("  \(key.padding(toLength: 13, withPad: " ", startingAt: 0)) \(value)")
                }
                var rng = RandomStream.derive(seed: seed, purpose: .trainingTasks)
                if tasks > 0 { print("sampled tasks (seed \(seed)):") }
                for (i, task) in family.sampleTasks(count: tasks, using: &rng).enumerated() {
                    var line = String(format: "  %2d  goal (%+.3f, %+.3f)  start (%+.3f, %+.3f)", i, task.goal.x, task.goal.y, task.start.x, task.start.y)
                    if family.actionBound.range.lowerBound != family.actionBound.range.upperBound { line += String(format: "  bound %.3f", task.actionBound) }
                    if family.damping.range.upperBound > 0 { line += String(format: "  damping %.3f", task.damping) }
                    if !task.obstacles.isEmpty { line += "  obstacles " + task.obstacles.map { String(format: "(%+.2f, %+.2f; r %.2f)", $0.center.x, $0.center.y, $0.radius) }.joined(separator: " ") }
                    print(line)
                }
            case .gridworld(let family):
                for (key, value) in family.parameterLines {
                    print("  \(key.padding(toLength: 13, withPad: " ", startingAt: 0)) \(value)")
                }
                var rng = RandomStream.derive(seed: seed, purpose: .trainingTasks)
                if tasks > 0 { print("sampled tasks (seed \(seed)):") }
                let sampled = family.sampleTasks(count: tasks, using: &rng)
                for (i, task) in sampled.enumerated() {
                    var line = "  \(i)  goal \(task.goals.map(\.description).joined(separator: " "))  start \(task.start) facing \(Heading.names[task.startHeading])"
                    if family.slip.range.upperBound > 0 { line += String(format: "  slip %.3f", task.slip) }
                    if family.permutesActions { line += "  actions → \(task.actionPermutation)" }
                    print(line)
                }
                if let first = sampled.first, showMap {
                    print("the map of task 0:")
                    print(first.map.text.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
                }
            }
        }
    }
}
