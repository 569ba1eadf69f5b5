// Entry of the few-input-channel direct convolution (conv2d_smallc.h): the CPU check, the
// padded input planes and the split of (image, output row, channel block) tasks over the pool.
// The AVX-512 body is in conv2d_smallc_avx512.cc, entered only after the check here.
#include "kernels/cpu/conv2d_smallc.h"

#include <algorithm>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/kernel_dispatch.h"

namespace mlos::kernels::internal {

bool SmallChannelConv2d(const float* x, const float* w, const float* bias, int64_t n, int64_t m,
                        const DepthwiseGeom& g, float* y, ThreadPool& pool) {
  if (!KernelsUseAvx2() || !GetCpuFeatures().avx512f) return false;
  if (g.c < 1 || g.c > kSmallConvMaxChannels || g.c * g.kh * g.kw > kSmallConvMaxTaps) {
    return false;
  }
  const PaddedLayout l = PaddedLayoutFor(g);
  float* planes = ConvScratch(g.c * l.floats);
  if (planes == nullptr) return false;
  const int64_t blocks = (m + 3) / 4;
  // One task: 4 output channels of one output row. ~64K multiply-adds per chunk.
  const int64_t task_fmas = 4 * g.ow * g.c * g.kh * g.kw;
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(task_fmas, 1));
  for (int64_t img = 0; img < n; ++img) {
    const float* xi = x + img * g.c * g.h * g.w;
    FillPaddedPlanes(g, xi, 0, g.c, planes);
    float* yi = y + img * m * g.oh * g.ow;
    // Channel block innermost: the blocks of one row read the same input rows.
    pool.ParallelFor(g.oh * blocks, grain, [&](int64_t b, int64_t e) {
      SmallChannelRowsAvx512(g, l, planes, w, bias, m, yi, b, e);
    });
  }
  return true;
}

}  // namespace mlos::kernels::internal
