#include "metarl_kernels.h"

// Each loop body is written once as a macro and compiled three times: for AVX-512, for AVX2+FMA and
// for the baseline. The dispatcher asks the CPU once per call (a load of a cached flag).

// tanh(x) as the ratio of an odd degree-13 and an even degree-6 polynomial, minimax on [-9, 9] (the
// approximation Eigen uses for float); outside that range tanh rounds to +-1 in float.
#define METARL_TANH_BODY                                                                   \
    for (size_t i = 0; i < count; i++) {                                                   \
        float v = x[i];                                                                    \
        v = v < -9.0f ? -9.0f : (v > 9.0f ? 9.0f : v);                                     \
        const float v2 = v * v;                                                            \
        float p = -2.76076847742355e-16f;                                                  \
        p = p * v2 + 2.00018790482477e-13f;                                                \
        p = p * v2 - 8.60467152213735e-11f;                                                \
        p = p * v2 + 5.12229709037114e-08f;                                                \
        p = p * v2 + 1.48572235717979e-05f;                                                \
        p = p * v2 + 6.37261928875436e-04f;                                                \
        p = p * v2 + 4.89352455891786e-03f;                                                \
        float q = 1.19825839466702e-06f;                                                   \
        q = q * v2 + 1.18534705686654e-04f;                                                \
        q = q * v2 + 2.26843463243900e-03f;                                                \
        q = q * v2 + 4.89352518554385e-03f;                                                \
        y[i] = v * p / q;                                                                  \
    }

#define METARL_TANH_DERIVATIVE_BODY                                                        \
    for (size_t i = 0; i < count; i++) { out[i] = g[i] * (1.0f - y[i] * y[i]); }

#define METARL_VARIANTS(name, parameters, body)                                            \
    METARL_X86_VARIANTS(name, parameters, body)                                            \
    static void name##_baseline parameters { body }

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define METARL_X86_VARIANTS(name, parameters, body)                                        \
    __attribute__((target("avx512f,avx512vl,avx2,fma"))) static void name##_avx512 parameters { body } \
    __attribute__((target("avx2,fma"))) static void name##_avx2 parameters { body }
#define METARL_DISPATCH(name, ...)                                                         \
    do {                                                                                   \
        if (__builtin_cpu_supports("avx512f")) { name##_avx512(__VA_ARGS__); }             \
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) { name##_avx2(__VA_ARGS__); } \
        else { name##_baseline(__VA_ARGS__); }                                             \
    } while (0)
#else
#define METARL_X86_VARIANTS(name, parameters, body)
#define METARL_DISPATCH(name, ...) name##_baseline(__VA_ARGS__)
#endif

METARL_VARIANTS(tanh_f32, (const float *restrict x, float *restrict y, size_t count), METARL_TANH_BODY)
METARL_VARIANTS(tanh_derivative_f32,
                (const float *restrict y, const float *restrict g, float *restrict out, size_t count),
                METARL_TANH_DERIVATIVE_BODY)

void metarl_tanh_f32(const float *x, float *y, size_t count) {
    METARL_DISPATCH(tanh_f32, x, y, count);
}

void metarl_tanh_derivative_f32(const float *y, const float *g, float *out, size_t count) {
    METARL_DISPATCH(tanh_derivative_f32, y, g, out, count);
}

const char *metarl_kernels_instruction_set(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (__builtin_cpu_supports("avx512f")) return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
#endif
    return "baseline";
}
