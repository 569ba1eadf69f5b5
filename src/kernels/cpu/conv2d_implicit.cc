// Convolution as an implicit GEMM: no im2col matrix. The input planes are copied once into
// zero-padded planes split into sh x sw phases: phase (a, b) holds padded rows a, a + sh, ...
// and columns b, b + sw, ..., each phase row R = ow + ((kw-1)*dw)/sw long. Tap (i, j) of output
// (oy, ox) is then phase ((i*dh) % sh, (j*dw) % sw) at row oy + (i*dh)/sh, column
// ox + (j*dw)/sw, so on the grid q = oy * R + ox the GEMM's B(p, q) for p = (c, i, j) is one
// float at a fixed offset from q: the GEMM's B packing (PackImplicitB, called by the driver for
// each KC x NC panel) copies contiguous runs straight from the padded input, which stays in L2
// for the layers that matter. The GEMM either writes a grid output (M x oh*R; the R - ow
// columns per row past the image are computed and dropped), which is then compacted into y, or
// -- where that saves GEMM work -- its columns are the exact oh*ow pixels (the packing gathers
// each sliver from output-row segments) and it writes y directly. A residual addend (sum) is
// added, before the activation, in the compaction or in the GEMM's tile epilogue.
// Small output planes with many channels run transposed instead (ImplicitGemmConvT): the pixels
// are the GEMM's rows (12-row tiles waste less of 49 or 196 pixels than 32-column slivers), A
// is gathered from the same padded planes, W^T is prepacked as B, and the result is transposed
// into y. Where the output rows hold 28 or more pixels and the output channels come in whole
// 32-column slivers, the transposed form reads A in place instead (PackedSgemmDirectA): each
// row tile is 8 or 12 consecutive pixels of one output row, i.e. consecutive floats of every
// depth row of the padded planes, so neither operand is packed per call (the B packing was
// ~14% of a 64-channel 56x56 layer). With the 14-row kernel (conv2d_direct_a.h) rows of 14
// pixels and 7-pixel planes (pairs of rows) take that form too, and where the rows are whole
// 14-row tiles each tile runs over the whole depth and is written transposed straight into y
// (with the addend and activation): no Y^T buffer and no transpose pass.
// Thread-safety: PackImplicitB only reads its context; the driver calls it from pool threads.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/conv2d_direct_a.h"
#include "kernels/cpu/conv2d_pointwise.h"
#include "kernels/cpu/conv_internal.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/prepacked_gemm.h"

namespace mlos::kernels::internal {
namespace {

struct ImplicitB {
  const float* padded;
  const int64_t* tap_off;  // per tap (i, j): phase start + row/column shift
  int64_t chan_len, taps;
  // 0: the GEMM's columns are the grid q itself. Otherwise the output width: column j is pixel
  // (j / ow, j % ow), at grid q = (j / ow) * row_len + j % ow (no dropped columns).
  int64_t exact_ow = 0;
  int64_t row_len = 0;
};

constexpr int64_t kMaxPanelRows = 1024;  // KC of every kernel set is far below this
constexpr int64_t kMaxTaps = 121;

// kc rows of one full N-column sliver: row pp is the run at src + offs[pp].
template <int N>
void CopyRuns(const float* src, const int64_t* offs, int64_t kc, float* dst) {
  for (int64_t pp = 0; pp < kc; ++pp) {
    std::memcpy(dst + pp * N, src + offs[pp], N * sizeof(float));
  }
}

// rows x len floats (len <= 32) of runs src + offs[pp] into rows pp of stride nr at d, with
// masked AVX-512 moves: the baseline build copies in 16-byte pieces plus a scalar tail, and the
// copies are ~14% of a 64-channel 56x56 layer. Only called when gemm_internal::UseAvx512().
__attribute__((target("avx512f"))) void CopySegmentAvx512(const float* src, const int64_t* offs,
                                                          int64_t rows, int64_t len, int64_t nr,
                                                          float* d) {
  const __mmask16 m0 = len >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << len) - 1);
  const __mmask16 m1 = len <= 16   ? __mmask16(0)
                       : len >= 32 ? __mmask16(0xFFFF)
                                   : __mmask16((1u << (len - 16)) - 1);
  if (m1 == 0) {
    for (int64_t pp = 0; pp < rows; ++pp) {
      _mm512_mask_storeu_ps(d + pp * nr, m0, _mm512_maskz_loadu_ps(m0, src + offs[pp]));
    }
    return;
  }
  for (int64_t pp = 0; pp < rows; ++pp) {
    const float* sp = src + offs[pp];
    float* dp = d + pp * nr;
    _mm512_storeu_ps(dp, _mm512_loadu_ps(sp));
    _mm512_mask_storeu_ps(dp + 16, m1, _mm512_maskz_loadu_ps(m1, sp + 16));
  }
}

