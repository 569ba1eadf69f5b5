// Activations that GEMM and convolution can apply in their epilogue (fused, cache-hot), and that
// the elementwise kernels expose as unary ops.
#pragma once

#include <cstdint>

namespace mlos::kernels {

enum class Activation : uint8_t {
  kNone,
  kRelu,
  kLeakyRelu,  // alpha in ActivationParams
  kClip,       // [min, max] in ActivationParams (Relu6 is Clip(0, 6))
  kSigmoid,
  kTanh,
  kGelu,       // exact: x * 0.5 * (1 + erf(x / sqrt(2)))
  kGeluTanh,   // tanh approximation
  kSilu,       // x * sigmoid(x)
  kHardSigmoid,  // max(0, min(1, alpha * x + beta))
  kHardSwish,
};

struct ActivationParams {
  Activation kind = Activation::kNone;
  float alpha = 0.01f;  // LeakyRelu slope; HardSigmoid alpha (ONNX default 0.2)
  float beta = 0.5f;    // HardSigmoid beta
  float min = 0.f;      // Clip
  float max = 6.f;      // Clip
};

// Applies `act` in place to n floats.
void ApplyActivation(const ActivationParams& act, float* data, int64_t n);

}  // namespace mlos::kernels
