import Foundation

/// `metadata.json` in a run folder: which MetaRL made the run, on which machine, with which
/// command — one session per start or resume, so a run resumed elsewhere says so.
public struct RunMetadata: Sendable, Codable, Equatable {
    public static let fileName = "metadata.json"
    /// MetaRL's version (`metarl --version`).
    public static let version = "0.1.0"

    public struct Session: Sendable, Codable, Equatable {
        /// ISO 8601, UTC.
        public var started: String
        /// Iterations completed when the session began (0 for the start).
        public var fromIteration: Int
        public var commandLine: [String]
        public var metarlVersion: String
        public var source: SourceRevision?
        public var machine: MachineDescription

        enum CodingKeys: String, CodingKey {
            case started
            case fromIteration = "from_iteration"
            case commandLine = "command_line"
            case metarlVersion = "metarl_version"
            case source, machine
        }
    }

    public var sessions: [Session]

    /// This process as a session starting at `iteration`.
    public static func session(fromIteration iteration: Int) -> Session {
        Session(started: ISO8601DateFormatter().string(from: Date()), fromIteration: iteration, commandLine: CommandLine.arguments,
                metarlVersion: version, source: SourceRevision.current, machine: .current)
    }

    /// Adds this process's session to the folder's metadata (a new file at a run's start).
    /// - Throws: `RunError.cannotWrite`.
    public static func record(sessionFromIteration iteration: Int, in directory: URL) throws {
        let url = directory.appendingPathComponent(fileName)
        // An unreadable file (from a crash or a hand edit) loses its history, not the run.
        var metadata = (try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode(RunMetadata.self, from: $0) }
            ?? RunMetadata(sessions: [])
        metadata.sessions.append(session(fromIteration: iteration))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(metadata) + Data("\n".utf8), to: url)
    }
}

/// The git revision of the checkout this binary was built from, read when the run starts: the
/// commit, and whether tracked files differed from it. Nil when the sources are not a git
/// checkout any more (an installed binary whose build tree is gone) or git is missing.
public struct SourceRevision: Sendable, Codable, Equatable {
    public var commit: String
    public var modified: Bool

    public static let current: SourceRevision? = {
        // This file's path at build time names the checkout: <root>/Sources/Experiments/RunMetadata.swift.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path),
              let commit = git(["rev-parse", "HEAD"], in: root), commit.count == 40,
              let status = git(["status", "--porcelain", "--untracked-files=no"], in: root) else { return nil }
        return SourceRevision(commit: commit, modified: !status.isEmpty)
    }()

    private static func git(_ arguments: [String], in directory: URL) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
