import Foundation
import Testing

/// `metarl sweep`, `report` and `plot` end to end on tiny runs.
@Suite("metarl sweep, report and plot", .serialized)
struct BatchCommandTests {
    func sweepFile(_ directory: URL, iterations: Int, metaBatch: Int = 2) throws -> URL {
        let file = directory.appendingPathComponent("tiny.toml")
        try """
            seeds = [1, 2]
            [settings]
            spec = "navigation"
            iterations = \(iterations)
            meta-batch-size = \(metaBatch)
            fast-batch-size = 2
            hidden = [8]
            eval-every = 1
            eval-tasks = 2
            [vary]
            fast-lr = [0.05, 0.1]
            """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func aSweepRunsSkipsResumesAndRefuses() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let names = ["fast-lr=0.05,seed=1", "fast-lr=0.05,seed=2", "fast-lr=0.1,seed=1", "fast-lr=0.1,seed=2"]

        let dry = try metarl("sweep", try sweepFile(directory, iterations: 2).path, "--out", out.path, "--dry-run")
        #expect(dry.status == 0, "\(dry.error)")
        #expect(names.allSatisfy { dry.output.contains("\($0)  start") || dry.output.contains("\($0)   start") })
        #expect(!FileManager.default.fileExists(atPath: out.path))

        let first = try metarl("sweep", try sweepFile(directory, iterations: 2).path, "--out", out.path, "--jobs", "2")
        #expect(first.status == 0, "\(first.error)")
        for name in names {
            let progress = try String(contentsOf: out.appendingPathComponent(name).appendingPathComponent("progress.csv"), encoding: .utf8)
            #expect(progress.split(separator: "\n").count == 3, "\(name)")
        }
        #expect(first.output.contains("summary of"))

        let again = try metarl("sweep", try sweepFile(directory, iterations: 2).path, "--out", out.path)
        #expect(again.status == 0 && again.output.components(separatedBy: "done (2 iterations)").count == 5, "\(again.output)")

        let longer = try metarl("sweep", try sweepFile(directory, iterations: 3).path, "--out", out.path, "--jobs", "2")
        #expect(longer.status == 0 && longer.output.components(separatedBy: "resume from iteration 2").count == 5, "\(longer.output)")
        let resumed = try String(contentsOf: out.appendingPathComponent(names[0]).appendingPathComponent("progress.csv"), encoding: .utf8)
        #expect(resumed.split(separator: "\n").count == 4)

        // Other settings in the same folder: refused, named, nothing touched.
        let before = try Data(contentsOf: out.appendingPathComponent(names[0]).appendingPathComponent("checkpoint.safetensors"))
        let other = try metarl("sweep", try sweepFile(directory, iterations: 4, metaBatch: 3).path, "--out", out.path)
        #expect(other.status == 2 && other.output.contains("holds a run of other settings (metaBatchSize)"), "\(other.output)")
        #expect(try Data(contentsOf: out.appendingPathComponent(names[0]).appendingPathComponent("checkpoint.safetensors")) == before)

        // The report groups the seeds and averages each run's last evaluation.
        let report = try metarl("report", out.path, "--json")
        #expect(report.status == 0, "\(report.error)")
        let json = try JSONSerialization.jsonObject(with: Data(report.output.utf8)) as? [String: Any]
        let settings = try #require(json?["settings"] as? [[String: Any]])
        #expect(settings.map { $0["label"] as? String } == ["fast-lr=0.05", "fast-lr=0.1"])
        #expect(settings.map { ($0["seeds"] as? [Int]) ?? [] } == [[1, 2], [1, 2]])
        func lastEvaluation(_ name: String) throws -> Double {
            let lines = try String(contentsOf: out.appendingPathComponent(name).appendingPathComponent("eval.csv"), encoding: .utf8)
                .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            let header = lines[0], column = try #require(header.firstIndex(of: "mean_return")), step = try #require(header.firstIndex(of: "step"))
            return Double(try #require(lines.last { $0[step] == "1" })[column])!
        }
        let evaluation = try #require(settings[1]["evaluation"] as? [String: Any])
        let steps = try #require(evaluation["steps"] as? [[String: Any]])
        let after = try #require(steps.first { $0["step"] as? Int == 1 }?["mean_return"] as? [String: Any])
        let expected = (try lastEvaluation(names[2]) + lastEvaluation(names[3])) / 2
        #expect(abs(try #require(after["mean"] as? Double) - expected) < 1e-9)
        #expect(after["seeds"] as? Int == 2 && after["ci95_half_width"] is Double)

        let table = try metarl("report", out.path)
        #expect(table.status == 0 && table.output.contains("fast-lr=0.1") && table.output.contains("eval, 1 steps"))
        let csv = try metarl("report", out.path, "--csv")
        #expect(csv.output.hasPrefix("label,fast-lr,seeds,figure,step,mean,stderr,ci95_low,ci95_high\n"))

        #if Viewer
        let picture = directory.appendingPathComponent("curves.png")
        let plot = try metarl("plot", out.path, "--out", picture.path, "--size", "900x500")
        #expect(plot.status == 0 && plot.output.contains("2 settings from 4 runs"), "\(plot.error)")
        let png = try Data(contentsOf: picture)
        // PNG signature, then IHDR's width and height.
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        func bigEndian(_ range: Range<Int>) -> Int { png[range].reduce(0) { $0 << 8 | Int($1) } }
        #expect(bigEndian(16..<20) == 900 && bigEndian(20..<24) == 500)
        #endif
    }

    @Test func badSweepAndReportInputIsOneLineAndStatusTwo() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-sweep-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.toml")
        try "[vary]\nfast-lr = [0.1, -2.0]\n".write(to: file, atomically: true, encoding: .utf8)
        let bad = try metarl("sweep", file.path, "--out", directory.appendingPathComponent("out").path)
        #expect(bad.status == 2 && bad.error.contains(file.path) && bad.error.contains("run fast-lr=-2.0,seed=1"), "\(bad.error)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out").path))
        let missing = try metarl("report", directory.appendingPathComponent("none").path)
        #expect(missing.status == 2 && missing.error.contains("none"))
        let empty = try metarl("report", directory.path)
        #expect(empty.status == 2 && empty.error.contains("holds no run"))
    }

