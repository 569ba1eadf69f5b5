// The attention kernel's softmax rows on 16 lanes: the mask is added in the max pass and the
// tail is masked, so a 128-key row is 8 full vectors per pass with no scalar remainder.
// The build gives ISA flags only to *_avx2.cc files, so this file switches the target with a
// pragma after the standard headers; it runs only after the run-time AVX-512 check.
#include <cstdint>
#include <limits>

#include "kernels/cpu/attention_internal.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>

#include "kernels/cpu/avx512_math.h"

namespace mlos::kernels::internal {
namespace {

// Horizontal max / sum as a halving tree of lane swaps (256-bit halves, 128-bit quarters, then
// within 128 bits): 4 dependent steps instead of a 16-long scalar chain through memory, which
// sat on every row's critical path (the next pass needs the result). Masked forms and no
// _mm512_reduce_*: GCC 12 warns (maybe-uninitialized) on those.
constexpr __mmask16 kAll = 0xFFFF;

float ReduceMax(__m512 v) {
  v = _mm512_mask_max_ps(v, kAll, v, _mm512_mask_shuffle_f32x4(v, kAll, v, v, 0x4E));
  v = _mm512_mask_max_ps(v, kAll, v, _mm512_mask_shuffle_f32x4(v, kAll, v, v, 0xB1));
  v = _mm512_mask_max_ps(v, kAll, v, _mm512_mask_permute_ps(v, kAll, v, 0x4E));
  v = _mm512_mask_max_ps(v, kAll, v, _mm512_mask_permute_ps(v, kAll, v, 0xB1));
  return _mm512_cvtss_f32(v);
}

float ReduceAdd(__m512 v) {
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, kAll, v, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, kAll, v, v, 0xB1));
  v = _mm512_add_ps(v, _mm512_mask_permute_ps(v, kAll, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_mask_permute_ps(v, kAll, v, 0xB1));
  return _mm512_cvtss_f32(v);
}

// R rows (row stride ld; mask row stride m_rs) at once: each pass runs over the R rows side by
// side, so the R reduction chains and the R max -> exp -> sum -> normalise dependencies overlap
// (one 128-key row alone is mostly latency: 8 vectors per pass, then a reduction tree and a
// division before the next pass can start).
template <int R>
void SoftmaxRows(float* x, int64_t ld, int64_t n, const float* m, int64_t m_rs, float scale) {
  const int64_t full = n / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (n - full)) - 1);
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const __m512 scale_v = _mm512_set1_ps(scale);
  const bool scaled = scale != 1.f;
  // Pass 1: scale, add the mask, track the maximum over the row's lanes only (the tail's
  // masked-off lanes would be -inf times the scale). Masked max forms: GCC 12 warns
  // (maybe-uninitialized) on the plain ones.
  __m512 mx[R];
  for (int r = 0; r < R; ++r) mx[r] = neg_inf;
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = j < full ? __mmask16(0xFFFF) : tail;
    for (int r = 0; r < R; ++r) {
      float* xr = x + r * ld;
      __m512 v = _mm512_mask_loadu_ps(neg_inf, k, xr + j);
      if (scaled) v = _mm512_mul_ps(v, scale_v);
      if (m != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, m + r * m_rs + j));
      if (scaled || m != nullptr) _mm512_mask_storeu_ps(xr + j, k, v);
      mx[r] = _mm512_mask_max_ps(mx[r], k, mx[r], v);
    }
  }
  __m512 shift[R], sum[R];
  for (int r = 0; r < R; ++r) {
    shift[r] = _mm512_set1_ps(ReduceMax(mx[r]));
    sum[r] = _mm512_setzero_ps();
  }
  // Pass 2: exponentials and their sums (tail lanes add 0).
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = j < full ? __mmask16(0xFFFF) : tail;
    for (int r = 0; r < R; ++r) {
      float* xr = x + r * ld;
      const __m512 e = Exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, xr + j), shift[r]));
      _mm512_mask_storeu_ps(xr + j, k, e);
      sum[r] = _mm512_mask_add_ps(sum[r], k, sum[r], e);
    }
  }
  __m512 inv[R];
  for (int r = 0; r < R; ++r) inv[r] = _mm512_set1_ps(1.f / ReduceAdd(sum[r]));
  // Pass 3: normalise.
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = j < full ? __mmask16(0xFFFF) : tail;
    for (int r = 0; r < R; ++r) {
      float* xr = x + r * ld;
      _mm512_mask_storeu_ps(xr + j, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, xr + j), inv[r]));
    }
  }
}

}  // namespace

void MaskedSoftmaxRowAvx512(float* x, int64_t n, const float* m, float scale) {
  SoftmaxRows<1>(x, 0, n, m, 0, scale);
}

void MaskedSoftmaxRowsAvx512(float* x, int64_t ld, int64_t rows, int64_t n, const float* m,
                             int64_t m_rs, float scale) {
  int64_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    SoftmaxRows<4>(x + i * ld, ld, n, m != nullptr ? m + i * m_rs : nullptr, m_rs, scale);
  }
  for (; i < rows; ++i) {
    SoftmaxRows<1>(x + i * ld, ld, n, m != nullptr ? m + i * m_rs : nullptr, m_rs, scale);
  }
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
