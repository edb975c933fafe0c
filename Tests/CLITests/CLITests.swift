import Foundation
import Testing

/// Runs the `metarl` binary built beside the test bundle.
func metarl(_ arguments: String...) throws -> (status: Int32, output: String, error: String) {
    try metarlArguments(arguments)
}

@Suite("metarl command line", .serialized)
struct CLITests {
    @Test func helpListsTheSubcommands() throws {
        let r = try metarl("--help")
        #expect(r.status == 0)
        for command in ["train", "eval", "watch", "render", "envs", "bench"] { #expect(r.output.contains(command), "\(command)") }
    }

    @Test func envsListAndShow() throws {
        let list = try metarl("envs", "list")
        #expect(list.status == 0)
        #expect(list.output.contains("navigation") && list.output.contains("sparse-semicircle"))
        let show = try metarl("envs", "show", "navigation", "--tasks", "2")
        #expect(show.status == 0)
        #expect(show.output.contains("uniform in [-0.5, 0.5] × [-0.5, 0.5]"))
        #expect(show.output.components(separatedBy: "goal (").count == 3)
    }

    @Test func badInputExitsWithStatusTwoAndOneLine() throws {
        let unknown = try metarl("envs", "show", "no-such-preset")
        #expect(unknown.status == 2)
        #expect(unknown.error.hasPrefix("Error: no-such-preset: no such spec file or preset"))
        let flag = try metarl("train", "navigation", "--hidden", "6x")
        #expect(flag.status == 2 && flag.error.contains("--hidden"))
        let missing = try metarl("eval", "/nonexistent/run")
        #expect(missing.status == 2 && missing.error.contains("/nonexistent/run"))
    }

    @Test func trainThenEvalThenRefuseToOverwrite() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = try metarl("train", "navigation", "--iterations", "2", "--meta-batch-size", "2",
                               "--fast-batch-size", "2", "--hidden", "8", "--out", directory.path)
        #expect(train.status == 0, "\(train.error)")
        #expect(train.output.contains("iteration 2/2"))
        let csv = try String(contentsOf: directory.appendingPathComponent("progress.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 3)

        let eval = try metarl("eval", directory.path, "--tasks", "3", "--steps", "1", "--json")
        #expect(eval.status == 0, "\(eval.error)")
        let json = try JSONSerialization.jsonObject(with: Data(eval.output.utf8)) as? [String: Any]
        let steps = json?["steps"] as? [[String: Any]]
        #expect(steps?.map { $0["step"] as? Int } == [0, 1])
        #expect(steps?.allSatisfy { $0["mean_return"] is Double && $0["stderr"] is Double } == true)

        let before = try Data(contentsOf: directory.appendingPathComponent("checkpoint.safetensors"))
        let again = try metarl("train", "navigation", "--iterations", "1", "--out", directory.path)
        #expect(again.status == 2 && again.error.contains("already holds a run"))
        #expect(try Data(contentsOf: directory.appendingPathComponent("checkpoint.safetensors")) == before)
    }

    /// `--resume` takes only --iterations and --threads: any other setting is refused before
    /// anything is written (`--out` with `--resume` would otherwise extend the old run in place).
    @Test func resumeRefusesNewSettingsAndSaysWhenARunIsDone() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-resume-\(UUID().uuidString)")
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-resume-other-\(UUID().uuidString)")
        defer { [directory, other].forEach { try? FileManager.default.removeItem(at: $0) } }
        let train = try metarl("train", "navigation", "--iterations", "1", "--meta-batch-size", "2",
                               "--fast-batch-size", "2", "--hidden", "8", "--out", directory.path)
        #expect(train.status == 0, "\(train.error)")
        let checkpoint = directory.appendingPathComponent("checkpoint.safetensors")
        let before = try Data(contentsOf: checkpoint)

        let changed = try metarl("train", "--resume", directory.path, "--iterations", "2", "--hidden", "16", "--out", other.path)
        #expect(changed.status == 2)
        #expect(changed.error.contains("--hidden, --out"), "\(changed.error)")
        let shorter = try metarl("train", "--resume", directory.path, "--iterations", "0")
        #expect(shorter.status == 2 && shorter.error.contains("iterations"), "\(shorter.error)")
        let done = try metarl("train", "--resume", directory.path)
        #expect(done.status == 0 && done.output.contains("all 1 iterations are done"), "\(done.output)")
        #expect(try Data(contentsOf: checkpoint) == before)
        #expect(!FileManager.default.fileExists(atPath: other.path))

        let more = try metarl("train", "--resume", directory.path, "--iterations", "2", "--threads", "1")
        #expect(more.status == 0 && more.output.contains("iteration 2/2"), "\(more.error)")
    }

    /// `--step-sizes α,α/2` is the default schedule written out; other schedules give other numbers,
    /// and a list that disagrees with `--steps`, or comes with a halving rule, is refused.
    @Test func evalTakesAStepSchedule() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-steps-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = try metarl("train", "navigation", "--iterations", "1", "--meta-batch-size", "2", "--fast-batch-size", "2",
                               "--hidden", "8", "--inner-steps", "2", "--halve-step", "--outer-loss", "every-step",
                               "--out", directory.path)
        #expect(train.status == 0, "\(train.error)")
        let config = try String(contentsOf: directory.appendingPathComponent("config.toml"), encoding: .utf8)
        #expect(config.contains("halvesStepAfterFirst = true") && config.contains("outerLoss = 'every-step'"))
        func returns(_ extra: String...) throws -> [Double] {
            let r = try metarlArguments(["eval", directory.path, "--tasks", "2", "--episodes", "3", "--json"] + extra)
            #expect(r.status == 0, "\(r.error)")
            let json = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]
            return (json?["steps"] as? [[String: Any]])?.compactMap { $0["mean_return"] as? Double } ?? []
        }
        let halving = try returns("--steps", "2")
        #expect(halving.count == 3)
        #expect(try returns("--step-sizes", "0.1,0.05") == halving)
        #expect(try returns("--step-sizes", "0.1,0.4") != halving)
        let clash = try metarl("eval", directory.path, "--steps", "3", "--step-sizes", "0.1,0.05")
        #expect(clash.status == 2 && clash.error.contains("--steps 3 and 2 --step-sizes disagree"))
        let rules = try metarl("eval", directory.path, "--step-sizes", "0.1,0.1", "--no-halve-step")
        #expect(rules.status == 2 && rules.error.contains("do not combine it with --halve-step"))
        #expect(try returns("--steps", "2", "--no-halve-step") == returns("--step-sizes", "0.1,0.1"))
        let bad = try metarl("eval", directory.path, "--step-sizes", "0.1,-1")
        #expect(bad.status == 2 && bad.error.contains("--step-sizes"))
        let badLoss = try metarl("train", "navigation", "--outer-loss", "sometimes")
        #expect(badLoss.status == 2 && badLoss.error.contains("--outer-loss must be final, every-step or every-step-and-start"))
    }

    /// The pretrained baseline trains one policy on all tasks: no inner steps, so the return before
    /// and after adaptation in its log are the same rollouts.
    @Test func thePretrainedBaselineTrains() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-pretrained-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let r = try metarl("train", "navigation", "--algo", "pretrained", "--iterations", "1", "--meta-batch-size", "2",
                           "--fast-batch-size", "2", "--hidden", "8", "--out", directory.path)
        #expect(r.status == 0, "\(r.error)")
        let row = try String(contentsOf: directory.appendingPathComponent("progress.csv"), encoding: .utf8)
            .split(separator: "\n")[1].split(separator: ",")
        #expect(row[1] == row[2])
        let bad = try metarl("train", "navigation", "--algo", "maml-sgd")
        #expect(bad.status == 2 && bad.error.contains("unknown algorithm \"maml-sgd\"") && bad.error.contains("meta-sgd"))
        // Inner-loop settings would do nothing for it: refused, naming the setting.
        let idle = try metarl("train", "navigation", "--algo", "pretrained", "--first-order", "--out", directory.path + "-idle")
        #expect(idle.status == 2 && idle.error.contains("--first-order: the pretrained baseline trains without inner steps"))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "-idle"))
    }

    @Test func benchAutodiffPrintsTheJSONKeys() throws {
        let r = try metarl("bench", "autodiff", "--rows", "64", "--hidden", "8", "--repeats", "3", "--json")
        #expect(r.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]
        for key in ["forward_ms", "forward_backward_ms", "hvp_ms", "sgemm_gflops"] { #expect(json?[key] is Double, "\(key)") }
    }
}

