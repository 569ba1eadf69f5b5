// Internals of conv2d_pointwise.cc: the ISA-specific transpose body.
// Thread-safety: pure over its arguments.
#pragma once

#include <cstdint>

namespace mlos::kernels::internal {

// dst[j * ldd + i] = src[i * lds + j] for i < rows8, j < cols8 (both multiples of 8). AVX2
// body (conv2d_pointwise_avx2.cc); call only when KernelsUseAvx2().
void TransposeBlocks8Avx2(const float* src, int64_t lds, int64_t rows8, int64_t cols8, float* dst,
                          int64_t ldd);

}  // namespace mlos::kernels::internal
