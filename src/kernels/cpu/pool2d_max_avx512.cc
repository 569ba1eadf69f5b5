// Direct AVX-512 max pooling (pool2d_max.h). The padded-plane path it replaces copied every
// input plane into a -inf-bordered scratch plane first, which cost more than the pooling itself
// (resnet34's 3x3 s2 MaxPool over 64 x 112x112 was ~3x ONNX Runtime). Here only one output row's
// vertical max (w floats plus the -inf border) goes through scratch; input rows are read in place
// with unmasked loads except for the last partial vector of a row. Like the other *_avx512.cc
// files, the target is switched with a pragma after the standard headers.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/pool2d_max.h"
#include "kernels/cpu/scratch_buffer.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>

namespace mlos::kernels::internal {
namespace {

// Masked forms of max and gather: GCC 12 warns (maybe-uninitialized) on the plain ones.
inline __m512 Max(__m512 a, __m512 b) { return _mm512_mask_max_ps(b, __mmask16(0xFFFF), a, b); }

inline __mmask16 TailMask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
}

// Vertical max of the window rows of output row `oy` into row[0, w) (row is the buffer position
// of input column 0). Rows outside the image are padding (-inf) and are skipped.
inline void VerticalMax(const DepthwiseGeom& g, const float* plane, int64_t oy, float* row) {
  const int64_t sy = oy * g.sh - g.pt;
  int64_t i0 = sy >= 0 ? 0 : (-sy + g.dh - 1) / g.dh;
  int64_t i1 = sy >= g.h ? 0 : std::min<int64_t>(g.kh, (g.h - 1 - sy) / g.dh + 1);
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  if (i1 <= i0) {
    for (int64_t c = 0; c < g.w; c += 16) _mm512_mask_storeu_ps(row + c, TailMask(g.w - c), ninf);
    return;
  }
  const float* r0 = plane + (sy + i0 * g.dh) * g.w;
  const int64_t rstep = g.dh * g.w, nrows = i1 - i0;
  const __m512 qnan = _mm512_set1_ps(NAN);
  int64_t c = 0;
  for (; c + 16 <= g.w; c += 16) {
    __m512 v = _mm512_loadu_ps(r0 + c);
    __mmask16 nan = 0;
    for (int64_t i = 1; i < nrows; ++i) {
      const __m512 a = _mm512_loadu_ps(r0 + i * rstep + c);
      nan |= _mm512_cmp_ps_mask(v, a, _CMP_UNORD_Q);
      v = Max(v, a);
    }
    _mm512_storeu_ps(row + c, _mm512_mask_blend_ps(nan, v, qnan));
  }
  if (c < g.w) {
    const __mmask16 m = TailMask(g.w - c);
    __m512 v = _mm512_mask_loadu_ps(_mm512_setzero_ps(), m, r0 + c);
    __mmask16 nan = 0;
    for (int64_t i = 1; i < nrows; ++i) {
      const __m512 a = _mm512_mask_loadu_ps(_mm512_setzero_ps(), m, r0 + i * rstep + c);
      nan |= _mm512_cmp_ps_mask(v, a, _CMP_UNORD_Q);
      v = Max(v, a);
    }
    _mm512_mask_storeu_ps(row + c, m, _mm512_mask_blend_ps(nan, v, qnan));
  }
}

// 16 buffer values b[base + l*SW] (SW 1 or 2; 0 means the run-time stride sw, via a gather).
template <int SW>
inline __m512 Taps(const float* b, int64_t base, __m512i gather_idx) {
  if constexpr (SW == 1) {
    return _mm512_loadu_ps(b + base);
  } else if constexpr (SW == 2) {
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(b + base), even, _mm512_loadu_ps(b + base + 16));
  } else {
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), __mmask16(0xFFFF), gather_idx, b + base,
                                    4);
  }
}

template <int SW>
void HorizontalMax(const DepthwiseGeom& g, const float* buf, float* out) {
  const __m512i gather_idx =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int>(g.sw)));
  const __m512 qnan = _mm512_set1_ps(NAN);
  for (int64_t ox = 0; ox < g.ow; ox += 16) {
    const int64_t base = ox * g.sw;
    __m512 acc = Taps<SW>(buf, base, gather_idx);
    __mmask16 nan = 0;
    for (int64_t j = 1; j < g.kw; ++j) {
      const __m512 v = Taps<SW>(buf, base + j * g.dw, gather_idx);
      nan |= _mm512_cmp_ps_mask(acc, v, _CMP_UNORD_Q);
      acc = Max(acc, v);
    }
    _mm512_mask_storeu_ps(out + ox, TailMask(g.ow - ox), _mm512_mask_blend_ps(nan, acc, qnan));
  }
}

// Vertical max over nrows rows (rstep apart) of the 16 columns at r0 (lanes outside `m` load as
// -inf); a column that meets a NaN comes out NaN.
inline __m512 ColumnMax(const float* r0, int64_t rstep, int64_t nrows, __mmask16 m) {
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  __m512 v = _mm512_mask_loadu_ps(ninf, m, r0);
  __mmask16 nan = 0;
  for (int64_t i = 1; i < nrows; ++i) {
    const __m512 a = _mm512_mask_loadu_ps(ninf, m, r0 + i * rstep);
    nan |= _mm512_cmp_ps_mask(v, a, _CMP_UNORD_Q);
    v = Max(v, a);
  }
  return _mm512_mask_blend_ps(nan, v, _mm512_set1_ps(NAN));
}

