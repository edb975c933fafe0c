import ArgumentParser
import Experiments
import Foundation
import Viewer

extension LearningCurves.Source: ExpressibleByArgument {}
extension LearningCurves.XAxis: ExpressibleByArgument {}

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw learning curves and the adaptation curve of runs, seeds of a setting aggregated.",
        discussion: """
            Reads run folders (or folders of runs, such as a sweep's) and groups the runs whose \
            settings differ only in the seed. For each setting it draws the mean over seeds with a \
            95% confidence band (Student's t): the return after adaptation (thick) and before it \
            (thin) against meta-iterations or environment steps, from progress.csv (--curve \
            training) or from the held-out evaluations of eval.csv (--curve eval); and, beside it, \
            the return after 0…k adaptation steps (or per episode of a trial) at each run's last \
            evaluation, when the runs have evaluations (train --eval-every N). Needs no display.

            Examples:
              metarl plot runs/learners --out curves.png
              metarl plot runs/nav-s1 runs/nav-s2 runs/nav-s3 --x steps --out nav.png
              metarl plot runs/learners --curve eval --out held-out.png
            """
    )

    @Argument(help: "Run folders, or folders of runs.")
    var paths: [String]

    @Option(help: "The PNG file to write.")
    var out: String

    @Option(help: "The learning curves' source: training (progress.csv) or eval (eval.csv).")
    var curve: LearningCurves.Source = .training

    @Option(help: "The learning curves' x axis: iterations or steps (environment steps).")
    var x: LearningCurves.XAxis = .iterations

    @Option(parsing: .unconditional, help: "Moving average over this many iterations of each run's training curve (default: 1% of the iterations).")
    var smooth: Int?

    @Option(help: "The picture's title (default: the folders given).")
    var title: String?

    @Option(help: "Picture size, WIDTHxHEIGHT, \(PictureSize.rangeHelp).")
    var size = PictureSize(width: 1200, height: 560)

    func validate() throws {
        try size.validate()
        if let smooth { try require(smooth, "--smooth", in: 1...1_000_000) }
        try PNGOutput.validate(out)
    }

    func run() throws {
        #if Viewer
        try PNGOutput.probe(out)
        let runs = try RunCollection.find(paths)
        if curve == .evaluation, runs.allSatisfy({ $0.evaluations.isEmpty }) {
            throw CommandFailure(description: "--curve eval: none of these runs has evaluations (eval.csv); train with --eval-every N")
        }
        let groups = RunCollection.group(runs)
        let longest = runs.map(\.iterations).max() ?? 0
        let curves = LearningCurves(groups: groups, source: curve, xAxis: x, smoothing: smooth ?? max(1, longest / 100))
        let plot = CurvePlot(curves: curves, title: title ?? paths.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", "))
        try plot.render(to: out, width: size.width, height: size.height)
        print("wrote \(out): \(groups.count) setting\(groups.count == 1 ? "" : "s") from \(runs.count) run\(runs.count == 1 ? "" : "s")"
              + (plot.hasAdaptationPanel ? ", with the adaptation curve of the last evaluations" : ""))
        #else
        throw CommandFailure(description: viewerMissingMessage)
        #endif
    }
}
