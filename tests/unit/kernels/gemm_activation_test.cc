// Activation epilogues (portable and AVX2 bodies) against double-precision references over a
// dense sweep of inputs, odd lengths (vector body + scalar tail), and NaN propagation.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "activation_reference.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/activation_internal.h"
#include "kernels/cpu/cpu_features.h"

namespace mlos::kernels {
namespace {

using ApplyFn = void (*)(const ActivationParams&, float*, int64_t);

struct Path {
  const char* name;
  ApplyFn fn;
};

std::vector<Path> Paths() {
  std::vector<Path> out = {{"scalar", &activation_internal::ApplyScalar},
                           {"dispatch", &ApplyActivation}};
  if (UseAvx2()) out.push_back({"avx2", &activation_internal::ApplyAvx2});
  return out;
}

const Activation kAll[] = {Activation::kRelu,     Activation::kLeakyRelu, Activation::kClip,
                           Activation::kSigmoid,  Activation::kTanh,      Activation::kGelu,
                           Activation::kGeluTanh, Activation::kSilu,      Activation::kHardSigmoid,
                           Activation::kHardSwish};

TEST(Activation, MatchesReferenceOnEveryPath) {
  // -30..30 densely (crossing every branch point), plus tiny and large magnitudes.
  std::vector<float> xs;
  for (int i = -30000; i <= 30000; ++i) xs.push_back(float(i) * 1e-3f);
  for (float v : {1e-30f, -1e-30f, 1e-8f, -1e-8f, 3e-4f, -3e-4f, 50.f, -50.f, 90.f, -90.f, 1e4f,
                  -1e4f, 0.f, -0.f}) {
    xs.push_back(v);
  }
  xs.push_back(0.25f);  // odd length: the AVX2 body leaves a scalar tail
  ActivationParams p;
  p.alpha = 0.2f;
  p.beta = 0.5f;
  p.min = -0.7f;
  p.max = 2.5f;
  for (const Path& path : Paths()) {
    for (Activation kind : kAll) {
      p.kind = kind;
      std::vector<float> y = xs;
      path.fn(p, y.data(), int64_t(y.size()));
      int bad = 0;
      for (size_t i = 0; i < xs.size() && bad < 5; ++i) {
        const double want = testing::ReferenceActivation(p, double(xs[i]));
        // A few ulp relative, or 4e-7 absolute (the erf approximation's floor).
        const double tol = std::max(4e-7, 8 * 6e-8 * std::abs(want));
        if (!(std::abs(double(y[i]) - want) <= tol)) {
          ADD_FAILURE() << path.name << " activation " << int(kind) << " x=" << xs[i] << " want "
                        << want << " got " << y[i];
          ++bad;
        }
      }
    }
  }
}

TEST(Activation, NanStaysNan) {
  ActivationParams p;
  for (const Path& path : Paths()) {
    for (Activation kind : kAll) {
      p.kind = kind;
      std::vector<float> y(19, std::nanf(""));
      path.fn(p, y.data(), int64_t(y.size()));
      for (float v : y) {
        EXPECT_TRUE(std::isnan(v)) << path.name << " activation " << int(kind) << " gave " << v;
      }
    }
  }
}

}  // namespace
}  // namespace mlos::kernels
