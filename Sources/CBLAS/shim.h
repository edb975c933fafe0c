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
// OpenBLAS with its own threads under our task-level parallelism is erratic and up to 3x slower
// (PLATFORM.md): MetaRL parallelises over tasks and keeps BLAS on one thread.
static inline void metarl_blas_set_single_threaded(void) { openblas_set_num_threads(1); }
#endif

#endif
