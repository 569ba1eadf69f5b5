// The SIMD body of the depthwise convolution, written once over a vector-traits type and
// instantiated by conv2d_depthwise_avx2.cc (AVX2/FMA, 8 lanes) and conv2d_depthwise_avx512.cc
// (AVX-512, 16 lanes; 8-lane AVX2 vectors for planes at most 8 wide). Include only from those
// files, after their ISA is enabled: everything here has internal linkage, so no code compiled
// for one ISA can be picked by the linker for another.
//
// Per plane (one channel of one image) the input is copied once into a zero-padded buffer split
// into `stride_w` column phases (phase s holds padded columns s, s + sw, s + 2 sw, ...). Then a
// tap (i, j) of output columns [ox, ox + lanes) reads one contiguous run of phase
// (j * dw) % sw, whatever the stride, dilation or padding: no bounds checks and no gathers in
// the inner loop, and the buffer's tail slack lets every load be a full vector. Bias starts the
// accumulators; ReLU/Clip are applied in registers, other activations on the output row while
// it is in L1. Pure function of its arguments plus the caller's scratch buffer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/conv_internal.h"

namespace mlos::kernels::internal {
namespace {

// Padded-buffer layout for one plane.
struct DwLayout {
  int64_t rows;     // padded rows that any output reads
  int64_t row_len;  // floats per phase row (multiple of 16)
  int64_t floats;   // whole buffer: stride_w phases x rows x row_len
};

inline DwLayout DwLayoutFor(const DepthwiseGeom& g, int lanes) {
  DwLayout l;
  l.rows = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
  const int64_t vecs = (g.ow + lanes - 1) / lanes;
  l.row_len = (vecs * lanes + ((g.kw - 1) * g.dw) / g.sw + 15) / 16 * 16;
  l.floats = g.sw * l.rows * l.row_len;
  return l;
}

// Stride 2: each input row is split into its even and odd padded columns with vector
// shuffles (V::Deinterleave2: 2 vectors in, even lanes and odd lanes out).
template <class V>
inline bool DwFillStride2(const DepthwiseGeom& g, const DwLayout& l, const float* x, float* buf,
                          float pad) {
  // Padded column pc = 2q + s is input column pc - pl. Vector path: input columns [c0, c0 + 2N)
  // map to q = (c0 + pl) / 2 ... when c0 + pl is even; pick c0 = pl % 2 so it is.
  constexpr int N = V::kLanes;
  const int64_t c0 = g.pl % 2;
  for (int64_t r = 0; r < l.rows; ++r) {
    float* even = buf + r * l.row_len;
    float* odd = buf + (l.rows + r) * l.row_len;
    const int64_t ir = r - g.pt;
    std::fill_n(even, l.row_len, pad);
    std::fill_n(odd, l.row_len, pad);
    if (ir < 0 || ir >= g.h) continue;
    const float* src = x + ir * g.w;
    int64_t c = c0;
    // q of input column c (c + pl even) is (c + pl) / 2 in `even`; c + 1 lands in `odd`.
    for (; c + 2 * N <= g.w && (c + g.pl) / 2 + N <= l.row_len; c += 2 * N) {
      const int64_t q = (c + g.pl) / 2;
      V::Deinterleave2(src + c, even + q, odd + q);
    }
    for (; c < g.w; ++c) {  // the tail, and column 0 when pl is odd
      const int64_t pc = c + g.pl, q = pc / 2;
      if (q < l.row_len) (pc % 2 == 0 ? even : odd)[q] = src[c];
    }
    if (c0 == 1) {
      const int64_t q = g.pl / 2;  // input column 0: padded column pl (odd)
      if (q < l.row_len) odd[q] = src[0];
    }
  }
  return true;
}

// Fills the phase buffer from one input plane (h x w), `pad` outside the image.
template <class V>
inline void DwFillPadded(const DepthwiseGeom& g, const DwLayout& l, const float* x, float* buf,
                         float pad = 0.f) {
  // Traits with masked loads (AVX-512) fill each padded row with whole-vector stores: no
  // per-row fill/copy calls, which dominate on 7x7 and 14x14 planes.
  if constexpr (requires { V::FillRowMasked(buf, x, 0, 0, 0, pad); }) {
    if (g.sw == 1 || g.sw == 2) {
      for (int64_t r = 0; r < l.rows; ++r) {
        const int64_t ir = r - g.pt;
        const bool inside = ir >= 0 && ir < g.h;
        const float* src = x + (inside ? ir : 0) * g.w;
        const int64_t width = inside ? g.w : 0;
        if (g.sw == 1) {
          V::FillRowMasked(buf + r * l.row_len, src, g.pl, width, l.row_len, pad);
        } else {
          V::FillRowMaskedS2(buf + r * l.row_len, buf + (l.rows + r) * l.row_len, src, g.pl, width,
                             l.row_len, pad);
        }
      }
      return;
    }
  }
  if (g.sw == 2 && DwFillStride2<V>(g, l, x, buf, pad)) return;
  for (int64_t s = 0; s < g.sw; ++s) {
    const Span1D cols = ValidOutputRange(s - g.pl, g.sw, g.w, l.row_len);
    for (int64_t r = 0; r < l.rows; ++r) {
      float* dst = buf + (s * l.rows + r) * l.row_len;
      const int64_t ir = r - g.pt;
      if (ir < 0 || ir >= g.h || cols.begin >= cols.end) {
        std::fill_n(dst, l.row_len, pad);
        continue;
      }
      const float* src = x + ir * g.w + s - g.pl;  // src[q * sw] is padded column q * sw + s
      std::fill_n(dst, cols.begin, pad);
      if (g.sw == 1) {
        std::memcpy(dst + cols.begin, src + cols.begin,
                    static_cast<size_t>(cols.end - cols.begin) * sizeof(float));
      } else {
        for (int64_t q = cols.begin; q < cols.end; ++q) dst[q] = src[q * g.sw];
      }
      std::fill_n(dst + cols.end, l.row_len - cols.end, pad);
    }
  }
}

// Planes [c0, c1) into buf (plane c at c * floats), in the 16-lane layout im2col shares.
template <class V>
inline void DwFillRange(const DepthwiseGeom& g, const float* x, int64_t c0, int64_t c1,
                        float* buf) {
  const DwLayout l = DwLayoutFor(g, 16);
  for (int64_t c = c0; c < c1; ++c) DwFillPadded<V>(g, l, x + c * g.h * g.w, buf + c * l.floats);
}

// Activations applied in registers; kOther: ApplyActivation on the finished plane.
enum class RegAct { kNone, kRelu, kClip, kSilu, kSigmoid, kOther };

inline RegAct RegActFor(Activation a) {
  switch (a) {
    case Activation::kNone:
      return RegAct::kNone;
    case Activation::kRelu:
      return RegAct::kRelu;
    case Activation::kClip:
      return RegAct::kClip;
    case Activation::kSilu:
      return RegAct::kSilu;
    case Activation::kSigmoid:
      return RegAct::kSigmoid;
    default:
      return RegAct::kOther;
  }
}

// R output rows x U vectors of one plane, starting at output row oy and vector v0.
template <class V, int R, int U>
inline void DwBlock(const DepthwiseGeom& g, const DwLayout& l, const float* buf,
                    const int64_t* tap_off, const float* w, float bias, int64_t oy, int64_t v0,
                    float* y, RegAct mode) {
  using T = typename V::T;
  T acc[R][U];
  const T b = V::Set1(bias);
  for (int r = 0; r < R; ++r) {
    for (int u = 0; u < U; ++u) acc[r][u] = b;
  }
  const int64_t col0 = v0 * V::kLanes;
  const float* origin = buf + oy * g.sh * l.row_len + col0;
  const int64_t taps = g.kh * g.kw, row_step = g.sh * l.row_len;
  for (int64_t t = 0; t < taps; ++t) {
    const T wv = V::Set1(w[t]);
    const float* base = origin + tap_off[t];
    for (int r = 0; r < R; ++r) {
      const float* row = base + r * row_step;
      for (int u = 0; u < U; ++u) acc[r][u] = V::Fma(wv, V::Load(row + u * V::kLanes), acc[r][u]);
    }
  }
  const T lo = V::Set1(g.act.min), hi = V::Set1(g.act.max), zero = V::Set1(0.f);
  for (int r = 0; r < R; ++r) {
    float* yrow = y + (oy + r) * g.ow + col0;
    for (int u = 0; u < U; ++u) {
      T v = acc[r][u];
      // max(zero, v) and min(hi, v) return v when v is NaN, so NaN propagates as in ONNX.
      if (mode == RegAct::kRelu) v = V::Max(zero, v);
      if (mode == RegAct::kClip) v = V::Min(hi, V::Max(lo, v));
      if (mode == RegAct::kSilu) v = V::Silu(v);
      if (mode == RegAct::kSigmoid) v = V::Sigmoid(v);
      const int64_t left = g.ow - col0 - u * V::kLanes;
      if (left >= V::kLanes) {
        V::Store(yrow + u * V::kLanes, v);
      } else {
        V::StorePartial(yrow + u * V::kLanes, v, static_cast<int>(left));
      }
    }
  }
}

template <class V, int R>
inline void DwRows(const DepthwiseGeom& g, const DwLayout& l, const float* buf,
                   const int64_t* tap_off, const float* w, float bias, int64_t oy, float* y,
                   RegAct mode) {
  const int64_t vecs = (g.ow + V::kLanes - 1) / V::kLanes;
  int64_t v = 0;
  for (; v + 4 <= vecs; v += 4) DwBlock<V, R, 4>(g, l, buf, tap_off, w, bias, oy, v, y, mode);
  switch (vecs - v) {
    case 3:
      DwBlock<V, R, 3>(g, l, buf, tap_off, w, bias, oy, v, y, mode);
      break;
    case 2:
      DwBlock<V, R, 2>(g, l, buf, tap_off, w, bias, oy, v, y, mode);
      break;
    case 1:
      DwBlock<V, R, 1>(g, l, buf, tap_off, w, bias, oy, v, y, mode);
      break;
    default:
      break;
  }
}

// Kernels with more taps than this take the portable loop.
constexpr int64_t kDwMaxTaps = 121;

// Planes [begin, end) of the N*C planes; `scratch` holds DwLayoutFor(g, V::kLanes).floats.
// Returns false (nothing done) for kernels with more than kDwMaxTaps taps.
template <class V>
bool DwPlanes(const DepthwiseGeom& g, const float* x, const float* w, const float* bias, float* y,
              int64_t begin, int64_t end, float* scratch) {
  if (g.kh * g.kw > kDwMaxTaps) return false;
  // Rows per block so that about 8 independent accumulators are in flight (enough to cover
  // the FMA latency): 2 rows of up to 4 vectors, 4 rows of narrow planes, 8 rows of planes
  // one vector wide (7x7, 14x14: a single chain per row would stall on every FMA).
  const int64_t vecs = (g.ow + V::kLanes - 1) / V::kLanes;
  const int64_t block = vecs >= 4 ? 2 : vecs >= 2 ? 4 : 8;
  // The padded buffer holds a band of output rows at a time, sized to ~16 KB so that it stays
  // in L1 between its fill and its reads (a whole 112x112 plane's buffer would not).
  DwLayout l = DwLayoutFor(g, V::kLanes);
  const int64_t halo = (g.kh - 1) * g.dh + 1;
  const int64_t rows_fit = 4096 / (g.sw * l.row_len);
  int64_t band = g.oh;
  if (rows_fit > halo) {
    const int64_t fit = (rows_fit - halo) / g.sh + 1;
    if (fit < g.oh) {  // equal bands (a short last band would refill a whole band's rows)
      const int64_t bands = (g.oh + fit - 1) / fit;
      band = ((g.oh + bands - 1) / bands + block - 1) / block * block;
    }
  } else if (block < g.oh) {
    band = block;
  }
  if (band < g.oh) {
    l.rows = (band - 1) * g.sh + halo;
    l.floats = g.sw * l.rows * l.row_len;
  }
  // Offset of tap (i, j) from an output row's origin in the buffer: its phase, row and shift
  // (computed once: the divisions would otherwise sit in the inner loop).
  int64_t tap_off[kDwMaxTaps];
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t phase = (j * g.dw) % g.sw, shift = (j * g.dw) / g.sw;
      tap_off[i * g.kw + j] = (phase * l.rows + i * g.dh) * l.row_len + shift;
    }
  }
  const RegAct mode = RegActFor(g.act.kind);
  const int64_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
  for (int64_t pi = begin; pi < end; ++pi) {
    const int64_t ch = pi % g.c;
    const float* wc = w + ch * g.kh * g.kw;
    const float bv = bias != nullptr ? bias[ch] : 0.f;
    float* yp = y + pi * plane_out;
    int64_t oy = 0;
    int64_t done = 0;  // rows finished, for the out-of-register activation
    for (int64_t oy0 = 0; oy0 < g.oh; oy0 += band) {
      DepthwiseGeom gb = g;  // the band's padded row 0 is the plane's padded row oy0 * sh
      gb.pt = g.pt - oy0 * g.sh;
      DwFillPadded<V>(gb, l, x + pi * plane_in, scratch);
      const int64_t oy1 = std::min(g.oh, oy0 + band);
      float* yb = yp + oy0 * g.ow;
      while (oy < oy1) {
        const int64_t left = oy1 - oy;
        // Planes one vector wide split their rows into equal blocks of at most 8 (7x7: one block
        // of 7, 14x14: two of 7), so each block keeps as many independent chains as it can.
        int64_t r = std::min(left, block);
        if (block == 8) {
          const int64_t blocks = (left + 7) / 8;
          r = (left + blocks - 1) / blocks;
        }
        switch (r) {
          case 8:
            DwRows<V, 8>(g, l, scratch, tap_off, wc, bv, oy - oy0, yb, mode);
            break;
          case 7:
            DwRows<V, 7>(g, l, scratch, tap_off, wc, bv, oy - oy0, yb, mode);
            break;
          case 6:
            DwRows<V, 6>(g, l, scratch, tap_off, wc, bv, oy - oy0, yb, mode);
            break;
          case 5:
            DwRows<V, 5>(g, l, scratch, tap_off, wc, bv, oy - oy0, yb, mode);
            break;
          case 4:
            DwRows<V, 4>(g, l, scratch, tap_off, wc, bv, oy - oy0, yb, mode);
            break;
          case 3:
            DwRows<V, 3>(g, l, scratch, tap_off, wc, bv, oy - oy0, yb, mode);
            break;
          case 2:
            DwRows<V, 2>(g, l, scratch, tap_off, wc, bv, oy - oy0, yb, mode);
            break;
          default:
            DwRows<V, 1>(g, l, scratch, tap_off, wc, bv, oy - oy0, yb, mode);
            break;
        }
        oy += r;
        // Whole blocks of >= 2K floats at a time: the rows are in L1 and the vector body's
        // scalar tail is paid once per block rather than per row.
        if (mode == RegAct::kOther && (oy - done) * g.ow >= 2048) {
          ApplyActivation(g.act, yp + done * g.ow, (oy - done) * g.ow);
          done = oy;
        }
      }
    }
    if (mode == RegAct::kOther && done < g.oh) {
      ApplyActivation(g.act, yp + done * g.ow, (g.oh - done) * g.ow);
    }
  }
  return true;
}

