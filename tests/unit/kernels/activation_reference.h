// ReferenceActivation: every fused activation the kernels apply, in double precision, written
// from the operators' definitions (ONNX Relu, LeakyRelu, Clip, Sigmoid, Tanh, Gelu (erf and tanh
// forms), Silu, HardSigmoid, HardSwish). The kernel tests compare their epilogues against it.
#pragma once

#include <algorithm>
#include <cmath>

#include "kernels/cpu/activation.h"

namespace mlos::kernels::testing {

inline double ReferenceActivation(const ActivationParams& p, double x) {
  switch (p.kind) {
    case Activation::kNone:
      return x;
    case Activation::kRelu:
      return x > 0 ? x : 0;
    case Activation::kLeakyRelu:
      return x >= 0 ? x : x * p.alpha;
    case Activation::kClip:
      return std::min<double>(std::max<double>(x, p.min), p.max);
    case Activation::kSigmoid:
      return 1 / (1 + std::exp(-x));
    case Activation::kTanh:
      return std::tanh(x);
    case Activation::kGelu:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case Activation::kGeluTanh:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::kSilu:
      return x / (1 + std::exp(-x));
    case Activation::kHardSigmoid:
      return std::min(1.0, std::max(0.0, double(p.alpha) * x + double(p.beta)));
    case Activation::kHardSwish:
      return x * std::min(1.0, std::max(0.0, x / 6 + 0.5));
  }
  return x;
}

}  // namespace mlos::kernels::testing
