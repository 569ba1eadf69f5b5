// Internal row kernel of LayerNorm / AddLayerNorm (layer_norm.cc), declared for its dispatch.
// Stateless; safe to call from any number of threads on disjoint rows.
#pragma once

#include <cstdint>

namespace mlos::kernels::internal {

// One row of d values: v = x (+ skip when not null), then y = (v - mean) / sqrt(var + eps) *
// gamma (+ beta when not null), mean and variance in two passes (the second corrects the mean
// by the deviations' sum). With skip, v is written to y first, so y may share x's or skip's
// buffer; without it y may be x. 16 lanes with a masked tail. Call only after
// gemm_internal::UseAvx512().
void AddNormalizeRowAvx512(const float* x, const float* skip, const float* gamma, const float* beta,
                           float eps, float* y, int64_t d);

}  // namespace mlos::kernels::internal
