import Environments
@testable import Experiments
import Foundation
import Testing

/// Sweep files expanded into runs, runs grouped into settings, and the statistics over seeds that
/// `report` and `plot` print and draw.
@Suite("Sweeps, reports and curves")
struct SweepAndReportTests {
    func write(_ text: String, _ name: String, in directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("A grid sweep is every combination of its lists and seeds, named from their values")
    func gridExpansion() throws {
        let directory = temporaryDirectory("sweep-grid")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try write("""
            seeds = [3, 4]
            [settings]
            iterations = 7
            maml = { maxKL = 0.02 }
            [vary]
            algorithm = ["maml-trpo", "promp"]
            fast-lr = [0.05, 0.1, 0.2]
            """, "grid.toml", in: directory)
        let plan = try SweepPlan.load(file: file)
        #expect(plan.runs.count == 12)
        #expect(plan.variedSettings == ["algorithm", "fast-lr", "seed"])
        #expect(plan.runs[0].name == "algorithm=maml-trpo,fast-lr=0.05,seed=3")
        #expect(plan.runs[11].name == "algorithm=promp,fast-lr=0.2,seed=4")
        let run = plan.runs[7]   // promp, 0.05, seed 4
        #expect(run.name == "algorithm=promp,fast-lr=0.05,seed=4")
        #expect(run.configuration.algorithm == "promp" && run.configuration.maml.innerStepSize == 0.05 && run.configuration.seed == 4)
        #expect(run.configuration.iterations == 7 && run.configuration.maml.maxKL == 0.02)
        // The settings text is what `train --config` reads back to the same configuration.
        let settings = try write(run.settingsText, "run.toml", in: directory)
        var reread = try TrainingConfiguration.load(file: settings)
        reread.threads = run.configuration.threads
        #expect(reread == run.configuration)
    }

    @Test("A zip sweep pairs its lists; a base file's relative spec is read from the base's folder")
    func zipAndBase() throws {
        let directory = temporaryDirectory("sweep-zip")
        defer { try? FileManager.default.removeItem(at: directory) }
        let specs = directory.appendingPathComponent("specs")
        try FileManager.default.createDirectory(at: specs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: try EnvironmentSpec.load("navigation").path), to: specs.appendingPathComponent("mine.toml"))
        _ = try write("spec = \"specs/mine.toml\"\niterations = 3\n", "base.toml", in: directory)
        let sweeps = directory.appendingPathComponent("sweeps")
        let file = try write("""
            base = "../base.toml"
            mode = "zip"
            [vary]
            maml.innerStepSize = [0.05, 0.1]
            meta-batch-size = [10, 20]
            """, "zip.toml", in: sweeps)
        let plan = try SweepPlan.load(file: file)
        #expect(plan.runs.map(\.name) == ["fast-lr=0.05,meta-batch-size=10,seed=1", "fast-lr=0.1,meta-batch-size=20,seed=1"])
        #expect(plan.runs[1].configuration.metaBatchSize == 20 && plan.runs[1].configuration.maml.innerStepSize == 0.1)
        #expect(plan.runs[0].configuration.spec == specs.appendingPathComponent("mine.toml").standardizedFileURL.path)
        #expect(plan.runs[0].configuration.iterations == 3)
    }

    @Test("A sweep's errors name the file, the run and the key",
          arguments: [
              ("[vary]\nfast-lr = 0.1\n", "key `vary.fast-lr`: expected a non-empty list"),
              ("[vary]\nfast-lrr = [0.1]\n", "unknown setting `vary.fast-lrr` (did you mean `fast-lr`?)"),
              ("[vary]\nfast-lr = [0.1, -1.0]\n", "run fast-lr=-1.0,seed=1: `maml.innerStepSize` must be positive"),
              ("seeds = [1, 1]\n", "key `seeds`: a seed is listed twice"),
              ("mode = \"zip\"\n[vary]\nfast-lr = [0.1, 0.2]\nhidden = [[8]]\n", "mode \"zip\" takes lists of one length"),
              ("[settings]\nfast-lr = 0.1\n[vary]\nfast-lr = [0.2]\n", "`fast-lr` is both fixed under [settings] and varied under [vary]"),
              ("iterations = 5\n", "unknown key `iterations`"),
          ])
    func errorsNameTheKey(text: String, expected: String) throws {
        let directory = temporaryDirectory("sweep-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try write(text, "bad.toml", in: directory)
        let error = #expect(throws: RunError.self) { try SweepPlan.load(file: file) }
        guard case .invalidSettings(let path, let reason)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path == file.path)
        #expect(reason.contains(expected), "\(reason)")
    }

    @Test("Mean, standard error and the 95% interval over seeds are Student's")
    func seedStatistics() throws {
        let s = try #require(SeedStatistics([1, 2, 6]))
        #expect(s.mean == 3 && s.count == 3)
        // Sample variance ((−2)² + (−1)² + 3²)/2 = 7; standard error √(7/3); t(0.975, 2) = 4.303.
        #expect(abs(s.standardError - (7.0 / 3).squareRoot()) < 1e-12)
        #expect(abs(try #require(s.confidenceHalfWidth) - 4.303 * (7.0 / 3).squareRoot()) < 1e-9)
        let one = try #require(SeedStatistics([5]))
        #expect(one.mean == 5 && one.confidenceHalfWidth == nil)
        #expect(SeedStatistics([]) == nil)
        #expect(SeedStatistics.studentT975(degreesOfFreedom: 1) == 12.706)
        #expect(abs(SeedStatistics.studentT975(degreesOfFreedom: 40) - 2.021) < 0.002)
        #expect(abs(SeedStatistics.studentT975(degreesOfFreedom: 120) - 1.980) < 0.002)
    }

    @Test("Curves combine the seeds point by point over the points all have; moving averages trail")
    func curves() throws {
        #expect(LearningCurves.movingAverage([1, 2, 3, 4, 5], window: 2) == [1, 1.5, 2.5, 3.5, 4.5])
        #expect(LearningCurves.movingAverage([1, 2, 3], window: 1) == [1, 2, 3])
        let series = try #require(LearningCurves.combine([([1, 2, 3], [1, 2, 3]), ([1, 2], [3, 6])]))
        #expect(series.x == [1, 2] && series.mean == [2, 4] && series.seeds == 2)
        // Two seeds: t(0.975, 1) · |a − b| / 2.
        #expect(abs(series.upper[1] - (4 + 12.706 * 2)) < 1e-9 && abs(series.lower[0] - (2 - 12.706 * 1)) < 1e-9)
    }

    @Test("Runs group by their settings without the seed, labelled by what differs")
    func grouping() throws {
        let directory = temporaryDirectory("groups")
        defer { try? FileManager.default.removeItem(at: directory) }
        var (c, spec) = TrainingRunTests.smallRun(iterations: 1)
        for (lr, seed) in [(0.05, 1), (0.05, 2), (0.1, 1)] {
            c.maml.innerStepSize = lr
            c.seed = UInt64(seed)
            c.threads = seed   // threads do not make a setting
            var run = try TrainingRun.start(configuration: c, spec: spec, directory: directory.appendingPathComponent("lr\(lr)-s\(seed)"))
            try run.run()
        }
        let groups = RunCollection.group(try RunCollection.find([directory.path]))
        #expect(groups.map(\.label) == ["fast-lr=0.05", "fast-lr=0.1"])
        #expect(groups.map(\.seeds) == [[1, 2], [1]])
        #expect(throws: RunError.self) { try RunCollection.find([directory.appendingPathComponent("nothing").path]) }
    }
}
