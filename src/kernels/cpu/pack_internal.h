// Vectorised panel packing for the GEMM micro-kernels, used by the packed-weight GEMM and the
// attention kernel (the GEMM driver keeps its own packers). Internal to the CPU kernels.
// Thread-safety: pure functions over caller-owned memory.
#pragma once

#include <cstdint>

namespace mlos::kernels {

namespace gemm_internal {
struct KernelSet;
}

namespace internal {

// out[p * 12 + i] = alpha * a[i * rs + p] for i < 12, p < kc: one full 12-row panel of a
// row-major A. AVX2 body; call only when KernelsUseAvx2().
void PackA12RowMajorAvx2(const float* a, int64_t rs, int64_t kc, float alpha, float* out);

// out[p * 32 + j] = b[j * cs + p] for j < 32, p < kc: one full 32-column sliver of a B whose
// columns are contiguous along the depth. AVX2 body; call only when KernelsUseAvx2().
void PackBColumns32Avx2(const float* b, int64_t cs, int64_t kc, float* out);

}  // namespace internal

// ks.pack_a with the vectorised panel packer where it applies (12-row tiles, row-major A).
void PackA(const gemm_internal::KernelSet& ks, const float* a, int64_t rs, int64_t cs, int64_t mc,
           int64_t kc, float alpha, float* out);

}  // namespace mlos::kernels
