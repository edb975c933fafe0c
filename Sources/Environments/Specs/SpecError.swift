/// Why an environment spec was rejected: the file, where in it, and what was wrong.
public struct SpecError: Error, Equatable, CustomStringConvertible {
    /// The spec file (or preset name) as the user gave it.
    public var file: String
    /// The dotted key the problem is at (`goal.uniform`, `reward.radius`), when there is one.
    public var key: String?
    /// Line and column, for syntax errors.
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, key: String? = nil, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.key = key
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        if let key { location += ": key `\(key)`" }
        return "\(location): \(message)"
    }
}
