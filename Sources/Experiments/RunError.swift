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
        case .runInUse(let path, let holder): "\(path) is in use by \(holder); wait for it to end, or choose another folder"
        }
    }
}
