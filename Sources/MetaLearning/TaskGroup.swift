/// The processes that share the tasks of a meta-batch: one, unless MetaRL runs under MPI.
///
/// Each process computes a contiguous block of the tasks (rank r's block before rank r + 1's) and
/// `gather` hands every process all of them, concatenated in rank order, that is, in task order.
/// Reductions then run over the gathered values in task order on every process, exactly as one
/// process would run them, so that a run on several processes is bit for bit the run on one.
public protocol TaskGroup: Sendable {
    /// This process's index, from 0.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Every process's `local` values, concatenated in rank order (MPI's allgatherv). Every
    /// process calls it at the same point with its own values.
    func gather(_ local: [Float]) -> [Float]
    func gather(_ local: [Double]) -> [Double]
}

extension TaskGroup {
    /// The tasks of `count` this process computes.
    public func tasks(of count: Int) -> Range<Int> {
        (rank * count / size)..<((rank + 1) * count / size)
    }

    /// Whether this process is rank 0, the one that writes.
    public var isLeader: Bool { rank == 0 }

    /// Per-task rows of `width` values from every process, in task order: `local` holds this
    /// process's tasks' rows one after the other.
    public func gatherRows(_ local: [Float], width: Int) -> [[Float]] { Self.rows(size == 1 ? local : gather(local), width: width) }
    public func gatherRows(_ local: [Double], width: Int) -> [[Double]] { Self.rows(size == 1 ? local : gather(local), width: width) }

    /// Per-task lists of any lengths from every process, in task order.
    public func gatherLists(_ local: [[Float]]) -> [[Float]] { size == 1 ? local : lists(local, gather: gather) }
    public func gatherLists(_ local: [[Double]]) -> [[Double]] { size == 1 ? local : lists(local, gather: gather) }

    private static func rows<T>(_ all: [T], width: Int) -> [[T]] {
        guard width > 0 else { return [] }
        return stride(from: 0, to: all.count, by: width).map { Array(all[$0..<($0 + width)]) }
    }

    /// The lists' lengths, then their values, gathered; cut back into lists.
    private func lists<T>(_ local: [[T]], gather values: ([T]) -> [T]) -> [[T]] {
        let lengths = gather(local.map { Double($0.count) }).map { Int($0) }
        let all = values(local.flatMap { $0 })
        var out: [[T]] = [], start = 0
        for n in lengths {
            out.append(Array(all[start..<(start + n)]))
            start += n
        }
        return out
    }
}

/// One process: every task is its own.
public struct SingleProcess: TaskGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func gather(_ local: [Float]) -> [Float] { local }
    public func gather(_ local: [Double]) -> [Double] { local }
}
