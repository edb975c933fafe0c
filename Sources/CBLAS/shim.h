// cblas for MetaRL: OpenBLAS on Linux, Accelerate on Apple platforms.
#ifndef METARL_CBLAS_SHIM_H
#define METARL_CBLAS_SHIM_H

#if defined(__APPLE__)
#define ACCELERATE_NEW_LAPACK
#include <Accelerate/Accelerate.h>
// Accelerate's BLAS is single-threaded per call unless told otherwise; nothing to pin.
static inline void metarl_blas_set_single_threaded(void) {}
static inline void metarl_keep_freed_buffers(void) {}
static inline const char *metarl_blas_core_name(void) { return "Accelerate"; }
static inline const char *metarl_blas_recommended_core(void) { return 0; }
#else
#include <cblas.h>
#include <malloc.h>
// Tensor buffers of a megabyte and more would each be a fresh mmap (and every first touch a page
// fault) under glibc's default thresholds; keep freed buffers in the heap for reuse instead.
static inline void metarl_keep_freed_buffers(void) {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
}
// The kernel family OpenBLAS chose for this CPU (or was told to use by OPENBLAS_CORETYPE).
static inline const char *metarl_blas_core_name(void) { return openblas_get_corename(); }
#include <string.h>
// The kernel family OpenBLAS should be told to use (through OPENBLAS_CORETYPE, read when the library
// loads), or null when its own choice stands. OpenBLAS 0.3.21 does not know CPUs newer than itself
// (Sapphire and Emerald Rapids among them) and falls back to its generic "Prescott" kernels, about
// four times slower at sgemm; their instruction sets say which kernels they can run.
static inline const char *metarl_blas_recommended_core(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (strcmp(openblas_get_corename(), "Prescott") != 0) return 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bf16")) return "Cooperlake";
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return 0;
}
// OpenBLAS with its own threads under our task-level parallelism is erratic and up to 3x slower
// (PLATFORM.md): MetaRL parallelises over tasks and keeps BLAS on one thread.
static inline void metarl_blas_set_single_threaded(void) { openblas_set_num_threads(1); }
#endif

#endif
