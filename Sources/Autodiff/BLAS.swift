import CBLAS

/// Process-wide BLAS configuration.
public enum BLAS {
    /// Pins BLAS to one thread. MetaRL parallelises over tasks itself; OpenBLAS threads underneath
    /// that made throughput erratic and up to 3× lower on these machines (PLATFORM.md). Call once at
    /// start-up, before any thread does a matrix product.
    public static func useSingleThread() {
        metarl_blas_set_single_threaded()
    }
}

@inline(__always)
func cblasTranspose(_ transposed: Bool) -> CBLAS_TRANSPOSE {
    transposed ? CblasTrans : CblasNoTrans
}
