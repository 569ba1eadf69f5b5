// Conv2d through the implicit GEMM (conv2d_implicit.cc: B packed straight from padded stride-
// phase planes, grid output compacted) and, past 121 taps, im2col, against a direct double-
// precision loop: kernels 1x1 to 7x7, strides 1 to 3, dilation, asymmetric pads (and none),
// groups, depth past one KC block (k > 256), grid wider than one NC panel (n > 4096), a single
// output column, bias or none, fused activations, on a 1- and a 2-thread pool, with the kernel
// dispatch on both paths; each with the weight packed per call and prepacked
// (Conv2dParams::packed_weight).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/cpu/nn.h"

namespace mlos::kernels {
namespace {

struct Case {
  int64_t n, c, h, w, m, kh, kw, dh, dw, pt, pl, pb, pr, groups;
  Activation act;
  bool bias;
  int64_t sh = 1, sw = 1;
  bool sum = false;  // residual addend (Conv2dParams::sum), added before the activation
};

// packed: the weight is prepacked by PackConv2dWeight and passed as Conv2dParams::packed_weight.
void Check(const Case& k, ThreadPool& pool, std::mt19937& rng, bool packed) {
  SCOPED_TRACE(::testing::Message()
               << "n" << k.n << " c" << k.c << " " << k.h << "x" << k.w << " m" << k.m << " k"
               << k.kh << "x" << k.kw << " d" << k.dh << "," << k.dw << " pads " << k.pt << ","
               << k.pl << "," << k.pb << "," << k.pr << " g" << k.groups << " act "
               << static_cast<int>(k.act) << " s" << k.sh << "," << k.sw << " threads "
               << pool.num_threads() << (packed ? " packed" : ""));
  Conv2dParams p;
  p.stride_h = k.sh;
  p.stride_w = k.sw;
  p.dilation_h = k.dh;
  p.dilation_w = k.dw;
  p.pad_top = k.pt;
  p.pad_left = k.pl;
  p.pad_bottom = k.pb;
  p.pad_right = k.pr;
  p.groups = k.groups;
  p.activation.kind = k.act;
  p.activation.min = -0.5f;
  p.activation.max = 0.75f;
  Tensor x = testing::RandomTensor(DType::kFloat32, {k.n, k.c, k.h, k.w}, rng, -1, 1);
  Tensor w =
      testing::RandomTensor(DType::kFloat32, {k.m, k.c / k.groups, k.kh, k.kw}, rng, -0.2, 0.2);
  Tensor b = testing::RandomTensor(DType::kFloat32, {k.m}, rng, -1, 1);
  std::vector<float> packed_w;
  if (packed) {
    // Filled with garbage first: every float the GEMM reads must be written by the packing.
    packed_w.assign(static_cast<size_t>(Conv2dPackedWeightFloats(w.shape(), k.groups)), -7.f);
    ASSERT_GT(packed_w.size(), 0u);
    PackConv2dWeight(static_cast<const float*>(w.raw_data()), w.shape(), k.groups, packed_w.data());
    p.packed_weight = packed_w.data();
  }
  Result<Shape> ys = Conv2dShape(x.shape(), w.shape(), p);
  ASSERT_TRUE(ys.ok()) << ys.status().ToString();
  Tensor y = Tensor::Empty(DType::kFloat32, *ys).value();
  Tensor add = testing::RandomTensor(DType::kFloat32, *ys, rng, -1, 1);
  const float* addp = static_cast<const float*>(add.raw_data());
  if (k.sum) p.sum = addp;
  Status s = Conv2d(x, w, k.bias ? &b : nullptr, p, y, pool);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const int64_t oh = (*ys)[2], ow = (*ys)[3], cg = k.c / k.groups, mg = k.m / k.groups;
  const float* xp = static_cast<const float*>(x.raw_data());
  const float* wp = static_cast<const float*>(w.raw_data());
  const float* bp = static_cast<const float*>(b.raw_data());
  const float* yp = static_cast<const float*>(y.raw_data());
  for (int64_t n = 0; n < k.n; ++n) {
    for (int64_t m = 0; m < k.m; ++m) {
      const int64_t grp = m / mg;
      for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          double acc = k.bias ? bp[m] : 0;
          for (int64_t c = 0; c < cg; ++c) {
            for (int64_t i = 0; i < k.kh; ++i) {
              const int64_t iy = oy * k.sh - k.pt + i * k.dh;
              if (iy < 0 || iy >= k.h) continue;
              for (int64_t j = 0; j < k.kw; ++j) {
                const int64_t ix = ox * k.sw - k.pl + j * k.dw;
                if (ix < 0 || ix >= k.w) continue;
                acc += static_cast<double>(xp[((n * k.c + grp * cg + c) * k.h + iy) * k.w + ix]) *
                       wp[((m * cg + c) * k.kh + i) * k.kw + j];
              }
            }
          }
          if (k.sum) acc += addp[((n * k.m + m) * oh + oy) * ow + ox];
          double want = acc;
          if (k.act == Activation::kRelu) want = std::max(0.0, acc);
          if (k.act == Activation::kClip) want = std::min(0.75, std::max(-0.5, acc));
          if (k.act == Activation::kSilu) want = acc / (1 + std::exp(-acc));
          const double got = yp[((n * k.m + m) * oh + oy) * ow + ox];
          ASSERT_LE(std::fabs(got - want), 2e-4 * (1 + std::fabs(want)))
              << n << "," << m << "," << oy << "," << ox << " got " << got << " want " << want;
        }
      }
    }
  }
}

