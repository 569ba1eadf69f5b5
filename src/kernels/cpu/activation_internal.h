// Internals of the activation epilogues: the portable loop and the AVX2 one behind
// ApplyActivation, exposed so tests can compare both in one process.
// Thread-safety: pure functions over caller-owned arrays.
#pragma once

#include <cstdint>

#include "kernels/cpu/activation.h"

namespace mlos::kernels::activation_internal {

void ApplyScalar(const ActivationParams& act, float* data, int64_t n);
// Only after UseAvx2(). Vector body over multiples of 8, the tail through ApplyScalar.
void ApplyAvx2(const ActivationParams& act, float* data, int64_t n);

}  // namespace mlos::kernels::activation_internal
