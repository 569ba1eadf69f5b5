// PointwiseConvPacked (weight prepacked into A panels, input packed per call in column chunks),
// PointwiseConvDirect (unpacked AVX-512 register tiles) and TransposeToPlanes against plain
// double-precision loops: output channels around the 12-row panel edges, depth past the 256-deep
// block, planes shorter than one 32-column sliver and longer than one column chunk, with and
// without bias, fused Relu / Clip / SiLU / Sigmoid / Tanh, one and two threads, both dispatch paths
// (AVX2 and portable).
#include "kernels/cpu/conv2d_pointwise.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernel_test_util.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

class PointwiseTest : public BothPaths {};

struct Case {
  int64_t m, c, hw;
  bool bias;
  Activation act;
};

void CheckCase(const Case& t, ThreadPool& pool, std::mt19937& rng, bool direct) {
  SCOPED_TRACE("m " + std::to_string(t.m) + " c " + std::to_string(t.c) + " hw " +
               std::to_string(t.hw) + " threads " + std::to_string(pool.num_threads()));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> w(t.m * t.c), x(t.c * t.hw), bias(t.m), y(t.m * t.hw, 123.f);
  for (float& v : w) v = u(rng);
  for (float& v : x) v = u(rng);
  for (float& v : bias) v = u(rng);
  ActivationParams act;
  act.kind = t.act;
  act.min = -0.25f;
  act.max = 0.5f;
  if (direct) {
    ASSERT_TRUE(PointwiseConvDirect(w.data(), t.m, t.c, x.data(), t.hw,
                                    t.bias ? bias.data() : nullptr, act, y.data(), pool));
  } else {
    auto packed = PackedPointwiseWeight::Pack(w.data(), t.m, t.c);
    ASSERT_TRUE(packed.ok()) << packed.status().ToString();
    ASSERT_EQ((*packed)->m(), t.m);
    ASSERT_EQ((*packed)->c(), t.c);
    PointwiseConvPacked(**packed, x.data(), t.hw, t.bias ? bias.data() : nullptr, act, y.data(),
                        pool);
  }
  for (int64_t o = 0; o < t.m; ++o) {
    for (int64_t q = 0; q < t.hw; ++q) {
      double acc = t.bias ? bias[o] : 0.0;
      for (int64_t ch = 0; ch < t.c; ++ch) {
        acc += static_cast<double>(w[o * t.c + ch]) * x[ch * t.hw + q];
      }
      if (t.act == Activation::kRelu) acc = std::max(acc, 0.0);
      if (t.act == Activation::kClip) acc = std::clamp(acc, -0.25, 0.5);
      if (t.act == Activation::kSilu) acc = acc / (1 + std::exp(-acc));
      if (t.act == Activation::kSigmoid) acc = 1 / (1 + std::exp(-acc));
      if (t.act == Activation::kTanh) acc = std::tanh(acc);
      ASSERT_NEAR(y[o * t.hw + q], acc, 1e-4 * (1 + std::sqrt(static_cast<double>(t.c))))
          << "at channel " << o << " position " << q;
    }
  }
}

const Case kCases[] = {
    {1, 1, 1, false, Activation::kNone},
    {13, 5, 33, true, Activation::kRelu},
    {96, 16, 3136, true, Activation::kClip},   // several column chunks
    {24, 17, 3001, false, Activation::kNone},  // partial last chunk and sliver
    {40, 144, 784, true, Activation::kNone},
    {30, 300, 70, true, Activation::kClip},  // two depth blocks
    {112, 672, 196, false, Activation::kRelu},
    {7, 9, 5, true, Activation::kNone},  // plane under one sliver
    {4, 8, 1, true, Activation::kRelu},
    {25, 12, 47, true, Activation::kSilu},  // every tile height 1..12 across the cases
    {11, 3, 64, false, Activation::kSigmoid},
    {6, 33, 100, true, Activation::kTanh},  // an activation applied after the store
    {2, 576, 17, true, Activation::kClip},
    {576, 96, 196, true, Activation::kClip},  // 14x14: 2 tasks split the row groups 24 + 24
    {20, 40, 196, true, Activation::kNone},   // 2 row groups: the columns stay split
};

TEST_P(PointwiseTest, PackedMatchesReference) {
  std::mt19937 rng(5);
  ThreadPool one(1), two(2);
  for (const Case& c : kCases) {
    CheckCase(c, one, rng, false);
    CheckCase(c, two, rng, false);
  }
}

TEST_P(PointwiseTest, DirectMatchesReference) {
  if (!PointwiseDirectAvailable()) {
    std::vector<float> w(1, 1.f), x(1, 1.f), y(1, 0.f);
    EXPECT_FALSE(PointwiseConvDirect(w.data(), 1, 1, x.data(), 1, nullptr, {}, y.data(), Pool()));
    GTEST_SKIP() << "no AVX-512 (or forced portable)";
  }
  std::mt19937 rng(6);
  ThreadPool one(1), two(2), three(3);
  for (const Case& c : kCases) {
    CheckCase(c, one, rng, true);
    CheckCase(c, two, rng, true);
    CheckCase(c, three, rng, true);
  }
  // Every tile height: m from 1 to 13 over one full and one partial column block.
  for (int64_t m = 1; m <= 13; ++m) CheckCase({m, 5, 45, true, Activation::kRelu}, one, rng, true);
}

TEST_P(PointwiseTest, RejectsEmptyWeight) {
  std::vector<float> w(4, 1.f);
  EXPECT_FALSE(PackedPointwiseWeight::Pack(w.data(), 0, 4).ok());
  EXPECT_FALSE(PackedPointwiseWeight::Pack(w.data(), 4, 0).ok());
}

TEST_P(PointwiseTest, TransposeToPlanes) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  ThreadPool one(1), two(2);
  const int64_t shapes[][2] = {{1, 1}, {49, 1280}, {8, 8}, {7, 9}, {17, 23}, {196, 40}, {3, 64}};
  for (const auto& s : shapes) {
    const int64_t rows = s[0], cols = s[1];
    std::vector<float> src(rows * cols);
    for (float& v : src) v = u(rng);
    for (ThreadPool* pool : {&one, &two}) {
      SCOPED_TRACE(std::to_string(rows) + " x " + std::to_string(cols) + " threads " +
                   std::to_string(pool->num_threads()));
      std::vector<float> dst(rows * cols, 7.f);
      TransposeToPlanes(src.data(), rows, cols, dst.data(), *pool);
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) ASSERT_EQ(dst[j * rows + i], src[i * cols + j]);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, PointwiseTest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
