import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time MetaRL's components (build with -c release for meaningful figures).",
        subcommands: [BenchAutodiffCommand.self, BenchTrainCommand.self, BenchEstimatorsCommand.self, BenchEnvsCommand.self, BenchRenderCommand.self]
    )
}
