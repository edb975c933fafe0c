// MPI for MetaRL's `Distributed` trait (Open MPI, pkg-config `ompi-c`). MPI_COMM_WORLD and the
// datatype handles are macros Swift does not import: the calls MetaRL makes are wrapped here.
#ifndef METARL_MPI_SHIM_H
#define METARL_MPI_SHIM_H
#include <mpi.h>

// Only the main thread calls MPI; the worker threads of a meta-batch never do.
static inline int metarl_mpi_init(void) {
    int provided = 0;
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
}
static inline int metarl_mpi_rank(void) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static inline int metarl_mpi_size(void) { int s = 1; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }
static inline int metarl_mpi_allgather_int(int value, int *out) {
    return MPI_Allgather(&value, 1, MPI_INT, out, 1, MPI_INT, MPI_COMM_WORLD);
}
static inline int metarl_mpi_allgatherv_float(const float *send, int count, float *receive, const int *counts, const int *offsets) {
    return MPI_Allgatherv(send, count, MPI_FLOAT, receive, counts, offsets, MPI_FLOAT, MPI_COMM_WORLD);
}
static inline int metarl_mpi_allgatherv_double(const double *send, int count, double *receive, const int *counts, const int *offsets) {
    return MPI_Allgatherv(send, count, MPI_DOUBLE, receive, counts, offsets, MPI_DOUBLE, MPI_COMM_WORLD);
}
static inline int metarl_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static inline int metarl_mpi_finalize(void) { return MPI_Finalize(); }
static inline void metarl_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
#endif