    @Test func evalOnAnotherSpecRecordsWhereItsNumbersComeFrom() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-ood-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = directory.appendingPathComponent("run")
        let train = try metarl("train", "navigation", "--iterations", "1", "--meta-batch-size", "2", "--fast-batch-size", "2",
                               "--hidden", "8", "--out", run.path)
        #expect(train.status == 0, "\(train.error)")
        let far = try metarl("eval", run.path, "--spec", "navigation-far", "--tasks", "2", "--steps", "1", "--episodes", "2",
                             "--seed", "5", "--json")
        #expect(far.status == 0, "\(far.error)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(far.output.utf8)) as? [String: Any])
        let provenance = try #require(json["provenance"] as? [String: Any])
        #expect(json["spec"] as? String == "navigation-far")
        #expect(provenance["trained_spec"] as? String == "navigation" && provenance["evaluated_spec"] as? String == "navigation-far")
        #expect(provenance["seed"] as? Int == 5 && provenance["run"] as? String == run.path)
        #expect((provenance["run_configuration"] as? [String: Any])?["algorithm"] as? String == "maml-trpo")
        let text = try metarl("eval", run.path, "--spec", "navigation-far", "--tasks", "2", "--steps", "1", "--episodes", "2")
        #expect(text.output.hasPrefix("navigation-far (trained on navigation):"), "\(text.output)")

        let misfit = try metarl("eval", run.path, "--spec", "gridnavi-5x5")
        #expect(misfit.status == 2 && misfit.error.contains("do not fit the policy trained on navigation"), "\(misfit.error)")
        let notNPZ = try metarl("eval", run.path, "--save-episodes", directory.appendingPathComponent("e.csv").path)
        #expect(notNPZ.status == 2 && notNPZ.error.contains("name a .npz file"))
        let saved = directory.appendingPathComponent("e.npz")
        let save = try metarl("eval", run.path, "--tasks", "2", "--steps", "1", "--episodes", "2", "--save-episodes", saved.path)
        #expect(save.status == 0 && save.error.contains("wrote \(saved.path): 8 episodes on 2 tasks"), "\(save.error)")
        #expect(try Data(contentsOf: saved).starts(with: [0x50, 0x4B, 0x03, 0x04]))
    }
}
