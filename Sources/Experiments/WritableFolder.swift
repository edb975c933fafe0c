import Foundation

/// Output folders checked before any work starts, so that a read-only disk or a missing path is
/// reported at once, with the system's reason, and not after minutes of sampling.
public enum WritableFolder {
    /// Creates `folder` and its missing parents.
    /// - Throws: `RunError.cannotWrite` with the system's reason ("Read-only file system",
    ///   "Not a directory", "Permission denied").
    public static func create(_ folder: URL) throws {
        var missing: [URL] = []
        var current = folder.standardizedFileURL
        while !FileManager.default.fileExists(atPath: current.path) {
            missing.append(current)
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        for path in missing.reversed() where mkdir(path.path, 0o755) != 0 && errno != EEXIST {
            throw RunError.cannotWrite(path: folder.path, reason: String(cString: strerror(errno)))
        }
    }

    /// Writes and removes a small file in `folder`: the cheapest test that files can be made there.
    /// - Throws: `RunError.cannotWrite` with the system's reason.
    public static func probe(_ folder: URL) throws {
        try AtomicFile.write(Data("probe".utf8), to: folder.appendingPathComponent(".metarl-probe"))
        unlink(folder.appendingPathComponent(".metarl-probe").path)
    }
}
