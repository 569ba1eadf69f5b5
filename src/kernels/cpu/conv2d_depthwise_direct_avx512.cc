// AVX-512 depthwise convolution computed straight from the input rows (conv2d_depthwise_direct.h).
// The padded, phase-split copy of conv_depthwise_simd.h costs more than the multiply-adds on
// large planes (most of the kernel's time on 112x112 and 56x56 planes), so here a tap's 16
// output columns are loaded from the input row itself: stride 1 one unaligned load, stride 2
// two loads deinterleaved in registers (vpermt2ps gives the even or the odd columns). Only the
// vectors that touch the left or right image edge use masked loads (zeros outside the row);
// rows above or below the image read a zero row. Each block keeps R rows x U vectors of
// independent accumulators in registers; stride-2 planes at most 8 wide pack two output rows
// per vector. Like the other _avx512 files the target is switched
// with a pragma after the standard headers and everything compiled under it has internal
// linkage; entered only after the run-time check (prfchw: every AVX-512 CPU has PREFETCHW).
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/conv2d_depthwise_direct.h"
#include "kernels/cpu/conv_internal.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma,prfchw")
#include <immintrin.h>

#include "kernels/cpu/avx512_math.h"
#include "kernels/cpu/conv_depthwise_simd.h"

namespace mlos::kernels::internal {
namespace {

// Widest input row the direct path takes: rows outside the image read this many zeros.
constexpr int64_t kMaxWidth = 2048;
alignas(64) const float kZeroRow[kMaxWidth + 64] = {};

// Lanes of a 16-float vector whose lane 0 is column `col` that lie in [0, w).
inline __mmask16 ColMask(int64_t col, int64_t w) {
  const int64_t lo = std::clamp<int64_t>(-col, 0, 16), hi = std::clamp<int64_t>(w - col, 0, 16);
  if (hi <= lo) return 0;
  return static_cast<__mmask16>(((1u << (hi - lo)) - 1) << lo);
}

// row[col .. col + 16) with zeros in the lanes outside `m` (ColMask of the row); only those
// lanes are read, and the address is formed without out-of-range pointer arithmetic.
inline __m512 LoadMasked(const float* row, int64_t col, __mmask16 m) {
  const float* p = reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(row) +
                                                  static_cast<uintptr_t>(col * 4));
  return _mm512_maskz_loadu_ps(m, p);
}

inline __m512 Activate(__m512 v, RegAct mode, __m512 lo, __m512 hi) {
  // max(zero, v) and min(hi, v) return v when v is NaN, so NaN propagates as in ONNX.
  if (mode == RegAct::kRelu)
    return _mm512_mask_max_ps(v, __mmask16(0xFFFF), _mm512_setzero_ps(), v);
  if (mode == RegAct::kClip) {
    v = _mm512_mask_max_ps(v, __mmask16(0xFFFF), lo, v);
    return _mm512_mask_min_ps(v, __mmask16(0xFFFF), hi, v);
  }
  if (mode == RegAct::kSilu) return Silu16(v);
  if (mode == RegAct::kSigmoid) return Sigmoid16(v);
  return v;
}

// Loads per input row and vector: stride 1 one per tap, stride 2 two per even tap.
template <int KW, int SW>
constexpr int kLoads = SW == 1 ? KW : KW + 1;

// R output rows from `oy` x U vectors of 16 output columns from `ox` of one plane. rows: the
// (R - 1) * SH + KH input rows the block reads (the zero row above or below the image: no
// branch inside the unrolled body, which would make the compiler keep the accumulators in
// memory). mk: the column masks of vectors ox / 16 .. + U (kLoads each). kEdge: masked loads
// (and a masked store for a partial last vector), else plain loads.
template <int KH, int KW, int SH, int SW, int R, int U, bool kEdge>
inline void Block(const DepthwiseGeom& g, const float* const* rows, const __mmask16* mk,
                  const float* wc, __m512 bias, int64_t oy, int64_t ox, float* yp, RegAct mode) {
  __m512 acc[R][U];
  for (int r = 0; r < R; ++r) {
    for (int u = 0; u < U; ++u) acc[r][u] = bias;
  }
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_add_epi32(ie, _mm512_set1_epi32(1));
  const int64_t col0 = ox * SW - g.pl;
  constexpr int kRows = (R - 1) * SH + KH;
  constexpr int kL = kLoads<KW, SW>;
#pragma GCC unroll 32
  for (int ii = 0; ii < kRows; ++ii) {
    const float* row = rows[ii];
    if constexpr (SW == 1) {
#pragma GCC unroll 8
      for (int j = 0; j < KW; ++j) {
        __m512 xv[U];
        for (int u = 0; u < U; ++u) {
          const int64_t col = col0 + j + 16 * u;
          xv[u] = kEdge ? LoadMasked(row, col, mk[u * kL + j]) : _mm512_loadu_ps(row + col);
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const int i = ii - r * SH;
          if (i < 0 || i >= KH) continue;
          const __m512 wv = _mm512_set1_ps(wc[i * KW + j]);
          for (int u = 0; u < U; ++u) acc[r][u] = _mm512_fmadd_ps(wv, xv[u], acc[r][u]);
        }
      }
    } else {
#pragma GCC unroll 8
      for (int j = 0; j < KW; j += 2) {
        __m512 ev[U], od[U];
        for (int u = 0; u < U; ++u) {
          const int64_t col = col0 + j + 32 * u;
          const __m512 a =
              kEdge ? LoadMasked(row, col, mk[u * kL + j]) : _mm512_loadu_ps(row + col);
          const __m512 b = kEdge ? LoadMasked(row, col + 16, mk[u * kL + j + 1])
                                 : _mm512_loadu_ps(row + col + 16);
          ev[u] = _mm512_permutex2var_ps(a, ie, b);
          od[u] = j + 1 < KW ? _mm512_permutex2var_ps(a, io, b) : ev[u];
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const int i = ii - r * SH;
          if (i < 0 || i >= KH) continue;
          const __m512 we = _mm512_set1_ps(wc[i * KW + j]);
          for (int u = 0; u < U; ++u) acc[r][u] = _mm512_fmadd_ps(we, ev[u], acc[r][u]);
          if (j + 1 < KW) {
            const __m512 wo = _mm512_set1_ps(wc[i * KW + j + 1]);
            for (int u = 0; u < U; ++u) acc[r][u] = _mm512_fmadd_ps(wo, od[u], acc[r][u]);
          }
        }
      }
    }
  }
  const __m512 lo = _mm512_set1_ps(g.act.min), hi = _mm512_set1_ps(g.act.max);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float* yrow = yp + (oy + r) * g.ow + ox;
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      const __m512 v = Activate(acc[r][u], mode, lo, hi);
      const int64_t left = g.ow - ox - 16 * u;
      if (!kEdge || left >= 16) {
        _mm512_storeu_ps(yrow + 16 * u, v);
      } else {
        _mm512_mask_storeu_ps(yrow + 16 * u, static_cast<__mmask16>((1u << left) - 1), v);
      }
    }
  }
}