// One phase row: dst[q] = src[q * sw] for q in [begin, end), 0 elsewhere in [0, len); sw 1 or
// 2 (the stride-2 case deinterleaves 32 input floats per 16 outputs). Writes every float once
// (filling the phase with zeros first and copying rows over it wrote the interior twice), and
// reads only src[begin * sw .. (end - 1) * sw]. Only called when gemm_internal::UseAvx512().
__attribute__((target("avx512f"))) void PhaseRowAvx512(float* dst, int64_t len, const float* src,
                                                       int64_t begin, int64_t end, int64_t sw) {
  auto mask = [](int64_t n) {
    return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
  };
  const __m512 zero = _mm512_setzero_ps();
  begin = std::clamp<int64_t>(begin, 0, len);
  end = std::clamp<int64_t>(end, begin, len);
  for (int64_t q = 0; q < begin; q += 16) _mm512_mask_storeu_ps(dst + q, mask(begin - q), zero);
  if (sw == 1) {
    for (int64_t q = begin; q < end; q += 16) {
      const __mmask16 m = mask(end - q);
      _mm512_mask_storeu_ps(dst + q, m, _mm512_maskz_loadu_ps(m, src + q));
    }
  } else {
    const __m512i evens =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    for (int64_t q = begin; q < end; q += 16) {
      const int64_t n = std::min<int64_t>(16, end - q);
      const int64_t span = 2 * n - 1;  // src[2q .. 2q + 2n - 2]
      const __m512 lo = _mm512_maskz_loadu_ps(mask(span), src + 2 * q);
      const __m512 hi = _mm512_maskz_loadu_ps(mask(span - 16), src + 2 * q + 16);
      _mm512_mask_storeu_ps(dst + q, mask(n), _mm512_permutex2var_ps(lo, evens, hi));
    }
  }
  for (int64_t q = end; q < len; q += 16) _mm512_mask_storeu_ps(dst + q, mask(len - q), zero);
}

// Offset in the padded planes of depth steps p .. p + n - 1 (channel-major, tap-minor), for
// the packing loops of both operands.
inline void DepthOffsets(const int64_t* tap_off, int64_t taps, int64_t chan_len, int64_t p,
                         int64_t n, int64_t* offs) {
  for (int64_t i = 0; i < n; ++i) offs[i] = ((p + i) / taps) * chan_len + tap_off[(p + i) % taps];
}

bool PackWithAvx512() {
  static const bool use = gemm_internal::UseAvx512();
  return use;
}

