// Activation epilogues: dispatch to the AVX2 body when the CPU has it, else the portable loop.
#include "kernels/cpu/activation.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/activation_internal.h"
#include "kernels/cpu/cpu_features.h"

namespace mlos::kernels {

void ApplyActivation(const ActivationParams& act, float* data, int64_t n) {
  if (act.kind == Activation::kNone || n <= 0) return;
  if (n >= 8 && UseAvx2()) {
    activation_internal::ApplyAvx2(act, data, n);
  } else {
    activation_internal::ApplyScalar(act, data, n);
  }
}

namespace activation_internal {

void ApplyScalar(const ActivationParams& act, float* data, int64_t n) {
  switch (act.kind) {
    case Activation::kNone:
      return;
    case Activation::kRelu:
      for (int64_t i = 0; i < n; ++i) data[i] = std::max(data[i], 0.f);
      return;
    case Activation::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) data[i] = data[i] >= 0.f ? data[i] : data[i] * act.alpha;
      return;
    case Activation::kClip:
      for (int64_t i = 0; i < n; ++i) data[i] = std::clamp(data[i], act.min, act.max);
      return;
    case Activation::kSigmoid:
      for (int64_t i = 0; i < n; ++i) data[i] = 1.f / (1.f + std::exp(-data[i]));
      return;
    case Activation::kTanh:
      for (int64_t i = 0; i < n; ++i) data[i] = std::tanh(data[i]);
      return;
    case Activation::kGelu:
      for (int64_t i = 0; i < n; ++i) {
        data[i] = 0.5f * data[i] * (1.f + std::erf(data[i] * 0.70710678118654752f));
      }
      return;
    case Activation::kGeluTanh:
      for (int64_t i = 0; i < n; ++i) {
        float x = data[i];
        data[i] = 0.5f * x * (1.f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
      }
      return;
    case Activation::kSilu:
      for (int64_t i = 0; i < n; ++i) data[i] = data[i] / (1.f + std::exp(-data[i]));
      return;
    case Activation::kHardSigmoid:
      for (int64_t i = 0; i < n; ++i) {
        data[i] = std::clamp(act.alpha * data[i] + act.beta, 0.f, 1.f);
      }
      return;
    case Activation::kHardSwish:
      for (int64_t i = 0; i < n; ++i) {
        data[i] = data[i] * std::clamp(data[i] / 6.f + 0.5f, 0.f, 1.f);
      }
      return;
  }
}

}  // namespace activation_internal
}  // namespace mlos::kernels
