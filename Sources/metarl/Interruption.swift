import Dispatch
import Experiments
import Foundation

/// Ctrl-C and SIGTERM during a training run: wait until the files of the iteration being written
/// are complete, say where the run stands and how to continue it, and exit with 128 + the signal
/// (130 for SIGINT, 143 for SIGTERM), as a shell expects of a process a signal ended.
///
/// A completed iteration not yet saved (fast iterations are saved once a second) is saved first,
/// so the iteration in progress is all that is lost; waiting for it to finish could take minutes
/// on a large spec, so it is abandoned.
final class Interruption: @unchecked Sendable {
    /// Held while a run writes an iteration's files, and by the handler once a signal arrives.
    let writes = NSLock()
    /// Completed iterations, saved or held for saving.
    let pending: TrainingRun.PendingSave
    private let total: Int
    private let directory: String
    /// Says nothing (the ranks of an MPI run other than 0, which save nothing either).
    private let quiet: Bool
    private var sources: [DispatchSourceSignal] = []

    init(completed: Int, total: Int, directory: String, quiet: Bool = false) {
        pending = TrainingRun.PendingSave(iteration: completed)
        self.total = total
        self.directory = directory
        self.quiet = quiet
    }

    /// Installs the handlers; they stay for the life of the process.
    func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)   // delivered to the dispatch source instead
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in stop(signal: signalNumber) }
            source.resume()
            sources.append(source)
        }
    }

    private func stop(signal signalNumber: Int32) -> Never {
        writes.lock()   // never released: the process ends holding it
        var failure = ""
        do { try pending.save() } catch { failure = "\nthe last iterations could not be saved (\(error)); " }
        let completed = pending.savedIteration
        let whereItStands = completed == 0
            ? "interrupted before its first iteration completed"
            : "interrupted after iteration \(completed) of \(total)"
        let message = "\n\(failure)\(whereItStands); resume with `metarl train --resume \(directory)`\n"
        if !quiet { FileHandle.standardError.write(Data(message.utf8)) }
        _exit(128 + signalNumber)
    }
}
