// Conv2d (general, grouped, depthwise, pointwise paths; pads, strides, dilation, bias, fused
// activation) and Pool2d / GlobalPool2d against direct double-precision loops, on both dispatch
// paths, plus shape and parameter errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "activation_reference.h"
#include "kernel_test_util.h"
#include "kernels/cpu/nn.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

class ConvPoolTest : public BothPaths {};

void CheckConv(const Tensor& x, const Tensor& w, const Tensor* b, const Conv2dParams& p) {
  SCOPED_TRACE("x " + ShapeToString(x.shape()) + " w " + ShapeToString(w.shape()) + " groups " +
               std::to_string(p.groups) + " stride " + std::to_string(p.stride_h) + "," +
               std::to_string(p.stride_w) + " dil " + std::to_string(p.dilation_h) + "," +
               std::to_string(p.dilation_w) + " pads " + std::to_string(p.pad_top) + "," +
               std::to_string(p.pad_left) + "," + std::to_string(p.pad_bottom) + "," +
               std::to_string(p.pad_right));
  Result<Shape> ys = Conv2dShape(x.shape(), w.shape(), p);
  ASSERT_TRUE(ys.ok()) << ys.status().ToString();
  Tensor y = Tensor::Empty(DType::kFloat32, *ys).value();
  Status s = Conv2d(x, w, b, p, y, Pool());
  ASSERT_TRUE(s.ok()) << s.ToString();
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  const int64_t M = w.dim(0), KH = w.dim(2), KW = w.dim(3), OH = (*ys)[2], OW = (*ys)[3];
  const int64_t cg = C / p.groups, mg = M / p.groups;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t m = 0; m < M; ++m) {
      const int64_t g = m / mg;
      for (int64_t oy = 0; oy < OH; ++oy) {
        for (int64_t ox = 0; ox < OW; ++ox) {
          double acc = b ? b->GetAsDouble(m) : 0;
          for (int64_t c = 0; c < cg; ++c) {
            for (int64_t i = 0; i < KH; ++i) {
              for (int64_t j = 0; j < KW; ++j) {
                const int64_t iy = oy * p.stride_h - p.pad_top + i * p.dilation_h;
                const int64_t ix = ox * p.stride_w - p.pad_left + j * p.dilation_w;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += x.GetAsDouble(((n * C + g * cg + c) * H + iy) * W + ix) *
                       w.GetAsDouble(((m * cg + c) * KH + i) * KW + j);
              }
            }
          }
          const double want = ReferenceActivation(p.activation, acc);
          const double got = y.GetAsDouble(((n * M + m) * OH + oy) * OW + ox);
          ASSERT_TRUE(Close(got, want, 1e-4, 1e-4))
              << n << "," << m << "," << oy << "," << ox << " got " << got << " want " << want;
        }
      }
    }
  }
}

