import Foundation

/// An exclusive lock on a run folder, held for as long as a run writes to it, so that two
/// commands can never mix their files in one folder.
///
/// The lock is `flock(2)` on `<run>/.lock`: the kernel releases it when the holding process ends,
/// however it ends (`kill -9` included), so a lock left behind never blocks the next run. The file
/// holds the holder's process id and command, only so that a refusal can name them.
public final class RunLock: @unchecked Sendable {
    public static let fileName = ".lock"

    private var descriptor: Int32
    public let url: URL

    /// Takes the lock of `directory` (which must exist) or fails at once.
    /// - Throws: `RunError.runInUse` naming the process that holds it; `RunError.cannotWrite`
    ///   with the system's reason when the lock file cannot be created.
    public init(directory: URL) throws {
        url = directory.appendingPathComponent(Self.fileName)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RunError.cannotWrite(path: url.path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw RunError.runInUse(path: directory.path, holder: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "another process")
        }
        descriptor = fd
        let me = "process \(ProcessInfo.processInfo.processIdentifier) (\(CommandLine.arguments.map { URL(fileURLWithPath: $0).lastPathComponent }.prefix(3).joined(separator: " ")))\n"
        ftruncate(fd, 0)
        _ = me.withCString { write(fd, $0, strlen($0)) }
    }

    /// Releases the lock (also done when the lock is freed, or by the kernel when the process ends).
    public func unlock() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { unlock() }
}
