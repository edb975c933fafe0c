// Float kernels for the hottest pointwise operations of MetaRL's tensor core, in C so that they can
// be compiled for AVX2 and AVX-512 and chosen at run time: Swift code is compiled for the x86-64
// baseline (SSE2), where these loops run three to six times slower. Each function has the
// semantics of the generic Swift kernel of the same name in Sources/Autodiff/Kernels/.
#ifndef METARL_KERNELS_H
#define METARL_KERNELS_H

#include <stddef.h>

/// y[i] = tanh(x[i]), as a rational approximation with absolute error below 4e-7.
void metarl_tanh_f32(const float *x, float *y, size_t count);

/// out[i] = g[i] * (1 - y[i]^2): the tanh pullback, y = tanh(x), g the upstream gradient.
void metarl_tanh_derivative_f32(const float *y, const float *g, float *out, size_t count);

/// The instruction set the kernels run with on this machine: "avx512", "avx2" or "baseline".
const char *metarl_kernels_instruction_set(void);

#endif
