/// The distinct observations of a batch of episodes, each stored once, and a lookup from an
/// observation to its row.
///
/// Gridworld episodes visit a few hundred observations thousands of times (a door-key task's
/// 12,800 steps hold about as many distinct egocentric views as the map has cells × headings ×
/// key states), so an episode batch keeps each distinct observation once and a row index per step
/// (`EpisodeBatch.observationRows`); the baseline fits over the distinct rows, the policy's network
/// runs once per distinct row, and the sampler evaluates the network only on observations it has
/// not met before. Rows are compared by their bit patterns: two rows are the same when every float
/// has the same bits (so −0 and 0 differ, which only costs a duplicate, and a NaN row matches its
/// own copies).
struct ObservationTable: Sendable {
    let width: Int
    /// The distinct rows, `count × width`, in the order they were first met.
    private(set) var values: [Float] = []
    private(set) var count = 0
    /// Open addressing with linear probing: row + 1 per slot (0 is empty), at most half full.
    private var slots: [Int32]

    init(width: Int, capacity: Int = 8) {
        precondition(width > 0, "rows of \(width) values")
        self.width = width
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
    }

    /// The row of the observation at `row`, inserted first if it is new.
    @inline(__always)
    mutating func index(of row: UnsafeBufferPointer<Float>) -> (row: Int32, isNew: Bool) {
        if 2 * (count + 1) > slots.count { grow() }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: Self.hash(row) & UInt64(mask))
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if matches(Int(entry) - 1, row) { return (entry - 1, false) }
            slot = (slot + 1) & mask
        }
        values.append(contentsOf: row)
        count += 1
        slots[slot] = Int32(count)
        return (Int32(count - 1), true)
    }

    /// The distinct row `k`'s values.
    func row(_ k: Int) -> ArraySlice<Float> { values[(k * width)..<((k + 1) * width)] }

    @inline(__always)
    private func matches(_ k: Int, _ row: UnsafeBufferPointer<Float>) -> Bool {
        values.withUnsafeBufferPointer { stored in
            let base = k * width
            for j in 0..<width where stored[base + j].bitPattern != row[j].bitPattern { return false }
            return true
        }
    }

    /// FNV-1a over the rows' bit patterns, its high bits folded down (the table masks low bits).
    @inline(__always)
    private static func hash(_ row: UnsafeBufferPointer<Float>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for value in row { hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01B3 }
        return hash ^ (hash >> 29)
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: 2 * slots.count)
        let mask = slots.count - 1
        values.withUnsafeBufferPointer { stored in
            for k in 0..<count {
                let row = UnsafeBufferPointer(rebasing: stored[(k * width)..<((k + 1) * width)])
                var slot = Int(truncatingIfNeeded: Self.hash(row) & UInt64(mask))
                while slots[slot] != 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(k + 1)
            }
        }
    }
}

/// The distinct rows of a row-major matrix of floats, and which of them each row is.
struct DistinctRows {
    let table: ObservationTable
    /// For every row, its row in `table`.
    let classOfRow: [Int32]

    var count: Int { table.count }

    init(_ values: [Float], width: Int) {
        precondition(width > 0 && values.count % width == 0, "\(values.count) values are not rows of \(width)")
        let rows = values.count / width
        var table = ObservationTable(width: width)
        var classOfRow = [Int32](repeating: 0, count: rows)
        values.withUnsafeBufferPointer { values in
            for r in 0..<rows {
                classOfRow[r] = table.index(of: UnsafeBufferPointer(rebasing: values[(r * width)..<((r + 1) * width)])).row
            }
        }
        self.table = table
        self.classOfRow = classOfRow
    }
}
