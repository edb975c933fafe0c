// cblas for MetaRL: OpenBLAS on Linux, Accelerate on Apple platforms.
#ifndef METARL_CBLAS_SHIM_H
#define METARL_CBLAS_SHIM_H

#if defined(__APPLE__)
#define ACCELERATE_NEW_LAPACK
#include <Accelerate/Accelerate.h>
// Accelerate's BLAS is single-threaded per call unless told otherwise; nothing to pin.
static inline void metarl_blas_set_single_threaded(void) {}
#else
#include <cblas.h>
// OpenBLAS with its own threads under our task-level parallelism is erratic and up to 3x slower
// (PLATFORM.md): MetaRL parallelises over tasks and keeps BLAS on one thread.
static inline void metarl_blas_set_single_threaded(void) { openblas_set_num_threads(1); }
#endif

#endif
