// AVX2/FMA bodies of the activation epilogues, 8 floats at a time, on the shared 8-lane math of
// avx2_math.h. Compiled with -mavx2 -mfma; entered only after UseAvx2(). Accuracy (checked by
// gemm_activation_test against double references): exp-based activations within a few ulp, GELU
// (x/2 erfc(-x/sqrt 2)) within ~1e-6 relative, in the negative tail too.
// NaN inputs give NaN outputs, as in the scalar loop (max/min keep the NaN operand second).
#include <immintrin.h>

#include "kernels/cpu/activation_internal.h"
#include "kernels/cpu/avx2_math.h"

namespace mlos::kernels::activation_internal {

namespace {

using internal::avx2::Exp;
using internal::avx2::Gelu;
using internal::avx2::Set1;
using internal::avx2::Sigmoid;
using internal::avx2::Tanh;

// max(lo, x) then min(hi, .): a NaN x survives because it is the second operand both times.
__m256 Clamp(__m256 x, __m256 lo, __m256 hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, x)); }

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
    case Activation::kGelu:
      Map(data, n, [](__m256 x) { return Gelu(x); });
      break;
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
