// Inline exp / sigmoid / SiLU for the AVX-512 conv and GEMM epilogues, on 16 lanes (zmm) and on
// 8 lanes (ymm, AVX2/FMA instructions only) for narrow rows. Include ONLY from a file that has
// switched the target to avx512f,avx2,fma with a pragma (gemm_avx512.cc, conv2d_direct_a_avx512.cc,
// conv2d_depthwise_avx512.cc); everything is in an anonymous namespace so no function compiled
// for AVX-512 can be linked into code that runs on an AVX2-only CPU.
// Accuracy: exp within ~2 ulp on [-87, 88] (x = n ln2 + r, |r| <= ln2/2, degree-7 Taylor
// polynomial, truncation < 6e-9); sigmoid and SiLU use an exact division, so they stay within a
// few ulp (16 lanes: degree-6 fitted polynomial, truncation < 4e-9, see OnePlusExpNeg16). Overflow
// gives inf (exp) / 0 or 1 (sigmoid); NaN propagates.
#pragma once

#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"

namespace mlos::kernels::internal {
namespace {

// Lanes [0, cols) of a 16-lane row segment: all 16 when cols >= 16, none when cols <= 0 (the
// partial-tile masks of the micro-kernels' loads and stores).
inline __mmask16 LaneMask16(int cols) {
  return cols >= 16 ? __mmask16(0xFFFF) : cols <= 0 ? __mmask16(0) : __mmask16((1u << cols) - 1);
}

inline __m512 Exp16(__m512 x) {
  // Clamp (NaN passes: the masked max/min return their second operand for NaN); scalef applies
  // 2^n with correct overflow to inf and underflow to 0 past the clamp.
  x = _mm512_mask_max_ps(x, __mmask16(0xFFFF), _mm512_set1_ps(-104.f), x);
  x = _mm512_mask_min_ps(x, __mmask16(0xFFFF), _mm512_set1_ps(89.f), x);
  // Masked forms throughout: GCC 12 warns (maybe-uninitialized) on the plain ones.
  const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
  const __m512 n = _mm512_mask_roundscale_ps(t, __mmask16(0xFFFF), t,
                                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
  __m512 p = _mm512_set1_ps(1.f / 5040.f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 720.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_mask_scalef_ps(p, __mmask16(0xFFFF), p, n);
}

// 1 + exp(-x) for the sigmoid family, cheaper than 1 + Exp16(-x) at the same accuracy (the
// epilogues of every Conv+SiLU run this per output): the negation folds into the reduction
// (s = x + n ln2 = -r) and the polynomial's odd coefficients, and the polynomial is degree 6,
// fitted for relative error on |r| <= ln2/2 (truncation < 4e-9). x is clamped to [-89, 104]:
// exp(89) overflows to inf through scalef, exp(-104) underflows to 0; NaN passes the masked
// min/max (they return their second operand).
inline __m512 OnePlusExpNeg16(__m512 x) {
  __m512 xc = _mm512_mask_min_ps(x, __mmask16(0xFFFF), _mm512_set1_ps(104.f), x);
  xc = _mm512_mask_max_ps(xc, __mmask16(0xFFFF), _mm512_set1_ps(-89.f), xc);
  const __m512 t = _mm512_mul_ps(xc, _mm512_set1_ps(-1.44269504088896341f));
  const __m512 n = _mm512_mask_roundscale_ps(t, __mmask16(0xFFFF), t,
                                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 s = _mm512_fmadd_ps(n, _mm512_set1_ps(0.693145751953125f), xc);
  s = _mm512_fmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), s);
  // exp(r) = 1 + r + r^2 (c2 + c3 r + ... + c6 r^4) evaluated at r = -s.
  __m512 p = _mm512_set1_ps(0.001381461275741458f);
  p = _mm512_fnmadd_ps(p, s, _mm512_set1_ps(0.008368710055947304f));
  p = _mm512_fnmadd_ps(p, s, _mm512_set1_ps(0.04166838899254799f));
  p = _mm512_fnmadd_ps(p, s, _mm512_set1_ps(0.1666652113199234f));
  p = _mm512_fnmadd_ps(p, s, _mm512_set1_ps(0.4999999403953552f));
  p = _mm512_fnmadd_ps(p, s, _mm512_set1_ps(1.f));
  p = _mm512_fnmadd_ps(p, s, _mm512_set1_ps(1.f));
  return _mm512_add_ps(_mm512_set1_ps(1.f), _mm512_mask_scalef_ps(p, __mmask16(0xFFFF), p, n));
}

inline __m512 Sigmoid16(__m512 x) { return _mm512_div_ps(_mm512_set1_ps(1.f), OnePlusExpNeg16(x)); }

// -inf gives NaN (-inf / inf), as x / (1 + exp(-x)) does in any precision.
inline __m512 Silu16(__m512 x) { return _mm512_div_ps(x, OnePlusExpNeg16(x)); }

// 8-lane forms for narrow rows: the AVX2 bodies (avx2_math.h).
inline __m256 Exp8(__m256 x) { return avx2::Exp(x); }
inline __m256 Sigmoid8(__m256 x) { return avx2::Sigmoid(x); }

inline __m256 Silu8(__m256 x) {
  const __m256 e = avx2::Exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.f), e));
}

}  // namespace
}  // namespace mlos::kernels::internal
