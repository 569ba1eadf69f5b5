// Stride-1 convolution as an implicit GEMM: no im2col matrix. The input planes are copied once
// into zero-padded planes of row length R = W + pad_left + pad_right; on that padded grid the
// GEMM's B(p, q) for p = (c, i, j) and grid position q = oy * R + ox is the single float
// padded[c][q + i*dh*R + j*dw], so the GEMM's B packing (PackImplicitB, called by the driver
// for each KC x NC panel) copies contiguous runs straight from the padded input, which stays in
// L2 for the layers that matter. The GEMM writes a grid output (M x oh*R; the R - ow columns per
// row past the image are computed and dropped), which is then compacted into y.
// Thread-safety: PackImplicitB only reads its context; the driver calls it from pool threads.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/conv_internal.h"
#include "kernels/cpu/gemm_internal.h"

namespace mlos::kernels::internal {
namespace {

struct ImplicitB {
  const float* padded;
  int64_t plane_len, row_len, kw, dh, dw, taps;
};

constexpr int64_t kMaxPanelRows = 1024;  // KC of every kernel set is far below this

void PackImplicitB(const void* ctx, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr,
                   float* out) {
  const ImplicitB& b = *static_cast<const ImplicitB*>(ctx);
  int64_t offs[kMaxPanelRows];
  auto offset = [&](int64_t p) {
    const int64_t c = p / b.taps, t = p % b.taps;
    return c * b.plane_len + (t / b.kw) * b.dh * b.row_len + (t % b.kw) * b.dw + j0;
  };
  const bool table = kc <= kMaxPanelRows;
  if (table) {
    for (int64_t pp = 0; pp < kc; ++pp) offs[pp] = offset(p0 + pp);
  }
  for (int64_t s0 = 0; s0 < nc; s0 += nr) {
    const int64_t cols = std::min<int64_t>(nr, nc - s0);
    float* dst = out + (s0 / nr) * kc * nr;
    for (int64_t pp = 0; pp < kc; ++pp) {
      const float* src = b.padded + (table ? offs[pp] : offset(p0 + pp)) + s0;
      float* d = dst + pp * nr;
      std::memcpy(d, src, static_cast<size_t>(cols) * sizeof(float));
      if (cols < nr) std::fill(d + cols, d + nr, 0.f);
    }
  }
}

}  // namespace

int64_t ImplicitConvScratchFloats(const ImplicitConvGeom& g) {
  const int64_t row_len = g.w + g.pl + g.pr;
  const int64_t rows = g.oh + (g.kh - 1) * g.dh;
  const int64_t plane_len = (rows * row_len + (g.kw - 1) * g.dw + 15) / 16 * 16;
  return g.cg * plane_len + (g.mg * g.oh * row_len + 15) / 16 * 16;
}

void ImplicitGemmConv(const ImplicitConvGeom& g, const float* x, const float* w,
                      const float* row_bias, const ActivationParams& act, float* y, float* scratch,
                      ThreadPool& pool) {
  const int64_t row_len = g.w + g.pl + g.pr;
  const int64_t rows = g.oh + (g.kh - 1) * g.dh;
  const int64_t plane_len = (rows * row_len + (g.kw - 1) * g.dw + 15) / 16 * 16;
  float* padded = scratch;
  float* grid = scratch + g.cg * plane_len;
  const int64_t grid_n = g.oh * row_len;

  // Padded planes: rows [pt, pt + h) hold the image at columns [pl, pl + w); zero elsewhere,
  // including the tail slack that the last panel's runs may read.
  pool.ParallelFor(g.cg, std::max<int64_t>(1, 16384 / std::max<int64_t>(plane_len, 1)),
                   [&](int64_t b, int64_t e) {
                     for (int64_t c = b; c < e; ++c) {
                       float* dst = padded + c * plane_len;
                       std::fill(dst, dst + plane_len, 0.f);
                       for (int64_t r = 0; r < g.h; ++r) {
                         const int64_t pr = r + g.pt;
                         if (pr >= rows) break;
                         std::memcpy(dst + pr * row_len + g.pl, x + (c * g.h + r) * g.w,
                                     static_cast<size_t>(g.w) * sizeof(float));
                       }
                     }
                   });

  const ImplicitB ctx{padded, plane_len, row_len, g.kw, g.dh, g.dw, g.kh * g.kw};
  gemm_internal::StridedGemm s;
  s.m = g.mg;
  s.n = grid_n;
  s.k = g.cg * g.kh * g.kw;
  s.a = w;
  s.a_rs = s.k;
  s.a_cs = 1;
  s.c = grid;
  s.ldc = grid_n;
  s.row_bias = row_bias;
  s.act = act;
  s.pack_b_fn = &PackImplicitB;
  s.pack_b_ctx = &ctx;
  gemm_internal::RunGemm(s, gemm_internal::Isa::kAuto, pool);

  // Compact: drop the R - ow columns past the image in every output row.
  pool.ParallelFor(g.mg, std::max<int64_t>(1, 16384 / std::max<int64_t>(grid_n, 1)),
                   [&](int64_t b, int64_t e) {
                     for (int64_t m = b; m < e; ++m) {
                       for (int64_t oy = 0; oy < g.oh; ++oy) {
                         std::memcpy(y + (m * g.oh + oy) * g.ow, grid + m * grid_n + oy * row_len,
                                     static_cast<size_t>(g.ow) * sizeof(float));
                       }
                     }
                   });
}

}  // namespace mlos::kernels::internal