TEST_P(ConvPoolTest, Conv2dRandomConfigs) {
  std::mt19937 rng(41);
  auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int rep = 0; rep < 60; ++rep) {
    Conv2dParams p;
    const int kind = rep % 4;  // 0 general, 1 grouped, 2 depthwise, 3 pointwise
    int64_t C = ri(1, 6), M = ri(1, 7);
    if (kind == 1) {
      p.groups = 2;
      C = 2 * ri(1, 3);
      M = 2 * ri(1, 3);
    } else if (kind == 2) {
      C = ri(1, 8);
      M = C * (rep % 8 == 2 ? 2 : 1);  // channel multiplier 1 or 2
      p.groups = C;
    }
    const int64_t KH = kind == 3 ? 1 : ri(1, 3), KW = kind == 3 ? 1 : ri(1, 4);
    if (kind != 3) {
      p.stride_h = ri(1, 2);
      p.stride_w = ri(1, 3);
      p.dilation_h = ri(1, 2);
      p.dilation_w = ri(1, 2);
      p.pad_top = ri(0, 2);
      p.pad_left = ri(0, 2);
      p.pad_bottom = ri(0, 2);
      p.pad_right = ri(0, 1);
    }
    const Activation acts[] = {Activation::kNone, Activation::kRelu, Activation::kSigmoid,
                               Activation::kClip};
    p.activation.kind = acts[rep % 4];
    const int64_t H = ri(static_cast<int>(KH * p.dilation_h), 12);
    const int64_t W = ri(static_cast<int>(KW * p.dilation_w), 13);
    Tensor x = RandomView(DType::kFloat32, {ri(1, 2), C, H, W},
                          rep % 3 == 0 ? ViewKind::kPermuted : ViewKind::kContiguous, rng, -1, 1);
    Tensor w = RandomTensor(DType::kFloat32, {M, C / p.groups, KH, KW}, rng, -1, 1);
    Tensor b = RandomTensor(DType::kFloat32, {M}, rng, -1, 1);
    CheckConv(x, w, rep % 2 ? &b : nullptr, p);
  }
  // A larger general conv and a larger depthwise conv (threaded paths).
  Conv2dParams p;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  CheckConv(RandomTensor(DType::kFloat32, {2, 16, 20, 18}, rng, -1, 1),
            RandomTensor(DType::kFloat32, {24, 16, 3, 3}, rng, -1, 1), nullptr, p);
  p.groups = 32;
  p.stride_h = p.stride_w = 2;
  CheckConv(RandomTensor(DType::kFloat32, {1, 32, 23, 21}, rng, -1, 1),
            RandomTensor(DType::kFloat32, {32, 1, 3, 3}, rng, -1, 1), nullptr, p);
}

TEST_P(ConvPoolTest, Conv2dErrors) {
  Tensor x = Tensor::Zeros(DType::kFloat32, {1, 4, 5, 5}).value();
  Tensor w = Tensor::Zeros(DType::kFloat32, {6, 4, 3, 3}).value();
  Tensor y = Tensor::Zeros(DType::kFloat32, {1, 6, 3, 3}).value();
  Conv2dParams p;
  EXPECT_TRUE(Conv2d(x, w, nullptr, p, y, Pool()).ok());
  Tensor w_bad = Tensor::Zeros(DType::kFloat32, {6, 3, 3, 3}).value();
  Status s = Conv2d(x, w_bad, nullptr, p, y, Pool());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[1, 4, 5, 5]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[6, 3, 3, 3]"), std::string::npos) << s.message();
  Tensor y_bad = Tensor::Zeros(DType::kFloat32, {1, 6, 5, 5}).value();
  EXPECT_FALSE(Conv2d(x, w, nullptr, p, y_bad, Pool()).ok());
  Tensor b_bad = Tensor::Zeros(DType::kFloat32, {5}).value();
  EXPECT_FALSE(Conv2d(x, w, &b_bad, p, y, Pool()).ok());
  Conv2dParams g3;
  g3.groups = 3;
  EXPECT_FALSE(Conv2d(x, w, nullptr, g3, y, Pool()).ok());
  Conv2dParams s0;
  s0.stride_h = 0;
  EXPECT_FALSE(Conv2d(x, w, nullptr, s0, y, Pool()).ok());
  Conv2dParams big;
  big.dilation_h = 4;  // 9-tall kernel on a 5-tall input
  EXPECT_FALSE(Conv2d(x, w, nullptr, big, y, Pool()).ok());
  Tensor x3 = Tensor::Zeros(DType::kFloat32, {4, 5, 5}).value();
  EXPECT_FALSE(Conv2d(x3, w, nullptr, p, y, Pool()).ok());
  Tensor xi = Tensor::Zeros(DType::kInt32, {1, 4, 5, 5}).value();
  EXPECT_FALSE(Conv2d(xi, w, nullptr, p, y, Pool()).ok());
  Tensor x0 = Tensor::Zeros(DType::kFloat32, {0, 4, 5, 5}).value();
  Tensor y0 = Tensor::Zeros(DType::kFloat32, {0, 6, 3, 3}).value();
  EXPECT_TRUE(Conv2d(x0, w, nullptr, p, y0, Pool()).ok());
}

