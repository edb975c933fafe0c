#if Distributed
import CMPI
#endif
import Foundation
import MetaLearning
import Synchronization

/// The processes of this run: one, or the ranks of `mpirun` when MetaRL is built with the
/// `Distributed` trait and started by it (Open MPI's `OMPI_COMM_WORLD_SIZE`, or `PMI_SIZE` under
/// Slurm and MPICH). Without either, MPI is not even initialised.
public enum ProcessGroup {
    /// This run's group, set up once by `start()`.
    nonisolated(unsafe) public private(set) static var world: any TaskGroup = SingleProcess()

    /// Whether this binary can run across processes.
    public static var isAvailable: Bool {
        #if Distributed
        true
        #else
        false
        #endif
    }

    /// Whether a launcher started this process as one of several.
    public static var isLaunchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"].contains { environment[$0] != nil }
    }

    /// Initialises MPI when launched by `mpirun`; call once, first thing, on the main thread.
    /// - Returns: a message when `mpirun` started a binary built without the trait (each rank
    ///   would train alone, all writing the same folder).
    public static func start() -> String? {
        guard isLaunchedByMPI else { return nil }
        #if Distributed
        guard metarl_mpi_init() == MPI_SUCCESS else { return "MPI could not be initialised" }
        world = MPIGroup(rank: Int(metarl_mpi_rank()), size: Int(metarl_mpi_size()))
        return nil
        #else
        return "this metarl was built without the Distributed trait, so it cannot share a run among MPI processes; "
            + "build it with `swift build -c release --traits Viewer,Distributed` (needs libopenmpi-dev)"
        #endif
    }

    /// Ends MPI cleanly (every rank calls it).
    public static func finish() {
        #if Distributed
        if world.size > 1 || isLaunchedByMPI { _ = metarl_mpi_finalize() }
        #endif
    }

    /// Ends every rank, after this one failed with `status` (the others would wait for it forever).
    public static func abort(status: Int32) -> Never {
        #if Distributed
        if isLaunchedByMPI { metarl_mpi_abort(status) }
        #endif
        exit(status)
    }

    /// Bytes this process has sent to the others in gathers so far (its values once to each
    /// other rank, as the allgather's result holds them).
    public static var bytesSent: Int {
        #if Distributed
        MPIGroup.sent.load(ordering: .relaxed)
        #else
        0
        #endif
    }

    /// Waits until every rank is here.
    public static func barrier() {
        #if Distributed
        if world.size > 1 { _ = metarl_mpi_barrier() }
        #endif
    }
}

#if Distributed
/// The ranks of `MPI_COMM_WORLD`, gathering with `MPI_Allgatherv` in rank order.
struct MPIGroup: TaskGroup {
    let rank: Int
    let size: Int
    static let sent = Atomic<Int>(0)

    private func count(_ bytes: Int) { Self.sent.wrappingAdd(bytes * (size - 1), ordering: .relaxed) }

    /// Each rank's count, then the values.
    private func counts(_ count: Int) -> (counts: [Int32], offsets: [Int32], total: Int) {
        var counts = [Int32](repeating: 0, count: size)
        _ = counts.withUnsafeMutableBufferPointer { metarl_mpi_allgather_int(Int32(count), $0.baseAddress!) }
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1..<max(size, 1) { offsets[r] = offsets[r - 1] + counts[r - 1] }
        return (counts, offsets, Int(counts.reduce(0, +)))
    }

    func gather(_ local: [Float]) -> [Float] {
        count(4 * local.count + 4)
        let (counts, offsets, total) = counts(local.count)
        var all = [Float](repeating: 0, count: max(total, 1))
        _ = local.withUnsafeBufferPointer { send in
            all.withUnsafeMutableBufferPointer { receive in
                metarl_mpi_allgatherv_float(send.baseAddress, Int32(local.count), receive.baseAddress, counts, offsets)
            }
        }
        return Array(all.prefix(total))
    }

    func gather(_ local: [Double]) -> [Double] {
        count(8 * local.count + 4)
        let (counts, offsets, total) = counts(local.count)
        var all = [Double](repeating: 0, count: max(total, 1))
        _ = local.withUnsafeBufferPointer { send in
            all.withUnsafeMutableBufferPointer { receive in
                metarl_mpi_allgatherv_double(send.baseAddress, Int32(local.count), receive.baseAddress, counts, offsets)
            }
        }
        return Array(all.prefix(total))
    }
}
#endif
