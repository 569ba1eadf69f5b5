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

}  // namespace

void MaskedSoftmaxRowAvx512(float* x, int64_t n, const float* m, float scale) {
  const int64_t full = n / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (n - full)) - 1);
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const __m512 scale_v = _mm512_set1_ps(scale);
  const bool scaled = scale != 1.f;
  // Pass 1: scale, add the mask, track the maximum over the row's lanes only (the tail's
  // masked-off lanes would be -inf times the scale). Masked max forms: GCC 12 warns
  // (maybe-uninitialized) on the plain ones.
  __m512 mx = neg_inf;
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = j < full ? __mmask16(0xFFFF) : tail;
    __m512 v = _mm512_mask_loadu_ps(neg_inf, k, x + j);
    if (scaled) v = _mm512_mul_ps(v, scale_v);
    if (m != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, m + j));
    if (scaled || m != nullptr) _mm512_mask_storeu_ps(x + j, k, v);
    mx = _mm512_mask_max_ps(mx, k, mx, v);
  }
  const __m512 shift = _mm512_set1_ps(ReduceMax(mx));
  // Pass 2: exponentials and their sum (tail lanes add 0).
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = j < full ? __mmask16(0xFFFF) : tail;
    const __m512 e = Exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), shift));
    _mm512_mask_storeu_ps(x + j, k, e);
    sum = _mm512_mask_add_ps(sum, k, sum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.f / ReduceAdd(sum));
  // Pass 3: normalise.
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = j < full ? __mmask16(0xFFFF) : tail;
    _mm512_mask_storeu_ps(x + j, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + j), inv));
  }
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
