import ArgumentParser
import Experiments
import Foundation
import Viewer

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Draw one picture of a policy adapting: the task with every trajectory before and after adaptation.",
        discussion: """
            Samples a held-out task as `metarl watch` does (the same --task and --seed give the same \
            episodes), and draws the arena with the first --episodes trajectories of every \
            adaptation step in that step's colour, and the mean returns per step beside it. Needs no \
            display.

            Examples:
              metarl render runs/nav --out nav.png
              metarl render runs/nav --task 3 --steps 2 --episodes 20 --out task3.png
              metarl render runs/nav --panels --out steps.png        (one panel per step)
              metarl render --random obstacles --out obstacles.png
            """
    )

    @OptionGroup var recording: RecordingOptions

    @Option(parsing: .unconditional, help: "Episodes drawn per adaptation step (the first ones sampled).")
    var episodes = 10

    @Flag(help: "One panel per adaptation step (or episode of a trial), so that the steps' trajectories do not hide each other.")
    var panels = false

    @Option(help: "The PNG file to write.")
    var out: String

    @Option(help: "Picture size, WIDTHxHEIGHT, \(PictureSize.rangeHelp).")
    var size = PictureSize(width: 1120, height: 760)

    func validate() throws {
        try size.validate()
        try recording.validate(shownEpisodes: episodes)
        try PNGOutput.validate(out)
    }

    func run() throws {
        #if Viewer
        // Before any sampling: a folder that takes no files fails here, with the system's reason.
        try PNGOutput.probe(out)
        let recorded = try recording.record(taskIndex: recording.task)
        try AdaptationViewer.renderSummary(recorded, shownEpisodes: episodes, to: out, width: size.width, height: size.height,
                                           panels: panels)
        let returns = recorded.meanReturns.map { String(format: "%.2f", $0) }.joined(separator: ", ")
        let stages = recorded.stages == .trialEpisodes ? "of episodes 1…\(recorded.episodes.count) of a trial"
            : "after 0…\(recorded.adaptationSteps) steps"
        print("wrote \(out): \(recorded.specName) task \(recorded.taskIndex), mean returns \(stages): \(returns)")
        #else
        throw CommandFailure(description: viewerMissingMessage)
        #endif
    }
}
