// AVX-512 body of the few-input-channel direct convolution (conv2d_smallc.h). A block of up to
// 4 output channels x U vectors of 16 output columns of one output row is kept in registers;
// each tap (input channel, i, j) loads U vectors from the padded, stride-phase-split input
// planes (contiguous whatever the stride or padding) and feeds them to the 4 channels' FMAs,
// so every input load is used 4 times. Bias starts the accumulators; ReLU/Clip/SiLU/Sigmoid are
// applied in registers, other activations on the finished row. Like gemm_avx512.cc the target
// is switched with a pragma after the standard headers and everything compiled under it is
// entered only after the run-time check in conv2d_smallc.cc.
// Why 4 channels x 4 vectors: the tap loop is FMA-bound (perf annotate: 4 loads, 4 broadcasts,
// 16 FMAs and 5 scalar ops per tap, no spills) and already does the ideal FMA count (every
// lane a real output; the 7x7 s2 3->64 stem at 224 is 7.38 M zmm FMAs). Measured A/B on that
// stem, 1 thread, no gain from: 6-channel blocks (10 loads per 24 FMAs), 3 channels x 7
// vectors (one block per 112-column row, fewer broadcasts; ~5% slower), or loads made
// cache-line aligned (a timing-only hack), and 3- and 4-vector blocks run at the same FMA
// rate, so neither load traffic, broadcasts, line-split loads nor the row tail is the limit.
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/conv2d_smallc.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>

#include "kernels/cpu/avx512_math.h"

namespace mlos::kernels::internal {
namespace {

enum class Act { kNone, kRelu, kClip, kSilu, kSigmoid, kOther };

Act ActFor(Activation a) {
  switch (a) {
    case Activation::kNone:
      return Act::kNone;
    case Activation::kRelu:
      return Act::kRelu;
    case Activation::kClip:
      return Act::kClip;
    case Activation::kSilu:
      return Act::kSilu;
    case Activation::kSigmoid:
      return Act::kSigmoid;
    default:
      return Act::kOther;
  }
}

// MB output channels (m0 ...) x U vectors starting at output column col0 of output row `origin`.
template <int MB, int U>
inline void Block(const float* origin, const int64_t* tap_off, int64_t taps, const float* w,
                  const float* bias, int64_t m0, float* const* yrows, int64_t col0, int64_t ow,
                  Act mode, float lo_v, float hi_v) {
  __m512 acc[MB][U];
  for (int c = 0; c < MB; ++c) {
    const __m512 b = _mm512_set1_ps(bias != nullptr ? bias[m0 + c] : 0.f);
    for (int u = 0; u < U; ++u) acc[c][u] = b;
  }
  const float* wc = w + m0 * taps;
  for (int64_t t = 0; t < taps; ++t) {
    const float* src = origin + tap_off[t] + col0;
    __m512 v[U];
    for (int u = 0; u < U; ++u) v[u] = _mm512_loadu_ps(src + 16 * u);
    for (int c = 0; c < MB; ++c) {
      const __m512 wv = _mm512_set1_ps(wc[c * taps + t]);
      for (int u = 0; u < U; ++u) acc[c][u] = _mm512_fmadd_ps(wv, v[u], acc[c][u]);
    }
  }
  const __m512 lo = _mm512_set1_ps(lo_v), hi = _mm512_set1_ps(hi_v), zero = _mm512_setzero_ps();
  for (int c = 0; c < MB; ++c) {
    for (int u = 0; u < U; ++u) {
      __m512 v = acc[c][u];
      // max(zero, v) / min(hi, v) return v when v is NaN, so NaN propagates as in ONNX.
      if (mode == Act::kRelu) v = _mm512_mask_max_ps(v, __mmask16(0xFFFF), zero, v);
      if (mode == Act::kClip) {
        v = _mm512_mask_max_ps(v, __mmask16(0xFFFF), lo, v);
        v = _mm512_mask_min_ps(v, __mmask16(0xFFFF), hi, v);
      }
      if (mode == Act::kSilu) v = Silu16(v);
      if (mode == Act::kSigmoid) v = Sigmoid16(v);
      const int64_t col = col0 + 16 * u, left = ow - col;
      if (left >= 16) {
        _mm512_storeu_ps(yrows[c] + col, v);
      } else {
        _mm512_mask_storeu_ps(yrows[c] + col, static_cast<__mmask16>((1u << left) - 1), v);
      }
    }
  }
}

template <int MB>
void Row(const float* origin, const int64_t* tap_off, int64_t taps, const float* w,
         const float* bias, int64_t m0, float* const* yrows, int64_t ow, Act mode, float lo,
         float hi) {
  const int64_t vecs = (ow + 15) / 16;
  int64_t v = 0;
  for (; v + 4 <= vecs; v += 4) {
    Block<MB, 4>(origin, tap_off, taps, w, bias, m0, yrows, v * 16, ow, mode, lo, hi);
  }
  switch (vecs - v) {
    case 3:
      Block<MB, 3>(origin, tap_off, taps, w, bias, m0, yrows, v * 16, ow, mode, lo, hi);
      break;
    case 2:
      Block<MB, 2>(origin, tap_off, taps, w, bias, m0, yrows, v * 16, ow, mode, lo, hi);
      break;
    case 1:
      Block<MB, 1>(origin, tap_off, taps, w, bias, m0, yrows, v * 16, ow, mode, lo, hi);
      break;
    default:
      break;
  }
}

}  // namespace

void SmallChannelRowsAvx512(const DepthwiseGeom& g, const PaddedLayout& l, const float* planes,
                            const float* w, const float* bias, int64_t m, float* y, int64_t y_plane,
                            int64_t begin, int64_t end) {
  int64_t tap_off[kSmallConvMaxTaps];
  const int64_t taps = g.c * g.kh * g.kw;
  for (int64_t ci = 0; ci < g.c; ++ci) {
    for (int64_t i = 0; i < g.kh; ++i) {
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t phase = (j * g.dw) % g.sw, shift = (j * g.dw) / g.sw;
        tap_off[(ci * g.kh + i) * g.kw + j] =
            ci * l.floats + (phase * l.rows + i * g.dh) * l.row_len + shift;
      }
    }
  }
  const Act mode = ActFor(g.act.kind);
  const int64_t blocks = (m + 3) / 4;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t oy = task / blocks, m0 = (task % blocks) * 4, mb = std::min<int64_t>(4, m - m0);
    const float* origin = planes + oy * g.sh * l.row_len;
    float* yrows[4];
    for (int64_t c = 0; c < mb; ++c) yrows[c] = y + (m0 + c) * y_plane + oy * g.ow;
    switch (mb) {
      case 4:
        Row<4>(origin, tap_off, taps, w, bias, m0, yrows, g.ow, mode, g.act.min, g.act.max);
        break;
      case 3:
        Row<3>(origin, tap_off, taps, w, bias, m0, yrows, g.ow, mode, g.act.min, g.act.max);
        break;
      case 2:
        Row<2>(origin, tap_off, taps, w, bias, m0, yrows, g.ow, mode, g.act.min, g.act.max);
        break;
      default:
        Row<1>(origin, tap_off, taps, w, bias, m0, yrows, g.ow, mode, g.act.min, g.act.max);
        break;
    }
    if (mode == Act::kOther) {
      for (int64_t c = 0; c < mb; ++c) ApplyActivation(g.act, yrows[c], g.ow);
    }
  }
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
