// Depthwise convolution (internal::DepthwiseConv2d) on every kernel set this CPU can run
// (portable, AVX2, AVX-512) against a direct double-precision loop: odd plane sizes (1 to 40
// columns, across the 8/16-lane edges), strides 1 to 3, dilations, asymmetric pads, kernels
// 1x1 to 5x5 and non-square, several images, bias or none, each fused activation, NaN inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "activation_reference.h"
#include "kernel_test_util.h"
#include "kernels/cpu/conv_internal.h"
#include "kernels/cpu/cpu_features.h"

namespace mlos::kernels {
namespace {

using internal::ConvIsa;
using internal::DepthwiseGeom;

// NaN passes through every activation (the kernels' max/min keep it).
double Act(const ActivationParams& a, double v) {
  return std::isnan(v) ? v : testing::ReferenceActivation(a, v);
}

struct Case {
  int64_t n, c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  Activation act;
  bool bias;
};

int64_t OutSize(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
  return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
}

void Check(const Case& k, ConvIsa isa, std::mt19937& rng, bool with_nan = false) {
  SCOPED_TRACE(::testing::Message()
               << "n" << k.n << " c" << k.c << " " << k.h << "x" << k.w << " k" << k.kh << "x"
               << k.kw << " s" << k.sh << "," << k.sw << " d" << k.dh << "," << k.dw << " pads "
               << k.pt << "," << k.pl << "," << k.pb << "," << k.pr << " act "
               << static_cast<int>(k.act) << " isa " << static_cast<int>(isa));
  const int64_t oh = OutSize(k.h, k.kh, k.sh, k.dh, k.pt, k.pb);
  const int64_t ow = OutSize(k.w, k.kw, k.sw, k.dw, k.pl, k.pr);
  ASSERT_GT(oh, 0);
  ASSERT_GT(ow, 0);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(static_cast<size_t>(k.n * k.c * k.h * k.w));
  std::vector<float> w(static_cast<size_t>(k.c * k.kh * k.kw)), b(static_cast<size_t>(k.c));
  for (float& v : x) v = u(rng);
  for (float& v : w) v = u(rng);
  for (float& v : b) v = u(rng);
  if (with_nan) x[x.size() / 2] = std::nanf("");
  // Guard words around the output catch writes outside it.
  const size_t out = static_cast<size_t>(k.n * k.c * oh * ow);
  std::vector<float> y(out + 32, -7.f);
  DepthwiseGeom g{k.c, k.h, k.w, k.kh, k.kw, oh, ow, k.sh, k.sw, k.dh, k.dw, k.pt, k.pl, {}};
  g.act.kind = k.act;
  g.act.min = -0.25f;
  g.act.max = 0.5f;
  internal::DepthwiseConv2d(x.data(), w.data(), k.bias ? b.data() : nullptr, k.n, g, y.data() + 16,
                            testing::Pool(), isa);
  for (int i = 0; i < 16; ++i) {
    ASSERT_EQ(y[i], -7.f);
    ASSERT_EQ(y[out + 16 + i], -7.f);
  }
  int nan_seen = 0;
  for (int64_t pi = 0; pi < k.n * k.c; ++pi) {
    const int64_t ch = pi % k.c;
    for (int64_t oy = 0; oy < oh; ++oy) {
      for (int64_t ox = 0; ox < ow; ++ox) {
        double acc = k.bias ? b[ch] : 0;
        for (int64_t i = 0; i < k.kh; ++i) {
          for (int64_t j = 0; j < k.kw; ++j) {
            const int64_t iy = oy * k.sh - k.pt + i * k.dh, ix = ox * k.sw - k.pl + j * k.dw;
            if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w) continue;
            acc +=
                static_cast<double>(x[(pi * k.h + iy) * k.w + ix]) * w[(ch * k.kh + i) * k.kw + j];
          }
        }
        const double want = Act(g.act, acc);
        const double got = y[16 + (pi * oh + oy) * ow + ox];
        if (std::isnan(want)) {
          ASSERT_TRUE(std::isnan(got)) << pi << "," << oy << "," << ox << " got " << got;
          ++nan_seen;
          continue;
        }
        const double tol = 1e-4 + 1e-4 * std::fabs(want);
        ASSERT_LE(std::fabs(got - want), tol) << pi << "," << oy << "," << ox << " got " << got;
      }
    }
  }
  if (with_nan) {
    EXPECT_GT(nan_seen, 0);
  }
}

std::vector<ConvIsa> Isas() {
  std::vector<ConvIsa> v{ConvIsa::kPortable};
  if (UseAvx2()) v.push_back(ConvIsa::kAvx2);
  if (UseAvx2() && GetCpuFeatures().avx512f) v.push_back(ConvIsa::kAvx512);
  return v;
}

TEST(ConvDepthwise, NetworkShapes) {
  std::mt19937 rng(7);
  const Case cases[] = {
      {1, 3, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, Activation::kClip, true},
      {1, 5, 28, 28, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, Activation::kRelu, true},  // TF-style pads
      {1, 4, 14, 14, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, Activation::kSilu, true},
      {1, 6, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, Activation::kClip, true},
      {1, 3, 7, 7, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, Activation::kSilu, false},
      {1, 2, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, Activation::kNone, true},
      {2, 3, 15, 33, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, Activation::kHardSwish, true},
      {1, 2, 20, 21, 11, 12, 1, 1, 1, 1, 5, 5, 5, 6, Activation::kSigmoid, true},  // > 121 taps
      {1, 3, 12, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, Activation::kSigmoid, true},
      // Planes tall enough to be processed in bands of output rows (halo rows refilled).
      {1, 2, 112, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, Activation::kHardSwish, true},
      {1, 2, 70, 60, 5, 5, 1, 1, 2, 2, 3, 4, 5, 2, Activation::kSilu, true},
      {1, 2, 97, 130, 3, 5, 3, 2, 1, 1, 0, 2, 2, 1, Activation::kClip, true},
      {1, 1, 200, 17, 7, 3, 2, 1, 1, 2, 3, 1, 3, 1, Activation::kNone, false},
  };
  for (ConvIsa isa : Isas()) {
    for (const Case& c : cases) Check(c, isa, rng);
  }
}

TEST(ConvDepthwise, RandomGeometries) {
  std::mt19937 rng(11);
  auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const Activation acts[] = {Activation::kNone, Activation::kRelu, Activation::kClip,
                             Activation::kSilu};
  for (int rep = 0; rep < 120; ++rep) {
    Case c;
    c.n = ri(1, 2);
    c.c = ri(1, 5);
    c.kh = ri(1, 5);
    c.kw = ri(1, 5);
    c.sh = ri(1, 3);
    c.sw = ri(1, 3);
    c.dh = ri(1, 2);
    c.dw = ri(1, 3);
    c.pt = ri(0, 3);
    c.pl = ri(0, 3);
    c.pb = ri(0, 3);
    c.pr = ri(0, 3);
    c.h = std::max<int64_t>(ri(1, 20), c.dh * (c.kh - 1) + 1 - c.pt - c.pb);
    c.w = std::max<int64_t>(ri(1, 40), c.dw * (c.kw - 1) + 1 - c.pl - c.pr);
    c.h = std::max<int64_t>(c.h, 1);
    c.w = std::max<int64_t>(c.w, 1);
    c.act = acts[rep % 4];
    c.bias = rep % 3 != 0;
    for (ConvIsa isa : Isas()) Check(c, isa, rng);
  }
}

TEST(ConvDepthwise, WidthsAcrossLaneEdges) {
  std::mt19937 rng(3);
  for (int64_t w = 1; w <= 35; ++w) {
    for (int64_t s = 1; s <= 2; ++s) {
      const Case c{1, 2, 5, w, 3, 3, s, s, 1, 1, 1, 1, 1, 1, Activation::kRelu, true};
      for (ConvIsa isa : Isas()) Check(c, isa, rng);
    }
  }
}

// The AVX-512 direct path (3x3/5x5, stride 1 or 2 on both axes): every width across the
// 16-lane and interior/edge-vector boundaries, short and tall planes (rows outside the image,
// every row-block remainder), each leading/trailing pad combination, two images.
TEST(ConvDepthwise, DirectPathGeometries) {
  if (!(UseAvx2() && GetCpuFeatures().avx512f)) GTEST_SKIP() << "no AVX-512";
  std::mt19937 rng(11);
  const Activation acts[] = {Activation::kNone, Activation::kRelu,    Activation::kClip,
                             Activation::kSilu, Activation::kSigmoid, Activation::kHardSwish};
  int a = 0;
  for (int64_t k : {3, 5}) {
    for (int64_t s : {1, 2}) {
      for (int64_t w = 1; w <= 75; w += (w < 40 ? 1 : 7)) {
        const int64_t p0 = w % k, p1 = (w / 2) % k;  // pads 0 .. k-1, left and right differ
        const int64_t h = 1 + (w * 7) % 19;
        if (w + p0 + p1 < k || h + p1 + p0 < k) continue;
        const Case c{2, 3, h, w, k, k, s, s, 1, 1, p1, p0, p0, p1, acts[a++ % 6], w % 3 != 0};
        Check(c, ConvIsa::kAvx512, rng);
      }
    }
  }
  // Tall planes: 8-row (stride 1) and 4-row (stride 2) blocks plus each remainder.
  for (int64_t h = 8; h <= 20; ++h) {
    for (int64_t s : {1, 2}) {
      const Case c{1, 2, h, 30, 3, 3, s, s, 1, 1, 1, 1, 1, 1, Activation::kClip, true};
      Check(c, ConvIsa::kAvx512, rng);
      const Case c5{1, 2, h, 37, 5, 5, s, s, 1, 1, 2, 2, 2, 2, Activation::kSilu, true};
      Check(c5, ConvIsa::kAvx512, rng);
    }
  }
  // NaN inputs through the direct path (an edge vector and an interior one).
  const Case nan{1, 2, 11, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, Activation::kRelu, true};
  Check(nan, ConvIsa::kAvx512, rng, true);
  const Case nan2{1, 2, 11, 70, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, Activation::kClip, true};
  Check(nan2, ConvIsa::kAvx512, rng, true);
}

TEST(ConvDepthwise, NaNPropagates) {
  std::mt19937 rng(5);
  for (Activation a : {Activation::kRelu, Activation::kClip, Activation::kNone}) {
    const Case c{1, 3, 9, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, a, true};
    for (ConvIsa isa : Isas()) Check(c, isa, rng, /*with_nan=*/true);
  }
}

// AVX2 max pooling through the depthwise padded-plane body (internal::MaxPoolPlanesAvx2; with
// AVX-512 pooling has its own direct kernel, tested in pool2d_max_test), against a direct loop:
// pads, strides, dilation, ceil-mode overhang (rows/columns past the padded input), NaN.
void CheckMaxPool(const Case& k, int64_t oh, int64_t ow, ConvIsa isa, std::mt19937& rng) {
  SCOPED_TRACE(::testing::Message()
               << "maxpool c" << k.c << " " << k.h << "x" << k.w << " k" << k.kh << "x" << k.kw
               << " s" << k.sh << "," << k.sw << " d" << k.dh << "," << k.dw << " pads " << k.pt
               << "," << k.pl << " out " << oh << "x" << ow << " isa " << static_cast<int>(isa));
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(static_cast<size_t>(k.c * k.h * k.w));
  for (float& v : x) v = u(rng);
  x[x.size() / 3] = std::nanf("");
  const size_t out = static_cast<size_t>(k.c * oh * ow);
  std::vector<float> y(out + 32, -7.f);
  DepthwiseGeom g{k.c, k.h, k.w, k.kh, k.kw, oh, ow, k.sh, k.sw, k.dh, k.dw, k.pt, k.pl, {}};
  ASSERT_TRUE(internal::MaxPoolPlanesAvx2(g, x.data(), y.data() + 16, 0, k.c));
  for (int i = 0; i < 16; ++i) {
    ASSERT_EQ(y[i], -7.f);
    ASSERT_EQ(y[out + 16 + i], -7.f);
  }
  for (int64_t c = 0; c < k.c; ++c) {
    for (int64_t oy = 0; oy < oh; ++oy) {
      for (int64_t ox = 0; ox < ow; ++ox) {
        float want = -INFINITY;
        bool nan = false;
        for (int64_t i = 0; i < k.kh; ++i) {
          for (int64_t j = 0; j < k.kw; ++j) {
            const int64_t iy = oy * k.sh - k.pt + i * k.dh, ix = ox * k.sw - k.pl + j * k.dw;
            if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w) continue;
            const float v = x[(c * k.h + iy) * k.w + ix];
            nan |= std::isnan(v);
            want = std::max(want, v);
          }
        }
        const float got = y[16 + (c * oh + oy) * ow + ox];
        if (nan) {
          ASSERT_TRUE(std::isnan(got)) << c << "," << oy << "," << ox;
        } else {
          ASSERT_EQ(got, want) << c << "," << oy << "," << ox;
        }
      }
    }
  }
}

