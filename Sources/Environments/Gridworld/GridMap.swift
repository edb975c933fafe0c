/// A cell position: x is the column (0 at the left), y the row (0 at the top), as in MiniGrid.
public struct GridPoint: Sendable, Hashable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int

    public init(_ x: Int, _ y: Int) {
        self.x = x
        self.y = y
    }

    public static func + (a: GridPoint, b: GridPoint) -> GridPoint { GridPoint(a.x + b.x, a.y + b.y) }

    public var description: String { "(\(x), \(y))" }
}

/// MiniGrid's headings: 0 faces right (+x), 1 down (+y), 2 left, 3 up.
public enum Heading {
    public static let names = ["right", "down", "left", "up"]
    /// The unit step of each heading.
    public static let steps = [GridPoint(1, 0), GridPoint(0, 1), GridPoint(-1, 0), GridPoint(0, -1)]
}

/// A rectangular map of cells, with the start and goals it marks (if any).
///
/// Maps are ASCII text, one character per cell (see `GridMap.legend`), or come from a generator
/// (`GridMap+Generators.swift`). Outside the map is wall: the agent can never leave it.
public struct GridMap: Sendable, Equatable, Codable {
    public let width: Int
    public let height: Int
    /// Row-major, `width × height`.
    public private(set) var cells: [GridCell]
    /// The start the map marks (`S` or a heading arrow), if any.
    public var start: GridPoint?
    /// The heading of an arrow start; nil for `S` or no start.
    public var startHeading: Int?

    public init(width: Int, height: Int, filledWith cell: GridCell = .empty) {
        precondition(width >= 1 && height >= 1, "a map needs at least one cell, got \(width)×\(height)")
        self.width = width
        self.height = height
        cells = Array(repeating: cell, count: width * height)
    }

    public subscript(_ p: GridPoint) -> GridCell {
        get { contains(p) ? cells[p.y * width + p.x] : .wall }
        set {
            precondition(contains(p), "\(p) is outside the \(width)×\(height) map")
            cells[p.y * width + p.x] = newValue
        }
    }

    public func contains(_ p: GridPoint) -> Bool { p.x >= 0 && p.x < width && p.y >= 0 && p.y < height }

    /// Every cell position, row by row.
    public var points: [GridPoint] { (0..<height).flatMap { y in (0..<width).map { x in GridPoint(x, y) } } }

    /// The cells marked as goals.
    public var goals: [GridPoint] { points.filter { self[$0].object == .goal } }

    /// Cells the agent can get through without harm: everything but walls and lava. Doors count,
    /// since they open (locked ones with the key), and keys, since they can be picked up.
    public func isWalkable(_ p: GridPoint) -> Bool {
        let cell = self[p]
        switch cell.object {
        case .empty, .floor, .goal, .door, .key: return true
        default: return false
        }
    }

    /// Cells reachable from `start` by walking (four-connected, through walkable cells), in
    /// breadth-first order, `start` first.
    public func reachable(from start: GridPoint) -> [GridPoint] {
        guard contains(start) else { return [] }
        var seen = [Bool](repeating: false, count: width * height)
        var order = [start]
        seen[start.y * width + start.x] = true
        var next = 0
        while next < order.count {
            let p = order[next]
            next += 1
            for step in Heading.steps {
                let q = p + step
                guard contains(q), !seen[q.y * width + q.x], isWalkable(q) else { continue }
                seen[q.y * width + q.x] = true
                order.append(q)
            }
        }
        return order
    }

    /// The characters of a map file.
    public static let legend: [(Character, String)] = [
        (".", "empty floor"), ("#", "wall"), ("~", "lava"), ("G", "goal"),
        ("S", "start (heading from the spec, right by default)"), (">", "start facing right"),
        ("v", "start facing down"), ("<", "start facing left"), ("^", "start facing up"),
        ("K", "yellow key"), ("D", "locked yellow door (the yellow key opens it)"),
        ("d", "closed yellow door"), ("'", "open yellow door"),
    ]

    /// Parses map text. Blank lines at the end are ignored; every other line is a row.
    /// - Parameter file: the name used in errors, which give line and column.
    /// - Throws: `SpecError` for an unknown character, rows of different lengths, an empty map or
    ///   two starts.
    public static func parse(_ text: String, file: String) throws -> GridMap {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? line.dropLast() : line[...]
        }
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        guard let first = lines.first, !first.isEmpty else {
            throw SpecError(file: file, line: 1, column: 1, message: "the map is empty")
        }
        let width = first.count
        guard width <= MapGenerator.largestSide, lines.count <= MapGenerator.largestSide else {
            throw SpecError(file: file, line: 1, column: 1,
                            message: "the map is \(width)×\(lines.count); a map may have at most \(MapGenerator.largestSide) cells a side")
        }
        var map = GridMap(width: width, height: lines.count)
        for (row, line) in lines.enumerated() {
            guard line.count == width else {
                throw SpecError(file: file, line: row + 1, column: min(line.count, width) + 1,
                                message: "row \(row + 1) has \(line.count) cells, row 1 has \(width): a map must be rectangular")
            }
            for (column, character) in line.enumerated() {
                let p = GridPoint(column, row)
                let heading: Int?
                switch character {
                case ".": map[p] = .empty; heading = nil
                case "#": map[p] = .wall; heading = nil
                case "~": map[p] = .lava; heading = nil
                case "G": map[p] = .goal; heading = nil
                case "K": map[p] = .key(.yellow); heading = nil
                case "D": map[p] = .door(.yellow, .locked); heading = nil
                case "d": map[p] = .door(.yellow, .closed); heading = nil
                case "'": map[p] = .door(.yellow, .open); heading = nil
                case "S", ">", "v", "<", "^":
                    if let previous = map.start {
                        throw SpecError(file: file, line: row + 1, column: column + 1,
                                        message: "a second start; the first is at line \(previous.y + 1), column \(previous.x + 1)")
                    }
                    map.start = p
                    heading = ["S": nil, ">": 0, "v": 1, "<": 2, "^": 3][character]!
                    map.startHeading = heading
                default:
                    let known = legend.map { "'\($0.0)' \($0.1)" }.joined(separator: ", ")
                    throw SpecError(file: file, line: row + 1, column: column + 1,
                                    message: "unknown map character '\(character)'; known: \(known)")
                }
            }
        }
        return map
    }

    /// The map as text, in the file format (the start as `S` or its arrow).
    public var text: String {
        (0..<height).map { y in
            String((0..<width).map { x -> Character in
                let p = GridPoint(x, y)
                if p == start { return startHeading.map { Array(">v<^")[$0] } ?? "S" }
                let cell = self[p]
                switch cell.object {
                case .wall: return "#"
                case .lava: return "~"
                case .goal: return "G"
                case .key: return "K"
                case .door: return cell.state == GridCell.DoorState.locked.rawValue ? "D" : cell.state == 0 ? "'" : "d"
                default: return "."
                }
            })
        }.joined(separator: "\n")
    }
}