// Max pooling on the same padded, phase-split buffer (filled with -inf, which is what ONNX's
// pads and ceil-mode overhang mean for max): a window's taps are contiguous loads, as for the
// depthwise convolution. NaN anywhere in a window makes that output NaN.
template <class V, int U>
inline void MaxBlock(const DepthwiseGeom& g, const DwLayout& l, const float* buf,
                     const int64_t* tap_off, int64_t oy, int64_t v0, float* y) {
  using T = typename V::T;
  T acc[U], nan[U];
  for (int u = 0; u < U; ++u) {
    acc[u] = V::Set1(-__builtin_inff());
    nan[u] = V::Set1(0.f);
  }
  const int64_t col0 = v0 * V::kLanes;
  const float* origin = buf + oy * g.sh * l.row_len + col0;
  const int64_t taps = g.kh * g.kw;
  for (int64_t t = 0; t < taps; ++t) {
    const float* row = origin + tap_off[t];
    for (int u = 0; u < U; ++u) {
      const T v = V::Load(row + u * V::kLanes);
      nan[u] = V::OrNan(nan[u], v);
      acc[u] = V::Max(acc[u], v);
    }
  }
  float* yrow = y + oy * g.ow + col0;
  for (int u = 0; u < U; ++u) {
    const T v = V::SelectNan(nan[u], acc[u]);
    const int64_t left = g.ow - col0 - u * V::kLanes;
    if (left >= V::kLanes) {
      V::Store(yrow + u * V::kLanes, v);
    } else {
      V::StorePartial(yrow + u * V::kLanes, v, static_cast<int>(left));
    }
  }
}

template <class V>
bool MaxPlanes(const DepthwiseGeom& g, const float* x, float* y, int64_t begin, int64_t end,
               float* scratch) {
  const DwLayout l = DwLayoutFor(g, V::kLanes);
  if (g.kh * g.kw > kDwMaxTaps) return false;
  int64_t tap_off[kDwMaxTaps];
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t phase = (j * g.dw) % g.sw, shift = (j * g.dw) / g.sw;
      tap_off[i * g.kw + j] = (phase * l.rows + i * g.dh) * l.row_len + shift;
    }
  }
  const int64_t vecs = (g.ow + V::kLanes - 1) / V::kLanes;
  for (int64_t pi = begin; pi < end; ++pi) {
    DwFillPadded<V>(g, l, x + pi * g.h * g.w, scratch, -__builtin_inff());
    float* yp = y + pi * g.oh * g.ow;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      int64_t v = 0;
      for (; v + 4 <= vecs; v += 4) MaxBlock<V, 4>(g, l, scratch, tap_off, oy, v, yp);
      for (; v < vecs; ++v) MaxBlock<V, 1>(g, l, scratch, tap_off, oy, v, yp);
    }
  }
  return true;
}

}  // namespace
}  // namespace mlos::kernels::internal
