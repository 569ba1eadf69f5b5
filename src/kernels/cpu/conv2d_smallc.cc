// Entry of the few-input-channel direct convolution (conv2d_smallc.h): the CPU check and the
// split of (image, band of output rows) tasks over the pool. Each task fills the padded input
// rows of its band into its own thread's scratch and then runs the AVX-512 body
// (conv2d_smallc_avx512.cc, entered only after the check here) over the band.
#include "kernels/cpu/conv2d_smallc.h"

#include <algorithm>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/kernel_dispatch.h"

namespace mlos::kernels::internal {
namespace {

// Output rows per band. The band's padded input (3 channels x 2 phases x 17 rows of 128 floats
// for the 3x3 s2 stem at 224) stays in L1/L2 while all output channels are computed from it,
// and the fill runs on every thread instead of once, serially, before the parallel part (it
// was ~10% of the stem at 1 thread and the whole serial part at 2).
constexpr int64_t kBandRows = 8;

// The band's geometry: its padded row 0 is the plane's padded row oy0 * sh.
DepthwiseGeom BandGeom(const DepthwiseGeom& g, int64_t oy0, int64_t rows) {
  DepthwiseGeom gb = g;
  gb.oh = rows;
  gb.pt = g.pt - oy0 * g.sh;
  return gb;
}

}  // namespace

void SmallChannelRowsScalar(const DepthwiseGeom& g, const float* x, const float* w,
                            const float* bias, int64_t m, float* y, int64_t oy0, int64_t oy1) {
  const int64_t plane = g.oh * g.ow;
  for (int64_t o = 0; o < m; ++o) {
    for (int64_t oy = oy0; oy < oy1; ++oy) {
      float* row = y + o * plane + oy * g.ow;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        float acc = bias != nullptr ? bias[o] : 0.f;
        for (int64_t c = 0; c < g.c; ++c) {
          for (int64_t i = 0; i < g.kh; ++i) {
            const int64_t iy = oy * g.sh - g.pt + i * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            for (int64_t j = 0; j < g.kw; ++j) {
              const int64_t ix = ox * g.sw - g.pl + j * g.dw;
              if (ix < 0 || ix >= g.w) continue;
              acc += x[(c * g.h + iy) * g.w + ix] * w[((o * g.c + c) * g.kh + i) * g.kw + j];
            }
          }
        }
        row[ox] = acc;
      }
      ApplyActivation(g.act, row, g.ow);
    }
  }
}

bool SmallChannelConv2d(const float* x, const float* w, const float* bias, int64_t n, int64_t m,
                        const DepthwiseGeom& g, float* y, ThreadPool& pool) {
  if (!KernelsUseAvx2() || !GetCpuFeatures().avx512f) return false;
  if (g.c < 1 || g.c > kSmallConvMaxChannels || g.c * g.kh * g.kw > kSmallConvMaxTaps) {
    return false;
  }
  const int64_t band_floats = g.c * PaddedLayoutFor(BandGeom(g, 0, kBandRows)).floats;
  // The calling thread's scratch is checked here so that a failure leaves nothing written; a
  // worker whose scratch cannot grow computes its band with the plain loop instead.
  if (ConvScratch(band_floats) == nullptr) return false;
  const int64_t blocks = (m + 3) / 4;
  // Rows of one image: at least ~256K multiply-adds per chunk, whole bands where possible.
  const int64_t row_fmas = std::max<int64_t>(1, m * g.ow * g.c * g.kh * g.kw);
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 18) / row_fmas);
  for (int64_t img = 0; img < n; ++img) {
    const float* xi = x + img * g.c * g.h * g.w;
    float* yi = y + img * m * g.oh * g.ow;
    pool.ParallelFor(g.oh, grain, [&](int64_t b, int64_t e) {
      float* planes = ConvScratch(band_floats);
      for (int64_t oy0 = b; oy0 < e; oy0 += kBandRows) {
        const int64_t oy1 = std::min(e, oy0 + kBandRows);
        if (planes == nullptr) {
          SmallChannelRowsScalar(g, xi, w, bias, m, yi, oy0, oy1);
          continue;
        }
        const DepthwiseGeom gb = BandGeom(g, oy0, oy1 - oy0);
        FillPaddedPlanes(gb, xi, 0, g.c, planes);
        // Channel block innermost: the blocks of one row read the same input rows.
        SmallChannelRowsAvx512(gb, PaddedLayoutFor(gb), planes, w, bias, m, yi + oy0 * g.ow,
                               g.oh * g.ow, 0, (oy1 - oy0) * blocks);
      }
    });
  }
  return true;
}

}  // namespace mlos::kernels::internal
