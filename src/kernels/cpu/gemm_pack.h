// Internals of the float32 GEMM: packing templates, instantiated once per ISA translation unit.
// Everything is in an anonymous namespace on purpose: each TU (portable, AVX2, AVX-512) gets its
// own copy compiled with its own flags, so the linker can never hand the portable path a copy
// built with AVX instructions.
#pragma once

#include <cstdint>
#include <cstring>

namespace mlos::kernels::gemm_internal {
namespace {

template <int MR>
void PackATemplate(const float* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc, float alpha,
                   float* out) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int mr = static_cast<int>(mc - i0 < MR ? mc - i0 : MR);
    const float* base = a + i0 * rs;
    if (cs == 1 && mr == MR) {
      // Row-major A: MR rows read in parallel, each sequentially.
      const float* rows[MR];
      for (int i = 0; i < MR; ++i) rows[i] = base + i * rs;
      if (alpha == 1.f) {
        for (int64_t p = 0; p < kc; ++p) {
          for (int i = 0; i < MR; ++i) out[p * MR + i] = rows[i][p];
        }
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          for (int i = 0; i < MR; ++i) out[p * MR + i] = alpha * rows[i][p];
        }
      }
    } else if (rs == 1 && mr == MR) {
      // Transposed A: each depth step is MR contiguous values.
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = base + p * cs;
        for (int i = 0; i < MR; ++i) out[p * MR + i] = alpha * src[i];
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        for (int i = 0; i < MR; ++i) {
          out[p * MR + i] = i < mr ? alpha * base[i * rs + p * cs] : 0.f;
        }
      }
    }
    out += MR * kc;
  }
}

template <int NR>
void PackBTemplate(const float* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc, float* out) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    const int nr = static_cast<int>(nc - j0 < NR ? nc - j0 : NR);
    const float* base = b + j0 * cs;
    if (cs == 1 && nr == NR) {
      for (int64_t p = 0; p < kc; ++p) {
        std::memcpy(out + p * NR, base + p * rs, sizeof(float) * NR);
      }
    } else if (rs == 1) {
      // Transposed B: column j is contiguous along p.
      for (int j = 0; j < NR; ++j) {
        if (j < nr) {
          const float* src = base + j * cs;
          for (int64_t p = 0; p < kc; ++p) out[p * NR + j] = src[p];
        } else {
          for (int64_t p = 0; p < kc; ++p) out[p * NR + j] = 0.f;
        }
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        for (int j = 0; j < NR; ++j) out[p * NR + j] = j < nr ? base[p * rs + j * cs] : 0.f;
      }
    }
    out += NR * kc;
  }
}

}  // namespace
}  // namespace mlos::kernels::gemm_internal
