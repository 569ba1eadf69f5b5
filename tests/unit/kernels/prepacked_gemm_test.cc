// PackedSgemm against a double-precision reference: shapes around the tile and cache-block
// edges (m past mc, k past kc, n not a multiple of the column sliver), B stored plain and
// transposed, alpha folded into the packing, beta with a preloaded C, bias and activations,
// transposed A, one and several tasks, both dispatch paths.
#include "kernels/cpu/prepacked_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernel_test_util.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

class PackedGemmTest : public BothPaths {};

struct Case {
  int64_t m, k, n;
  bool trans_a, trans_b;
  float alpha, beta;
  bool bias;
  Activation act;
};

void CheckCase(const Case& c, ThreadPool& pool, std::mt19937& rng) {
  SCOPED_TRACE(std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n) +
               " ta " + std::to_string(c.trans_a) + " tb " + std::to_string(c.trans_b) + " beta " +
               std::to_string(c.beta) + " threads " + std::to_string(pool.num_threads()));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> a(c.m * c.k), b(c.k * c.n), bias(c.n), out(c.m * c.n);
  for (float& x : a) x = u(rng);
  for (float& x : b) x = u(rng);
  for (float& x : bias) x = u(rng);
  for (float& x : out) x = u(rng);
  const std::vector<float> c0 = out;
  // B(p, j): stored [k, n], or [n, k] when transposed.
  auto pm = c.trans_b ? PackedMatrix::Pack(b.data(), 1, c.k, c.k, c.n, c.alpha)
                      : PackedMatrix::Pack(b.data(), c.n, 1, c.k, c.n, c.alpha);
  ASSERT_TRUE(pm.ok()) << pm.status().ToString();
  ASSERT_EQ((*pm)->k(), c.k);
  ASSERT_EQ((*pm)->n(), c.n);
  PackedGemmArgs g;
  g.m = c.m;
  g.a = a.data();
  g.a_rs = c.trans_a ? 1 : c.k;  // A(i, p): stored [m, k], or [k, m] when transposed
  g.a_cs = c.trans_a ? c.m : 1;
  g.c = out.data();
  g.ldc = c.n;
  g.beta = c.beta;
  g.bias = c.bias ? bias.data() : nullptr;
  g.activation.kind = c.act;
  PackedSgemm(g, **pm, pool);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        const double av = a[i * g.a_rs + p * g.a_cs];
        const double bv = c.trans_b ? b[j * c.k + p] : b[p * c.n + j];
        acc += av * bv;
      }
      double want = c.alpha * acc + c.beta * c0[i * c.n + j] + (c.bias ? bias[j] : 0.0);
      if (c.act == Activation::kRelu) want = std::max(want, 0.0);
      if (c.act == Activation::kGelu) want = 0.5 * want * (1 + std::erf(want / std::sqrt(2.0)));
      ASSERT_NEAR(out[i * c.n + j], want, 1e-4 * (1 + std::sqrt(static_cast<double>(c.k))))
          << "at " << i << "," << j;
    }
  }
}

TEST_P(PackedGemmTest, MatchesReference) {
  std::mt19937 rng(11);
  const Case cases[] = {
      {1, 1, 1, false, false, 1.f, 0.f, false, Activation::kNone},
      {16, 1024, 256, false, true, 1.f, 0.f, true, Activation::kGelu},
      {13, 7, 33, false, false, 1.f, 0.f, true, Activation::kRelu},
      {96, 192, 576, false, false, 1.f, 0.f, true, Activation::kNone},
      {128, 300, 70, false, true, 0.5f, 0.f, true, Activation::kNone},
      {200, 513, 65, true, false, 1.f, 1.f, false, Activation::kNone},
      {37, 64, 31, true, true, 2.f, 0.25f, true, Activation::kRelu},
      // Last row tiles of every height the 12-row kernel set splits into (4, 8 and 12 rows).
      {6, 40, 45, false, false, 1.f, 0.5f, true, Activation::kRelu},
      {21, 300, 64, false, true, 1.f, 0.f, true, Activation::kNone},
      {128, 256, 96, false, true, 1.f, 0.f, true, Activation::kRelu},
      {140, 70, 33, true, false, 1.f, 1.f, false, Activation::kGelu},
      // A 7x7 layer's transposed 1x1 conv (49 rows: a 1-row last tile, 5 column slivers): the
      // 2-task grid splits the rows.
      {49, 96, 160, true, false, 1.f, 0.f, true, Activation::kNone},
  };
  ThreadPool one(1);
  for (const Case& c : cases) {
    CheckCase(c, one, rng);
    CheckCase(c, Pool(), rng);
  }
}

TEST_P(PackedGemmTest, EmptyShapes) {
  auto pm = PackedMatrix::Pack(nullptr, 1, 1, 0, 5);
  ASSERT_TRUE(pm.ok());
  EXPECT_EQ((*pm)->bytes(), 0u);
  EXPECT_FALSE(PackedMatrix::Pack(nullptr, 1, 1, -1, 5).ok());
  // m == 0 writes nothing.
  std::vector<float> b(4, 1.f), c(2, 3.f);
  auto p2 = PackedMatrix::Pack(b.data(), 2, 1, 2, 2);
  ASSERT_TRUE(p2.ok());
  PackedGemmArgs g;
  g.m = 0;
  g.c = c.data();
  g.ldc = 2;
  PackedSgemm(g, **p2, Pool());
  EXPECT_EQ(c[0], 3.f);
}

INSTANTIATE_TEST_SUITE_P(Paths, PackedGemmTest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