// The exact-column layout: every sliver row gathers the output-row segments its columns span.
void PackExactB(const ImplicitB& b, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr,
                float* out) {
  int64_t offs[kMaxPanelRows];
  const bool avx512 = PackWithAvx512();
  for (int64_t r0 = 0; r0 < kc; r0 += kMaxPanelRows) {
    const int64_t rows = std::min(kMaxPanelRows, kc - r0);
    DepthOffsets(b.tap_off, b.taps, b.chan_len, p0 + r0, rows, offs);
    for (int64_t s0 = 0; s0 < nc; s0 += nr) {
      const int64_t cols = std::min<int64_t>(nr, nc - s0);
      float* dst = out + (s0 / nr) * kc * nr + r0 * nr;
      if (cols < nr) {
        for (int64_t pp = 0; pp < rows; ++pp)
          std::fill(dst + pp * nr + cols, dst + (pp + 1) * nr, 0.f);
      }
      for (int64_t j = j0 + s0, end = j0 + s0 + cols; j < end;) {
        const int64_t oy = j / b.exact_ow, ox = j % b.exact_ow;
        const int64_t len = std::min(b.exact_ow - ox, end - j);
        const float* src = b.padded + oy * b.row_len + ox;
        float* d = dst + (j - j0 - s0);
        if (avx512 && nr <= 32) {
          CopySegmentAvx512(src, offs, rows, len, nr, d);
        } else if (len == 32 && nr == 32) {
          CopyRuns<32>(src, offs, rows, d);
        } else {
          // Short segments: an inlined loop (a library memcpy call per segment row cost ~11% of
          // a 64-channel 56x56 layer).
          for (int64_t pp = 0; pp < rows; ++pp) {
            const float* sp = src + offs[pp];
            float* dp = d + pp * nr;
            for (int64_t q = 0; q < len; ++q) dp[q] = sp[q];
          }
        }
        j += len;
      }
    }
  }
}

void PackImplicitB(const void* ctx, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr,
                   float* out) {
  const ImplicitB& b = *static_cast<const ImplicitB*>(ctx);
  if (b.exact_ow > 0) {
    PackExactB(b, p0, kc, j0, nc, nr, out);
    return;
  }
  int64_t offs[kMaxPanelRows];
  auto offset = [&](int64_t p) { return (p / b.taps) * b.chan_len + b.tap_off[p % b.taps] + j0; };
  const bool table = kc <= kMaxPanelRows;
  if (table) {
    for (int64_t pp = 0; pp < kc; ++pp) offs[pp] = offset(p0 + pp);
  }
  for (int64_t s0 = 0; s0 < nc; s0 += nr) {
    const int64_t cols = std::min<int64_t>(nr, nc - s0);
    float* dst = out + (s0 / nr) * kc * nr;
    // Full slivers of the common widths: a fixed-size copy the compiler inlines (a library
    // memcpy call per 128-byte run cost about a third of a 64-channel 56x56 layer).
    if (table && cols == nr && (nr == 32 || nr == 16)) {
      if (nr == 32 && PackWithAvx512()) {
        CopySegmentAvx512(b.padded + s0, offs, kc, 32, 32, dst);
      } else if (nr == 32) {
        CopyRuns<32>(b.padded + s0, offs, kc, dst);
      } else {
        CopyRuns<16>(b.padded + s0, offs, kc, dst);
      }
      continue;
    }
    for (int64_t pp = 0; pp < kc; ++pp) {
      const float* src = b.padded + (table ? offs[pp] : offset(p0 + pp)) + s0;
      float* d = dst + pp * nr;
      std::memcpy(d, src, static_cast<size_t>(cols) * sizeof(float));
      if (cols < nr) std::fill(d + cols, d + nr, 0.f);
    }
  }
}

struct Layout {
  int64_t row_len;    // R: grid row length, phase row length
  int64_t rows;       // rows per phase
  int64_t phase_len;  // floats per phase (rows x R plus the slack the last runs read)
  int64_t chan_len;   // floats per channel: sh * sw phases
};

Layout LayoutFor(const ImplicitConvGeom& g) {
  Layout l;
  l.row_len = g.ow + ((g.kw - 1) * g.dw) / g.sw;
  l.rows = g.oh + ((g.kh - 1) * g.dh) / g.sh;
  // One row of slack: runs for the last grid positions read up to R - ow - 1 floats past the
  // phase's rows (only into columns that are dropped).
  l.phase_len = ((l.rows + 1) * l.row_len + 15) / 16 * 16;
  l.chan_len = g.sh * g.sw * l.phase_len;
  return l;
}

