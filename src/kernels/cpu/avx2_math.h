// Inline AVX2/FMA math on 8 floats: exp, tanh, sigmoid, erf, erfc, gelu. Include ONLY from
// *_avx2.cc files (compiled with -mavx2 -mfma) or from avx512_math.h (its 8-lane forms), and
// enter them only after KernelsUseAvx2(). Internal linkage: a copy compiled under the AVX-512
// target can never be the one an AVX2-only code path links to.
// Accuracy (measured by the kernel tests against double references): exp, sigmoid, tanh within
// ~3 ulp; erf/erfc/gelu within ~1e-6 relative. NaN propagates; overflow gives inf, underflow 0.
#pragma once

#include <immintrin.h>

namespace mlos::kernels::internal::avx2 {
namespace {

inline __m256 Set1(float v) { return _mm256_set1_ps(v); }

// e^x: x = n ln2 + r with |r| <= ln2/2, e^r by its degree-7 Taylor polynomial (truncation
// error < 6e-9), 2^n applied as two factors so n in [-150, 128] needs no special cases.
inline __m256 Exp(__m256 x) {
  x = _mm256_min_ps(Set1(89.f), _mm256_max_ps(Set1(-104.f), x));  // keeps NaN (2nd operand)
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, Set1(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // ln2 split so n * kLn2Hi is exact.
  __m256 r = _mm256_fnmadd_ps(n, Set1(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, Set1(1.428606765330187e-06f), r);
  __m256 p = Set1(1.f / 5040.f);
  p = _mm256_fmadd_ps(p, r, Set1(1.f / 720.f));
  p = _mm256_fmadd_ps(p, r, Set1(1.f / 120.f));
  p = _mm256_fmadd_ps(p, r, Set1(1.f / 24.f));
  p = _mm256_fmadd_ps(p, r, Set1(1.f / 6.f));
  p = _mm256_fmadd_ps(p, r, Set1(0.5f));
  p = _mm256_fmadd_ps(p, r, Set1(1.f));
  p = _mm256_fmadd_ps(p, r, Set1(1.f));
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

inline __m256 Abs(__m256 x) { return _mm256_andnot_ps(Set1(-0.f), x); }

// 1 / (1 + e^-x); exact division keeps the result within a few ulp.
inline __m256 Sigmoid(__m256 x) {
  const __m256 e = Exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(Set1(1.f), _mm256_add_ps(Set1(1.f), e));
}

// tanh: odd Taylor polynomial below |x| = 0.4 (where 1 - 2/(e^2x + 1) would cancel), the
// exponential form above it.
inline __m256 Tanh(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, Set1(-0.f));
  const __m256 a = Abs(x);
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = Set1(21844.f / 6081075.f);
  p = _mm256_fmadd_ps(p, x2, Set1(-1382.f / 155925.f));
  p = _mm256_fmadd_ps(p, x2, Set1(62.f / 2835.f));
  p = _mm256_fmadd_ps(p, x2, Set1(-17.f / 315.f));
  p = _mm256_fmadd_ps(p, x2, Set1(2.f / 15.f));
  p = _mm256_fmadd_ps(p, x2, Set1(-1.f / 3.f));
  p = _mm256_mul_ps(p, x2);
  const __m256 small = _mm256_fmadd_ps(p, x, x);
  const __m256 e = Exp(_mm256_add_ps(a, a));
  __m256 big = _mm256_sub_ps(Set1(1.f), _mm256_div_ps(Set1(2.f), _mm256_add_ps(e, Set1(1.f))));
  big = _mm256_or_ps(big, sign);
  return _mm256_blendv_ps(big, small, _mm256_cmp_ps(a, Set1(0.4f), _CMP_LT_OQ));
}

// 2/sqrt(pi) * (z - z^3/3 + z^5/10 - ...): erf for |z| < 0.5 to ~3e-8 relative.
inline __m256 ErfSmall(__m256 z) {
  const __m256 z2 = _mm256_mul_ps(z, z);
  __m256 p = Set1(1.f / 9360.f);
  p = _mm256_fmadd_ps(p, z2, Set1(-1.f / 1320.f));
  p = _mm256_fmadd_ps(p, z2, Set1(1.f / 216.f));
  p = _mm256_fmadd_ps(p, z2, Set1(-1.f / 42.f));
  p = _mm256_fmadd_ps(p, z2, Set1(1.f / 10.f));
  p = _mm256_fmadd_ps(p, z2, Set1(-1.f / 3.f));
  p = _mm256_fmadd_ps(p, z2, Set1(1.f));
  return _mm256_mul_ps(_mm256_mul_ps(p, z), Set1(1.12837916709551257f));
}

// erfc(a) for a >= 0 with small relative error everywhere (Chebyshev-fitted form
// t * exp(-a^2 + P(t)), t = 1 / (1 + a/2), fractional error ~1.2e-7). a^2 is split into hi + lo
// so the exponent does not lose the low bits of a large a^2.
inline __m256 ErfcNonNeg(__m256 a) {
  // erfc(10) is below the smallest float; the clamp keeps a^2 finite. NaN passes.
  a = _mm256_min_ps(Set1(10.f), a);
  const __m256 t = _mm256_div_ps(Set1(1.f), _mm256_fmadd_ps(Set1(0.5f), a, Set1(1.f)));
  __m256 p = Set1(0.17087277f);
  p = _mm256_fmadd_ps(p, t, Set1(-0.82215223f));
  p = _mm256_fmadd_ps(p, t, Set1(1.48851587f));
  p = _mm256_fmadd_ps(p, t, Set1(-1.13520398f));
  p = _mm256_fmadd_ps(p, t, Set1(0.27886807f));
  p = _mm256_fmadd_ps(p, t, Set1(-0.18628806f));
  p = _mm256_fmadd_ps(p, t, Set1(0.09678418f));
  p = _mm256_fmadd_ps(p, t, Set1(0.37409196f));
  p = _mm256_fmadd_ps(p, t, Set1(1.00002368f));
  p = _mm256_fmadd_ps(p, t, Set1(-1.26551223f));
  const __m256 hi = _mm256_mul_ps(a, a);
  const __m256 lo = _mm256_fmsub_ps(a, a, hi);
  // s + err == p - hi exactly (two-sum), so e^(p - a^2) = e^s * (1 + err - lo).
  const __m256 s = _mm256_sub_ps(p, hi);
  const __m256 bb = _mm256_sub_ps(s, p);
  const __m256 err = _mm256_sub_ps(_mm256_sub_ps(p, _mm256_sub_ps(s, bb)), _mm256_add_ps(hi, bb));
  const __m256 e = Exp(s);
  const __m256 r =
      _mm256_mul_ps(_mm256_mul_ps(t, e), _mm256_add_ps(Set1(1.f), _mm256_sub_ps(err, lo)));
  return _mm256_andnot_ps(_mm256_cmp_ps(a, Set1(10.f), _CMP_GE_OQ), r);  // 0 past the clamp
}

inline __m256 Erf(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, Set1(-0.f));
  const __m256 a = Abs(x);
  const __m256 big = _mm256_or_ps(_mm256_sub_ps(Set1(1.f), ErfcNonNeg(a)), sign);
  return _mm256_blendv_ps(big, ErfSmall(x), _mm256_cmp_ps(a, Set1(0.5f), _CMP_LT_OQ));
}

// erfc(z) for any z: relative accuracy kept in the tail where erfc is tiny.
inline __m256 Erfc(__m256 z) {
  const __m256 a = Abs(z);
  const __m256 small = _mm256_sub_ps(Set1(1.f), ErfSmall(a));
  const __m256 e = _mm256_blendv_ps(ErfcNonNeg(a), small, _mm256_cmp_ps(a, Set1(0.5f), _CMP_LT_OQ));
  // erfc(-a) = 2 - erfc(a)
  return _mm256_blendv_ps(e, _mm256_sub_ps(Set1(2.f), e),
                          _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_LT_OQ));
}

// x/2 * erfc(-x/sqrt(2)): exact GELU, accurate in the negative tail too.
inline __m256 Gelu(__m256 x) {
  const __m256 c = Erfc(_mm256_mul_ps(x, Set1(-0.70710678118654752f)));
  return _mm256_mul_ps(_mm256_mul_ps(Set1(0.5f), x), c);
}

// Horizontal reductions.
inline float HSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float HMax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float HMin(__m256 v) {
  __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_min_ps(s, _mm_movehl_ps(s, s));
  s = _mm_min_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Mask with the first n (0..8) lanes set, for tails.
inline __m256i TailMask(int64_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
}

}  // namespace
}  // namespace mlos::kernels::internal::avx2
