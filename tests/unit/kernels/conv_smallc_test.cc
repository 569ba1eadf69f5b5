// Conv2d with few input channels (groups 1, C <= 4: the direct kernel of conv2d_smallc*.cc on
// AVX-512 CPUs, im2col/implicit GEMM elsewhere) against a direct double-precision loop: C 1 to
// 4, output channels not a multiple of 4, output widths across the 16-lane edges (1, 15, 16,
// 17, 33, 112), strides 1 to 3, dilation, asymmetric pads, 3x3/5x5/7x7/1x1-with-pads kernels,
// two images, bias or none, in-register (ReLU, Clip, SiLU, Sigmoid) and row (HardSwish)
// activations, on a 1- and a 2-thread pool, with the kernel dispatch on both paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "activation_reference.h"
#include "conv_test_case.h"
#include "kernel_test_util.h"
#include "kernels/cpu/conv2d_smallc.h"
#include "kernels/cpu/nn.h"

namespace mlos::kernels {
namespace {

using Case = testing::ConvCase;

void Check(const Case& k, ThreadPool& pool, std::mt19937& rng) {
  SCOPED_TRACE(testing::Describe(k) << " threads " << pool.num_threads());
  const Conv2dParams p = testing::ParamsFor(k);
  const testing::ConvOperands o = testing::RandomOperands(k, rng);
  Result<Shape> ys = Conv2dShape(o.x.shape(), o.w.shape(), p);
  ASSERT_TRUE(ys.ok()) << ys.status().ToString();
  Tensor y = Tensor::Empty(DType::kFloat32, *ys).value();
  Status s = Conv2d(o.x, o.w, k.bias ? &o.b : nullptr, p, y, pool);
  ASSERT_TRUE(s.ok()) << s.ToString();
  testing::ExpectMatchesDirectLoop(k, o, nullptr, y);
}

class ConvSmallChannelTest : public testing::BothPaths {};

TEST_P(ConvSmallChannelTest, MatchesDirectLoop) {
  std::mt19937 rng(23);
  ThreadPool pool1(1);
  const Case cases[] = {
      // Stem: 3 -> 32, 3x3 s2 pad 1 (MobileNet/EfficientNet), smaller plane.
      {1, 3, 57, 56, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kClip, true, 2, 2},
      {1, 3, 40, 41, 32, 3, 3, 1, 1, 0, 0, 1, 1, 1, Activation::kSilu, true, 2, 2},
      {2, 1, 9, 17, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kRelu, false},
      {1, 2, 16, 16, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kNone, true},
      {1, 4, 11, 33, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, Activation::kSigmoid, true},
      {1, 3, 30, 35, 9, 7, 7, 1, 1, 3, 3, 3, 3, 1, Activation::kHardSwish, true, 2, 2},
      {1, 3, 8, 15, 3, 3, 3, 2, 2, 2, 1, 0, 3, 1, Activation::kNone, true},  // dilation
      {1, 4, 13, 50, 10, 3, 5, 1, 1, 0, 2, 1, 0, 1, Activation::kRelu, true, 3, 3},
      {1, 3, 5, 1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kNone, true},   // one column
      {1, 3, 6, 5, 33, 1, 1, 1, 1, 1, 1, 0, 0, 1, Activation::kNone, true},  // 1x1 with pads
      {1, 2, 20, 224, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kClip, true, 2, 2},
      {1, 3, 4, 17, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, Activation::kNone, false, 1, 1},
      // Tall planes: several bands of output rows per pool chunk, the last band partial
      // (oh 61 and 43), two images.
      {2, 3, 121, 40, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kClip, true, 2, 2},
      {1, 3, 43, 20, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, Activation::kRelu, true, 1, 1},
      {1, 3, 96, 24, 20, 7, 7, 1, 1, 3, 3, 3, 3, 1, Activation::kNone, true, 2, 2},
  };
  for (const Case& c : cases) {
    Check(c, pool1, rng);
    Check(c, testing::Pool(), rng);
  }
}

// The plain-loop fallback of a pool thread without scratch, on its own: rows [2, 9) of a
// 3x3 s2 Clip stem and of a 5x5 dilated stride-1 conv, against a double loop; rows outside the
// range stay untouched.
TEST(ConvSmallChannelScalar, RowsMatchDirectLoop) {
  std::mt19937 rng(5);
  struct G {
    int64_t c, h, w, m, k, s, d, p;
    Activation act;
  };
  for (const G& t : {G{3, 23, 19, 6, 3, 2, 1, 1, Activation::kClip},
                     G{2, 14, 9, 5, 5, 1, 2, 3, Activation::kHardSwish}}) {
    internal::DepthwiseGeom g{};
    g.c = t.c, g.h = t.h, g.w = t.w, g.kh = t.k, g.kw = t.k, g.sh = t.s, g.sw = t.s;
    g.dh = t.d, g.dw = t.d, g.pt = t.p, g.pl = t.p;
    g.oh = (t.h + 2 * t.p - t.d * (t.k - 1) - 1) / t.s + 1;
    g.ow = (t.w + 2 * t.p - t.d * (t.k - 1) - 1) / t.s + 1;
    g.act.kind = t.act;
    g.act.min = -0.5f;
    g.act.max = 0.75f;
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> x(t.c * t.h * t.w), w(t.m * t.c * t.k * t.k), b(t.m);
    for (float& v : x) v = u(rng);
    for (float& v : w) v = 0.3f * u(rng);
    for (float& v : b) v = u(rng);
    std::vector<float> y(t.m * g.oh * g.ow, 123.f);
    internal::SmallChannelRowsScalar(g, x.data(), w.data(), b.data(), t.m, y.data(), 2, 9);
    for (int64_t o = 0; o < t.m; ++o) {
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const float got = y[(o * g.oh + oy) * g.ow + ox];
          if (oy < 2 || oy >= 9) {
            ASSERT_EQ(got, 123.f) << o << "," << oy << "," << ox;
            continue;
          }
          double acc = b[o];
          for (int64_t c = 0; c < t.c; ++c) {
            for (int64_t i = 0; i < t.k; ++i) {
              for (int64_t j = 0; j < t.k; ++j) {
                const int64_t iy = oy * t.s - t.p + i * t.d, ix = ox * t.s - t.p + j * t.d;
                if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w) continue;
                acc += static_cast<double>(x[(c * t.h + iy) * t.w + ix]) *
                       w[((o * t.c + c) * t.k + i) * t.k + j];
              }
            }
          }
          const double want = testing::ReferenceActivation(g.act, acc);
          ASSERT_NEAR(got, want, 2e-4 * (1 + std::fabs(want))) << o << "," << oy << "," << ox;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, ConvSmallChannelTest, ::testing::Bool(), testing::PathName);

}  // namespace
}  // namespace mlos::kernels