// Fills the zero-padded stride-phase planes of the cg input channels into `padded` and the
// per-tap offsets (kh * kw of them) into tap_off.
void FillPhasesAndTaps(const ImplicitConvGeom& g, const Layout& l, const float* x, float* padded,
                       int64_t* tap_off, ThreadPool& pool) {
  // The phases some tap reads (a 1x1 stride-2 conv reads one of four: filling the others would
  // quadruple its copy). Strides above kMaxPhases are rare enough to fill every phase.
  constexpr int64_t kMaxPhases = 16;
  bool row_phase_used[kMaxPhases] = {}, col_phase_used[kMaxPhases] = {};
  const bool track = g.sh <= kMaxPhases && g.sw <= kMaxPhases;
  if (track) {
    for (int64_t i = 0; i < g.kh; ++i) row_phase_used[(i * g.dh) % g.sh] = true;
    for (int64_t j = 0; j < g.kw; ++j) col_phase_used[(j * g.dw) % g.sw] = true;
  }
  // Phase (a, b) of channel c, row r, column q: input (r*sh + a - pt, q*sw + b - pl), or 0.
  const bool row_fill = PackWithAvx512() && (g.sw == 1 || g.sw == 2);
  pool.ParallelFor(
      g.cg, std::max<int64_t>(1, 16384 / std::max<int64_t>(l.chan_len, 1)),
      [&](int64_t b0, int64_t e0) {
        for (int64_t c = b0; c < e0; ++c) {
          const float* xc = x + c * g.h * g.w;
          for (int64_t a = 0; a < g.sh; ++a) {
            for (int64_t b = 0; b < g.sw; ++b) {
              if (track && (!row_phase_used[a] || !col_phase_used[b])) continue;  // never read
              float* ph = padded + c * l.chan_len + (a * g.sw + b) * l.phase_len;
              const Span1D cols = ValidOutputRange(b - g.pl, g.sw, g.w, l.row_len);
              if (row_fill) {
                for (int64_t r = 0; r < l.rows; ++r) {
                  const int64_t ir = r * g.sh + a - g.pt;
                  float* dst = ph + r * l.row_len;
                  if (ir < 0 || ir >= g.h) {
                    PhaseRowAvx512(dst, l.row_len, nullptr, 0, 0, 1);
                  } else {
                    PhaseRowAvx512(dst, l.row_len, xc + ir * g.w + b - g.pl, cols.begin, cols.end,
                                   g.sw);
                  }
                }
                std::fill(ph + l.rows * l.row_len, ph + l.phase_len, 0.f);  // the slack
                continue;
              }
              std::fill(ph, ph + l.phase_len, 0.f);
              for (int64_t r = 0; r < l.rows; ++r) {
                const int64_t ir = r * g.sh + a - g.pt;
                if (ir < 0 || ir >= g.h) continue;
                const float* src = xc + ir * g.w + b - g.pl;  // src[q * sw]: column q*sw + b - pl
                float* dst = ph + r * l.row_len;
                if (g.sw == 1) {
                  std::memcpy(dst + cols.begin, src + cols.begin,
                              static_cast<size_t>(cols.end - cols.begin) * sizeof(float));
                } else {
                  for (int64_t q = cols.begin; q < cols.end; ++q) dst[q] = src[q * g.sw];
                }
              }
            }
          }
        }
      });

  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t a = (i * g.dh) % g.sh, b = (j * g.dw) % g.sw;
      tap_off[i * g.kw + j] =
          (a * g.sw + b) * l.phase_len + ((i * g.dh) / g.sh) * l.row_len + (j * g.dw) / g.sw;
    }
  }
}

// The transposed form's implicit A: A(q, p) = B(p, q) of the exact-column layout, q an output
// pixel (q / ow, q % ow) at grid position (q / ow) * row_len + q % ow.
struct ImplicitA {
  const float* padded;
  const int64_t* tap_off;
  int64_t chan_len, taps, ow, row_len;
};

