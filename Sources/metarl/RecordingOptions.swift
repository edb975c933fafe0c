import ArgumentParser
import Environments
import Experiments
import Foundation

/// What `watch` and `render` show: which policy, which held-out task, how many adaptation steps.
struct RecordingOptions: ParsableArguments {
    @Argument(help: "A run directory or its checkpoint file; with --random, an environment spec (a preset's name or a path).")
    var source: String

    @Option(parsing: .unconditional, help: "Show the run's checkpoint of iteration N (kept by train --keep-every) instead of its latest.")
    var iteration: Int?

    @Flag(help: "Show a freshly initialised (random) policy on the spec given instead of a trained one.")
    var random = false

    @Option(parsing: .unconditional, help: "Which held-out task: the N-th of those `metarl eval --seed` draws (0 is the first).")
    var task = 0

    @Option(parsing: .unconditional, help: "Seed of the held-out tasks and of sampling, as in `metarl eval`.")
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: "Adaptation steps after the unadapted rollout (default 3; 0 with --random).")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Episodes sampled per adaptation step, as evaluation samples them (40 in the MAML paper's protocol); trials, for an rl2 run.")
    var batch = 40

    @Flag(inversion: .prefixedNo, help: "α for the first step and α/2 after it, as `metarl eval`; --no-halve-step keeps α throughout.")
    var halveStep = true

    func validate(shownEpisodes: Int) throws {
        try require(task, "--task", in: 0...1_000_000)
        if let iteration {
            try require(iteration, "--iteration", in: 0...1_000_000)
            if random { throw ValidationError("--iteration picks a checkpoint of a run; --random shows an untrained policy") }
        }
        if let steps, steps < 0 || steps > 9 {
            throw ValidationError("--steps must be between 0 and 9 (the keys 0–9 jump to a step), got \(steps)")
        }
        try require(batch, "--batch", in: 1...100_000)
        guard shownEpisodes >= 1 else { throw ValidationError("--episodes must be at least 1, got \(shownEpisodes)") }
        guard shownEpisodes <= batch else {
            throw ValidationError("--episodes (\(shownEpisodes)) cannot exceed --batch (\(batch)): only sampled episodes can be shown")
        }
    }

    /// Records held-out task `taskIndex`: rolls out, adapts and rolls out again, as evaluation does.
    func record(taskIndex: Int) throws -> AdaptationRecording {
        if random {
            let spec = try EnvironmentSpec.load(source)
            return try AdaptationRecording.recordRandomPolicy(
                spec: spec, taskIndex: taskIndex, seed: seed, steps: steps ?? 0,
                episodes: batch, halvesStepAfterFirst: halveStep)
        }
        let checkpoint = try Checkpoint.load(from: URL(fileURLWithPath: source), iteration: iteration)
        if checkpoint.manifest.recurrentPolicy != nil {
            // A memory-based learner adapts within the trial: its stages are the trial's episodes.
            if steps != nil { throw ValidationError("--steps is for gradient-based learners; an rl2 run shows the episodes of its trials") }
            return try AdaptationRecording.recordTrials(checkpoint: checkpoint, taskIndex: taskIndex, seed: seed, trials: batch)
        }
        return try AdaptationRecording.record(
            checkpoint: checkpoint, taskIndex: taskIndex, seed: seed,
            steps: steps ?? 3, episodes: batch, halvesStepAfterFirst: halveStep)
    }
}

/// A picture size given as WIDTHxHEIGHT.
struct PictureSize: ExpressibleByArgument {
    var width: Int
    var height: Int

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// The sizes a picture may have: large enough for the heads-up display, small enough to
    /// allocate.
    static let widths = 320...8192, heights = 240...8192
    static let rangeHelp = "from 320x240 to 8192x8192"

    /// Any WIDTHxHEIGHT of two integers; `validate()` says when it is out of range, so the
    /// message can give the range rather than ArgumentParser's bare "invalid".
    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let w = parts[0], let h = parts[1] else { return nil }
        self.init(width: w, height: h)
    }

    /// - Throws: `ValidationError` naming `flag` and the allowed range.
    func validate(flag: String = "--size") throws {
        guard Self.widths.contains(width), Self.heights.contains(height) else {
            throw ValidationError("\(flag) must lie \(Self.rangeHelp), got \(width)x\(height)")
        }
    }

    var defaultValueDescription: String { "\(width)x\(height)" }
}

/// The message of `watch` and `render` in a build without SDL2.
let viewerMissingMessage = """
    this metarl was built without the Viewer trait, so it has no SDL2 viewer. Install the SDL2 \
    packages (apt-get install libsdl2-dev libsdl2-image-dev libsdl2-ttf-dev fonts-dejavu-core) and \
    rebuild with the default traits: swift build -c release --product metarl
    """

/// A command that cannot do what was asked, for a reason that is not a malformed flag: the message
/// is printed on its own line (no usage text) and the exit status is 2.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

/// `--out FILE.png` of `render` and `plot`.
enum PNGOutput {
    /// A .png name in a folder that exists.
    static func validate(_ out: String) throws {
        guard out.lowercased().hasSuffix(".png") else { throw ValidationError("--out must name a .png file, got \(out)") }
        let folder = URL(fileURLWithPath: out).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--out: the directory \(folder) does not exist")
        }
    }

    /// Before any work: a folder that takes no files fails here, with the system's reason.
    static func probe(_ out: String) throws {
        do {
            try WritableFolder.probe(URL(fileURLWithPath: out).deletingLastPathComponent())
        } catch let error as RunError {
            throw CommandFailure(description: "--out: \(error)")
        }
    }
}
