import Foundation
import Testing

/// Ordinary mistakes on the command line: each is refused with one line naming the flag, exit 2,
/// and nothing written.
@Suite("metarl refuses bad flags", .serialized)
struct BadInputTests {
    func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("metarl-\(name)-\(UUID().uuidString)")
    }

    /// A negative number after a flag used to be read as a missing value ("-1" looked like a flag).
    @Test func aNegativeNumberIsReadAsANumberAndRefusedForWhatItIs() throws {
        let out = scratch("negative")
        let r = try metarl("train", "navigation", "--max-kl", "-1", "--out", out.path)
        #expect(r.status == 2)
        #expect(r.error.contains("max-kl") && r.error.contains("must be positive") && r.error.contains("-1"), "\(r.error)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// `64,,64` used to become 64,64.
    @Test func anEmptyLayerWidthIsRefused() throws {
        let r = try metarl("train", "navigation", "--hidden", "64,,64", "--out", scratch("hidden").path)
        #expect(r.status == 2 && r.error.contains("--hidden") && r.error.contains("64,,64"), "\(r.error)")
    }

    @Test func aPictureSizeOutOfRangeSaysTheRange() throws {
        let r = try metarl("render", "--random", "navigation", "--size", "100x100", "--out", scratch("size").path + ".png")
        #expect(r.status == 2)
        #expect(r.error.contains("--size must lie from 320x240 to 8192x8192, got 100x100"), "\(r.error)")
    }

    @Test func aHugeNetworkIsRefusedBeforeAnythingIsAllocatedOrWritten() throws {
        let out = scratch("huge")
        let r = try metarl("train", "navigation", "--hidden", "100000,100000", "--out", out.path)
        #expect(r.status == 2 && r.error.contains("hidden") && r.error.contains("GB of memory"), "\(r.error)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// Sizes with a digit too many are refused by name, not attempted (each of these used to
    /// allocate until the process aborted).
    @Test func absurdSizesOnAnyCommandAreRefusedByFlag() throws {
        let cases: [([String], String)] = [
            (["bench", "envs", "navigation", "--environments", "100000000000"], "--environments must lie in 1…10000000"),
            (["bench", "autodiff", "--rows", "100000000000"], "--rows must lie in 1…10000000"),
            (["envs", "show", "navigation", "--tasks", "100000000000"], "--tasks must lie in 0…100000"),
            (["eval", "/nonexistent", "--episodes", "100000000000"], "--episodes must lie in 1…100000"),
            (["render", "--random", "navigation", "--batch", "100000000000", "--out", "x.png"], "--batch must lie in 1…100000"),
            (["eval", "/nonexistent", "--step-sizes", "0.1,inf"], "--step-sizes must be numbers in [0, 10⁶]"),
        ]
        for (arguments, message) in cases {
            let r = try metarlArguments(arguments)
            #expect(r.status == 2 && r.error.contains(message), "\(arguments): \(r.error)")
        }
    }

    /// The map printed is task 0's, the first one listed (it used to be an extra, unlisted task).
    @Test func envsShowPrintsTheMapOfTaskZero() throws {
        let three = try metarl("envs", "show", "maze-random", "--tasks", "3")
        let one = try metarl("envs", "show", "maze-random", "--tasks", "1")
        #expect(three.status == 0 && one.status == 0)
        func map(_ output: String) -> String { output.components(separatedBy: "the map of task 0:").last ?? "" }
        #expect(three.output.contains("the map of task 0:"))
        #expect(map(three.output) == map(one.output))
        #expect(!map(three.output).isEmpty)
    }

    /// A settings file without `spec` used to train navigation silently; and an error in a
    /// settings file names the file and the key, not a flag the user never typed.
    @Test func settingsFileErrorsNameTheFileAndTheKey() throws {
        let folder = scratch("settings")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let noSpec = folder.appendingPathComponent("no-spec.toml")
        try "iterations = 2\n".write(to: noSpec, atomically: true, encoding: .utf8)
        let refused = try metarl("train", "--config", noSpec.path, "--out", folder.appendingPathComponent("r").path)
        #expect(refused.status == 2 && refused.error.contains("no-spec.toml: no `spec` key"), "\(refused.error)")
        let bad = folder.appendingPathComponent("bad.toml")
        try "spec = \"navigation\"\n[maml]\ninnerStepSize = -1\n".write(to: bad, atomically: true, encoding: .utf8)
        let fromFile = try metarl("train", "--config", bad.path, "--out", folder.appendingPathComponent("r").path)
        #expect(fromFile.status == 2 && fromFile.error.contains("bad.toml: key `maml.innerStepSize`: must be positive"), "\(fromFile.error)")
        let fromFlag = try metarl("train", "--config", bad.path, "--fast-lr", "-2", "--out", folder.appendingPathComponent("r").path)
        #expect(fromFlag.status == 2 && fromFlag.error.contains("--fast-lr: must be positive"), "\(fromFlag.error)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("r").path))
        // A spec beside the settings file is found from any working directory.
        try FileManager.default.copyItem(atPath: "envs/point-robot/navigation.toml", toPath: folder.appendingPathComponent("mine.toml").path)
        let beside = folder.appendingPathComponent("beside.toml")
        try "spec = \"mine.toml\"\niterations = 1\nmetaBatchSize = 2\nfastBatchSize = 2\nhidden = [8]\n".write(to: beside, atomically: true, encoding: .utf8)
        let run = try metarl("train", "--config", beside.path, "--out", folder.appendingPathComponent("run").path)
        #expect(run.status == 0, "\(run.error)")
    }
}

/// `make install`'s layout: `bin/metarl` finds `share/metarl/envs` beside it from any folder.
@Suite("Installed layout")
struct InstalledLayoutTests {
    @Test func anInstalledMetarlFindsItsPresetsFromAnyFolder() throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-prefix-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: prefix) }
        let manager = FileManager.default
        try manager.createDirectory(at: prefix.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try manager.createDirectory(at: prefix.appendingPathComponent("share/metarl"), withIntermediateDirectories: true)
        let built = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("metarl")
        try manager.copyItem(at: built, to: prefix.appendingPathComponent("bin/metarl"))
        try manager.copyItem(atPath: "envs", toPath: prefix.appendingPathComponent("share/metarl/envs").path)
        let elsewhere = prefix.appendingPathComponent("work")
        try manager.createDirectory(at: elsewhere, withIntermediateDirectories: true)

        let process = Process()
        process.executableURL = prefix.appendingPathComponent("bin/metarl")
        process.arguments = ["envs", "show", "four-rooms", "--tasks", "1"]
        process.currentDirectoryURL = elsewhere
        var environment = ProcessInfo.processInfo.environment
        environment["METARL_ENVS"] = nil
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.contains("from \(prefix.appendingPathComponent("share/metarl/envs").standardizedFileURL.path)/gridworld/four-rooms.toml"), "\(output)")
    }
}