// One MR-row sliver (mr <= 16) whose rows (pixels) lie within 16 floats of the first one's
// grid position: per depth row one masked load and one in-register permute (rel: the rows'
// positions relative to the first; rows past `rows` written as zeros). Only called when
// gemm_internal::UseAvx512().
__attribute__((target("avx512f"))) void GatherSliverAvx512(const float* src, const int64_t* offs,
                                                           int64_t kc, const int32_t* rel, int rows,
                                                           int mr, int span, float* d) {
  alignas(64) int32_t idx[16] = {};
  for (int r = 0; r < rows; ++r) idx[r] = rel[r];
  const __m512i iv = _mm512_load_si512(idx);
  const __mmask16 load = static_cast<__mmask16>((1u << span) - 1);
  const __mmask16 valid = static_cast<__mmask16>((1u << rows) - 1);
  const __mmask16 store = static_cast<__mmask16>((1u << mr) - 1);
  for (int64_t pp = 0; pp < kc; ++pp) {
    const __m512 v = _mm512_maskz_loadu_ps(load, src + offs[pp]);
    _mm512_mask_storeu_ps(d + pp * mr, store, _mm512_maskz_permutexvar_ps(valid, iv, v));
  }
}

void PackImplicitA(const void* ctx, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int mr,
                   float* out) {
  const ImplicitA& a = *static_cast<const ImplicitA*>(ctx);
  int64_t offs[kMaxPanelRows];
  const bool avx512 = PackWithAvx512();
  for (int64_t r0 = 0; r0 < kc; r0 += kMaxPanelRows) {
    const int64_t depth = std::min(kMaxPanelRows, kc - r0);
    DepthOffsets(a.tap_off, a.taps, a.chan_len, p0 + r0, depth, offs);
    for (int64_t s0 = 0; s0 < mc; s0 += mr) {
      const int rows = static_cast<int>(std::min<int64_t>(mr, mc - s0));
      float* dst = out + (s0 / mr) * mr * kc + r0 * mr;
      int64_t grid[16] = {};
      const bool small = mr <= 16;
      if (small) {
        for (int r = 0; r < rows; ++r) {
          const int64_t q = i0 + s0 + r;
          grid[r] = (q / a.ow) * a.row_len + q % a.ow;
        }
        const int64_t span = grid[rows - 1] - grid[0] + 1;
        if (avx512 && span <= 16) {
          int32_t rel[16];
          for (int r = 0; r < rows; ++r) rel[r] = static_cast<int32_t>(grid[r] - grid[0]);
          GatherSliverAvx512(a.padded + grid[0], offs, depth, rel, rows, mr, static_cast<int>(span),
                             dst);
          continue;
        }
      }
      for (int64_t pp = 0; pp < depth; ++pp) {
        const float* src = a.padded + offs[pp];
        float* d = dst + pp * mr;
        for (int r = 0; r < mr; ++r) {
          if (r >= rows) {
            d[r] = 0.f;
            continue;
          }
          const int64_t q = i0 + s0 + r;
          d[r] = src[small ? grid[r] : (q / a.ow) * a.row_len + q % a.ow];
        }
      }
    }
  }
}

}  // namespace

bool ImplicitConvSupported(const ImplicitConvGeom& g) { return g.kh * g.kw <= kMaxTaps; }

int64_t ImplicitConvScratchFloats(const ImplicitConvGeom& g) {
  const Layout l = LayoutFor(g);
  return g.cg * l.chan_len + (g.mg * g.oh * l.row_len + 15) / 16 * 16;
}

