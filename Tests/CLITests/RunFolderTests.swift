import Foundation
import Testing

/// Run folders that survive what users do to them: a second command into the same folder, Ctrl-C
/// and SIGTERM, a run killed before its first checkpoint, an output location that takes no files.
@Suite("Run folders", .serialized)
struct RunFolderTests {
    static let quick = ["--meta-batch-size", "2", "--fast-batch-size", "2", "--hidden", "8"]

    func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("metarl-\(name)-\(UUID().uuidString)")
    }

    /// Starts `metarl` without waiting for it.
    func launch(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("metarl")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    /// Waits until the run in `directory` has checkpointed at least `iterations` iterations.
    func waitForCheckpoint(in directory: URL, iterations: Int) throws {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: directory.appendingPathComponent("checkpoint.json").path),
               let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let done = manifest["iteration"] as? Int, done >= iterations { return }
            usleep(50_000)
        }
        Issue.record("no checkpoint of \(iterations) iterations in \(directory.path) after two minutes")
    }

    @Test func aSecondCommandIntoABusyFolderIsRefusedNamingTheHolder() throws {
        let directory = scratch("busy")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (first, _, _) = try launch(["train", "navigation", "--iterations", "100000", "--out", directory.path] + Self.quick)
        defer { first.terminate(); first.waitUntilExit() }
        try waitForCheckpoint(in: directory, iterations: 1)
        let second = try metarlArguments(["train", "navigation", "--iterations", "3", "--out", directory.path] + Self.quick)
        #expect(second.status == 2)
        #expect(second.error.contains("is in use by process \(first.processIdentifier)"), "\(second.error)")
        let resumed = try metarl("train", "--resume", directory.path)
        #expect(resumed.status == 2 && resumed.error.contains("in use by process \(first.processIdentifier)"), "\(resumed.error)")
    }

    /// A lock file left by a killed process does not block the folder: the kernel released its lock.
    @Test func aLockLeftByAKilledProcessDoesNotBlockTheNextRun() throws {
        let directory = scratch("stale")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (first, _, _) = try launch(["train", "navigation", "--iterations", "100000", "--out", directory.path] + Self.quick)
        try waitForCheckpoint(in: directory, iterations: 1)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(".lock").path))
        let resumed = try metarl("train", "--resume", directory.path, "--iterations", "3")
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("iteration 3/3"), "\(resumed.output)")
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func aSignalEndsTheRunWithWhereItStandsAndTheCheckpointResumes(signal: Int32, status: Int32) throws {
        let directory = scratch("signal")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (process, _, err) = try launch(["train", "navigation", "--iterations", "100000", "--out", directory.path] + Self.quick)
        try waitForCheckpoint(in: directory, iterations: 2)
        kill(process.processIdentifier, signal)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == status, "\(process.terminationReason) \(process.terminationStatus)")
        #expect(message.contains("interrupted after iteration ") && message.contains(" of 100000; resume with `metarl train --resume "),
                "\(message)")
        let done = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("checkpoint.json"))) as? [String: Any]
        let iteration = try #require(done?["iteration"] as? Int)
        #expect(message.contains("after iteration \(iteration) of"), "the message names the checkpointed iteration \(iteration): \(message)")
        let resumed = try metarl("train", "--resume", directory.path, "--iterations", "\(iteration + 1)")
        #expect(resumed.status == 0 && resumed.output.contains("iteration \(iteration + 1)/\(iteration + 1)"), "\(resumed.error)")
    }

    /// A run killed before its first checkpoint leaves only `config.toml`; `--resume` starts it
    /// from the beginning with those settings (it used to say `checkpoint.json: no such file`).
    @Test func aFolderWithSettingsButNoCheckpointResumesFromTheBeginning() throws {
        let directory = scratch("dead"), straight = scratch("straight")
        defer { [directory, straight].forEach { try? FileManager.default.removeItem(at: $0) } }
        let reference = try metarlArguments(["train", "navigation", "--iterations", "2", "--out", straight.path] + Self.quick)
        #expect(reference.status == 0, "\(reference.error)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: straight.appendingPathComponent("config.toml"), to: directory.appendingPathComponent("config.toml"))
        let resumed = try metarl("train", "--resume", directory.path)
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(try Data(contentsOf: directory.appendingPathComponent("checkpoint.safetensors"))
                == Data(contentsOf: straight.appendingPathComponent("checkpoint.safetensors")))
    }

    /// Problems of the output location are found before any sampling, with the system's reason.
    @Test func anOutputLocationThatTakesNoFilesIsReportedBeforeWorkStarts() throws {
        let file = scratch("a-file")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let train = try metarl("train", "navigation", "--out", file.appendingPathComponent("run").path)
        #expect(train.status == 2 && train.error.contains("Not a directory"), "\(train.error)")
        #expect(!train.output.contains("iteration"))
        let readOnly = try metarl("train", "navigation", "--out", "/proc/metarl-run")
        #expect(readOnly.status == 2 && readOnly.error.contains("cannot write /proc/metarl-run"), "\(readOnly.error)")
        #if Viewer   // without it, watch and render say only that the viewer is missing
        let watch = try metarl("watch", "--random", "navigation", "--record", file.appendingPathComponent("frames").path)
        #expect(watch.status == 2 && watch.error.contains("Not a directory"), "\(watch.error)")
        #endif
    }

    /// On a real read-only file system and a full one (tmpfs mounts, so only where the tests may
    /// mount: as root, as CI runs them).
    @Test(.enabled(if: getuid() == 0)) func aReadOnlyOrFullDiskIsReportedAndTheLastCheckpointSurvives() throws {
        let mountPoint = scratch("mount")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        defer { _ = shell("umount \(mountPoint.path)"); try? FileManager.default.removeItem(at: mountPoint) }
        guard shell("mount -t tmpfs -o ro,size=1m tmpfs \(mountPoint.path)") == 0 else {
            Issue.record("cannot mount a tmpfs as root here")
            return
        }
        let readOnly = try metarl("train", "navigation", "--out", mountPoint.appendingPathComponent("run").path)
        #expect(readOnly.status == 2 && readOnly.error.contains("Read-only file system"), "\(readOnly.error)")
        #if Viewer
        let render = try metarl("render", "--random", "navigation", "--out", mountPoint.appendingPathComponent("a.png").path)
        #expect(render.status == 2 && render.error.contains("Read-only file system"), "\(render.error)")
        #endif
        _ = shell("umount \(mountPoint.path)")

        // A small disk: room for a small run's files; then a padding file takes the rest, and the
        // resumed run's next write fails.
        #expect(shell("mount -t tmpfs -o size=600k tmpfs \(mountPoint.path)") == 0)
        let run = mountPoint.appendingPathComponent("run")
        let first = try metarlArguments(["train", "navigation", "--iterations", "1", "--out", run.path, "--hidden", "8",
                                         "--meta-batch-size", "2", "--fast-batch-size", "2"])
        #expect(first.status == 0, "\(first.error)")
        let good = try Data(contentsOf: run.appendingPathComponent("checkpoint.safetensors"))
        _ = shell("dd if=/dev/zero of=\(mountPoint.path)/padding bs=1k count=2000 2>/dev/null")
        let full = try metarl("train", "--resume", run.path, "--iterations", "3")
        #expect(full.status != 0 && full.error.contains("No space left on device"), "\(full.error)")
        #expect(try Data(contentsOf: run.appendingPathComponent("checkpoint.safetensors")) == good)
        _ = shell("rm -f \(mountPoint.path)/padding")
        let resumed = try metarl("train", "--resume", run.path, "--iterations", "2")
        #expect(resumed.status == 0, "\(resumed.error)")
    }

    func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
