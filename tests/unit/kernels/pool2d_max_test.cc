// Max pooling (Pool2d, kMax) against a direct loop with -inf padding and NaN propagation, on
// both dispatch paths and at 1 and 2 threads: planes wider than one and several vectors with
// partial tails, strides 1..3 in both axes (the stride-2 deinterleave and the gather path),
// dilations in both axes, asymmetric pads, ceil mode, the resnet stem shape, and NaN inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"
#include "kernels/cpu/nn.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

class MaxPoolTest : public BothPaths {};

void CheckMaxPool(const Tensor& x, const Pool2dParams& p, ThreadPool& pool) {
  SCOPED_TRACE("x " + ShapeToString(x.shape()) + " k " + std::to_string(p.kernel_h) + "x" +
               std::to_string(p.kernel_w) + " s " + std::to_string(p.stride_h) + "," +
               std::to_string(p.stride_w) + " d " + std::to_string(p.dilation_h) + "," +
               std::to_string(p.dilation_w) + " pads " + std::to_string(p.pad_top) + "," +
               std::to_string(p.pad_left) + "," + std::to_string(p.pad_bottom) + "," +
               std::to_string(p.pad_right) + (p.ceil_mode ? " ceil" : ""));
  Result<Shape> ys = Pool2dShape(x.shape(), p);
  ASSERT_TRUE(ys.ok()) << ys.status().ToString();
  Tensor y = Tensor::Empty(DType::kFloat32, *ys).value();
  ASSERT_TRUE(Pool2d(x, p, y, pool).ok());
  const int64_t H = x.dim(2), W = x.dim(3), OH = (*ys)[2], OW = (*ys)[3];
  for (int64_t pl = 0; pl < x.dim(0) * x.dim(1); ++pl) {
    for (int64_t oy = 0; oy < OH; ++oy) {
      for (int64_t ox = 0; ox < OW; ++ox) {
        double want = -INFINITY;
        bool nan = false;
        for (int64_t i = 0; i < p.kernel_h; ++i) {
          for (int64_t j = 0; j < p.kernel_w; ++j) {
            const int64_t iy = oy * p.stride_h - p.pad_top + i * p.dilation_h;
            const int64_t ix = ox * p.stride_w - p.pad_left + j * p.dilation_w;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const double v = x.GetAsDouble((pl * H + iy) * W + ix);
            nan |= std::isnan(v);
            want = std::max(want, v);
          }
        }
        const double got = y.GetAsDouble((pl * OH + oy) * OW + ox);
        if (nan) {
          ASSERT_TRUE(std::isnan(got)) << pl << "," << oy << "," << ox << " got " << got;
        } else {
          ASSERT_EQ(got, want) << pl << "," << oy << "," << ox;
        }
      }
    }
  }
}

Tensor RandomInput(Shape s, std::mt19937& rng, double nan_rate) {
  Tensor x = Tensor::Empty(DType::kFloat32, s).value();
  float* p = x.data<float>();
  std::uniform_real_distribution<float> u(-5, 5), f(0, 1);
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = f(rng) < nan_rate ? NAN : u(rng);
  return x;
}

TEST_P(MaxPoolTest, RandomConfigs) {
  std::mt19937 rng(7);
  auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  ThreadPool one(1);
  for (int rep = 0; rep < 120; ++rep) {
    Pool2dParams p;
    p.kind = PoolKind::kMax;
    p.kernel_h = ri(1, 4);
    p.kernel_w = ri(1, 5);
    p.stride_h = ri(1, 3);
    p.stride_w = ri(1, 3);
    p.dilation_h = rep % 5 == 0 ? 2 : 1;
    p.dilation_w = rep % 7 == 0 ? ri(2, 3) : 1;
    p.pad_top = ri(0, static_cast<int>(p.kernel_h - 1));
    p.pad_bottom = ri(0, static_cast<int>(p.kernel_h - 1));
    p.pad_left = ri(0, static_cast<int>(p.kernel_w - 1));
    p.pad_right = ri(0, static_cast<int>(p.kernel_w - 1));
    p.ceil_mode = rep % 3 == 0;
    const int64_t H = ri(static_cast<int>((p.kernel_h - 1) * p.dilation_h + 1), 13);
    const int64_t W = ri(static_cast<int>((p.kernel_w - 1) * p.dilation_w + 1), 75);
    Tensor x = RandomInput({ri(1, 2), ri(1, 5), H, W}, rng, rep % 4 == 3 ? 0.02 : 0.0);
    CheckMaxPool(x, p, rep % 2 ? one : Pool());
  }
}

TEST_P(MaxPoolTest, CommonShapes) {
  std::mt19937 rng(8);
  ThreadPool one(1);
  struct Case {
    Shape x;
    int64_t k, s, pad;
  };
  // ResNet's stem pool, 2x2 s2 over even and odd planes, and a plane exactly 16 / 32 wide.
  for (const Case& c : {Case{{1, 64, 112, 112}, 3, 2, 1}, Case{{1, 8, 30, 30}, 2, 2, 0},
                        Case{{2, 3, 31, 33}, 2, 2, 0}, Case{{1, 5, 16, 32}, 3, 1, 1},
                        Case{{1, 4, 17, 17}, 3, 2, 1}}) {
    for (ThreadPool* pool : {&one, &Pool()}) {
      Pool2dParams p;
      p.kind = PoolKind::kMax;
      p.kernel_h = p.kernel_w = c.k;
      p.stride_h = p.stride_w = c.s;
      p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = c.pad;
      CheckMaxPool(RandomInput(c.x, rng, 0.0), p, *pool);
      p.ceil_mode = true;
      CheckMaxPool(RandomInput(c.x, rng, 0.001), p, *pool);
    }
  }
}

TEST_P(MaxPoolTest, AllPaddingWindowsAndInfinities) {
  // Every input -inf: outputs are -inf (never NaN from the padding).
  Tensor x = Tensor::Empty(DType::kFloat32, {1, 2, 5, 19}).value();
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = -INFINITY;
  Pool2dParams p;
  p.kind = PoolKind::kMax;
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 2;
  p.ceil_mode = true;
  CheckMaxPool(x, p, Pool());
}

INSTANTIATE_TEST_SUITE_P(Paths, MaxPoolTest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