// Which output vectors of a row need no masking: [va, vb) (empty when vb <= va).
struct Interior {
  int64_t nv, va, vb;
};

template <int KW, int SW>
Interior InteriorFor(const DepthwiseGeom& g) {
  Interior in;
  in.nv = (g.ow + 15) / 16;
  in.va = (g.pl + 16 * SW - 1) / (16 * SW);
  // Furthest column a vector's loads touch, relative to its first input column.
  constexpr int64_t reach = SW == 1 ? (KW - 1) + 16 : ((KW - 1) & ~1) + 32;
  in.vb = in.nv;
  while (in.vb > 0) {
    const int64_t v = in.vb - 1, ox = 16 * v;
    if (ox + 16 <= g.ow && ox * SW - g.pl + reach <= g.w) break;
    --in.vb;
  }
  in.vb = std::max(in.vb, std::min(in.va, in.nv));
  in.va = std::min(in.va, in.vb);
  return in;
}

template <int KH, int KW, int SH, int SW, int R, int UI>
inline void Rows(const DepthwiseGeom& g, const Interior& in, const __mmask16* masks,
                 const float* xp, const float* wc, __m512 bias, int64_t oy, float* yp,
                 RegAct mode) {
  constexpr int kRows = (R - 1) * SH + KH, kL = kLoads<KW, SW>;
  const float* rows[kRows];
  for (int ii = 0; ii < kRows; ++ii) {
    const int64_t iy = oy * SH - g.pt + ii;
    rows[ii] = iy >= 0 && iy < g.h ? xp + iy * g.w : kZeroRow;
  }
  // Stride 1 loads even its interior vectors with (full) masks: a plain load is folded into
  // each FMA that uses it, so a row loaded once for 3 output rows became 3 loads (32@112:
  // 119.8 -> 105.3 us with masks, 144@56: 136.2 -> 126.3). Stride 2 permutes its loads first,
  // so they are loaded once either way.
  constexpr bool kMaskedInterior = SW == 1;
  int64_t v = 0;
  for (; v < in.va; ++v) {
    Block<KH, KW, SH, SW, R, 1, true>(g, rows, masks + v * kL, wc, bias, oy, 16 * v, yp, mode);
  }
  for (; v + UI <= in.vb; v += UI) {
    Block<KH, KW, SH, SW, R, UI, kMaskedInterior>(g, rows, masks + v * kL, wc, bias, oy, 16 * v, yp,
                                                  mode);
  }
  for (; v < in.vb; ++v) {
    Block<KH, KW, SH, SW, R, 1, kMaskedInterior>(g, rows, masks + v * kL, wc, bias, oy, 16 * v, yp,
                                                 mode);
  }
  for (; v < in.nv; ++v) {
    Block<KH, KW, SH, SW, R, 1, true>(g, rows, masks + v * kL, wc, bias, oy, 16 * v, yp, mode);
  }
}

