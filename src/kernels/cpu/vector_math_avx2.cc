// AVX2/FMA bodies of vector_math.h. Compiled with -mavx2 -mfma -mf16c; entered only after
// KernelsUseAvx2().
#include <immintrin.h>

#include <cmath>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/vector_math.h"

namespace mlos::kernels::internal {
namespace {

using namespace avx2;  // NOLINT: local helpers

template <typename F>
inline void MapUnary(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i m = TailMask(n - i);
    _mm256_maskstore_ps(y + i, m, f(_mm256_maskload_ps(x + i, m)));
  }
}

// sa/sb are 0 (broadcast scalar) or 1; the load lambdas are resolved at compile time.
template <int SA, int SB, typename F>
inline void MapBinary(const float* a, const float* b, float* out, int64_t n, F f) {
  const __m256 a0 = SA == 0 ? _mm256_set1_ps(a[0]) : _mm256_setzero_ps();
  const __m256 b0 = SB == 0 ? _mm256_set1_ps(b[0]) : _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 va = SA == 0 ? a0 : _mm256_loadu_ps(a + i);
    const __m256 vb = SB == 0 ? b0 : _mm256_loadu_ps(b + i);
    _mm256_storeu_ps(out + i, f(va, vb));
  }
  if (i < n) {
    const __m256i m = TailMask(n - i);
    const __m256 va = SA == 0 ? a0 : _mm256_maskload_ps(a + i, m);
    const __m256 vb = SB == 0 ? b0 : _mm256_maskload_ps(b + i, m);
    _mm256_maskstore_ps(out + i, m, f(va, vb));
  }
}

template <typename F>
inline bool DispatchStrides(const float* a, int64_t sa, const float* b, int64_t sb, float* out,
                            int64_t n, F f) {
  if (sa == 1 && sb == 1) {
    MapBinary<1, 1>(a, b, out, n, f);
  } else if (sa == 1 && sb == 0) {
    MapBinary<1, 0>(a, b, out, n, f);
  } else if (sa == 0 && sb == 1) {
    MapBinary<0, 1>(a, b, out, n, f);
  } else {
    return false;
  }
  return true;
}

// max/min that propagate NaN (the plain instructions return the second operand instead).
inline __m256 MaxNan(__m256 a, __m256 b) {
  const __m256 r = _mm256_max_ps(a, b);
  return _mm256_blendv_ps(r, _mm256_add_ps(a, b), _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}
inline __m256 MinNan(__m256 a, __m256 b) {
  const __m256 r = _mm256_min_ps(a, b);
  return _mm256_blendv_ps(r, _mm256_add_ps(a, b), _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}

}  // namespace

bool UnaryF32Avx2(UnaryOp op, const float* x, float* y, int64_t n) {
  switch (op) {
    case UnaryOp::kIdentity:
      MapUnary(x, y, n, [](__m256 v) { return v; });
      return true;
    case UnaryOp::kNeg:
      MapUnary(x, y, n, [](__m256 v) { return _mm256_xor_ps(v, Set1(-0.f)); });
      return true;
    case UnaryOp::kAbs:
      MapUnary(x, y, n, [](__m256 v) { return Abs(v); });
      return true;
    case UnaryOp::kRelu:
      // max(v, 0) with v second keeps NaN.
      MapUnary(x, y, n, [](__m256 v) { return _mm256_max_ps(_mm256_setzero_ps(), v); });
      return true;
    case UnaryOp::kReciprocal:
      MapUnary(x, y, n, [](__m256 v) { return _mm256_div_ps(Set1(1.f), v); });
      return true;
    case UnaryOp::kSqrt:
      MapUnary(x, y, n, [](__m256 v) { return _mm256_sqrt_ps(v); });
      return true;
    case UnaryOp::kExp:
      MapUnary(x, y, n, [](__m256 v) { return Exp(v); });
      return true;
    case UnaryOp::kTanh:
      MapUnary(x, y, n, [](__m256 v) { return Tanh(v); });
      return true;
    case UnaryOp::kSigmoid:
      MapUnary(x, y, n, [](__m256 v) { return Sigmoid(v); });
      return true;
    case UnaryOp::kSilu:
      MapUnary(x, y, n, [](__m256 v) {
        const __m256 e = Exp(_mm256_sub_ps(_mm256_setzero_ps(), v));
        return _mm256_div_ps(v, _mm256_add_ps(Set1(1.f), e));
      });
      return true;
    case UnaryOp::kErf:
      MapUnary(x, y, n, [](__m256 v) { return Erf(v); });
      return true;
    case UnaryOp::kGelu:
      MapUnary(x, y, n, [](__m256 v) { return Gelu(v); });
      return true;
    case UnaryOp::kFloor:
      MapUnary(x, y, n, [](__m256 v) {
        return _mm256_round_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
      });
      return true;
    case UnaryOp::kCeil:
      MapUnary(x, y, n, [](__m256 v) {
        return _mm256_round_ps(v, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
      });
      return true;
    case UnaryOp::kRound:
      MapUnary(x, y, n, [](__m256 v) {
        return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      });
      return true;
    default:
      return false;
  }
}

bool BinaryF32Avx2(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* out,
                   int64_t n) {
  switch (op) {
    case BinaryOp::kAdd:
      return DispatchStrides(a, sa, b, sb, out, n,
                             [](__m256 p, __m256 q) { return _mm256_add_ps(p, q); });
    case BinaryOp::kSub:
      return DispatchStrides(a, sa, b, sb, out, n,
                             [](__m256 p, __m256 q) { return _mm256_sub_ps(p, q); });
    case BinaryOp::kMul:
      return DispatchStrides(a, sa, b, sb, out, n,
                             [](__m256 p, __m256 q) { return _mm256_mul_ps(p, q); });
    case BinaryOp::kDiv:
      return DispatchStrides(a, sa, b, sb, out, n,
                             [](__m256 p, __m256 q) { return _mm256_div_ps(p, q); });
    case BinaryOp::kMax:
      return DispatchStrides(a, sa, b, sb, out, n, [](__m256 p, __m256 q) { return MaxNan(p, q); });
    case BinaryOp::kMin:
      return DispatchStrides(a, sa, b, sb, out, n, [](__m256 p, __m256 q) { return MinNan(p, q); });
    default:
      return false;
  }
}

float SumF32Avx2(const float* x, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_loadu_ps(x + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_loadu_ps(x + i + 24));
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
  if (i < n) s1 = _mm256_add_ps(s1, _mm256_maskload_ps(x + i, TailMask(n - i)));
  return HSum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

float MaxF32Avx2(const float* x, int64_t n) {
  if (n <= 0) return -INFINITY;
  __m256 m = _mm256_set1_ps(x[0]);
  __m256 nan = _mm256_setzero_ps();  // becomes non-zero where a NaN was seen
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    m = _mm256_max_ps(m, v);
  }
  float r = HMax(m);
  if (_mm256_movemask_ps(nan) != 0) return NAN;
  for (; i < n; ++i) {
    if (std::isnan(x[i])) return NAN;
    r = x[i] > r ? x[i] : r;
  }
  return r;
}

float MinF32Avx2(const float* x, int64_t n) {
  if (n <= 0) return INFINITY;
  __m256 m = _mm256_set1_ps(x[0]);
  __m256 nan = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    m = _mm256_min_ps(m, v);
  }
  float r = HMin(m);
  if (_mm256_movemask_ps(nan) != 0) return NAN;
  for (; i < n; ++i) {
    if (std::isnan(x[i])) return NAN;
    r = x[i] < r ? x[i] : r;
  }
  return r;
}

float ExpShiftSumF32Avx2(const float* x, float shift, float* y, int64_t n) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = Exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(y + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  if (i < n) {
    const __m256i m = TailMask(n - i);
    __m256 e = Exp(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), s));
    e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
    _mm256_maskstore_ps(y + i, m, e);
    acc = _mm256_add_ps(acc, e);
  }
  return HSum(acc);
}