void CheckPool(const Tensor& x, const Pool2dParams& p) {
  SCOPED_TRACE("x " + ShapeToString(x.shape()) + " k " + std::to_string(p.kernel_h) + "x" +
               std::to_string(p.kernel_w) + " s " + std::to_string(p.stride_h) + "," +
               std::to_string(p.stride_w) + " pads " + std::to_string(p.pad_top) + "," +
               std::to_string(p.pad_left) + "," + std::to_string(p.pad_bottom) + "," +
               std::to_string(p.pad_right) + (p.ceil_mode ? " ceil" : "") +
               (p.count_include_pad ? " incl" : "") + " dil " + std::to_string(p.dilation_h));
  Result<Shape> ys = Pool2dShape(x.shape(), p);
  ASSERT_TRUE(ys.ok()) << ys.status().ToString();
  Tensor y = Tensor::Empty(DType::kFloat32, *ys).value();
  ASSERT_TRUE(Pool2d(x, p, y, Pool()).ok());
  const int64_t H = x.dim(2), W = x.dim(3), OH = (*ys)[2], OW = (*ys)[3];
  // Output size: PyTorch's formula.
  auto out_size = [&](int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1, int64_t d) {
    const double v = static_cast<double>(in + p0 + p1 - d * (k - 1) - 1) / static_cast<double>(s);
    int64_t o = static_cast<int64_t>(p.ceil_mode ? std::ceil(v) : std::floor(v)) + 1;
    if (p.ceil_mode && (o - 1) * s >= in + p0) --o;
    return o;
  };
  ASSERT_EQ(OH, out_size(H, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom, p.dilation_h));
  ASSERT_EQ(OW, out_size(W, p.kernel_w, p.stride_w, p.pad_left, p.pad_right, p.dilation_w));
  for (int64_t pl = 0; pl < x.dim(0) * x.dim(1); ++pl) {
    for (int64_t oy = 0; oy < OH; ++oy) {
      for (int64_t ox = 0; ox < OW; ++ox) {
        double mx = -INFINITY, sum = 0;
        int64_t in_count = 0, pad_count = 0;
        for (int64_t i = 0; i < p.kernel_h; ++i) {
          for (int64_t j = 0; j < p.kernel_w; ++j) {
            const int64_t iy = oy * p.stride_h - p.pad_top + i * p.dilation_h;
            const int64_t ix = ox * p.stride_w - p.pad_left + j * p.dilation_w;
            if (iy >= -p.pad_top && iy < H + p.pad_bottom && ix >= -p.pad_left &&
                ix < W + p.pad_right) {
              ++pad_count;
            }
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const double v = x.GetAsDouble((pl * H + iy) * W + ix);
            mx = std::max(mx, v);
            sum += v;
            ++in_count;
          }
        }
        double want = mx;
        if (p.kind == PoolKind::kAverage) {
          const int64_t cnt = p.count_include_pad ? pad_count : in_count;
          want = cnt ? sum / static_cast<double>(cnt) : 0;
        }
        const double got = y.GetAsDouble((pl * OH + oy) * OW + ox);
        ASSERT_TRUE(Close(got, want, 1e-5, 1e-6))
            << pl << "," << oy << "," << ox << " got " << got << " want " << want;
      }
    }
  }
}

TEST_P(ConvPoolTest, Pool2dRandomConfigs) {
  std::mt19937 rng(42);
  auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int rep = 0; rep < 80; ++rep) {
    Pool2dParams p;
    p.kind = rep % 2 ? PoolKind::kAverage : PoolKind::kMax;
    p.kernel_h = ri(1, 3);
    p.kernel_w = ri(1, 4);
    p.stride_h = ri(1, 3);
    p.stride_w = ri(1, 2);
    p.dilation_h = rep % 5 == 0 ? 2 : 1;
    p.pad_top = ri(0, static_cast<int>(p.kernel_h - 1));
    p.pad_bottom = ri(0, static_cast<int>(p.kernel_h - 1));
    p.pad_left = ri(0, static_cast<int>(p.kernel_w - 1));
    p.pad_right = ri(0, static_cast<int>(p.kernel_w - 1));
    p.ceil_mode = rep % 3 == 0;
    p.count_include_pad = rep % 4 == 1;
    const int64_t H = ri(static_cast<int>(p.kernel_h * p.dilation_h), 11);
    const int64_t W = ri(static_cast<int>(p.kernel_w), 12);
    Tensor x = RandomView(DType::kFloat32, {ri(1, 2), ri(1, 3), H, W},
                          static_cast<ViewKind>(rep % 4), rng, -5, 5);
    CheckPool(x, p);
  }
}

