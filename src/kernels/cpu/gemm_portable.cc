// Portable GEMM kernel set (no ISA extensions): a 4x16 register tile the compiler vectorises
// with whatever the baseline offers (SSE2 on x86-64), plus the scalar tile epilogue.
#include <algorithm>

#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/gemm_pack.h"

namespace mlos::kernels::gemm_internal {

namespace {

constexpr int kMr = 4;
constexpr int kNr = 16;

void PortableKernel(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int mr,
                    int nr, const TileEpilogue& ep) {
  float acc[kMr][kNr] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < kMr; ++i) {
      const float av = ap[i];
      for (int j = 0; j < kNr; ++j) acc[i][j] += av * bp[j];
    }
    ap += kMr;
    bp += kNr;
  }
  StoreTileScalar(&acc[0][0], kNr, c, ldc, mr, nr, ep);
}

}  // namespace

void StoreTileScalar(const float* acc, int acc_ld, float* c, int64_t ldc, int mr, int nr,
                     const TileEpilogue& ep) {
  for (int i = 0; i < mr; ++i) {
    float* row = c + i * ldc;
    const float* src = acc + i * acc_ld;
    if (ep.first) {
      if (ep.beta == 0.f) {
        for (int j = 0; j < nr; ++j) row[j] = src[j];
      } else {
        for (int j = 0; j < nr; ++j) row[j] = src[j] + ep.beta * row[j];
      }
    } else {
      for (int j = 0; j < nr; ++j) row[j] += src[j];
    }
    if (ep.last) {
      if (ep.bias != nullptr) {
        for (int j = 0; j < nr; ++j) row[j] += ep.bias[j];
      }
      if (ep.act != nullptr) ApplyActivation(*ep.act, row, nr);
    }
  }
}

const KernelSet& PortableKernels() {
  static const KernelSet set = {"portable",
                                kMr,
                                kNr,
                                /*mc=*/128,
                                /*kc=*/256,
                                /*nc=*/2048,
                                &PortableKernel,
                                &PackATemplate<kMr>,
                                &PackBTemplate<kNr>};
  return set;
}

}  // namespace mlos::kernels::gemm_internal
