// The fused attention kernel's AVX-512 softmax row (mask added in the max pass, masked tail)
// against a double-precision reference: lengths around the 16-lane edges, with and without a
// mask, masked-out keys (-inf), and an all -inf row (NaN, as an unfused Softmax gives).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/gemm_kernels.h"

namespace mlos::kernels {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<double> Reference(const std::vector<float>& x, const std::vector<float>* m,
                              double scale = 1.0) {
  std::vector<double> y(x.size());
  double mx = -kInf;
  for (size_t j = 0; j < x.size(); ++j) {
    y[j] = scale * static_cast<double>(x[j]) + (m != nullptr ? (*m)[j] : 0.0);
    mx = std::max(mx, y[j]);
  }
  double sum = 0;
  for (double& v : y) sum += (v = std::exp(v - mx));
  for (double& v : y) v /= sum;
  return y;
}

TEST(AttentionSoftmaxTest, MatchesReference) {
  if (!gemm_internal::UseAvx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-8.f, 8.f);
  for (int64_t n : {1, 2, 7, 15, 16, 17, 31, 32, 33, 64, 100, 127, 128, 129, 300}) {
    for (int masked = 0; masked < 3; ++masked) {
      SCOPED_TRACE("n " + std::to_string(n) + " mask " + std::to_string(masked));
      // One spare float each side catches writes outside the row.
      std::vector<float> buf(n + 2, 123.f), mask(n);
      for (int64_t j = 0; j < n; ++j) buf[j + 1] = u(rng);
      for (int64_t j = 0; j < n; ++j) mask[j] = u(rng);
      // masked == 2: every third key masked out (keeping key 0).
      if (masked == 2) {
        for (int64_t j = 1; j < n; j += 3) mask[j] = -kInf;
      }
      const std::vector<float> x(buf.begin() + 1, buf.end() - 1);
      const std::vector<double> want = Reference(x, masked ? &mask : nullptr);
      internal::MaskedSoftmaxRowAvx512(buf.data() + 1, n, masked ? mask.data() : nullptr);
      EXPECT_EQ(buf[0], 123.f);
      EXPECT_EQ(buf[n + 1], 123.f);
      double total = 0;
      for (int64_t j = 0; j < n; ++j) {
        ASSERT_NEAR(buf[j + 1], want[j], 2e-6 + 1e-5 * want[j]) << "at " << j;
        total += buf[j + 1];
      }
      EXPECT_NEAR(total, 1.0, 1e-5);
    }
  }
}

// The scale applied in the first pass (the attention kernel's 1/sqrt(d) when Q is read in
// place): positive, negative and zero scales, around the 16-lane tail (a tail lane's -inf
// times a negative or zero scale must not reach the maximum).
TEST(AttentionSoftmaxTest, ScaledMatchesReference) {
  if (!gemm_internal::UseAvx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-8.f, 8.f);
  for (float scale : {0.125f, 0.37f, -0.5f, 0.f, 2.f}) {
    for (int64_t n : {1, 9, 16, 23, 128, 131}) {
      for (int masked = 0; masked < 2; ++masked) {
        SCOPED_TRACE("n " + std::to_string(n) + " mask " + std::to_string(masked) + " scale " +
                     std::to_string(scale));
        std::vector<float> buf(n + 2, 123.f), mask(n);
        for (int64_t j = 0; j < n; ++j) buf[j + 1] = u(rng);
        for (int64_t j = 0; j < n; ++j) mask[j] = u(rng);
        const std::vector<float> x(buf.begin() + 1, buf.end() - 1);
        const std::vector<double> want = Reference(x, masked ? &mask : nullptr, scale);
        internal::MaskedSoftmaxRowAvx512(buf.data() + 1, n, masked ? mask.data() : nullptr, scale);
        EXPECT_EQ(buf[0], 123.f);
        EXPECT_EQ(buf[n + 1], 123.f);
        for (int64_t j = 0; j < n; ++j) {
          ASSERT_NEAR(buf[j + 1], want[j], 2e-6 + 1e-5 * want[j]) << "at " << j;
        }
      }
    }
  }
}

TEST(AttentionSoftmaxTest, AllMaskedRowIsNan) {
  if (!gemm_internal::UseAvx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  for (int64_t n : {5, 16, 40}) {
    std::vector<float> x(n, 1.f), m(n, -kInf);
    internal::MaskedSoftmaxRowAvx512(x.data(), n, m.data());
    for (float v : x) EXPECT_TRUE(std::isnan(v));
  }
}

TEST(AttentionSoftmaxTest, LargeScoresDoNotOverflow) {
  if (!gemm_internal::UseAvx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::vector<float> x = {1000.f, 999.f, -1000.f, 1000.f};
  internal::MaskedSoftmaxRowAvx512(x.data(), 4, nullptr);
  const double e = std::exp(-1.0), s = 2 + e;
  EXPECT_NEAR(x[0], 1 / s, 1e-6);
  EXPECT_NEAR(x[1], e / s, 1e-6);
  EXPECT_NEAR(x[2], 0.0, 1e-12);
  EXPECT_NEAR(x[3], 1 / s, 1e-6);
}

}  // namespace
}  // namespace mlos::kernels