class ConvImplicitTest : public testing::BothPaths {};

TEST_P(ConvImplicitTest, MatchesDirectLoop) {
  std::mt19937 rng(17);
  ThreadPool pool1(1);
  const Case cases[] = {
      {1, 16, 20, 18, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kRelu, true},  // ResNet-like
      {2, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kNone, false},    // two images
      {1, 40, 7, 7, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kClip, true},    // k = 360
      {1, 3, 70, 66, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kSilu, true},   // grid > 4096
      {1, 6, 12, 15, 8, 5, 5, 2, 1, 2, 0, 3, 2, 2, Activation::kNone, true},    // dil, groups
      {1, 4, 10, 10, 6, 7, 7, 1, 1, 3, 3, 3, 3, 1, Activation::kRelu, true},    // 7x7
      {1, 3, 8, 9, 5, 1, 3, 1, 2, 0, 2, 0, 1, 1, Activation::kNone, true},      // 1x3, dil 2
      {1, 3, 6, 5, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, Activation::kNone, true},      // no pads
      {1, 2, 3, 1, 3, 3, 1, 1, 1, 0, 0, 0, 0, 1, Activation::kNone, true},      // one column
      {1, 8, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 4, Activation::kClip, false},  // 4 groups
      // Strided: stem-like 7x7 s2, 3x3 s2 with and without pads, odd sizes, s3, dilation.
      {1, 3, 31, 30, 16, 7, 7, 1, 1, 3, 3, 3, 3, 1, Activation::kRelu, true, 2, 2},
      {1, 3, 33, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kClip, true, 2, 2},
      {1, 12, 15, 14, 20, 3, 3, 1, 1, 0, 0, 1, 1, 1, Activation::kNone, true, 2, 2},
      {2, 4, 17, 19, 6, 5, 3, 2, 2, 2, 1, 0, 2, 2, Activation::kSilu, false, 3, 2},
      {1, 5, 9, 23, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, Activation::kNone, true, 2, 3},  // 1x1 s2
      {1, 40, 16, 16, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kRelu, true, 2, 1},
      // Several KC and MC blocks, m not a multiple of the tile: the prepacked weight's layout.
      {1, 70, 9, 8, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kRelu, true},
      {1, 130, 5, 6, 150, 3, 3, 1, 1, 1, 1, 1, 1, 2, Activation::kNone, true},
      // More than 121 taps: the im2col path.
      {1, 3, 16, 15, 5, 12, 11, 1, 1, 5, 5, 6, 5, 1, Activation::kRelu, true},
      {1, 2, 20, 22, 3, 11, 12, 1, 1, 2, 3, 2, 4, 1, Activation::kNone, false, 2, 3},
      // Residual addend: exact-column layout (added in the GEMM tile epilogue), several KC
      // blocks and partial row tiles, the grid layout (added in the compaction), two images,
      // groups, a strided conv.
      {1, 64, 20, 20, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kRelu, true, 1, 1, true},
      {1, 70, 9, 8, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kRelu, false, 1, 1, true},
      {1, 40, 7, 7, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kClip, true, 1, 1, true},
      {2, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kNone, true, 1, 1, true},
      {1, 8, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 4, Activation::kRelu, false, 1, 1, true},
      {1, 12, 15, 14, 20, 3, 3, 1, 1, 0, 0, 1, 1, 1, Activation::kRelu, true, 2, 2, true},
  };
  for (const Case& c : cases) {
    for (bool packed : {false, true}) {
      Check(c, pool1, rng, packed);
      Check(c, testing::Pool(), rng, packed);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, ConvImplicitTest, ::testing::Bool(), testing::PathName);

}  // namespace
}  // namespace mlos::kernels
