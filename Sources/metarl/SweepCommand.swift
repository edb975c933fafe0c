import ArgumentParser
import Dispatch
import Experiments
import Foundation
import Synchronization

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Train every combination of a sweep file's settings and seeds, N at a time, then summarise.",
        discussion: """
            A sweep file names a base settings file (optional), the settings to fix and to vary, and \
            the seeds:

              base = "../configs/maml-paper-navigation.toml"
              seeds = [1, 2, 3]
              mode = "grid"            # every combination; "zip" pairs the lists instead

              [settings]
              iterations = 200
              eval-every = 20

              [vary]
              algorithm = ["maml-trpo", "promp"]
              fast-lr = [0.05, 0.1]

            Keys are `metarl train` flags without the dashes or the settings keys of a run's \
            config.toml. Each combination becomes an ordinary run folder under --out, named from \
            its values (algorithm=promp,fast-lr=0.05,seed=1); its output goes to logs/<name>.log. \
            Running the same sweep again skips finished runs, resumes interrupted ones, and refuses a \
            folder that holds a run of other settings. Every combination is checked before any starts.

            Examples:
              metarl sweep sweeps/learners.toml --dry-run     what would run
              metarl sweep sweeps/learners.toml --jobs 2      two runs at a time, one thread each
              metarl report runs/learners                     the final figures per setting
              metarl plot runs/learners --out curves.png      learning curves, seeds aggregated
            """
    )

    @Argument(help: "The sweep file (TOML).")
    var file: String

    @Option(parsing: .unconditional, help: "Runs at a time; the cores are divided among them (default 1).")
    var jobs = 1

    @Option(help: "The sweep's folder (default runs/<sweep file's name>).")
    var out: String?

    @Flag(help: "List the runs and what would be done with each (start, resume, skip), then stop.")
    var dryRun = false

    @Flag(help: "Under mpirun: spread the runs over the ranks (rank r takes every R-th run, --jobs at a time on its machine).")
    var mpi = false

    func validate() throws {
        try require(jobs, "--jobs", in: 1...256)
    }

    /// What a run of the sweep needs.
    enum Action: CustomStringConvertible {
        case start
        case resume(from: Int)
        case done(Int)
        case conflict(String)

        var description: String {
            switch self {
            case .start: "start"
            case .resume(let from): from == 0 ? "start again (no checkpoint yet)" : "resume from iteration \(from)"
            case .done(let iterations): "done (\(iterations) iterations)"
            case .conflict(let reason): "refused: \(reason)"
            }
        }
    }

    func run() throws {
        let fileURL = URL(fileURLWithPath: file)
        let plan = try SweepPlan.load(file: fileURL)
        let folder = URL(fileURLWithPath: out ?? "runs/\(fileURL.deletingPathExtension().lastPathComponent)")
        let actions = plan.runs.map { action(for: $0, in: folder) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = max(1, cores / jobs)
        let group = ProcessGroup.world
        if mpi && !ProcessGroup.isLaunchedByMPI {
            throw ValidationError("--mpi spreads the runs over the ranks of mpirun: start it with `mpirun -np R metarl sweep … --mpi`")
        }
        // Under --mpi every rank prints its own runs' lines; rank 0 the plan and the summary.
        let leader = group.isLeader
        if leader {
        print("\(file): \(plan.runs.count) runs (\(plan.variedSettings.joined(separator: " × "))) into \(folder.relativePath), "
              + "\(jobs) at a time with \(threads) thread\(threads == 1 ? "" : "s") each")
        let width = plan.runs.map(\.name.count).max() ?? 0
        for (run, action) in zip(plan.runs, actions) {
            print("  \(run.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(action)")
        }
        if mpi { print("  spread over \(group.size) MPI processes: rank r takes runs r, r + \(group.size), …") }
        }
        fflush(nil)
        if dryRun { return }

        try WritableFolder.create(folder)
        for sub in ["configs", "logs"] { try WritableFolder.create(folder.appendingPathComponent(sub)) }
        if leader { try AtomicFile.write(try String(contentsOf: fileURL, encoding: .utf8), to: folder.appendingPathComponent("sweep.toml")) }
        var launches: [(index: Int, arguments: [String])] = []
        for (index, (run, action)) in zip(plan.runs, actions).enumerated() where !mpi || index % group.size == group.rank {
            let runFolder = folder.appendingPathComponent(run.name).path
            let settings = folder.appendingPathComponent("configs").appendingPathComponent(run.name + ".toml")
            switch action {
            case .start:
                try AtomicFile.write(run.settingsText, to: settings)
                launches.append((index, ["train", "--config", settings.path, "--threads", "\(threads)", "--out", runFolder]))
            case .resume:
                launches.append((index, ["train", "--resume", runFolder, "--iterations", "\(run.configuration.iterations)",
                                         "--threads", "\(threads)"]))
            case .done, .conflict:
                continue
            }
        }
        var outcomes = SweepLauncher(folder: folder, names: plan.runs.map(\.name), jobs: jobs,
                                     prefix: mpi ? "rank \(group.rank): " : "").run(launches)
        if mpi {
            // Every rank's outcomes, for rank 0's summary: (run, status, seconds) each.
            let all = group.gather(outcomes.flatMap { [Double($0.key), Double($0.value.status), $0.value.seconds] })
            outcomes = [:]
            for i in stride(from: 0, to: all.count, by: 3) { outcomes[Int(all[i])] = .init(status: Int32(all[i + 1]), seconds: all[i + 2]) }
        }
        guard leader else { return }
        printSummary(plan: plan, actions: actions, outcomes: outcomes, folder: folder)
        if SweepLauncher.interrupted.withLock({ $0 }) { throw ExitCode(130) }
        let failed = outcomes.values.filter { $0.status != 0 }.count + actions.filter { if case .conflict = $0 { true } else { false } }.count
        if failed > 0 {
            throw CommandFailure(description: "\(failed) of \(plan.runs.count) runs failed or were refused; see the table above and logs/ in \(folder.relativePath)")
        }
    }

    /// Start, resume, skip or refuse: by what the run's folder holds.
    func action(for run: SweepPlan.Run, in folder: URL) -> Action {
        let directory = folder.appendingPathComponent(run.name)
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        if contents.allSatisfy({ $0 == ".lock" }) { return .start }
        let saved: TrainingConfiguration
        var done = 0
        if Checkpoint.exists(in: directory) {
            guard let checkpoint = try? Checkpoint.load(from: directory) else { return .conflict("its checkpoint cannot be read") }
            saved = checkpoint.manifest.configuration
            done = checkpoint.manifest.iteration
        } else if let configuration = try? TrainingConfiguration.load(file: directory.appendingPathComponent(TrainingRun.configurationFile)) {
            saved = configuration
        } else {
            return .conflict("\(directory.relativePath) holds files that are not a run")
        }
        // Threads, the total and what is recorded do not change a run's numbers.
        func comparable(_ c: TrainingConfiguration) -> TrainingConfiguration {
            var c = c.withoutRecording
            c.iterations = 0
            return c
        }
        guard comparable(saved) == comparable(run.configuration) else {
            let keys = comparable(saved).differingSettings(from: comparable(run.configuration))
            return .conflict("\(directory.relativePath) holds a run of other settings (\(keys.joined(separator: ", "))); move it away or change the sweep")
        }
        return done >= run.configuration.iterations ? .done(done) : .resume(from: done)
    }

    func printSummary(plan: SweepPlan, actions: [Action], outcomes: [Int: SweepLauncher.Outcome], folder: URL) {
        defer { fflush(nil) }
        print("\nsummary of \(folder.relativePath):")
        let width = plan.runs.map(\.name.count).max() ?? 0
        print("  " + "run".padding(toLength: width, withPad: " ", startingAt: 0) + "   status          iterations   return before   return after")
        for (index, (run, action)) in zip(plan.runs, actions).enumerated() {
            let status: String
            if let outcome = outcomes[index] {
                status = outcome.status == 0 ? String(format: "ran %5.0f s", outcome.seconds)
                    : outcome.status == 130 || outcome.status == 143 ? "interrupted" : "failed (\(outcome.status))"
            } else if case .conflict = action {
                status = "refused"
            } else if case .done = action {
                status = "done before"
            } else {
                status = "not run"
            }
            let last = lastRow(folder.appendingPathComponent(run.name))
            let figures = last.map { String(format: "%10d   %13.2f   %12.2f", $0.iteration, $0.before, $0.after) } ?? "         –"
            print("  \(run.name.padding(toLength: width, withPad: " ", startingAt: 0))   \(status.padding(toLength: 14, withPad: " ", startingAt: 0))  \(figures)")
        }
    }

    /// The last row of a run's progress.csv: iteration and returns.
    func lastRow(_ directory: URL) -> (iteration: Int, before: Double, after: Double)? {
        guard let text = try? String(contentsOf: directory.appendingPathComponent(ProgressLog.fileName), encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n")
        guard lines.count > 1, let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false),
              let fields = lines.last?.split(separator: ",", omittingEmptySubsequences: false), fields.count == header.count,
              let i = header.firstIndex(of: "iteration"), let b = header.firstIndex(of: "returns/before"),
              let a = header.firstIndex(of: "returns/after"),
              let iteration = Int(fields[i]), let before = Double(fields[b]), let after = Double(fields[a]) else { return nil }
        return (iteration, before, after)
    }
}

