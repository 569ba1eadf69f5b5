// The LayerNorm row on 16 lanes: the residual add fused into the mean pass, two accumulators per
// reduction (a 256-wide row is 16 vectors; one chain of dependent adds would bound each pass),
// masked tails. The build gives ISA flags only to *_avx2.cc files, so this file switches the
// target with a pragma after the standard headers; it runs only after the run-time AVX-512
// check.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/layer_norm_internal.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>

namespace mlos::kernels::internal {
namespace {

// Horizontal sum as a halving tree. Masked shuffle forms: GCC 12 warns (maybe-uninitialized) on
// the plain ones and on _mm512_reduce_add_ps.
float ReduceAdd(__m512 v) {
  constexpr __mmask16 kAll = 0xFFFF;
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, kAll, v, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, kAll, v, v, 0xB1));
  v = _mm512_add_ps(v, _mm512_mask_permute_ps(v, kAll, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_mask_permute_ps(v, kAll, v, 0xB1));
  return _mm512_cvtss_f32(v);
}

}  // namespace

void AddNormalizeRowAvx512(const float* x, const float* skip, const float* gamma, const float* beta,
                           float eps, float* y, int64_t d) {
  const int64_t full = d / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (d - full)) - 1);
  auto mask_at = [&](int64_t j) { return j < full ? __mmask16(0xFFFF) : tail; };
  // Pass 1: v = x + skip (stored to y) and its sum. Tail lanes load as 0.
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  const float* v = x;
  if (skip != nullptr) {
    for (int64_t j = 0; j < d; j += 16) {
      const __mmask16 k = mask_at(j);
      const __m512 e =
          _mm512_add_ps(_mm512_maskz_loadu_ps(k, x + j), _mm512_maskz_loadu_ps(k, skip + j));
      _mm512_mask_storeu_ps(y + j, k, e);
      if ((j / 16) % 2 == 0) {
        s0 = _mm512_add_ps(s0, e);
      } else {
        s1 = _mm512_add_ps(s1, e);
      }
    }
    v = y;
  } else {
    for (int64_t j = 0; j < d; j += 16) {
      const __m512 e = _mm512_maskz_loadu_ps(mask_at(j), x + j);
      if ((j / 16) % 2 == 0) {
        s0 = _mm512_add_ps(s0, e);
      } else {
        s1 = _mm512_add_ps(s1, e);
      }
    }
  }
  const float nf = static_cast<float>(d);
  const float mean = ReduceAdd(_mm512_add_ps(s0, s1)) / nf;
  const __m512 mu = _mm512_set1_ps(mean);
  // Pass 2: squared deviations and the deviations' sum (tail lanes masked to 0).
  __m512 q0 = _mm512_setzero_ps(), q1 = _mm512_setzero_ps(), ds = _mm512_setzero_ps();
  for (int64_t j = 0; j < d; j += 16) {
    const __mmask16 k = mask_at(j);
    const __m512 e = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, v + j), mu);
    ds = _mm512_add_ps(ds, e);
    if ((j / 16) % 2 == 0) {
      q0 = _mm512_fmadd_ps(e, e, q0);
    } else {
      q1 = _mm512_fmadd_ps(e, e, q1);
    }
  }
  const float delta = ReduceAdd(ds) / nf;
  const float var = std::max(0.f, ReduceAdd(_mm512_add_ps(q0, q1)) / nf - delta * delta);
  const __m512 dl = _mm512_set1_ps(delta);
  const __m512 inv = _mm512_set1_ps(1.f / std::sqrt(var + eps));
  // Pass 3: normalise, scale, shift. (v - mean) - delta, not v - (mean + delta): v - mean is
  // exact for v near the mean, while mean + delta would round at the mean's magnitude.
  for (int64_t j = 0; j < d; j += 16) {
    const __mmask16 k = mask_at(j);
    __m512 e = _mm512_sub_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, v + j), mu), dl);
    e = _mm512_mul_ps(e, inv);
    e = _mm512_mul_ps(e, _mm512_maskz_loadu_ps(k, gamma + j));
    if (beta != nullptr) e = _mm512_add_ps(e, _mm512_maskz_loadu_ps(k, beta + j));
    _mm512_mask_storeu_ps(y + j, k, e);
  }
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
