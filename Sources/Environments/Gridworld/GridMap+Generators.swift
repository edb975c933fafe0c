/// Procedural maps. Each draws from the generator it is given, so a seeded stream gives the same
/// map every time; each surrounds its map with wall, as MiniGrid's do.
public enum MapGenerator: Sendable, Equatable, Codable {
    /// An empty room: `width × height` cells including the outer wall.
    case empty(width: Int, height: Int)
    /// Sutton's four rooms in a `size × size` square: a wall cross splits it, and each of its four
    /// arms has one doorway at a random place.
    case fourRooms(size: Int)
    /// A perfect maze (depth-first backtracking) in a `width × height` box; both odd.
    case maze(width: Int, height: Int)
    /// An empty room whose interior cells are each a wall with probability `density`.
    case obstacles(width: Int, height: Int, density: Double)
    /// MiniGrid's LavaCrossing with one river: a line of lava across a `size × size` room,
    /// vertical or horizontal, with one gap; start top left, goal bottom right.
    case lavaCrossing(size: Int)
    /// MiniGrid's DoorKey: a wall splits a `size × size` room, a locked door in it; the key and
    /// the start on the left, the goal in the bottom-right corner.
    case doorKey(size: Int)

    public var name: String {
        switch self {
        case .empty: "empty"
        case .fourRooms: "four-rooms"
        case .maze: "maze"
        case .obstacles: "obstacles"
        case .lavaCrossing: "lava-crossing"
        case .doorKey: "door-key"
        }
    }

    /// The longest side a generated map may have: far more than any MiniGrid-style task, small
    /// enough that drawing and validating maps stays instant.
    public static let largestSide = 512

    /// The sizes each generator accepts, for validation.
    public var sizeProblem: String? {
        let sides: [Int]
        switch self {
        case .empty(let w, let h), .maze(let w, let h), .obstacles(let w, let h, _): sides = [w, h]
        case .fourRooms(let s), .lavaCrossing(let s), .doorKey(let s): sides = [s]
        }
        if let side = sides.first(where: { $0 > Self.largestSide }) {
            return "a generated map may have at most \(Self.largestSide) cells a side, found \(side)"
        }
        switch self {
        case .empty(let w, let h): return w >= 3 && h >= 3 ? nil : "an empty room needs at least 3×3 cells (walls included)"
        case .fourRooms(let s): return s >= 5 ? nil : "four rooms need a size of at least 5"
        case .maze(let w, let h):
            return w >= 5 && h >= 5 && w % 2 == 1 && h % 2 == 1 ? nil : "a maze needs odd sizes of at least 5, found \(w)×\(h)"
        case .obstacles(let w, let h, let d):
            if w < 3 || h < 3 { return "an obstacle room needs at least 3×3 cells" }
            return d >= 0 && d < 1 ? nil : "density must lie in [0, 1), found \(d)"
        case .lavaCrossing(let s): return s >= 5 ? nil : "lava crossing needs a size of at least 5"
        case .doorKey(let s): return s >= 5 ? nil : "door-key needs a size of at least 5"
        }
    }

    public func generate(using rng: inout some RandomNumberGenerator) -> GridMap {
        switch self {
        case .empty(let w, let h):
            return Self.walledRoom(width: w, height: h)
        case .fourRooms(let size):
            var map = Self.walledRoom(width: size, height: size)
            let middle = size / 2
            for i in 0..<size {
                map[GridPoint(middle, i)] = .wall
                map[GridPoint(i, middle)] = .wall
            }
            // One doorway in each arm of the cross: above, below, left and right of the centre.
            map[GridPoint(middle, Int.random(in: 1..<middle, using: &rng))] = .empty
            map[GridPoint(middle, Int.random(in: (middle + 1)..<(size - 1), using: &rng))] = .empty
            map[GridPoint(Int.random(in: 1..<middle, using: &rng), middle)] = .empty
            map[GridPoint(Int.random(in: (middle + 1)..<(size - 1), using: &rng), middle)] = .empty
            map.start = GridPoint(1, 1)
            return map
        case .maze(let w, let h):
            var map = GridMap(width: w, height: h, filledWith: .wall)
            // Rooms at odd coordinates; carving a passage clears the wall between two rooms.
            var stack = [GridPoint(1, 1)]
            map[GridPoint(1, 1)] = .empty
            while let current = stack.last {
                let unvisited = Heading.steps.map { GridPoint(current.x + 2 * $0.x, current.y + 2 * $0.y) }.filter {
                    $0.x > 0 && $0.x < w - 1 && $0.y > 0 && $0.y < h - 1 && map[$0] == .wall
                }
                guard !unvisited.isEmpty else {
                    stack.removeLast()
                    continue
                }
                let next = unvisited[Int.random(in: 0..<unvisited.count, using: &rng)]
                map[GridPoint((current.x + next.x) / 2, (current.y + next.y) / 2)] = .empty
                map[next] = .empty
                stack.append(next)
            }
            map.start = GridPoint(1, 1)
            return map
        case .obstacles(let w, let h, let density):
            var map = Self.walledRoom(width: w, height: h)
            for y in 1..<(h - 1) {
                for x in 1..<(w - 1) where !(x == 1 && y == 1) && Double.random(in: 0..<1, using: &rng) < density {
                    map[GridPoint(x, y)] = .wall
                }
            }
            map.start = GridPoint(1, 1)
            return map
        case .lavaCrossing(let size):
            var map = Self.walledRoom(width: size, height: size)
            // The river runs on an even line so that it never touches the start or the goal.
            let line = 2 * Int.random(in: 1...((size - 3) / 2), using: &rng)
            let gap = Int.random(in: 1..<(size - 1), using: &rng)
            let vertical = Bool.random(using: &rng)
            for i in 1..<(size - 1) where i != gap {
                map[vertical ? GridPoint(line, i) : GridPoint(i, line)] = .lava
            }
            map.start = GridPoint(1, 1)
            map.startHeading = 0
            map[GridPoint(size - 2, size - 2)] = .goal
            return map
        case .doorKey(let size):
            var map = Self.walledRoom(width: size, height: size)
            let splitX = Int.random(in: 2...(size - 3), using: &rng)
            for y in 0..<size { map[GridPoint(splitX, y)] = .wall }
            map[GridPoint(splitX, Int.random(in: 1...(size - 2), using: &rng))] = .door(.yellow, .locked)
            let left = (1..<(size - 1)).flatMap { y in (1..<splitX).map { GridPoint($0, y) } }
            let start = left[Int.random(in: 0..<left.count, using: &rng)]
            let keyCells = left.filter { $0 != start }
            map[keyCells[Int.random(in: 0..<keyCells.count, using: &rng)]] = .key(.yellow)
            map.start = start
            map.startHeading = Int.random(in: 0..<4, using: &rng)
            map[GridPoint(size - 2, size - 2)] = .goal
            return map
        }
    }

    static func walledRoom(width: Int, height: Int) -> GridMap {
        var map = GridMap(width: width, height: height)
        for x in 0..<width {
            map[GridPoint(x, 0)] = .wall
            map[GridPoint(x, height - 1)] = .wall
        }
        for y in 0..<height {
            map[GridPoint(0, y)] = .wall
            map[GridPoint(width - 1, y)] = .wall
        }
        return map
    }
}
