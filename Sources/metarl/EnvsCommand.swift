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
            for (key, value) in loaded.family.base.parameterLines {
                print("  \(key.padding(toLength: 13, withPad: " ", startingAt: 0)) \(value)")
            }
            var rng = RandomStream.derive(seed: seed, purpose: .trainingTasks)
            let (lines, picture) = loaded.family.describeTasks(count: tasks, using: &rng)
            if tasks > 0 { print("sampled tasks (seed \(seed)):") }
            for (i, line) in lines.enumerated() { print("  \(String(i).padding(toLength: 2, withPad: " ", startingAt: 0))  \(line)") }
            if let picture, showMap {
                print("the map of task 0:")
                print(picture.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            }
        }
    }
}
