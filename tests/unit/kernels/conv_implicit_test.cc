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

#include "conv_test_case.h"
#include "kernel_test_util.h"
#include "kernels/cpu/nn.h"

namespace mlos::kernels {
namespace {

using Case = testing::ConvCase;

// packed: the weight is prepacked by PackConv2dWeight and passed as Conv2dParams::packed_weight.
void Check(const Case& k, ThreadPool& pool, std::mt19937& rng, bool packed) {
  SCOPED_TRACE(testing::Describe(k)
               << " threads " << pool.num_threads() << (packed ? " packed" : ""));
  Conv2dParams p = testing::ParamsFor(k);
  const testing::ConvOperands o = testing::RandomOperands(k, rng);
  std::vector<float> packed_w;
  if (packed) {
    // Filled with garbage first: every float the GEMM reads must be written by the packing.
    packed_w.assign(static_cast<size_t>(Conv2dPackedWeightFloats(o.w.shape(), k.groups)), -7.f);
    ASSERT_GT(packed_w.size(), 0u);
    PackConv2dWeight(static_cast<const float*>(o.w.raw_data()), o.w.shape(), k.groups,
                     packed_w.data());
    p.packed_weight = packed_w.data();
  }
  Result<Shape> ys = Conv2dShape(o.x.shape(), o.w.shape(), p);
  ASSERT_TRUE(ys.ok()) << ys.status().ToString();
  Tensor y = Tensor::Empty(DType::kFloat32, *ys).value();
  Tensor add = testing::RandomTensor(DType::kFloat32, *ys, rng, -1, 1);
  const float* addp = static_cast<const float*>(add.raw_data());
  if (k.sum) p.sum = addp;
  Status s = Conv2d(o.x, o.w, k.bias ? &o.b : nullptr, p, y, pool);
  ASSERT_TRUE(s.ok()) << s.ToString();
  testing::ExpectMatchesDirectLoop(k, o, k.sum ? addp : nullptr, y);
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
