import TOMLKit

/// A table of a spec file being read: typed accessors that name the key in every error, and a
/// record of the keys read so that unknown ones can be reported (`finish()`).
struct SpecTable {
    let file: String
    /// The dotted path of this table (empty at the top).
    let path: String
    private let table: TOMLTable
    private var read: Set<String> = []

    init(_ table: TOMLTable, file: String, path: String = "") {
        self.table = table
        self.file = file
        self.path = path
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String?, _ message: String) -> SpecError {
        SpecError(file: file, key: key.map(keyPath) ?? (path.isEmpty ? nil : path), message: message)
    }

    func contains(_ key: String) -> Bool { table[key] != nil }

    /// The raw value at `key`, marking it read.
    mutating func value(_ key: String) -> TOMLValueConvertible? {
        read.insert(key)
        return table[key]
    }

    mutating func number(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        return try Self.number(v, at: keyPath(key), file: file)
    }

    mutating func number(_ key: String, default fallback: Double) throws -> Double {
        try number(key) ?? fallback
    }

    mutating func integer(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.int, v.type == .int else { throw error(key, "expected an integer, found \(Self.describe(v))") }
        return i
    }

    /// An integer that must lie in `range` when given.
    mutating func integer(_ key: String, in range: ClosedRange<Int>, _ meaning: String) throws -> Int? {
        guard let i = try integer(key) else { return nil }
        guard range.contains(i) else {
            throw error(key, "\(meaning) must lie in \(range.lowerBound)…\(range.upperBound), found \(i)")
        }
        return i
    }

    mutating func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.string else { throw error(key, "expected a string, found \(Self.describe(v))") }
        return s
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.bool else { throw error(key, "expected true or false, found \(Self.describe(v))") }
        return b
    }

    mutating func table(_ key: String) throws -> SpecTable? {
        guard let v = value(key) else { return nil }
        guard let t = v.table else { throw error(key, "expected a table, found \(Self.describe(v))") }
        return SpecTable(t, file: file, path: keyPath(key))
    }

    /// Fails on any key that was never read: a typo must not be silently ignored.
    func finish() throws {
        let unknown = table.keys.filter { !read.contains($0) }.sorted()
        if let first = unknown.first {
            throw error(first, "unknown key" + KeySuggestion.hint(for: first, among: read.filter { !contains($0) })
                + (unknown.count > 1 ? " (also: \(unknown.dropFirst().joined(separator: ", ")))" : ""))
        }
    }

    /// The largest magnitude a spec number may have. Observations and actions are Float32, whose
    /// 24-bit significand cannot resolve a step of 0.01 beyond about 10⁵; 10⁶ leaves every real
    /// setting room and keeps every derived quantity (distances, squared distances, returns over a
    /// long horizon) finite.
    static let largestMagnitude = 1e6

    /// A finite number no larger in magnitude than `largestMagnitude`: TOML's `nan` and `inf`
    /// would otherwise trap a range, or surface steps later as a failed checkpoint or fit.
    static func number(_ v: TOMLValueConvertible, at key: String, file: String) throws -> Double {
        let value: Double
        if let d = v.double, v.type == .double { value = d }
        else if let i = v.int, v.type == .int { value = Double(i) }
        else { throw SpecError(file: file, key: key, message: "expected a number, found \(describe(v))") }
        guard value.isFinite else { throw SpecError(file: file, key: key, message: "must be a finite number, found \(value)") }
        guard abs(value) <= largestMagnitude else {
            throw SpecError(file: file, key: key, message: "must lie within ±10⁶ (observations are Float32), found \(value)")
        }
        return value
    }

    /// A list of numbers.
    static func numbers(_ v: TOMLValueConvertible, at key: String, file: String) throws -> [Double] {
        guard let array = v.array else {
            throw SpecError(file: file, key: key, message: "expected a list of numbers, found \(describe(v))")
        }
        return try array.map { try number($0, at: key, file: file) }
    }

    /// A point written `[x, y]`.
    static func point(_ v: TOMLValueConvertible, at key: String, file: String) throws -> Point2 {
        guard let array = v.array, array.count == 2 else {
            throw SpecError(file: file, key: key, message: "expected a point [x, y], found \(describe(v))")
        }
        let xy = try array.map { try number($0, at: key, file: file) }
        return Point2(xy[0], xy[1])
    }

    static func describe(_ v: TOMLValueConvertible) -> String {
        switch v.type {
        case .table: "a table"
        case .array: "a list of \(v.array?.count ?? 0)"
        case .string: "the string \"\(v.string ?? "")\""
        case .int: "the integer \(v.int ?? 0)"
        case .double: "the number \(v.double ?? 0)"
        case .bool: "\(v.bool ?? false)"
        default: "a \(v.type)"
        }
    }
}
