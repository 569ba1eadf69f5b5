// Internal pieces of the fused attention kernel (attention.cc), declared for their tests.
// Stateless functions over caller-owned rows; safe to call from any number of threads on
// disjoint rows.
#pragma once

#include <cstdint>

namespace mlos::kernels::internal {

// x[j] = scale * x[j] (+ m[j] when m is not null, unit stride) for j < n, then x is replaced by
// its softmax. A row whose every value is -inf comes out NaN, as an unfused Softmax gives. 16
// lanes with a masked tail, so any n >= 1 stays vectorised. Call only after
// gemm_internal::UseAvx512().
void MaskedSoftmaxRowAvx512(float* x, int64_t n, const float* m, float scale = 1.f);

// MaskedSoftmaxRowAvx512 on `rows` rows: row i at x + i * ld, its mask (when m is not null) at
// m + i * m_rs (m_rs 0: one mask row for all). Several rows at a time, so their dependency
// chains overlap.
void MaskedSoftmaxRowsAvx512(float* x, int64_t ld, int64_t rows, int64_t n, const float* m,
                             int64_t m_rs, float scale);

}  // namespace mlos::kernels::internal
