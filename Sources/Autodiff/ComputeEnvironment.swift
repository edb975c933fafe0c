import CBLAS

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
}

@inline(__always)
func cblasTranspose(_ transposed: Bool) -> CBLAS_TRANSPOSE {
    transposed ? CblasTrans : CblasNoTrans
}