void AffineF32Avx2(const float* x, float scale, float shift, float* y, int64_t n) {
  const __m256 a = _mm256_set1_ps(scale), b = _mm256_set1_ps(shift);
  MapUnary(x, y, n, [&](__m256 v) { return _mm256_fmadd_ps(v, a, b); });
}

float SquaredDevSumF32Avx2(const float* x, float mean, int64_t n, float* dev_sum) {
  const __m256 mu = _mm256_set1_ps(mean);
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, l0 = s0, l1 = s0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), mu);
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), mu);
    s0 = _mm256_fmadd_ps(d0, d0, s0);
    s1 = _mm256_fmadd_ps(d1, d1, s1);
    l0 = _mm256_add_ps(l0, d0);
    l1 = _mm256_add_ps(l1, d1);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), mu);
    s0 = _mm256_fmadd_ps(d, d, s0);
    l0 = _mm256_add_ps(l0, d);
  }
  if (i < n) {
    const __m256i m = TailMask(n - i);
    __m256 d = _mm256_sub_ps(_mm256_maskload_ps(x + i, m), mu);
    d = _mm256_and_ps(d, _mm256_castsi256_ps(m));
    s1 = _mm256_fmadd_ps(d, d, s1);
    l1 = _mm256_add_ps(l1, d);
  }
  *dev_sum = HSum(_mm256_add_ps(l0, l1));
  return HSum(_mm256_add_ps(s0, s1));
}

void NormalizeF32Avx2(const float* x, float mean, float delta, float inv_std, const float* gamma,
                      const float* beta, float* y, int64_t n) {
  const __m256 mu = _mm256_set1_ps(mean), dl = _mm256_set1_ps(delta), is = _mm256_set1_ps(inv_std);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mu), dl);
    v = _mm256_mul_ps(v, is);
    v = beta ? _mm256_fmadd_ps(v, _mm256_loadu_ps(gamma + i), _mm256_loadu_ps(beta + i))
             : _mm256_mul_ps(v, _mm256_loadu_ps(gamma + i));
    _mm256_storeu_ps(y + i, v);
  }
  for (; i < n; ++i) {
    const float v = ((x[i] - mean) - delta) * inv_std * gamma[i];
    y[i] = beta ? v + beta[i] : v;
  }
}

void AccumulateF32Avx2(const float* x, float* acc, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(acc + i, _mm256_add_ps(_mm256_loadu_ps(acc + i), _mm256_loadu_ps(x + i)));
  }
  for (; i < n; ++i) acc[i] += x[i];
}

}  // namespace mlos::kernels::internal
