// The AVX-512 direct pointwise kernel (conv2d_pointwise_internal.h): register tiles of up to 12
// output channels x 32 positions fed straight from the NCHW input rows and the row-major
// weight, so nothing is packed; bias, Relu, Clip, Sigmoid and SiLU are applied in registers. Like
// gemm_avx512.cc, the target is switched with a pragma after the standard headers and
// everything compiled under it has internal linkage except the entry point. Entered only after
// the run-time check.
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/conv2d_pointwise_internal.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>

#include "kernels/cpu/avx512_math.h"

namespace mlos::kernels::internal {
namespace {

// R output channels x up to 16 * U positions (masks lo/hi for the two 16-lane halves; U = 1
// for a last block of at most 16 columns, which would otherwise pay for 32: a 14x14 plane is 6
// blocks of 32 and one of 4).
template <int R, int U>
void Tile(const float* w, int64_t k, const float* x, int64_t hw, __mmask16 lo, __mmask16 hi,
          const float* bias, const ActivationParams& act, int cols, float* y, const float* pf) {
  __m512 acc[R][U];
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    acc[r][0] = bias != nullptr ? _mm512_set1_ps(bias[r]) : _mm512_setzero_ps();
    if constexpr (U == 2) acc[r][1] = acc[r][0];
  }
  for (int64_t p = 0; p < k; ++p) {
    const float* xr = x + p * hw;
    const __m512 b0 = _mm512_maskz_loadu_ps(lo, xr);
    const __m512 b1 = U == 2 ? _mm512_maskz_loadu_ps(hi, xr + 16) : b0;
    if (pf != nullptr) {
      _mm_prefetch(reinterpret_cast<const char*>(pf + p * hw), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(pf + p * hw + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(w[r * k + p]);
      acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
      if constexpr (U == 2) acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
    }
  }
  const bool relu = act.kind == Activation::kRelu, clip = act.kind == Activation::kClip;
  const bool silu = act.kind == Activation::kSilu, sigmoid = act.kind == Activation::kSigmoid;
  const bool inline_act = relu || clip || silu || sigmoid || act.kind == Activation::kNone;
  const __m512 vmin = _mm512_set1_ps(relu ? 0.f : act.min);
  const __m512 vmax = _mm512_set1_ps(act.max);
  const __mmask16 all = 0xFFFF;
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    __m512 v0 = acc[r][0], v1 = acc[r][U - 1];
    if (relu || clip) {
      // max/min return their second operand when either is NaN, so NaN passes through.
      v0 = _mm512_mask_max_ps(v0, all, vmin, v0);
      v1 = _mm512_mask_max_ps(v1, all, vmin, v1);
    }
    if (clip) {
      v0 = _mm512_mask_min_ps(v0, all, vmax, v0);
      v1 = _mm512_mask_min_ps(v1, all, vmax, v1);
    }
    if (silu) {
      v0 = Silu16(v0);
      v1 = Silu16(v1);
    }
    if (sigmoid) {
      v0 = Sigmoid16(v0);
      v1 = Sigmoid16(v1);
    }
    float* row = y + r * hw;
    _mm512_mask_storeu_ps(row, lo, v0);
    if constexpr (U == 2) _mm512_mask_storeu_ps(row + 16, hi, v1);
    if (!inline_act) ApplyActivation(act, row, cols);
  }
}

constexpr int64_t kPrefetchColumns = 128;

using TileFn = void (*)(const float*, int64_t, const float*, int64_t, __mmask16, __mmask16,
                        const float*, const ActivationParams&, int, float*, const float*);

constexpr TileFn kTiles[2][13] = {
    {nullptr, &Tile<1, 1>, &Tile<2, 1>, &Tile<3, 1>, &Tile<4, 1>, &Tile<5, 1>, &Tile<6, 1>,
     &Tile<7, 1>, &Tile<8, 1>, &Tile<9, 1>, &Tile<10, 1>, &Tile<11, 1>, &Tile<12, 1>},
    {nullptr, &Tile<1, 2>, &Tile<2, 2>, &Tile<3, 2>, &Tile<4, 2>, &Tile<5, 2>, &Tile<6, 2>,
     &Tile<7, 2>, &Tile<8, 2>, &Tile<9, 2>, &Tile<10, 2>, &Tile<11, 2>, &Tile<12, 2>}};

}  // namespace

void PointwiseDirectAvx512(const float* w, int64_t m, int64_t k, const float* x, int64_t hw,
                           const float* bias, const ActivationParams& act, float* y, int64_t j0,
                           int64_t j1) {
  for (int64_t jb = j0; jb < j1; jb += 32) {
    const int cols = static_cast<int>(std::min<int64_t>(32, j1 - jb));
    const __mmask16 lo = LaneMask16(cols);
    const __mmask16 hi = LaneMask16(cols - 16);
    // The first row group pulls the input columns a few blocks ahead into L1: the NCHW rows
    // are k separate streams, more than the hardware prefetcher follows.
    const int64_t pf_col = jb + kPrefetchColumns;
    for (int64_t o0 = 0; o0 < m; o0 += 12) {
      const int rows = static_cast<int>(std::min<int64_t>(12, m - o0));
      kTiles[cols > 16 ? 1 : 0][rows](
          w + o0 * k, k, x + jb, hw, lo, hi, bias != nullptr ? bias + o0 : nullptr, act, cols,
          y + o0 * hw + jb, o0 == 0 && pf_col < j1 ? x + pf_col : nullptr);
    }
  }
}

void GatherStridedAvx512(const float* x, int64_t h, int64_t w, int64_t sh, int64_t sw, int64_t oh,
                         int64_t ow, int64_t c0, int64_t c1, float* out) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int64_t ch = c0; ch < c1; ++ch) {
    const float* plane = x + ch * h * w;
    float* dst = out + (ch - c0) * oh * ow;
    for (int64_t oy = 0; oy < oh; ++oy) {
      const float* row = plane + oy * sh * w;
      float* o = dst + oy * ow;
      if (sw != 2) {
        for (int64_t ox = 0; ox < ow; ++ox) o[ox] = row[ox * sw];
        continue;
      }
      // Two 16-column loads per 16 outputs, the even lanes kept; loads past the row end are
      // masked (the last output reads column 2 * (ow - 1) < w).
      int64_t ox = 0;
      for (; ox + 16 <= ow && 2 * ox + 32 <= w; ox += 16) {
        _mm512_storeu_ps(o + ox, _mm512_permutex2var_ps(_mm512_loadu_ps(row + 2 * ox), even,
                                                        _mm512_loadu_ps(row + 2 * ox + 16)));
      }
      for (; ox < ow; ox += 16) {
        const int64_t c = 2 * ox;
        const int64_t na = std::clamp<int64_t>(w - c, 0, 16),
                      nb = std::clamp<int64_t>(w - c - 16, 0, 16);
        const __m512 z = _mm512_setzero_ps();
        const __m512 a = _mm512_mask_loadu_ps(z, static_cast<__mmask16>((1u << na) - 1), row + c);
        const __m512 b =
            _mm512_mask_loadu_ps(z, static_cast<__mmask16>((1u << nb) - 1), row + c + 16);
        const int64_t n = std::min<int64_t>(16, ow - ox);
        _mm512_mask_storeu_ps(o + ox, static_cast<__mmask16>((1u << n) - 1),
                              _mm512_permutex2var_ps(a, even, b));
      }
    }
  }
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
