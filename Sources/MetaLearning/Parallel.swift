import Dispatch
import Synchronization

/// Runs independent pieces of work (the tasks of a meta-batch) on several threads.
///
/// Results come back in index order and each piece is computed the same way whatever the thread
/// count, so callers that reduce them in index order get identical numbers with 1 or N threads.
public enum Parallel {
    /// `body(0) … body(count − 1)` on up to `threads` threads.
    public static func map<T: Sendable>(_ count: Int, threads: Int, _ body: @Sendable (Int) throws -> T) rethrows -> [T] {
        precondition(threads >= 1, "at least one thread, got \(threads)")
        if threads == 1 || count <= 1 {
            return try (0..<count).map(body)
        }
        let slots = ResultSlots<T>(count: count)
        // Each worker takes the next index not yet taken, so a core that a neighbouring process
        // slows down takes fewer pieces instead of holding up the rest; which worker computes an
        // index does not change its result.
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: Swift.min(threads, count)) { _ in
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < count else { return }
                slots.store(Result { try body(index) }, at: index)
            }
        }
        return try slots.results().map { try $0.get() }
    }
}

/// One slot per index, each written by exactly one worker before `results()` is read. The slots
/// live in raw memory, so concurrent writes to different slots touch no shared Swift state.
private final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Result<T, any Error>?>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    func store(_ result: Result<T, any Error>, at index: Int) { storage[index] = result }

    func results() -> [Result<T, any Error>] { storage.map { $0! } }
}
