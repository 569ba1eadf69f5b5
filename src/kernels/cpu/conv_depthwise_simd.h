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

// Fills the phase buffer from one input plane (h x w), zero outside the image.
inline void DwFillPadded(const DepthwiseGeom& g, const DwLayout& l, const float* x, float* buf) {
  for (int64_t s = 0; s < g.sw; ++s) {
    const Span1D cols = ValidOutputRange(s - g.pl, g.sw, g.w, l.row_len);
    for (int64_t r = 0; r < l.rows; ++r) {
      float* dst = buf + (s * l.rows + r) * l.row_len;
      const int64_t ir = r - g.pt;
      if (ir < 0 || ir >= g.h || cols.begin >= cols.end) {
        std::memset(dst, 0, static_cast<size_t>(l.row_len) * sizeof(float));
        continue;
      }
      const float* src = x + ir * g.w + s - g.pl;  // src[q * sw] is padded column q * sw + s
      std::memset(dst, 0, static_cast<size_t>(cols.begin) * sizeof(float));
      if (g.sw == 1) {
        std::memcpy(dst + cols.begin, src + cols.begin,
                    static_cast<size_t>(cols.end - cols.begin) * sizeof(float));
      } else {
        for (int64_t q = cols.begin; q < cols.end; ++q) dst[q] = src[q * g.sw];
      }
      std::memset(dst + cols.end, 0, static_cast<size_t>(l.row_len - cols.end) * sizeof(float));
    }
  }
}

// R output rows x U vectors of one plane, starting at output row oy and vector v0.
template <class V, int R, int U>
inline void DwBlock(const DepthwiseGeom& g, const DwLayout& l, const float* buf, const float* w,
                    float bias, int64_t oy, int64_t v0, float* y, bool relu, bool clip) {
  using T = typename V::T;
  T acc[R][U];
  const T b = V::Set1(bias);
  for (int r = 0; r < R; ++r) {
    for (int u = 0; u < U; ++u) acc[r][u] = b;
  }
  const int64_t col0 = v0 * V::kLanes;
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      const T wv = V::Set1(w[i * g.kw + j]);
      const int64_t phase = (j * g.dw) % g.sw, shift = (j * g.dw) / g.sw;
      const float* base = buf + (phase * l.rows + oy * g.sh + i * g.dh) * l.row_len + col0 + shift;
      for (int r = 0; r < R; ++r) {
        const float* row = base + r * g.sh * l.row_len;
        for (int u = 0; u < U; ++u) acc[r][u] = V::Fma(wv, V::Load(row + u * V::kLanes), acc[r][u]);
      }
    }
  }
  const T lo = V::Set1(g.act.min), hi = V::Set1(g.act.max), zero = V::Set1(0.f);
  for (int r = 0; r < R; ++r) {
    float* yrow = y + (oy + r) * g.ow + col0;
    for (int u = 0; u < U; ++u) {
      T v = acc[r][u];
      // max(zero, v) and min(hi, v) return v when v is NaN, so NaN propagates as in ONNX.
      if (relu) v = V::Max(zero, v);
      if (clip) v = V::Min(hi, V::Max(lo, v));
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
inline void DwRows(const DepthwiseGeom& g, const DwLayout& l, const float* buf, const float* w,
                   float bias, int64_t oy, float* y, bool relu, bool clip) {
  const int64_t vecs = (g.ow + V::kLanes - 1) / V::kLanes;
  int64_t v = 0;
  for (; v + 4 <= vecs; v += 4) DwBlock<V, R, 4>(g, l, buf, w, bias, oy, v, y, relu, clip);
  switch (vecs - v) {
    case 3:
      DwBlock<V, R, 3>(g, l, buf, w, bias, oy, v, y, relu, clip);
      break;
    case 2:
      DwBlock<V, R, 2>(g, l, buf, w, bias, oy, v, y, relu, clip);
      break;
    case 1:
      DwBlock<V, R, 1>(g, l, buf, w, bias, oy, v, y, relu, clip);
      break;
    default:
      break;
  }
}

// Planes [begin, end) of the N*C planes; `scratch` holds DwLayoutFor(g, V::kLanes).floats.
template <class V>
void DwPlanes(const DepthwiseGeom& g, const float* x, const float* w, const float* bias, float* y,
              int64_t begin, int64_t end, float* scratch) {
  const DwLayout l = DwLayoutFor(g, V::kLanes);
  const bool relu = g.act.kind == Activation::kRelu;
  const bool clip = g.act.kind == Activation::kClip;
  const bool other = !relu && !clip && g.act.kind != Activation::kNone;
  const int64_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
  for (int64_t pi = begin; pi < end; ++pi) {
    const int64_t ch = pi % g.c;
    DwFillPadded(g, l, x + pi * plane_in, scratch);
    const float* wc = w + ch * g.kh * g.kw;
    const float bv = bias != nullptr ? bias[ch] : 0.f;
    float* yp = y + pi * plane_out;
    // Two rows per block when the row is short, so at least ~4 accumulators are in flight.
    const bool pair = g.ow <= 2 * V::kLanes;
    int64_t oy = 0;
    if (pair) {
      for (; oy + 2 <= g.oh; oy += 2) {
        DwRows<V, 2>(g, l, scratch, wc, bv, oy, yp, relu, clip);
        if (other) ApplyActivation(g.act, yp + oy * g.ow, 2 * g.ow);
      }
    }
    for (; oy < g.oh; ++oy) {
      DwRows<V, 1>(g, l, scratch, wc, bv, oy, yp, relu, clip);
      if (other) ApplyActivation(g.act, yp + oy * g.ow, g.ow);
    }
  }
}

}  // namespace
}  // namespace mlos::kernels::internal