inline __m512 ColumnMax(const float* r0, int64_t rstep, int64_t nrows) {
  __m512 v = _mm512_loadu_ps(r0);
  __mmask16 nan = 0;
  for (int64_t i = 1; i < nrows; ++i) {
    const __m512 a = _mm512_loadu_ps(r0 + i * rstep);
    nan |= _mm512_cmp_ps_mask(v, a, _CMP_UNORD_Q);
    v = Max(v, a);
  }
  return _mm512_mask_blend_ps(nan, v, _mm512_set1_ps(NAN));
}

// Max of a and b, NaN where either is NaN.
inline __m512 MaxNan(__m512 a, __m512 b) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q), Max(a, b),
                              _mm512_set1_ps(NAN));
}

// One output row of a stride-2 pool with kernel width 3 and left pad 1 (KW 3) or kernel width 2
// and no left pad (KW 2) -- the CNN stem pools -- without the row buffer: two vectors of
// vertical maxima cover input columns [2*ox, 2*ox + 32) of 16 outputs, a permute splits them
// into even and odd columns, and for KW 3 the column left of each window is the odd vector
// shifted up one lane, carrying in the previous block's last odd column (-inf left of the image).
// Columns past the image load as -inf. (Storing the vertical maxima and reloading them shifted,
// as the buffered path does, stalls on store forwarding.)
template <int KW>
void FusedRowS2(const float* r0, int64_t rstep, int64_t nrows, int64_t w, int64_t ow, float* out) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i up1 =
      _mm512_setr_epi32(15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
  __m512 prev_odd = _mm512_set1_ps(-INFINITY);
  for (int64_t ox = 0; ox < ow; ox += 16) {
    const int64_t c = 2 * ox;
    __m512 a, b;
    if (c + 32 <= w) {
      a = ColumnMax(r0 + c, rstep, nrows);
      b = ColumnMax(r0 + c + 16, rstep, nrows);
    } else {
      a = ColumnMax(r0 + c, rstep, nrows, TailMask(std::max<int64_t>(w - c, 0)));
      b = ColumnMax(r0 + c + 16, rstep, nrows, TailMask(std::max<int64_t>(w - c - 16, 0)));
    }
    const __m512 ev = _mm512_permutex2var_ps(a, even, b);
    const __m512 od = _mm512_permutex2var_ps(a, odd, b);
    __m512 m = MaxNan(ev, od);
    if constexpr (KW == 3) {
      m = MaxNan(m, _mm512_permutex2var_ps(prev_odd, up1, od));
      prev_odd = od;
    }
    _mm512_mask_storeu_ps(out + ox, TailMask(ow - ox), m);
  }
}

}  // namespace

bool MaxPoolDirectAvx512(const DepthwiseGeom& g, const float* x, float* y, int64_t begin,
                         int64_t end) {
  const bool fused2 =
      g.sw == 2 && g.dw == 1 && ((g.kw == 3 && g.pl == 1) || (g.kw == 2 && g.pl == 0));
  if (fused2) {
    for (int64_t p = begin; p < end; ++p) {
      const float* plane = x + p * g.h * g.w;
      float* out = y + p * g.oh * g.ow;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int64_t sy = oy * g.sh - g.pt;
        const int64_t i0 = sy >= 0 ? 0 : (-sy + g.dh - 1) / g.dh;
        const int64_t i1 = sy >= g.h ? 0 : std::min<int64_t>(g.kh, (g.h - 1 - sy) / g.dh + 1);
        const float* r0 = plane + (sy + i0 * g.dh) * g.w;
        if (i1 <= i0) {
          std::fill(out + oy * g.ow, out + (oy + 1) * g.ow, -INFINITY);
        } else if (g.kw == 3) {
          FusedRowS2<3>(r0, g.dh * g.w, i1 - i0, g.w, g.ow, out + oy * g.ow);
        } else {
          FusedRowS2<2>(r0, g.dh * g.w, i1 - i0, g.w, g.ow, out + oy * g.ow);
        }
      }
    }
    return true;
  }
  // Buffer column b holds input column b - pl; every tap of every (16-rounded) output column,
  // plus the second vector the stride-2 deinterleave loads, lies inside it.
  const int64_t ow16 = (g.ow + 15) / 16 * 16;
  const int64_t width = std::max(g.pl + g.w, ow16 * g.sw + (g.kw - 1) * g.dw) + 32;
  thread_local ScratchBuffer scratch;
  float* buf = scratch.Get(width);
  if (buf == nullptr) return false;
  std::fill(buf, buf + width, -INFINITY);
  float* row = buf + g.pl;
  for (int64_t p = begin; p < end; ++p) {
    const float* plane = x + p * g.h * g.w;
    float* out = y + p * g.oh * g.ow;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      VerticalMax(g, plane, oy, row);
      if (g.sw == 1) {
        HorizontalMax<1>(g, buf, out + oy * g.ow);
      } else if (g.sw == 2) {
        HorizontalMax<2>(g, buf, out + oy * g.ow);
      } else {
        HorizontalMax<0>(g, buf, out + oy * g.ow);
      }
    }
  }
  return true;
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
