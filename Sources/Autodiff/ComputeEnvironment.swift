import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide settings for numerical work. Call ``prepare()`` once at start-up, before any thread
/// does a matrix product.
public enum ComputeEnvironment {
    /// Pins BLAS to one thread and keeps freed tensor buffers in the allocator.
    ///
    /// - BLAS: MetaRL parallelises over tasks itself; OpenBLAS threads underneath made throughput
    ///   erratic and up to 3× lower on these machines (PLATFORM.md).
    /// - Memory: a 4,000×64 Float tensor is 1 MB, above glibc's default mmap threshold, so every
    ///   such tensor was a fresh mmap and every first touch of it a page fault (a quarter of the
    ///   autodiff benchmark's time). Raising the mmap and trim thresholds lets freed buffers be
    ///   reused instead.
    public static func prepare() {
        metarl_blas_set_single_threaded()
        metarl_keep_freed_buffers()
    }

    /// The BLAS kernel family in use, for benchmark reports: OpenBLAS's core name ("Cooperlake",
    /// "Haswell", …, which `OPENBLAS_CORETYPE` overrides) or "Accelerate".
    public static var blasCore: String { String(cString: metarl_blas_core_name()) }

    /// The kernel family to ask OpenBLAS for instead of the one it chose, or nil when its choice
    /// stands or the user named one in `OPENBLAS_CORETYPE`.
    ///
    /// OpenBLAS 0.3.21 (Debian 12) falls back to its generic "Prescott" kernels on CPUs it does not
    /// know, Intel's Sapphire and Emerald Rapids among them: sgemm then runs at 28 GFLOP/s where
    /// its Cooperlake kernels reach 118 on the same core. The variable is read only when the
    /// library loads, so a program acts on this by starting itself again with it set
    /// (`metarl` does, before it does anything else).
    public static var recommendedBLASCore: String? {
        guard getenv("OPENBLAS_CORETYPE") == nil, let core = metarl_blas_recommended_core() else { return nil }
        return String(cString: core)
    }
}

@inline(__always)
func cblasTranspose(_ transposed: Bool) -> CBLAS_TRANSPOSE {
    transposed ? CblasTrans : CblasNoTrans
}
