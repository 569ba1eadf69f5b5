// Accuracy of the inline AVX-512 exp / sigmoid / SiLU helpers (avx512_math.h) against
// double-precision std::exp: a dense sweep over [-30, 30], a geometric sweep out to +-1e6 (past
// every clamp), and the special values (+-0, +-inf, NaN, the clamp edges). Skipped on CPUs
// without AVX-512F.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/cpu_features.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include "kernels/cpu/avx512_math.h"

namespace mlos::kernels {
namespace {

enum class Fn { kExp, kSigmoid, kSilu };

// Runs the helper on xs, 16 lanes at a time (the tail padded with zeros).
__attribute__((noinline)) std::vector<float> Apply(Fn fn, const std::vector<float>& xs) {
  std::vector<float> out(xs.size());
  for (size_t i = 0; i < xs.size(); i += 16) {
    float in[16] = {}, res[16];
    const size_t n = std::min<size_t>(16, xs.size() - i);
    for (size_t j = 0; j < n; ++j) in[j] = xs[i + j];
    const __m512 v = _mm512_loadu_ps(in);
    const __m512 r = fn == Fn::kExp       ? internal::Exp16(v)
                     : fn == Fn::kSigmoid ? internal::Sigmoid16(v)
                                          : internal::Silu16(v);
    _mm512_storeu_ps(res, r);
    for (size_t j = 0; j < n; ++j) out[i + j] = res[j];
  }
  return out;
}

}  // namespace
}  // namespace mlos::kernels
#pragma GCC pop_options

namespace mlos::kernels {
namespace {

double Reference(Fn fn, double x) {
  if (fn == Fn::kExp) return std::exp(x);
  const double sig = 1.0 / (1.0 + std::exp(-x));
  return fn == Fn::kSigmoid ? sig : x * sig;
}

std::vector<float> Sweep() {
  std::vector<float> xs;
  for (int i = -300000; i <= 300000; ++i) xs.push_back(float(i) * 1e-4f);
  for (double m = 1e-30; m < 1e6; m *= 1.0007) {
    xs.push_back(float(m));
    xs.push_back(float(-m));
  }
  for (float v : {88.f, 89.f, 90.f, 103.9f, 104.f, 105.f, -86.f, -87.f, -88.f, -89.f, -90.f,
                  -103.9f, -104.f, -105.f, 0.f, -0.f}) {
    xs.push_back(v);
  }
  return xs;
}

void CheckAccuracy(Fn fn, const char* name) {
  const std::vector<float> xs = Sweep();
  const std::vector<float> got = Apply(fn, xs);
  int bad = 0;
  for (size_t i = 0; i < xs.size() && bad < 5; ++i) {
    const double want = Reference(fn, double(xs[i]));
    const double g = double(got[i]);
    bool ok;
    if (std::isinf(want) || want > double(std::numeric_limits<float>::max())) {
      ok = std::isinf(g) && g > 0;
    } else if (std::abs(want) < 1e-36) {
      // Near and below the normal range only the magnitude matters: denormal precision, and
      // SiLU's 1 + exp(-x) overflows to inf for x < -88.72, where |SiLU| < 3e-37.
      ok = std::abs(g - want) <= 1e-36;
    } else {
      // Exp16 is within ~2 ulp; sigmoid/SiLU add a division and the 1 + e rounding: 6 ulp.
      ok = std::abs(g - want) <= 6 * 6e-8 * std::abs(want);
    }
    if (!ok) {
      ADD_FAILURE() << name << "(" << xs[i] << ") = " << got[i] << ", want " << want;
      ++bad;
    }
  }
}

TEST(Avx512Math, MatchesStdExpOverWideRange) {
  if (!GetCpuFeatures().avx512f) GTEST_SKIP() << "no AVX-512F";
  CheckAccuracy(Fn::kExp, "Exp16");
  CheckAccuracy(Fn::kSigmoid, "Sigmoid16");
  CheckAccuracy(Fn::kSilu, "Silu16");
}

TEST(Avx512Math, SpecialValues) {
  if (!GetCpuFeatures().avx512f) GTEST_SKIP() << "no AVX-512F";
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> xs = {inf, -inf, nan, 0.f, -0.f, 1e30f, -1e30f};
  const std::vector<float> e = Apply(Fn::kExp, xs);
  const std::vector<float> s = Apply(Fn::kSigmoid, xs);
  const std::vector<float> u = Apply(Fn::kSilu, xs);
  EXPECT_EQ(e[0], inf);
  EXPECT_EQ(e[1], 0.f);
  EXPECT_TRUE(std::isnan(e[2]));
  EXPECT_EQ(e[3], 1.f);
  EXPECT_EQ(s[0], 1.f);
  EXPECT_EQ(s[1], 0.f);
  EXPECT_TRUE(std::isnan(s[2]));
  EXPECT_EQ(s[3], 0.5f);
  EXPECT_EQ(s[4], 0.5f);
  EXPECT_EQ(s[5], 1.f);
  EXPECT_EQ(s[6], 0.f);
  EXPECT_EQ(u[0], inf);
  // -inf * sigmoid(-inf) = -inf * 0: NaN, as x / (1 + exp(-x)) gives in any precision.
  EXPECT_TRUE(std::isnan(u[1]));
  EXPECT_TRUE(std::isnan(u[2]));
  EXPECT_EQ(u[3], 0.f);
  EXPECT_TRUE(std::signbit(u[4]));
  EXPECT_EQ(u[5], 1e30f);
  EXPECT_EQ(u[6], 0.f);
}

}  // namespace
}  // namespace mlos::kernels
