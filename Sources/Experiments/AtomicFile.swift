import Foundation

/// Files written so that a crash leaves the previous version or the new one, never half of one:
/// the bytes go to a temporary name beside the target, are flushed to the disk, and the temporary
/// is then renamed over the target. A failed write (a full disk, a read-only folder) removes the
/// temporary and leaves the previous version as it was.
public enum AtomicFile {
    /// The temporary name of `name` for this process.
    static func temporaryName(for name: String) -> String { ".\(name).tmp-\(ProcessInfo.processInfo.processIdentifier)" }

    /// Whether a file name is a temporary of some process (one killed mid-write leaves it behind).
    public static func isLeftover(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(".tmp-") }

    /// - Throws: `RunError.cannotWrite` with the system's reason ("No space left on device").
    public static func write(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(temporaryName(for: url.lastPathComponent))
        func fail(_ path: String) -> RunError {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            return RunError.cannotWrite(path: path, reason: reason)
        }
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail(url.path) }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return fsync(fd) == 0
        }
        guard written else {
            let error = fail(url.path)
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw fail(url.path) }
        guard rename(temporary.path, url.path) == 0 else { throw fail(url.path) }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Appends `text` to an existing file and flushes it to the disk. Not atomic: a crash can
    /// leave part of it, which the reader must recognise (`ProgressLog` drops a torn last line).
    /// - Throws: `RunError.cannotWrite` with the system's reason.
    public static func append(_ text: String, to url: URL) throws {
        try append(Data(text.utf8), to: url)
    }

    /// Appends `data` as `append(_:to:)` appends text.
    public static func append(_ data: Data, to url: URL) throws {
        guard !data.isEmpty else { return }
        let fd = open(url.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw RunError.cannotWrite(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return fsync(fd) == 0
        }
        guard ok else { throw RunError.cannotWrite(path: url.path, reason: String(cString: strerror(errno))) }
    }

    /// Removes the temporary files that processes killed mid-write left in `directory`.
    public static func removeLeftovers(in directory: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where isLeftover(name) {
            unlink(directory.appendingPathComponent(name).path)
        }
    }
}
