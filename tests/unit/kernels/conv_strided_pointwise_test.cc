// Strided unpadded 1x1 convolutions (ResNet downsample; the gather + direct pointwise path of
// Conv2d) against a direct double-precision loop: strides 2 and mixed (3,1) / (1,2) / (2,3),
// odd and even planes, widths below / across / above 32 (the masked tail of the stride-2
// gather), groups, bias, Relu, a residual addend, batch 2, at 1 and 2 threads, on both paths.
#include <gtest/gtest.h>

#include <random>

#include "kernel_test_util.h"
#include "kernels/cpu/nn.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

class StridedPointwiseTest : public BothPaths {};

struct Case {
  int64_t n, c, m, h, w, sh, sw, groups;
  bool bias, relu, sum;
};

void Check(const Case& k, ThreadPool& pool, std::mt19937& rng) {
  SCOPED_TRACE("n " + std::to_string(k.n) + " c " + std::to_string(k.c) + " m " +
               std::to_string(k.m) + " " + std::to_string(k.h) + "x" + std::to_string(k.w) + " s " +
               std::to_string(k.sh) + "," + std::to_string(k.sw) + " g " +
               std::to_string(k.groups));
  const int64_t cg = k.c / k.groups, mg = k.m / k.groups;
  Tensor x = RandomTensor(DType::kFloat32, {k.n, k.c, k.h, k.w}, rng, -1, 1);
  Tensor w = RandomTensor(DType::kFloat32, {k.m, cg, 1, 1}, rng, -1, 1);
  Tensor b = RandomTensor(DType::kFloat32, {k.m}, rng, -1, 1);
  Conv2dParams p;
  p.stride_h = k.sh;
  p.stride_w = k.sw;
  p.groups = k.groups;
  if (k.relu) p.activation.kind = Activation::kRelu;
  const int64_t oh = (k.h - 1) / k.sh + 1, ow = (k.w - 1) / k.sw + 1;
  Tensor s = RandomTensor(DType::kFloat32, {k.n, k.m, oh, ow}, rng, -1, 1);
  if (k.sum) p.sum = s.data<float>();
  Result<Shape> ys = Conv2dShape(x.shape(), w.shape(), p);
  ASSERT_TRUE(ys.ok());
  ASSERT_EQ(*ys, (Shape{k.n, k.m, oh, ow}));
  Tensor y = Tensor::Empty(DType::kFloat32, *ys).value();
  ASSERT_TRUE(Conv2d(x, w, k.bias ? &b : nullptr, p, y, pool).ok());
  for (int64_t n = 0; n < k.n; ++n) {
    for (int64_t o = 0; o < k.m; ++o) {
      const int64_t grp = o / mg;
      for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          double acc = k.bias ? b.data<float>()[o] : 0.0;
          for (int64_t ci = 0; ci < cg; ++ci) {
            const int64_t ch = grp * cg + ci;
            acc += static_cast<double>(w.data<float>()[o * cg + ci]) *
                   x.data<float>()[((n * k.c + ch) * k.h + oy * k.sh) * k.w + ox * k.sw];
          }
          const int64_t yi = ((n * k.m + o) * oh + oy) * ow + ox;
          if (k.sum) acc += s.data<float>()[yi];
          if (k.relu && acc < 0) acc = 0;
          ASSERT_NEAR(y.data<float>()[yi], acc, 1e-4 * (1 + std::abs(acc)))
              << n << "," << o << "," << oy << "," << ox;
        }
      }
    }
  }
}

TEST_P(StridedPointwiseTest, MatchesDirectLoop) {
  std::mt19937 rng(11);
  ThreadPool one(1);
  const Case cases[] = {
      {1, 64, 128, 56, 56, 2, 2, 1, false, false, false},  // resnet34 layer2 downsample
      {1, 128, 256, 28, 28, 2, 2, 1, true, false, false},
      {1, 256, 512, 14, 14, 2, 2, 1, false, true, true},
      {2, 13, 17, 9, 11, 2, 2, 1, true, true, false},
      {1, 7, 30, 15, 65, 2, 2, 1, true, false, true},  // gather tail across two vectors
      {1, 5, 12, 33, 31, 2, 2, 1, false, false, false},
      {1, 9, 14, 10, 10, 3, 1, 1, true, false, false},
      {1, 9, 14, 10, 13, 1, 2, 1, true, true, false},
      {1, 8, 12, 11, 17, 2, 3, 2, true, false, true},
      {1, 3, 40, 8, 8, 2, 2, 1, false, false, false},  // few channels widened (not preferred)
  };
  for (const Case& k : cases) {
    Check(k, one, rng);
    Check(k, Pool(), rng);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, StridedPointwiseTest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
