/// Why a run could not start, continue or be read. Each message names the file and the problem.
public enum RunError: Error, Equatable, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)
    case runDirectoryNotEmpty(path: String)
    case missingFile(path: String)
    case corruptFile(path: String, reason: String)
    /// A settings file (`--config`) that cannot be used as written: a syntax error, an unknown key, a wrong type.
    case invalidSettings(path: String, reason: String)
    case incompatibleCheckpoint(path: String, reason: String)
    case invalidConfiguration(key: String, reason: String)
    /// `--iteration N` of a run that keeps no checkpoint of iteration N.
    case missingCheckpoint(run: String, iteration: Int, available: [Int])
    /// Another process holds the run folder's lock.
    case runInUse(path: String, holder: String)

    public var description: String {
        switch self {
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        case .runDirectoryNotEmpty(let path): "\(path) already holds a run; pass --resume \(path) to continue it, or choose another --out"
        case .missingFile(let path): "\(path): no such file"
        case .corruptFile(let path, let reason): "\(path): corrupt file: \(reason)"
        case .invalidSettings(let path, let reason): "\(path): \(reason)"
        case .incompatibleCheckpoint(let path, let reason): "\(path): \(reason)"
        case .invalidConfiguration(let key, let reason): "configuration `\(key)`: \(reason)"
        case .missingCheckpoint(let run, let iteration, let available):
            "\(run) has no checkpoint of iteration \(iteration); it has \(available.map(String.init).joined(separator: ", ")) (train with --keep-every N to keep every Nth)"
        case .runInUse(let path, let holder): "\(path) is in use by \(holder); wait for it to end, or choose another folder"
        }
    }
}
