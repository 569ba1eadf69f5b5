// AVX2/FMA bodies of the activation epilogues, 8 floats at a time. Compiled with -mavx2 -mfma;
// entered only after UseAvx2(). Accuracy (checked by gemm_activation_test against double
// references): exp-based activations within a few ulp, erf-based GELU within ~3e-7 absolute.
// NaN inputs give NaN outputs, as in the scalar loop (max/min keep the NaN operand second).
#include <immintrin.h>

#include "kernels/cpu/activation_internal.h"

namespace mlos::kernels::activation_internal {

namespace {

__m256 Set1(float v) { return _mm256_set1_ps(v); }

// max(lo, x) then min(hi, .): a NaN x survives because it is the second operand both times.
__m256 Clamp(__m256 x, __m256 lo, __m256 hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, x)); }

// e^x. x = n*ln2 + r, |r| <= ln2/2 (ln2 in two parts so n*ln2_hi is exact), e^r by its Taylor
// polynomial to r^7 (remainder < 3e-9 relative), 2^n written into the exponent field.
// x is clamped to [-87, 88]: beyond that the callers' results are 0, 1 or saturated anyway.
__m256 Exp(__m256 x) {
  x = Clamp(x, Set1(-87.f), Set1(88.f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, Set1(1.4426950408889634f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, Set1(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, Set1(1.4286068203094172e-06f), r);
  __m256 p = Set1(1.f / 5040.f);
  p = _mm256_fmadd_ps(p, r, Set1(1.f / 720.f));
  p = _mm256_fmadd_ps(p, r, Set1(1.f / 120.f));
  p = _mm256_fmadd_ps(p, r, Set1(1.f / 24.f));
  p = _mm256_fmadd_ps(p, r, Set1(1.f / 6.f));
  p = _mm256_fmadd_ps(p, r, Set1(0.5f));
  p = _mm256_fmadd_ps(p, r, Set1(1.f));
  p = _mm256_fmadd_ps(p, r, Set1(1.f));
  const __m256i bits =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

__m256 Sigmoid(__m256 x) {
  const __m256 e = Exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(Set1(1.f), _mm256_add_ps(Set1(1.f), e));
}

// tanh: below |x| = 0.4 its odd Taylor series to x^13 (next term < 2e-9 relative), above it
// 1 - 2 / (e^{2|x|} + 1), which no longer cancels there; the sign is put back last.
__m256 Tanh(__m256 x) {
  const __m256 sign_mask = Set1(-0.f);
  const __m256 sign = _mm256_and_ps(x, sign_mask);
  const __m256 a = _mm256_andnot_ps(sign_mask, x);
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = Set1(21844.f / 6081075.f);
  p = _mm256_fmadd_ps(p, x2, Set1(-1382.f / 155925.f));
  p = _mm256_fmadd_ps(p, x2, Set1(62.f / 2835.f));
  p = _mm256_fmadd_ps(p, x2, Set1(-17.f / 315.f));
  p = _mm256_fmadd_ps(p, x2, Set1(2.f / 15.f));
  p = _mm256_fmadd_ps(p, x2, Set1(-1.f / 3.f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, x2), x, x);
  const __m256 e = Exp(_mm256_add_ps(a, a));
  __m256 big = _mm256_sub_ps(Set1(1.f), _mm256_div_ps(Set1(2.f), _mm256_add_ps(e, Set1(1.f))));
  big = _mm256_or_ps(big, sign);
  return _mm256_blendv_ps(big, small, _mm256_cmp_ps(a, Set1(0.4f), _CMP_LT_OQ));
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7): for z >= 0,
// erf(z) = 1 - t (a1 + t (a2 + ... a5 t)) e^{-z^2}, t = 1 / (1 + p z); odd in z.
__m256 Erf(__m256 z) {
  const __m256 sign_mask = Set1(-0.f);
  const __m256 sign = _mm256_and_ps(z, sign_mask);
  const __m256 a = _mm256_min_ps(Set1(10.f), _mm256_andnot_ps(sign_mask, z));
  const __m256 t = _mm256_div_ps(Set1(1.f), _mm256_fmadd_ps(Set1(0.3275911f), a, Set1(1.f)));
  __m256 poly = Set1(1.061405429f);
  poly = _mm256_fmadd_ps(poly, t, Set1(-1.453152027f));
  poly = _mm256_fmadd_ps(poly, t, Set1(1.421413741f));
  poly = _mm256_fmadd_ps(poly, t, Set1(-0.284496736f));
  poly = _mm256_fmadd_ps(poly, t, Set1(0.254829592f));
  poly = _mm256_mul_ps(poly, t);
  const __m256 e = Exp(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
  const __m256 y = _mm256_fnmadd_ps(poly, e, Set1(1.f));
  return _mm256_or_ps(y, sign);
}

template <typename Fn>
void Map(float* data, int64_t n, Fn fn) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(data + i, fn(_mm256_loadu_ps(data + i)));
}

}  // namespace

void ApplyAvx2(const ActivationParams& act, float* data, int64_t n) {
  const __m256 zero = _mm256_setzero_ps(), one = Set1(1.f), half = Set1(0.5f);
  switch (act.kind) {
    case Activation::kNone:
      return;
    case Activation::kRelu:
      Map(data, n, [&](__m256 x) { return _mm256_max_ps(zero, x); });
      break;
    case Activation::kLeakyRelu: {
      const __m256 alpha = Set1(act.alpha);
      Map(data, n, [&](__m256 x) {
        return _mm256_blendv_ps(_mm256_mul_ps(x, alpha), x, _mm256_cmp_ps(x, zero, _CMP_GE_OQ));
      });
      break;
    }
    case Activation::kClip: {
      const __m256 lo = Set1(act.min), hi = Set1(act.max);
      Map(data, n, [&](__m256 x) { return Clamp(x, lo, hi); });
      break;
    }
    case Activation::kSigmoid:
      Map(data, n, [](__m256 x) { return Sigmoid(x); });
      break;
    case Activation::kTanh:
      Map(data, n, [](__m256 x) { return Tanh(x); });
      break;
    case Activation::kGelu: {
      const __m256 inv_sqrt2 = Set1(0.70710678118654752f);
      Map(data, n, [&](__m256 x) {
        const __m256 e = Erf(_mm256_mul_ps(x, inv_sqrt2));
        return _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, e));
      });
      break;
    }
    case Activation::kGeluTanh: {
      const __m256 c0 = Set1(0.7978845608028654f), c1 = Set1(0.044715f);
      Map(data, n, [&](__m256 x) {
        const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
        const __m256 th = Tanh(_mm256_mul_ps(c0, _mm256_fmadd_ps(c1, x3, x)));
        return _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, th));
      });
      break;
    }
    case Activation::kSilu:
      Map(data, n, [&](__m256 x) {
        const __m256 e = Exp(_mm256_sub_ps(zero, x));
        return _mm256_div_ps(x, _mm256_add_ps(one, e));
      });
      break;
    case Activation::kHardSigmoid: {
      const __m256 alpha = Set1(act.alpha), beta = Set1(act.beta);
      Map(data, n, [&](__m256 x) { return Clamp(_mm256_fmadd_ps(alpha, x, beta), zero, one); });
      break;
    }
    case Activation::kHardSwish: {
      const __m256 sixth = Set1(1.f / 6.f);
      Map(data, n, [&](__m256 x) {
        return _mm256_mul_ps(x, Clamp(_mm256_fmadd_ps(x, sixth, half), zero, one));
      });
      break;
    }
  }
  const int64_t done = n / 8 * 8;
  if (done < n) ApplyScalar(act, data + done, n - done);
}

}  // namespace mlos::kernels::activation_internal