// r rows (1..8) from oy; wide: stride-2 interior vectors two at a time (r <= 4).
template <int KH, int KW, int SH, int SW>
void RowsOf(int64_t r, bool wide, const DepthwiseGeom& g, const Interior& in,
            const __mmask16* masks, const float* xp, const float* wc, __m512 bias, int64_t oy,
            float* yp, RegAct mode) {
  if constexpr (SW == 2) {
    if (wide) {
      switch (r) {
        case 4:
          return Rows<KH, KW, SH, SW, 4, 2>(g, in, masks, xp, wc, bias, oy, yp, mode);
        case 3:
          return Rows<KH, KW, SH, SW, 3, 2>(g, in, masks, xp, wc, bias, oy, yp, mode);
        case 2:
          return Rows<KH, KW, SH, SW, 2, 2>(g, in, masks, xp, wc, bias, oy, yp, mode);
        default:
          return Rows<KH, KW, SH, SW, 1, 2>(g, in, masks, xp, wc, bias, oy, yp, mode);
      }
    }
  }
  switch (r) {
    case 8:
      return Rows<KH, KW, SH, SW, 8, 1>(g, in, masks, xp, wc, bias, oy, yp, mode);
    case 7:
      return Rows<KH, KW, SH, SW, 7, 1>(g, in, masks, xp, wc, bias, oy, yp, mode);
    case 6:
      return Rows<KH, KW, SH, SW, 6, 1>(g, in, masks, xp, wc, bias, oy, yp, mode);
    case 5:
      return Rows<KH, KW, SH, SW, 5, 1>(g, in, masks, xp, wc, bias, oy, yp, mode);
    case 4:
      return Rows<KH, KW, SH, SW, 4, 1>(g, in, masks, xp, wc, bias, oy, yp, mode);
    case 3:
      return Rows<KH, KW, SH, SW, 3, 1>(g, in, masks, xp, wc, bias, oy, yp, mode);
    case 2:
      return Rows<KH, KW, SH, SW, 2, 1>(g, in, masks, xp, wc, bias, oy, yp, mode);
    default:
      return Rows<KH, KW, SH, SW, 1, 1>(g, in, masks, xp, wc, bias, oy, yp, mode);
  }
}

