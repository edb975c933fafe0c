import Environments

/// Maps the cells of a gridworld map onto square pixel tiles, centred in an area.
public struct GridTransform: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Pixels per cell side.
    public let cell: Double
    /// The pixel rectangle the map fills.
    public let area: PixelRect

    /// The largest square tiles that fit the `width × height` map into `area`, centred.
    public init(width: Int, height: Int, fitting area: PixelRect) {
        precondition(width >= 1 && height >= 1, "a map needs cells, got \(width)×\(height)")
        self.width = width
        self.height = height
        cell = min(area.width / Double(width), area.height / Double(height))
        let (w, h) = (cell * Double(width), cell * Double(height))
        self.area = PixelRect(x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h)
    }

    /// The tile of cell `p` (x to the right, y down, as in the map file).
    public func tile(_ p: GridPoint) -> PixelRect {
        PixelRect(x: area.x + Double(p.x) * cell, y: area.y + Double(p.y) * cell, width: cell, height: cell)
    }

    /// The centre of cell `p`.
    public func center(_ p: GridPoint) -> (x: Double, y: Double) {
        (area.x + (Double(p.x) + 0.5) * cell, area.y + (Double(p.y) + 0.5) * cell)
    }

    /// The cells an egocentric `size × size` view covers from `position` facing `heading`, as the
    /// rectangle of map cells (clipped to the map): `size` cells ahead, `size / 2` to each side.
    public func viewCells(at position: GridPoint, heading: Int, size: Int) -> (lower: GridPoint, upper: GridPoint) {
        let forward = Heading.steps[heading]
        let right = GridPoint(-forward.y, forward.x)
        let far = GridPoint(position.x + forward.x * (size - 1), position.y + forward.y * (size - 1))
        let corners = [position + GridPoint(right.x * (size / 2), right.y * (size / 2)),
                       position + GridPoint(-right.x * (size / 2), -right.y * (size / 2)),
                       far + GridPoint(right.x * (size / 2), right.y * (size / 2)),
                       far + GridPoint(-right.x * (size / 2), -right.y * (size / 2))]
        let lower = GridPoint(max(0, corners.map(\.x).min()!), max(0, corners.map(\.y).min()!))
        let upper = GridPoint(min(width - 1, corners.map(\.x).max()!), min(height - 1, corners.map(\.y).max()!))
        return (lower, upper)
    }
}

/// How often each cell was visited, over a set of episodes: the heat-map of one adaptation step.
public struct VisitCounts: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var counts: [Int]

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        counts = Array(repeating: 0, count: width * height)
    }

    /// Counts every position of `path` that lies on the map (a cell can be counted several times).
    public mutating func add(_ path: [GridPoint]) {
        for p in path where p.x >= 0 && p.y >= 0 && p.x < width && p.y < height { counts[p.y * width + p.x] += 1 }
    }

    public subscript(_ p: GridPoint) -> Int { counts[p.y * width + p.x] }

    public var maximum: Int { counts.max() ?? 0 }
}
