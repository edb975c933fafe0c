import MetaLearning
import Synchronization
import Testing

@Suite("Parallel map")
struct ParallelTests {
    private struct Failure: Error, Equatable { let index: Int }

    /// Whatever the thread count, the results come back in index order and every index is
    /// computed exactly once (workers take indices as they go, so the count matters more than
    /// the order).
    @Test(arguments: [1, 2, 7])
    func everyIndexOnceInOrder(threads: Int) {
        for count in [0, 1, 5, 100] {
            let calls = Atomic<Int>(0)
            let results = Parallel.map(count, threads: threads) { index -> Int in
                calls.wrappingAdd(1, ordering: .relaxed)
                return index * index
            }
            #expect(results == (0..<count).map { $0 * $0 }, "\(count) pieces on \(threads) threads")
            #expect(calls.load(ordering: .relaxed) == count, "\(count) pieces on \(threads) threads")
        }
    }

    /// An error thrown by a piece reaches the caller: the first failing index's, as in a serial map.
    @Test(arguments: [1, 2])
    func errorsReachTheCaller(threads: Int) {
        #expect(throws: Failure(index: 3)) {
            try Parallel.map(10, threads: threads) { index -> Int in
                if index == 3 || index == 8 { throw Failure(index: index) }
                return index
            }
        }
    }
}