/// `watch` and `render` on a tiny trained run. With the Viewer trait they draw; without it they
/// say how to get the viewer and exit non-zero.
@Suite("metarl watch and render", .serialized)
struct ViewerCLITests {
    static func trainedRun() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-view-\(UUID().uuidString)")
        let train = try metarl("train", "navigation", "--iterations", "1", "--meta-batch-size", "2",
                               "--fast-batch-size", "2", "--hidden", "8", "--out", directory.path)
        #expect(train.status == 0, "\(train.error)")
        return directory
    }

    #if Viewer
    @Test func renderWritesAPictureAndWatchRecordsEveryFrame() throws {
        let run = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: run) }
        let picture = run.appendingPathComponent("summary.png")
        let render = try metarl("render", run.path, "--steps", "1", "--batch", "4", "--episodes", "2", "--out", picture.path)
        #expect(render.status == 0, "\(render.error)")
        #expect(try Data(contentsOf: picture).starts(with: [0x89, 0x50, 0x4E, 0x47]))

        // Navigation episodes last 100 steps unless the goal box is hit: at most 2 steps × 2 episodes × 101 frames.
        let frames = run.appendingPathComponent("frames")
        let watch = try metarl("watch", run.path, "--steps", "1", "--batch", "4", "--episodes", "2",
                               "--record", frames.path, "--size", "480x320")
        #expect(watch.status == 0, "\(watch.error)")
        let written = try FileManager.default.contentsOfDirectory(atPath: frames.path).filter { $0.hasSuffix(".png") }.sorted()
        #expect(watch.output.contains("wrote \(written.count) frames"))
        #expect(written.first == "frame-00000.png" && written.count > 8 && written.count <= 404)

        // A second recording into the same folder would mix two playbacks: refused, nothing touched.
        let again = try metarl("watch", run.path, "--record", frames.path)
        #expect(again.status == 2 && again.error.contains("is not empty"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: frames.path).count == written.count)
    }

    @Test func watchRecordsAVideoThroughFFmpeg() throws {
        let run = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: run) }
        for (name, codec) in [("clip.mp4", "h264"), ("clip.gif", "gif"), ("clip.webm", "vp8")] {
            let video = run.appendingPathComponent(name)
            let watch = try metarl("watch", run.path, "--steps", "1", "--batch", "4", "--episodes", "2", "--record", video.path,
                                   "--size", "480x320", "--stride", "2")
            #expect(watch.status == 0, "\(watch.error)")
            // ffprobe decodes every frame: the codec, the size and as many frames as recorded.
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            probe.arguments = ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                               "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", video.path]
            let out = Pipe()
            probe.standardOutput = out
            try probe.run()
            let fields = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init)
            probe.waitUntilExit()
            let written = watch.output.split(separator: " ").dropFirst().first.map(String.init)
            #expect(fields == [codec, "480", "320", written ?? "?"], "\(name): \(fields), \(watch.output)")
        }
        // No encoder on the PATH: refused before sampling, naming the package, and no file left.
        let missing = run.appendingPathComponent("none.mp4")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("metarl")
        process.arguments = ["watch", run.path, "--record", missing.path]
        process.environment = ["PATH": "/nonexistent"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2 && message.contains("apt-get install ffmpeg"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: missing.path))
        let again = try metarl("watch", run.path, "--record", run.appendingPathComponent("clip.mp4").path)
        #expect(again.status == 2 && again.error.contains("exists"))
        let stride = try metarl("watch", run.path, "--stride", "2")
        #expect(stride.status == 2 && stride.error.contains("--stride thins a recording"))
    }

    @Test func badViewerInputIsOneLineAndStatusTwo() throws {
        let tooMany = try metarl("render", "/nonexistent", "--episodes", "50", "--out", "/tmp/x.png")
        #expect(tooMany.status == 2 && tooMany.error.contains("--episodes (50) cannot exceed --batch (40)"))
        let notPNG = try metarl("render", "/nonexistent", "--out", "/tmp/x.jpg")
        #expect(notPNG.status == 2 && notPNG.error.contains("--out must name a .png file"))
        let missing = try metarl("render", "/nonexistent/run", "--out", "/tmp/metarl-never.png")
        #expect(missing.status == 2 && missing.error.contains("/nonexistent/run"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/metarl-never.png"))
        let spec = try metarl("watch", "--random", "no-such-preset", "--record", "/tmp/metarl-never-frames")
        #expect(spec.status == 2 && spec.error.contains("no-such-preset"))
    }
    #else
    @Test func withoutTheViewerTraitWatchSaysHowToGetIt() throws {
        let run = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: run) }
        for command in ["watch", "render"] {
            var arguments = [command, run.path]
            if command == "render" { arguments += ["--out", run.appendingPathComponent("x.png").path] }
            let process = try metarlArguments(arguments)
            #expect(process.status != 0)
            #expect(process.error.contains("without the Viewer trait") && process.error.contains("libsdl2-dev"), "\(process.error)")
        }
    }
    #endif
}

/// `metarl` with an argument array.
func metarlArguments(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("metarl")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let error = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
}