/// Runs `metarl train` child processes, `jobs` at a time, each writing to its own log; stops
/// launching on SIGINT or SIGTERM (passing the signal on to the running ones, which save and
/// exit as a single run does).
final class SweepLauncher: @unchecked Sendable {
    struct Outcome {
        var status: Int32
        var seconds: Double
    }

    static let interrupted = Mutex(false)

    /// One line to standard output at once (the runs end on other threads).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    let folder: URL
    let names: [String]
    let jobs: Int
    /// Starts each line (the rank, under `sweep --mpi`).
    let prefix: String
    private let lock = NSLock()
    private var running: [Int: Process] = [:]

    init(folder: URL, names: [String], jobs: Int, prefix: String = "") {
        self.folder = folder
        self.names = names
        self.jobs = jobs
        self.prefix = prefix
    }

    /// The environment of a run: this one without MPI's variables, so that a run started by a
    /// rank of `sweep --mpi` is a process of its own rather than another rank.
    static var childEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { key, _ in
            !(key.hasPrefix("OMPI_") || key.hasPrefix("PMI") || key.hasPrefix("PMIX_") || key.hasPrefix("OPAL_") || key.hasPrefix("PRTE_"))
        }
    }

    func run(_ launches: [(index: Int, arguments: [String])]) -> [Int: Outcome] {
        guard !launches.isEmpty else { return [:] }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                let first = Self.interrupted.withLock { was in defer { was = true }; return !was }
                if first { FileHandle.standardError.write(Data("\nstopping the sweep: the running runs save and stop; rerun the sweep to resume them\n".utf8)) }
                lock.lock()
                for process in running.values where process.isRunning { kill(process.processIdentifier, signalNumber) }
                lock.unlock()
            }
            source.resume()
            sources.append(source)
        }
        defer { sources.forEach { $0.cancel() } }

        let slots = DispatchSemaphore(value: jobs)
        let group = DispatchGroup()
        let outcomes = Mutex<[Int: Outcome]>([:])
        let total = launches.count
        let counter = Mutex(0)
        for launch in launches {
            slots.wait()
            if Self.interrupted.withLock({ $0 }) { slots.signal(); break }
            let name = names[launch.index]
            let log = folder.appendingPathComponent("logs").appendingPathComponent(name + ".log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            guard let handle = try? FileHandle(forWritingTo: log) else {
                outcomes.withLock { $0[launch.index] = Outcome(status: 1, seconds: 0) }
                slots.signal()
                continue
            }
            handle.seekToEndOfFile()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = launch.arguments
            process.environment = Self.childEnvironment
            process.standardOutput = handle
            process.standardError = handle
            let started = Date()
            let number = counter.withLock { $0 += 1; return $0 }
            group.enter()
            process.terminationHandler = { [self] finished in
                let seconds = Date().timeIntervalSince(started)
                outcomes.withLock { $0[launch.index] = Outcome(status: finished.terminationStatus, seconds: seconds) }
                lock.lock()
                running[launch.index] = nil
                lock.unlock()
                try? handle.close()
                let verdict = finished.terminationStatus == 0 ? "finished" : "exited with status \(finished.terminationStatus)"
                Self.say(prefix + String(format: "[%d/%d] %@ %@ after %.0f s", number, total, name, verdict, seconds))
                slots.signal()
                group.leave()
            }
            do {
                lock.lock()
                try process.run()
                running[launch.index] = process
                lock.unlock()
                Self.say(prefix + "[\(number)/\(total)] started \(name)  (log: \(log.relativePath))")
            } catch {
                lock.unlock()
                outcomes.withLock { $0[launch.index] = Outcome(status: 1, seconds: 0) }
                try? handle.close()
                slots.signal()
                group.leave()
            }
        }
        group.wait()
        return outcomes.withLock { $0 }
    }
}