// Stride 2, planes at most 8 wide: one vector holds two output rows (lanes 0..7 row oy, 8..15
// row oy + 1), so a 7x7 output fills 14 of 16 lanes instead of 7: per tap two masked loads
// (one input row each) and one permute that takes the even columns of both. P row pairs per
// block (independent accumulators). Stride 1 measured slower packed (its two masked loads per
// tap cost more than the idle lanes), so it keeps one row per vector.
template <int KH, int KW, int SH, int SW, int P>
inline void PackedBlock(const DepthwiseGeom& g, const float* xp, const float* wc, __m512 bias,
                        int64_t oy, float* yp, RegAct mode, const __mmask16* mk) {
  __m512 acc[P];
  for (int p = 0; p < P; ++p) acc[p] = bias;
  const __m512i pick = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  // Input rows the block reads: pair p, tap row i reads rows 2p*SH + i and (2p+1)*SH + i.
  constexpr int kRows = (2 * P - 1) * SH + KH;
  const int64_t iy0 = oy * SH - g.pt;
  const float* rows[kRows];
  for (int ii = 0; ii < kRows; ++ii) {
    const int64_t iy = iy0 + ii;
    rows[ii] = iy >= 0 && iy < g.h ? xp + iy * g.w : kZeroRow;
  }
  const int64_t c0 = -g.pl;
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 8
    for (int i = 0; i < KH; ++i) {
      const float* ra = rows[2 * p * SH + i];
      const float* rb = rows[(2 * p + 1) * SH + i];
#pragma GCC unroll 8
      for (int j = 0; j < KW; ++j) {
        const __m512 a = LoadMasked(ra, c0 + j, mk[j]);
        const __m512 b = LoadMasked(rb, c0 + j, mk[j]);
        const __m512 v = _mm512_permutex2var_ps(a, pick, b);
        acc[p] = _mm512_fmadd_ps(_mm512_set1_ps(wc[i * KW + j]), v, acc[p]);
      }
    }
  }
  const __m512 lo = _mm512_set1_ps(g.act.min), hi = _mm512_set1_ps(g.act.max);
  const __mmask16 out = static_cast<__mmask16>((1u << g.ow) - 1);
  for (int p = 0; p < P; ++p) {
    const int64_t r = oy + 2 * p;
    if (r >= g.oh) break;
    const __m512 v = Activate(acc[p], mode, lo, hi);
    _mm512_mask_storeu_ps(yp + r * g.ow, out, v);
    if (r + 1 < g.oh) {
      // Lanes 8..15 to row r + 1: the address is 8 floats before it (only those lanes written).
      float* q = reinterpret_cast<float*>(reinterpret_cast<uintptr_t>(yp + (r + 1) * g.ow) -
                                          static_cast<uintptr_t>(8 * 4));
      _mm512_mask_storeu_ps(q, static_cast<__mmask16>(out << 8), v);
    }
  }
}

template <int KH, int KW, int SH, int SW>
void PackedPlanes(const DepthwiseGeom& g, const float* x, const float* w, const float* bias,
                  float* y, int64_t begin, int64_t end) {
  static_assert(SW == 2);
  __mmask16 mk[KW];  // tap column j: the lanes of columns -pl + j + l inside the row
  for (int j = 0; j < KW; ++j) mk[j] = ColMask(-g.pl + j, g.w);
  const RegAct mode = RegActFor(g.act.kind);
  const int64_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
  const int64_t pairs = (g.oh + 1) / 2;
  for (int64_t pi = begin; pi < end; ++pi) {
    const int64_t ch = pi % g.c;
    const float* xp = x + pi * plane_in;
    const float* wc = w + ch * KH * KW;
    const __m512 bv = _mm512_set1_ps(bias != nullptr ? bias[ch] : 0.f);
    float* yp = y + pi * plane_out;
    int64_t pr = 0;
    while (pr < pairs) {
      const int64_t left = pairs - pr, blocks = (left + 3) / 4;
      const int64_t n = (left + blocks - 1) / blocks;
      switch (n) {
        case 4:
          PackedBlock<KH, KW, SH, SW, 4>(g, xp, wc, bv, 2 * pr, yp, mode, mk);
          break;
        case 3:
          PackedBlock<KH, KW, SH, SW, 3>(g, xp, wc, bv, 2 * pr, yp, mode, mk);
          break;
        case 2:
          PackedBlock<KH, KW, SH, SW, 2>(g, xp, wc, bv, 2 * pr, yp, mode, mk);
          break;
        default:
          PackedBlock<KH, KW, SH, SW, 1>(g, xp, wc, bv, 2 * pr, yp, mode, mk);
          break;
      }
      pr += n;
    }
    if (mode == RegAct::kOther) ApplyActivation(g.act, yp, plane_out);
  }
}