void ImplicitGemmConv(const ImplicitConvGeom& g, const float* x, const float* w,
                      const float* row_bias, const ActivationParams& act, float* y, float* scratch,
                      ThreadPool& pool, const float* packed_w, const float* sum) {
  const Layout l = LayoutFor(g);
  float* padded = scratch;
  float* grid = scratch + g.cg * l.chan_len;
  const int64_t grid_n = g.oh * l.row_len;

  int64_t tap_off[kMaxTaps];
  FillPhasesAndTaps(g, l, x, padded, tap_off, pool);

  // The grid's R - ow dropped columns per row are GEMM work too, in NR = 32 column slivers (a
  // tail of <= 16 columns costs half a sliver). Where the exact oh*ow pixels take fewer 16-column
  // units, the GEMM's columns are those pixels instead, gathered from row segments by the B
  // packing (more, shorter copies per sliver) and written straight into y with no compaction.
  // 1-thread CPU medians, grid -> exact: 3x3 conv 64ch@56 1.33-1.42 -> 1.31-1.36 ms, 128@28
  // 1.25-1.32 -> 1.16-1.26, 256@14 1.25-1.34 -> 1.25-1.31; 512@7 (4 units either way) is worse
  // exact (1.44-1.53 -> 1.49-1.50) and keeps the grid.
  const int64_t exact_units = (g.oh * g.ow + 15) / 16, grid_units = (grid_n + 15) / 16;
  const bool exact = l.row_len != g.ow && exact_units < grid_units;
  ImplicitB ctx{padded, tap_off, l.chan_len, g.kh * g.kw};
  if (exact) {
    ctx.exact_ow = g.ow;
    ctx.row_len = l.row_len;
  }
  gemm_internal::StridedGemm s;
  s.m = g.mg;
  s.n = exact ? g.oh * g.ow : grid_n;
  s.k = g.cg * g.kh * g.kw;
  s.a = w;
  s.a_rs = s.k;
  s.a_cs = 1;
  s.packed_a = packed_w;
  s.c = exact ? y : grid;
  s.ldc = s.n;
  s.row_bias = row_bias;
  // With an addend the activation follows the sum: the exact layout writes y, so the GEMM's
  // tile epilogue adds it (no pass of its own over y); the grid adds it in the compaction.
  if (exact) {
    s.act = act;
    s.sum = sum;
    s.sum_ld = s.n;
  } else if (sum == nullptr) {
    s.act = act;
  }
  s.pack_b_fn = &PackImplicitB;
  s.pack_b_ctx = &ctx;
  gemm_internal::RunGemm(s, gemm_internal::Isa::kAuto, pool);

  if (exact) return;

  // Compact: drop the R - ow columns past the image in every output row (adding the addend
  // and applying the activation there when there is one: the row is hot either way).
  const bool relu = act.kind == Activation::kRelu;
  pool.ParallelFor(g.mg, std::max<int64_t>(1, 16384 / std::max<int64_t>(grid_n, 1)),
                   [&](int64_t b, int64_t e) {
                     for (int64_t m = b; m < e; ++m) {
                       for (int64_t oy = 0; oy < g.oh; ++oy) {
                         const float* src = grid + m * grid_n + oy * l.row_len;
                         float* dst = y + (m * g.oh + oy) * g.ow;
                         if (sum == nullptr) {
                           std::memcpy(dst, src, static_cast<size_t>(g.ow) * sizeof(float));
                           continue;
                         }
                         const float* add = sum + (m * g.oh + oy) * g.ow;
                         if (relu) {
                           for (int64_t q = 0; q < g.ow; ++q)
                             dst[q] = std::max(src[q] + add[q], 0.f);
                         } else {
                           for (int64_t q = 0; q < g.ow; ++q) dst[q] = src[q] + add[q];
                           if (act.kind != Activation::kNone) ApplyActivation(act, dst, g.ow);
                         }
                       }
                     }
                   });
}

}  // namespace mlos::kernels::internal

