// Internals of conv2d_pointwise.cc: the ISA-specific bodies.
// Thread-safety: pure over its arguments.
#pragma once

#include <cstdint>

#include "kernels/cpu/activation.h"

namespace mlos::kernels::internal {

// dst[j * ldd + i] = src[i * lds + j] for i < rows8, j < cols8 (both multiples of 8). AVX2
// body (conv2d_pointwise_avx2.cc); call only when KernelsUseAvx2().
void TransposeBlocks8Avx2(const float* src, int64_t lds, int64_t rows8, int64_t cols8, float* dst,
                          int64_t ldd);

// Columns [j0, j1) of y (m x hw) = act(bias + w (m x k, row-major) x (k x hw)), read
// unpacked. AVX-512 body (conv2d_pointwise_avx512.cc); call only when the CPU has AVX-512F.
void PointwiseDirectAvx512(const float* w, int64_t m, int64_t k, const float* x, int64_t hw,
                           const float* bias, const ActivationParams& act, float* y, int64_t j0,
                           int64_t j1);

// out[(ch - c0) * oh * ow + oy * ow + ox] = x[ch][oy * sh][ox * sw] for channels [c0, c1) of
// planes h x w (strided 1x1 convolution input). AVX-512 body; call only with AVX-512F.
void GatherStridedAvx512(const float* x, int64_t h, int64_t w, int64_t sh, int64_t sw, int64_t oh,
                         int64_t ow, int64_t c0, int64_t c1, float* out);

}  // namespace mlos::kernels::internal