TEST(ConvDepthwise, MaxPoolAvx2) {
  std::mt19937 rng(13);
  auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<ConvIsa> isas;
  for (ConvIsa i : Isas()) {
    if (i == ConvIsa::kAvx2) isas.push_back(i);
  }
  if (isas.empty()) GTEST_SKIP() << "no AVX2 on this CPU";
  // ResNet's stem pool, then random geometries; oh/ow up to one past the floor size (ceil mode).
  const Case stem{1, 4, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, Activation::kNone, false};
  for (ConvIsa isa : isas) CheckMaxPool(stem, 56, 56, isa, rng);
  for (int rep = 0; rep < 80; ++rep) {
    Case c{};
    c.c = ri(1, 3);
    c.kh = ri(1, 4);
    c.kw = ri(1, 4);
    c.sh = ri(1, 3);
    c.sw = ri(1, 3);
    c.dh = ri(1, 2);
    c.dw = ri(1, 2);
    c.pt = ri(0, c.kh / 2);
    c.pl = ri(0, c.kw / 2);
    c.h = ri(c.dh * (c.kh - 1) + 1, 20);
    c.w = ri(c.dw * (c.kw - 1) + 1, 40);
    const int64_t oh = OutSize(c.h, c.kh, c.sh, c.dh, c.pt, c.pt) + ri(0, 1);
    const int64_t ow = OutSize(c.w, c.kw, c.sw, c.dw, c.pl, c.pl) + ri(0, 1);
    for (ConvIsa isa : isas) CheckMaxPool(c, oh, ow, isa, rng);
  }
}

}  // namespace
}  // namespace mlos::kernels