template <int KH, int KW, int SH, int SW>
void Planes(const DepthwiseGeom& g, const float* x, const float* w, const float* bias, float* y,
            int64_t begin, int64_t end) {
  // Stride 2 on planes at most 8 wide: two rows per vector (576 planes 14x14 -> 7x7: 27.3 ->
  // 19.5 us).
  if constexpr (SW == 2) {
    if (g.ow <= 8) return PackedPlanes<KH, KW, SH, SW>(g, x, w, bias, y, begin, end);
  }
  const Interior in = InteriorFor<KW, SW>(g);
  // Column masks of every output vector (the same for all rows and planes).
  constexpr int kL = kLoads<KW, SW>;
  __mmask16 masks[(kMaxWidth / 16 + 1) * kL];
  for (int64_t v = 0; v < in.nv; ++v) {
    const int64_t col0 = 16 * v * SW - g.pl;
    for (int j = 0; j < kL; ++j) {
      masks[v * kL + j] =
          SW == 1 ? ColMask(col0 + j, g.w) : ColMask(col0 + (j & ~1) + 16 * (j & 1), g.w);
    }
  }
  // About 8 independent accumulator chains per block (the FMA latency): 8 rows of one vector,
  // or, for stride 2 with interior vectors, 4 rows of two (each row then loads fewer taps).
  const bool wide = SW == 2 && in.vb - in.va >= 2;
  const int64_t rm = wide ? 4 : 8;
  const RegAct mode = RegActFor(g.act.kind);
  const int64_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
  // Software prefetch a block ahead on planes of 2K floats and more: the blocks read 8+ rows
  // column by column, which the hardware prefetchers follow late when the planes come from L3
  // or memory (in mobilenet_v2 at 1 thread: 3x3 s2 96@112 0.246 -> 0.190 ms). The planes are
  // contiguous, so one pointer runs ahead through the input of [begin, end). Stride 1 also
  // prefetches its output for writing (32@112: 0.134 -> 0.119 ms; stride 2, with a quarter
  // of the output, measured slower with it).
  const bool prefetch = plane_in >= 2048;
  const char* pf = reinterpret_cast<const char*>(x + begin * plane_in);
  const char* const pf_end = reinterpret_cast<const char*>(x + end * plane_in);
  const int64_t ahead = (2 * rm * SH + KH) * g.w * 4;  // bytes past a block's first row
  char* pfy = reinterpret_cast<char*>(y + begin * plane_out);
  char* const pfy_end = reinterpret_cast<char*>(y + end * plane_out);
  const int64_t ahead_y = 2 * rm * g.ow * 4;
  for (int64_t pi = begin; pi < end; ++pi) {
    const int64_t ch = pi % g.c;
    const float* xp = x + pi * plane_in;
    const float* wc = w + ch * KH * KW;
    const __m512 bv = _mm512_set1_ps(bias != nullptr ? bias[ch] : 0.f);
    float* yp = y + pi * plane_out;
    int64_t oy = 0;
    while (oy < g.oh) {
      // Equal blocks (7 rows: one of 7, 14: two of 7) rather than a full block and a short
      // one, which would run on too few chains.
      const int64_t left = g.oh - oy, blocks = (left + rm - 1) / rm;
      const int64_t r = (left + blocks - 1) / blocks;
      if (prefetch) {
        const float* row = xp + std::max<int64_t>(oy * SH - g.pt, 0) * g.w;
        const char* want = std::min(reinterpret_cast<const char*>(row) + ahead, pf_end);
        for (; pf < want; pf += 64) _mm_prefetch(pf, _MM_HINT_T0);
        if constexpr (SW == 1) {
          char* want_y = std::min(reinterpret_cast<char*>(yp + oy * g.ow) + ahead_y, pfy_end);
          for (; pfy < want_y; pfy += 64) _mm_prefetch(pfy, _MM_HINT_ET0);
        }
      }
      RowsOf<KH, KW, SH, SW>(r, wide, g, in, masks, xp, wc, bv, oy, yp, mode);
      oy += r;
    }
    if (mode == RegAct::kOther) ApplyActivation(g.act, yp, plane_out);
  }
}

}  // namespace

bool DepthwiseDirectSupported(const DepthwiseGeom& g) {
  const bool k3 = g.kh == 3 && g.kw == 3, k5 = g.kh == 5 && g.kw == 5;
  return (k3 || k5) && g.dh == 1 && g.dw == 1 && g.sh == g.sw && (g.sw == 1 || g.sw == 2) &&
         g.w <= kMaxWidth && g.ow <= kMaxWidth;
}

bool DepthwiseDirectAvx512(const DepthwiseGeom& g, const float* x, const float* w,
                           const float* bias, float* y, int64_t begin, int64_t end) {
  if (!DepthwiseDirectSupported(g)) return false;
  if (g.kh == 3) {
    if (g.sw == 1) {
      Planes<3, 3, 1, 1>(g, x, w, bias, y, begin, end);
    } else {
      Planes<3, 3, 2, 2>(g, x, w, bias, y, begin, end);
    }
  } else {
    if (g.sw == 1) {
      Planes<5, 5, 1, 1>(g, x, w, bias, y, begin, end);
    } else {
      Planes<5, 5, 2, 2>(g, x, w, bias, y, begin, end);
    }
  }
  return true;
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
