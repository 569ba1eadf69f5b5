// Direct depthwise convolution: per output plane, each kernel tap adds a scaled, shifted input
// row over the range of output columns where the tap is inside the image, so the inner loop has
// no bounds checks and vectorises for stride 1.
#include <algorithm>

#include "kernels/cpu/conv_internal.h"

namespace mlos::kernels::internal {

void DepthwiseConv2d(const float* x, const float* w, const float* bias, int64_t n, int64_t c,
                     int64_t h, int64_t wd, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                     const Conv2dParams& p, float* y, ThreadPool& pool) {
  const int64_t plane = oh * ow;
  auto body = [&](int64_t begin, int64_t end) {
    for (int64_t pi = begin; pi < end; ++pi) {
      const int64_t ch = pi % c;
      const float* xc = x + pi * h * wd;
      const float* wc = w + ch * kh * kw;
      float* out = y + pi * plane;
      std::fill(out, out + plane, bias ? bias[ch] : 0.f);
      for (int64_t j = 0; j < kw; ++j) {
        const int64_t off = j * p.dilation_w - p.pad_left;
        const Span1D cols = ValidOutputRange(off, p.stride_w, wd, ow);
        if (cols.begin >= cols.end) continue;
        for (int64_t oy = 0; oy < oh; ++oy) {
          float* orow = out + oy * ow;
          for (int64_t i = 0; i < kh; ++i) {
            const int64_t iy = oy * p.stride_h - p.pad_top + i * p.dilation_h;
            if (iy < 0 || iy >= h) continue;
            const float wv = wc[i * kw + j];
            const float* xrow = xc + iy * wd + off;
            if (p.stride_w == 1) {
              for (int64_t o = cols.begin; o < cols.end; ++o) orow[o] += wv * xrow[o];
            } else {
              for (int64_t o = cols.begin; o < cols.end; ++o) orow[o] += wv * xrow[o * p.stride_w];
            }
          }
        }
      }
    }
  };
  pool.ParallelFor(n * c, std::max<int64_t>(1, 16384 / std::max<int64_t>(plane * kh * kw, 1)),
                   body);
}

}  // namespace mlos::kernels::internal