namespace mlos::kernels::internal {

namespace {

// The transposed form with A read in place (PackedSgemmDirectA): no packing of either operand
// and, with rows of 28 or more pixels, row tiles that waste nothing (56 = 4 x 12 + 8, 28 = 12 +
// 8 + 8). Output channels in whole 32-column slivers.
// Not for few input channels: the 3-channel stems keep their direct kernel (conv2d_smallc;
// 7x7 s2 3->64 @224, 1-thread: 1.23 ms there, 1.35-1.50 ms here).
// With the 14-row kernel (conv2d_direct_a.h) also rows of 14 pixels (one tile each) and 7 (a
// tile per pair of rows); the transposed form packed A per call and per task for them.
bool DirectTPreferred(const ImplicitConvGeom& g) {
  const bool rows_fit = g.ow >= 28 || (DirectA14Available() && (g.ow == 14 || g.ow == 7));
  return rows_fit && g.mg % 32 == 0 && g.cg >= 32 && ImplicitConvSupported(g) &&
         MicroKernels().direct_a_kernel != nullptr && MicroKernels().mr == 12;
}

}  // namespace

bool ImplicitConvTransposedPreferred(const ImplicitConvGeom& g) {
  const int64_t hw = g.oh * g.ow;
  if (DirectTPreferred(g)) return true;
  if (g.mg < 64 || hw <= 0 || !ImplicitConvSupported(g)) return false;
  const Layout l = LayoutFor(g);
  // Columns the plain form computes (16-column units; a lone tail unit costs half a sliver)
  // against the rows the transposed form computes (12-row tiles; a tail tile of 4 or 8 rows).
  const int64_t units = std::min((hw + 15) / 16, (g.oh * l.row_len + 15) / 16);
  const int64_t cols = units / 2 * 32 + units % 2 * 16;
  const int64_t tail = hw % 12;
  const int64_t rows = hw / 12 * 12 + (tail == 0 ? 0 : tail <= 4 ? 4 : tail <= 8 ? 8 : 12);
  // A 3% margin for the transposed form's extra passes (packing A per call and per task, the
  // transpose). 1-thread min, plain -> transposed: 512ch @7 (52 vs 64) 1.45-1.55 -> 1.21-1.36
  // ms; 256ch @14 (196 vs 208) 1.19-1.24 -> 1.145-1.16 (2 threads 0.65-0.67 -> 0.62-0.63);
  // equal counts lose: 128ch @28 1.15-1.18 -> 1.18-1.21, 64ch @56 1.22-1.25 -> 1.33-1.34.
  return rows * 100 < cols * 97;
}

int64_t ImplicitConvTScratchFloats(const ImplicitConvGeom& g) {
  const Layout l = LayoutFor(g);
  // Then the direct form's depth-row offsets (int64, 2 floats each).
  return g.cg * l.chan_len + (g.mg * g.oh * g.ow + 15) / 16 * 16 + 2 * g.cg * g.kh * g.kw;
}

void ImplicitGemmConvT(const ImplicitConvGeom& g, const float* x, const PackedMatrix& wt,
                       const float* bias, const ActivationParams& act, float* y, float* scratch,
                       ThreadPool& pool, const float* sum) {
  const Layout l = LayoutFor(g);
  float* padded = scratch;
  float* yt = scratch + g.cg * l.chan_len;
  const int64_t hw = g.oh * g.ow;
  int64_t tap_off[kMaxTaps];
  FillPhasesAndTaps(g, l, x, padded, tap_off, pool);
  const int64_t k = g.cg * g.kh * g.kw, taps = g.kh * g.kw;
  if (DirectTPreferred(g) && DirectAConvAvailable(wt) && wt.k() == k && wt.n() == g.mg) {
    int64_t* offs = reinterpret_cast<int64_t*>(yt + (g.mg * hw + 15) / 16 * 16);
    for (int64_t p = 0; p < k; ++p) offs[p] = (p / taps) * l.chan_len + tap_off[p % taps];
    DirectAConvArgs d;
    d.a = padded;
    d.aoffs = offs;
    d.oh = g.oh;
    d.ow = g.ow;
    d.row_len = l.row_len;
    d.c = yt;
    d.ldc = g.mg;
    d.bias = bias;
    if (DirectAConvPlanesAvailable(wt, g.ow)) {
      // Whole-depth tiles written straight into y with the addend and the activation.
      d.y_planes = y;
      d.sum = sum;
      d.activation = act;
      PackedSgemmDirectA(d, wt, pool);
      return;
    }
    if (sum == nullptr) d.activation = act;
    PackedSgemmDirectA(d, wt, pool);
  } else {
    const ImplicitA ctx{padded, tap_off, l.chan_len, g.kh * g.kw, g.ow, l.row_len};
    PackedGemmArgs a;
    a.m = hw;
    a.c = yt;
    a.ldc = g.mg;
    a.bias = bias;
    // With an addend the activation follows the sum, applied after the transpose.
    if (sum == nullptr) a.activation = act;
    a.pack_a_fn = &PackImplicitA;
    a.pack_a_ctx = &ctx;
    PackedSgemm(a, wt, pool);
  }
  // Without an addend the activation already ran in the GEMM epilogue.
  TransposeToPlanes(yt, hw, g.mg, y, pool, sum, sum != nullptr ? act : ActivationParams{});
}

}  // namespace mlos::kernels::internal
