/// A cell of a grid, encoded as MiniGrid encodes it: (object, colour, state).
///
/// Object, colour and door-state numbers are MiniGrid's (Farama Minigrid `constants.py`), so an
/// egocentric observation here reads like one there.
public struct GridCell: Sendable, Hashable, Codable {
    public enum Object: UInt8, Sendable, Codable, CaseIterable {
        case unseen = 0, empty, wall, floor, door, key, ball, box, goal, lava, agent
    }

    public enum Color: UInt8, Sendable, Codable, CaseIterable {
        case red = 0, green, blue, purple, yellow, grey
    }

    public enum DoorState: UInt8, Sendable, Codable {
        case open = 0, closed, locked
    }

    public var object: Object
    public var color: Color
    /// The door state for doors, 0 otherwise.
    public var state: UInt8

    public init(_ object: Object, color: Color, state: UInt8 = 0) {
        self.object = object
        self.color = color
        self.state = state
    }

    public static let empty = GridCell(.empty, color: .red)
    public static let wall = GridCell(.wall, color: .grey)
    public static let goal = GridCell(.goal, color: .green)
    public static let lava = GridCell(.lava, color: .red)
    public static func door(_ color: Color, _ state: DoorState) -> GridCell { GridCell(.door, color: color, state: state.rawValue) }
    public static func key(_ color: Color) -> GridCell { GridCell(.key, color: color) }

    /// The agent can stand here (MiniGrid's `can_overlap`): empty, goal, lava, an open door.
    public var isPassable: Bool {
        switch object {
        case .empty, .floor, .goal, .lava: true
        case .door: state == DoorState.open.rawValue
        default: false
        }
    }

    /// Light passes (MiniGrid's `see_behind`): everything but walls and closed or locked doors.
    public var isTransparent: Bool {
        switch object {
        case .wall: false
        case .door: state == DoorState.open.rawValue
        default: true
        }
    }
}

/// Every cell value a grid can hold, numbered: grids store a byte per cell that indexes this
/// palette, and the stepping loop reads the cell's properties from small tables by that byte.
public enum CellPalette {
    /// The cells, in code order. Code 0 is empty: a cleared cell is a zero byte.
    public static let cells: [GridCell] = {
        var cells: [GridCell] = [.empty, .wall, .goal, .lava, GridCell(.floor, color: .blue)]
        for color in GridCell.Color.allCases {
            for state in [GridCell.DoorState.open, .closed, .locked] { cells.append(.door(color, state)) }
            cells.append(.key(color))
        }
        return cells
    }()

    public static let emptyCode: UInt8 = 0
    public static let wallCode: UInt8 = 1
    public static let goalCode: UInt8 = 2
    public static let lavaCode: UInt8 = 3

    private static let codes: [GridCell: UInt8] = Dictionary(uniqueKeysWithValues: cells.enumerated().map { ($1, UInt8($0)) })

    /// The code of `cell`; every cell a map or an action can produce is in the palette.
    public static func code(of cell: GridCell) -> UInt8 {
        guard let code = codes[cell] else { preconditionFailure("\(cell) is not in the cell palette") }
        return code
    }

    /// Property bits per code, read by the stepping loop.
    static let passableBit: UInt8 = 1, goalBit: UInt8 = 2, lavaBit: UInt8 = 4, transparentBit: UInt8 = 8
    static let doorBit: UInt8 = 16, keyBit: UInt8 = 32

    static let flags: [UInt8] = cells.map { cell in
        var f: UInt8 = 0
        if cell.isPassable { f |= passableBit }
        if cell.object == .goal { f |= goalBit }
        if cell.object == .lava { f |= lavaBit }
        if cell.isTransparent { f |= transparentBit }
        if cell.object == .door { f |= doorBit }
        if cell.object == .key { f |= keyBit }
        return f
    }

    /// (object, colour, state) as floats, three per code: an observation copies them.
    static let encodings: [Float] = cells.flatMap { [Float($0.object.rawValue), Float($0.color.rawValue), Float($0.state)] }

}

extension CellPalette {
    /// MiniGrid's toggle of the door `code`: open ↔ closed, and locked → open only for an agent
    /// carrying the key of its colour.
    static func toggled(_ code: UInt8, carrying: UInt8) -> UInt8 {
        let door = cells[Int(code)]
        switch GridCell.DoorState(rawValue: door.state) {
        case .open: return CellPalette.code(of: .door(door.color, .closed))
        case .closed: return CellPalette.code(of: .door(door.color, .open))
        case .locked:
            guard carrying != GridworldBatch.AgentState.nothing, cells[Int(carrying)] == .key(door.color) else { return code }
            return CellPalette.code(of: .door(door.color, .open))
        case nil: return code
        }
    }
}
