// AttentionHeadRows against a double-precision reference: odd sizes around the micro-kernel's
// tiles, strided (transposed) Q/K/V views, masks with -inf (causal) and broadcast (stride 0)
// masks, row ranges, zero-width heads, long key sequences (depth blocking), both dispatch paths.
#include "kernels/cpu/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernel_test_util.h"

namespace mlos::kernels {
namespace {

using namespace testing;  // NOLINT

class AttentionTest : public BothPaths {};

struct Case {
  int64_t t, s, d, dv;
  bool transposed;  // Q/K/V stored column-major (as after a head-split transpose)
  int mask;         // 0 none, 1 causal (-inf above the diagonal), 2 row-broadcast padding
};

void CheckCase(const Case& c, std::mt19937& rng) {
  SCOPED_TRACE("t " + std::to_string(c.t) + " s " + std::to_string(c.s) + " d " +
               std::to_string(c.d) + " dv " + std::to_string(c.dv) + " transposed " +
               std::to_string(c.transposed) + " mask " + std::to_string(c.mask));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  auto fill = [&](std::vector<float>& v, size_t n) {
    v.resize(n);
    for (float& x : v) x = u(rng);
  };
  std::vector<float> q, k, v, m, o;
  fill(q, c.t * c.d);
  fill(k, c.s * c.d);
  fill(v, c.s * c.dv);
  AttentionHeadArgs a;
  a.t = c.t;
  a.s = c.s;
  a.d = c.d;
  a.dv = c.dv;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  if (c.transposed) {
    a.q_rs = 1, a.q_cs = c.t;
    a.k_rs = 1, a.k_cs = c.s;
    a.v_rs = 1, a.v_cs = c.s;
  } else {
    a.q_rs = c.d, a.q_cs = 1;
    a.k_rs = c.d, a.k_cs = 1;
    a.v_rs = c.dv, a.v_cs = 1;
  }
  if (c.mask == 1) {
    m.assign(c.t * c.s, 0.f);
    for (int64_t i = 0; i < c.t; ++i) {
      for (int64_t j = i + 1; j < c.s; ++j) m[i * c.s + j] = -INFINITY;
    }
    a.mask = m.data();
    a.mask_rs = c.s;
    a.mask_cs = 1;
  } else if (c.mask == 2) {
    m.assign(c.s, 0.f);
    for (int64_t j = c.s / 2 + 1; j < c.s; ++j) m[j] = -INFINITY;
    a.mask = m.data();
    a.mask_rs = 0;
    a.mask_cs = 1;
  }
  const int64_t o_rs = c.dv + 3;  // a padded row stride
  o.assign(c.t * o_rs, 7.f);
  a.o = o.data();
  a.o_rs = o_rs;
  a.scale = 0.37f;
  // Two row ranges, as two tasks would do.
  const int64_t mid = c.t / 3;
  ASSERT_TRUE(AttentionHeadRows(a, 0, mid).ok());
  ASSERT_TRUE(AttentionHeadRows(a, mid, c.t).ok());

  auto at = [](const std::vector<float>& x, int64_t i, int64_t j, int64_t rs, int64_t cs) {
    return static_cast<double>(x[i * rs + j * cs]);
  };
  std::vector<double> p(c.s);
  for (int64_t i = 0; i < c.t; ++i) {
    double mx = -INFINITY;
    for (int64_t j = 0; j < c.s; ++j) {
      double acc = 0;
      for (int64_t e = 0; e < c.d; ++e)
        acc += at(q, i, e, a.q_rs, a.q_cs) * at(k, j, e, a.k_rs, a.k_cs);
      acc *= a.scale;
      if (a.mask) acc += a.mask[i * a.mask_rs + j * a.mask_cs];
      p[j] = acc;
      mx = std::max(mx, acc);
    }
    double sum = 0;
    for (int64_t j = 0; j < c.s; ++j) sum += (p[j] = std::exp(p[j] - mx));
    for (int64_t e = 0; e < c.dv; ++e) {
      double want = 0;
      for (int64_t j = 0; j < c.s; ++j) want += p[j] / sum * at(v, j, e, a.v_rs, a.v_cs);
      const double got = o[i * o_rs + e];
      ASSERT_NEAR(got, want, 1e-4 + 1e-4 * std::fabs(want)) << "row " << i << " col " << e;
    }
    for (int64_t e = c.dv; e < o_rs; ++e) ASSERT_EQ(o[i * o_rs + e], 7.f) << "padding written";
  }
}

TEST_P(AttentionTest, MatchesReference) {
  std::mt19937 rng(5);
  const Case cases[] = {
      {1, 1, 1, 1, false, 0},     {5, 7, 3, 2, false, 0},       {13, 33, 17, 31, true, 0},
      {96, 96, 64, 64, true, 1},  {128, 128, 64, 64, false, 0}, {50, 77, 8, 40, false, 2},
      {37, 300, 20, 33, true, 2}, {24, 600, 300, 16, false, 1}, {3, 5, 0, 4, false, 2},
  };
  for (const Case& c : cases) CheckCase(c, rng);
}

// A row whose every key is masked gives NaN (as the unfused Softmax does), and the other rows
// are unaffected.
TEST_P(AttentionTest, FullyMaskedRowIsNaN) {
  const int64_t t = 2, s = 3, d = 2, dv = 2;
  std::vector<float> q = {1, 2, 3, 4}, k = {1, 0, 0, 1, 1, 1}, v = {1, 2, 3, 4, 5, 6};
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> m = {-inf, -inf, -inf, 0, 0, 0}, o(t * dv, 0.f);
  AttentionHeadArgs a;
  a.t = t, a.s = s, a.d = d, a.dv = dv;
  a.q = q.data(), a.q_rs = d, a.q_cs = 1;
  a.k = k.data(), a.k_rs = d, a.k_cs = 1;
  a.v = v.data(), a.v_rs = dv, a.v_cs = 1;
  a.mask = m.data(), a.mask_rs = s, a.mask_cs = 1;
  a.o = o.data(), a.o_rs = dv;
  ASSERT_TRUE(AttentionHeadRows(a, 0, t).ok());
  EXPECT_TRUE(std::isnan(o[0]));
  EXPECT_FALSE(std::isnan(o[2]));
}

INSTANTIATE_TEST_SUITE_P(Paths, AttentionTest, ::testing::Bool(), PathName);

}  // namespace
}  // namespace mlos::kernels
