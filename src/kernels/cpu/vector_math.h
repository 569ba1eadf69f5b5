// Float32 array kernels with AVX2/FMA bodies (vector_math_avx2.cc). Internal to the CPU kernels.
// Callers must check KernelsUseAvx2() first. Pointers are caller-owned; no allocation; each call
// is single-threaded (the callers split work over the pool).
#pragma once

#include <cstdint>

#include "kernels/cpu/elementwise.h"

namespace mlos::kernels::internal {

// y[i] = op(x[i]) over contiguous arrays (x == y allowed). False when op has no vector body.
bool UnaryF32Avx2(UnaryOp op, const float* x, float* y, int64_t n);
// out[i] = op(a[i * sa], b[i * sb]) with sa, sb in {0, 1}, out contiguous. False when op or the
// strides have no vector body.
bool BinaryF32Avx2(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* out,
                   int64_t n);

// Building blocks for softmax, layer norm and reductions.
float SumF32Avx2(const float* x, int64_t n);
float MaxF32Avx2(const float* x, int64_t n);
float MinF32Avx2(const float* x, int64_t n);
// y = exp(x - shift); returns the sum of y.
float ExpShiftSumF32Avx2(const float* x, float shift, float* y, int64_t n);
// y = x * scale + shift.
void AffineF32Avx2(const float* x, float scale, float shift, float* y, int64_t n);
// Sum of (x - mean)^2; *dev_sum gets the sum of (x - mean), which corrects a rounded mean.
float SquaredDevSumF32Avx2(const float* x, float mean, int64_t n, float* dev_sum);
// y = ((x - mean) - delta) * inv_std * gamma + beta (beta may be null). Subtracting the float
// mean first is exact for x near it; delta carries the part of the mean a float cannot hold.
void NormalizeF32Avx2(const float* x, float mean, float delta, float inv_std, const float* gamma,
                      const float* beta, float* y, int64_t n);
// acc[i] += x[i] (rows accumulated into a column-wise sum).
void AccumulateF32Avx2(const float* x, float* acc, int64_t n);

}  // namespace mlos::kernels::internal
