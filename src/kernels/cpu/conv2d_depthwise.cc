// Depthwise convolution: dispatch to the AVX-512 / AVX2 bodies (conv_depthwise_simd.h) or the
// portable direct loop, parallel over planes on the shared pool, bias and activation fused.
// The portable loop adds, per kernel tap, a scaled and shifted input row over the range of
// output columns where the tap is inside the image, so it has no per-element bounds checks.
#include <algorithm>
#include <cstdlib>
#include <memory>

#include "kernels/cpu/conv_depthwise_simd.h"
#include "kernels/cpu/conv_internal.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/scratch_buffer.h"

namespace mlos::kernels::internal {
namespace {

void PortablePlanes(const DepthwiseGeom& g, const float* x, const float* w, const float* bias,
                    float* y, int64_t begin, int64_t end) {
  const int64_t plane = g.oh * g.ow;
  for (int64_t pi = begin; pi < end; ++pi) {
    const int64_t ch = pi % g.c;
    const float* xc = x + pi * g.h * g.w;
    const float* wc = w + ch * g.kh * g.kw;
    float* out = y + pi * plane;
    std::fill(out, out + plane, bias ? bias[ch] : 0.f);
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t off = j * g.dw - g.pl;
      const Span1D cols = ValidOutputRange(off, g.sw, g.w, g.ow);
      if (cols.begin >= cols.end) continue;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        float* orow = out + oy * g.ow;
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t iy = oy * g.sh - g.pt + i * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          const float wv = wc[i * g.kw + j];
          const float* xrow = xc + iy * g.w + off;
          if (g.sw == 1) {
            for (int64_t o = cols.begin; o < cols.end; ++o) orow[o] += wv * xrow[o];
          } else {
            for (int64_t o = cols.begin; o < cols.end; ++o) orow[o] += wv * xrow[o * g.sw];
          }
        }
      }
    }
    ApplyActivation(g.act, out, plane);
  }
}

// Scalar stand-in for the vector traits: all the fill needs is the stride-2 split.
struct ScalarSplit {
  static constexpr int kLanes = 16;
  static void Deinterleave2(const float* src, float* even, float* odd) {
    for (int i = 0; i < kLanes; ++i) {
      even[i] = src[2 * i];
      odd[i] = src[2 * i + 1];
    }
  }
};

}  // namespace

PaddedLayout PaddedLayoutFor(const DepthwiseGeom& g) {
  const DwLayout l = DwLayoutFor(g, 16);
  return {l.rows, l.row_len, l.floats};
}

void FillPaddedPlanes(const DepthwiseGeom& g, const float* x, int64_t c0, int64_t c1, float* buf) {
  if (KernelsUseAvx2()) {
    if (GetCpuFeatures().avx512f) return FillPaddedPlanesAvx512(g, x, c0, c1, buf);
    return FillPaddedPlanesAvx2(g, x, c0, c1, buf);
  }
  DwFillRange<ScalarSplit>(g, x, c0, c1, buf);
}

float* DepthwiseScratch(int64_t floats) {
  thread_local ScratchBuffer buffer;
  return buffer.Get(floats);
}

float* ConvScratch(int64_t floats) {
  thread_local ScratchBuffer buffer;
  return buffer.Get(floats);
}

void DepthwiseConv2d(const float* x, const float* w, const float* bias, int64_t n,
                     const DepthwiseGeom& g, float* y, ThreadPool& pool, ConvIsa isa) {
  if (isa == ConvIsa::kAuto) {
    isa = !KernelsUseAvx2()          ? ConvIsa::kPortable
          : GetCpuFeatures().avx512f ? ConvIsa::kAvx512
                                     : ConvIsa::kAvx2;
  }
  if (isa == ConvIsa::kAvx512 && !(UseAvx2() && GetCpuFeatures().avx512f)) {
    isa = ConvIsa::kPortable;
  }
  if (isa == ConvIsa::kAvx2 && !UseAvx2()) isa = ConvIsa::kPortable;
  const int64_t taps = g.oh * g.ow * g.kh * g.kw;
  // ~32K multiply-adds per chunk: enough to amortise a fork, fine enough to balance 2 threads.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(taps, 1));
  pool.ParallelFor(n * g.c, grain, [&](int64_t b, int64_t e) {
    bool done = false;
    if (isa == ConvIsa::kAvx512) done = DepthwisePlanesAvx512(g, x, w, bias, y, b, e);
    if (isa == ConvIsa::kAvx2) done = DepthwisePlanesAvx2(g, x, w, bias, y, b, e);
    if (!done) PortablePlanes(g, x, w, bias, y, b, e);
  });
}

}  // namespace mlos::kernels::internal