TEST_P(ConvPoolTest, GlobalPool) {
  std::mt19937 rng(43);
  for (PoolKind kind : {PoolKind::kMax, PoolKind::kAverage}) {
    // Many planes (the average sums 8 at a time): plane sizes below, at and across 8 and 16
    // lanes, plane counts not a multiple of 8, and a split over the pool (3000 x 7x7).
    for (Shape s : {Shape{2, 3, 7, 5}, Shape{1, 1, 1, 1}, Shape{1, 4, 33, 33}, Shape{1, 1280, 7, 7},
                    Shape{2, 21, 3, 3}, Shape{1, 19, 4, 4}, Shape{1, 9, 5, 5}, Shape{1, 17, 2, 2},
                    Shape{1, 3000, 7, 7}}) {
      Tensor x = RandomView(DType::kFloat32, s, ViewKind::kSliced, rng, -5, 5);
      Tensor y = Tensor::Empty(DType::kFloat32, {s[0], s[1], 1, 1}).value();
      ASSERT_TRUE(GlobalPool2d(kind, x, y, Pool()).ok());
      const int64_t hw = s[2] * s[3];
      for (int64_t pl = 0; pl < s[0] * s[1]; ++pl) {
        double mx = -INFINITY, sum = 0;
        for (int64_t i = 0; i < hw; ++i) {
          mx = std::max(mx, x.GetAsDouble(pl * hw + i));
          sum += x.GetAsDouble(pl * hw + i);
        }
        const double want = kind == PoolKind::kMax ? mx : sum / static_cast<double>(hw);
        ASSERT_TRUE(Close(y.GetAsDouble(pl), want, 1e-5, 1e-6));
      }
    }
  }
  Tensor x = Tensor::Zeros(DType::kFloat32, {2, 3, 4, 4}).value();
  Tensor bad = Tensor::Zeros(DType::kFloat32, {2, 3, 1}).value();
  EXPECT_FALSE(GlobalPool2d(PoolKind::kMax, x, bad, Pool()).ok());
  Tensor e = Tensor::Zeros(DType::kFloat32, {2, 3, 0, 4}).value();
  Tensor ye = Tensor::Zeros(DType::kFloat32, {2, 3, 1, 1}).value();
  EXPECT_FALSE(GlobalPool2d(PoolKind::kAverage, e, ye, Pool()).ok());
}

TEST_P(ConvPoolTest, Pool2dErrors) {
  Tensor x = Tensor::Zeros(DType::kFloat32, {1, 2, 4, 4}).value();
  Pool2dParams p;
  p.kernel_h = p.kernel_w = 2;
  Tensor y = Tensor::Zeros(DType::kFloat32, {1, 2, 3, 3}).value();
  EXPECT_TRUE(Pool2d(x, p, y, Pool()).ok());
  Tensor bad = Tensor::Zeros(DType::kFloat32, {1, 2, 2, 2}).value();
  Status s = Pool2d(x, p, bad, Pool());
  EXPECT_NE(s.message().find("[1, 2, 2, 2]"), std::string::npos);
  EXPECT_NE(s.message().find("[1, 2, 4, 4]"), std::string::npos);
  Pool2dParams k0 = p;
  k0.kernel_h = 0;
  EXPECT_FALSE(Pool2d(x, k0, y, Pool()).ok());
  Pool2dParams big = p;
  big.kernel_h = 9;
  EXPECT_FALSE(Pool2d(x, big, y, Pool()).ok());
  Pool2dParams neg = p;
  neg.pad_left = -1;
  EXPECT_FALSE(Pool2d(x, neg, y, Pool()).ok());
  Tensor x3 = Tensor::Zeros(DType::kFloat32, {2, 4, 4}).value();
  EXPECT_FALSE(Pool2d(x3, p, y, Pool()).ok());
}

INSTANTIATE_TEST_SUITE_P(Paths, ConvPoolTest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
