import ArgumentParser
import Experiments
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "A table of final results per setting: mean, standard error and 95% interval over seeds.",
        discussion: """
            Reads run folders (or folders of runs, such as a sweep's), groups the runs whose settings \
            differ only in the seed, and reports for each setting: the last held-out evaluation of \
            each run (eval.csv, from train --eval-every; its return after 0…k steps, or per episode \
            of a trial for RL²) and the training returns before and after adaptation averaged over \
            each run's last --last iterations, each as the mean over seeds ± the 95% confidence \
            interval's half-width (Student's t; one seed has none). Settings are named by what \
            tells them apart.

            Examples:
              metarl report runs/learners
              metarl report runs/nav-a runs/nav-b runs/nav-c --json
              metarl report runs/learners --csv > results.csv
            """
    )

    @Argument(help: "Run folders, or folders of runs.")
    var paths: [String]

    @Option(parsing: .unconditional, help: "Iterations at the end of each run the training returns are averaged over.")
    var last = 10

    @Flag(help: "Print one JSON object: {\"settings\": [{\"label\", \"settings\", \"seeds\", \"evaluation\", \"training\"}, …]}.")
    var json = false

    @Flag(help: "Print CSV in long form: one row per setting, figure and step.")
    var csv = false

    func validate() throws {
        try require(last, "--last", in: 1...1_000_000)
        if json && csv { throw ValidationError("--json and --csv are two formats of one report; give one of them") }
    }

    struct Row: Encodable {
        struct Evaluation: Encodable {
            var iterations: [Int]
            var unit: String
            var steps: [Step]
        }
        struct Step: Encodable {
            var step: Int
            var meanReturn: SeedStatistics
            var successRate: SeedStatistics?
            enum CodingKeys: String, CodingKey {
                case step
                case meanReturn = "mean_return"
                case successRate = "success_rate"
            }
        }
        struct Training: Encodable {
            var lastIterations: Int
            var returnsBefore: SeedStatistics?
            var returnsAfter: SeedStatistics?
            enum CodingKeys: String, CodingKey {
                case lastIterations = "last_iterations"
                case returnsBefore = "returns_before"
                case returnsAfter = "returns_after"
            }
        }
        var label: String
        var settings: [String: String]
        var seeds: [UInt64]
        var runs: [String]
        var iterations: [Int]
        var evaluation: Evaluation?
        var training: Training
    }

    func rows() throws -> [Row] {
        let groups = RunCollection.group(try RunCollection.find(paths))
        return groups.map { group in
            let evaluated = group.runs.compactMap(\.lastEvaluation)
            var evaluation: Row.Evaluation?
            if !evaluated.isEmpty {
                let steps = Set(evaluated.flatMap { $0.returns.keys }).sorted()
                evaluation = Row.Evaluation(
                    iterations: evaluated.map(\.iteration),
                    unit: group.runs[0].configuration.adaptsInMemory ? "trial-episode" : "adaptation-step",
                    steps: steps.compactMap { k in
                        SeedStatistics(evaluated.compactMap { $0.returns[k] }).map { stats in
                            Row.Step(step: k, meanReturn: stats, successRate: SeedStatistics(evaluated.compactMap { $0.successRates[k] }))
                        }
                    })
            }
            let training = Row.Training(lastIterations: last,
                                        returnsBefore: SeedStatistics(group.runs.compactMap { $0.recentMean("returns/before", count: last) }),
                                        returnsAfter: SeedStatistics(group.runs.compactMap { $0.recentMean("returns/after", count: last) }))
            return Row(label: group.label, settings: Dictionary(group.differing.map { ($0.setting, $0.value) }, uniquingKeysWith: { a, _ in a }),
                       seeds: group.seeds, runs: group.runs.map(\.directory.relativePath), iterations: group.runs.map(\.iterations),
                       evaluation: evaluation, training: training)
        }
    }

    func run() throws {
        let rows = try rows()
        if json {
            struct Report: Encodable { var settings: [Row] }
            try printJSON(Report(settings: rows))
        } else if csv {
            printCSV(rows)
        } else {
            printTable(rows)
        }
    }

    static func cell(_ s: SeedStatistics?) -> String {
        guard let s else { return "–" }
        guard let half = s.confidenceHalfWidth else { return String(format: "%.2f (1 seed)", s.mean) }
        return String(format: "%.2f ± %.2f", s.mean, half)
    }

    func printTable(_ rows: [Row]) {
        let steps = Set(rows.flatMap { $0.evaluation?.steps.map(\.step) ?? [] }).sorted()
        let memory = rows.contains { $0.evaluation?.unit == "trial-episode" }
        let stepHeader = steps.map { memory ? "episode \($0 + 1)" : "eval, \($0) steps" }
        let header = ["setting", "seeds", "iterations"] + stepHeader + ["train before", "train after"]
        var table: [[String]] = rows.map { row in
            let its = Set(row.iterations).sorted()
            let iterations = its.count == 1 ? "\(its[0])" : "\(its.first!)–\(its.last!)"
            let evals = steps.map { k in Self.cell(row.evaluation?.steps.first { $0.step == k }?.meanReturn) }
            return [row.label, "\(row.seeds.count)", iterations] + evals + [Self.cell(row.training.returnsBefore), Self.cell(row.training.returnsAfter)]
        }
        table.insert(header, at: 0)
        let widths = header.indices.map { c in table.map { $0[c].count }.max() ?? 0 }
        for (i, line) in table.enumerated() {
            print("  " + line.enumerated().map { c, text in
                c == 0 ? text.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - text.count) + text
            }.joined(separator: "   "))
            if i == 0 { print("  " + widths.map { String(repeating: "─", count: $0) }.joined(separator: "   ")) }
        }
        print("  (mean over seeds ± the 95% interval's half-width; eval: each run's last evaluation in eval.csv, "
              + "\(steps.isEmpty ? "none recorded — train with --eval-every N" : "held-out tasks");")
        print("  train: returns before and after adaptation over each run's last \(last) iterations)")
    }

    func printCSV(_ rows: [Row]) {
        let settingNames = Array(Set(rows.flatMap { $0.settings.keys })).sorted()
        print((["label"] + settingNames + ["seeds", "figure", "step", "mean", "stderr", "ci95_low", "ci95_high"]).joined(separator: ","))
        func quoted(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        for row in rows {
            let prefix = [quoted(row.label)] + settingNames.map { quoted(row.settings[$0] ?? "") }
            func line(_ figure: String, _ step: String, _ s: SeedStatistics?) {
                guard let s else { return }
                let low = s.confidenceHalfWidth.map { "\(s.mean - $0)" } ?? "", high = s.confidenceHalfWidth.map { "\(s.mean + $0)" } ?? ""
                print((prefix + ["\(s.count)", figure, step, "\(s.mean)", "\(s.standardError)", low, high]).joined(separator: ","))
            }
            for step in row.evaluation?.steps ?? [] {
                line("eval_return", "\(step.step)", step.meanReturn)
                line("eval_success_rate", "\(step.step)", step.successRate)
            }
            line("train_returns_before", "", row.training.returnsBefore)
            line("train_returns_after", "", row.training.returnsAfter)
        }
    }
}
