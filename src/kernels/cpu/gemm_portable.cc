// Portable GEMM kernel set (no ISA extensions): a 4x8 register tile in GCC/Clang 4-wide vector
// types (SSE2 on x86-64, NEON on Arm64), plus the scalar tile epilogue every set shares.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/gemm_pack.h"

namespace mlos::kernels::gemm_internal {

namespace {

constexpr int kMr = 4;
constexpr int kNr = 8;

// 4 floats in a register on any target GCC/Clang vectorise for (SSE2 on x86-64, NEON on
// Arm64); plain scalar code elsewhere. Loads go through memcpy: no alignment assumed.
typedef float V4 __attribute__((vector_size(16)));

inline V4 Load(const float* p) {
  V4 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// 4x8 tile: 8 accumulators, 2 B vectors and a broadcast fit the 16 SSE/NEON registers.
void PortableKernel(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int mr,
                    int nr, const TileEpilogue& ep) {
  V4 c00 = {}, c01 = {}, c10 = {}, c11 = {}, c20 = {}, c21 = {}, c30 = {}, c31 = {};
  for (int64_t p = 0; p < kc; ++p) {
    const V4 b0 = Load(bp), b1 = Load(bp + 4);
    const V4 a0 = V4{} + ap[0], a1 = V4{} + ap[1], a2 = V4{} + ap[2], a3 = V4{} + ap[3];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c30 += a3 * b0;
    c31 += a3 * b1;
    ap += kMr;
    bp += kNr;
  }
  float acc[kMr][kNr];
  const V4 rows[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
  for (int i = 0; i < kMr; ++i) {
    std::memcpy(acc[i], &rows[i][0], sizeof(V4));
    std::memcpy(acc[i] + 4, &rows[i][1], sizeof(V4));
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
      if (ep.row_bias != nullptr) {
        const float rb = ep.row_bias[i];
        for (int j = 0; j < nr; ++j) row[j] += rb;
      }
      if (ep.addend != nullptr) {
        const float* add = ep.addend + i * ep.addend_ld;
        for (int j = 0; j < nr; ++j) row[j] += add[j];
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
