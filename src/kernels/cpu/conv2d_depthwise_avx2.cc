// AVX2/FMA instantiation of the depthwise convolution body (conv_depthwise_simd.h), 8 lanes.
// Built with -mavx2 -mfma (file name ends in _avx2.cc); entered only after the run-time check.
#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/conv_depthwise_simd.h"

namespace mlos::kernels::internal {
namespace {

struct V8 {
  using T = __m256;
  static constexpr int kLanes = 8;
  static T Set1(float v) { return _mm256_set1_ps(v); }
  static T Load(const float* p) { return _mm256_loadu_ps(p); }
  static T Fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T Max(T a, T b) { return _mm256_max_ps(a, b); }
  static T Min(T a, T b) { return _mm256_min_ps(a, b); }
  static void Store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T OrNan(T acc, T v) { return _mm256_or_ps(acc, _mm256_cmp_ps(v, v, _CMP_UNORD_Q)); }
  static T SelectNan(T nan, T v) {
    return _mm256_blendv_ps(v, _mm256_set1_ps(__builtin_nanf("")), nan);
  }
  static T Sigmoid(T v) { return avx2::Sigmoid(v); }
  static T Silu(T v) {
    const __m256 e = avx2::Exp(_mm256_sub_ps(_mm256_setzero_ps(), v));
    return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.f), e));
  }
  static void StorePartial(float* p, T v, int n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx), v);
  }
  static void Deinterleave2(const float* src, float* even, float* odd) {
    const __m256 a = _mm256_loadu_ps(src), b = _mm256_loadu_ps(src + 8);
    // Per 128-bit lane: a0 a2 b0 b2 | a4 a6 b4 b6; then reorder the 64-bit pairs.
    const __m256 e = _mm256_shuffle_ps(a, b, 0x88), o = _mm256_shuffle_ps(a, b, 0xDD);
    _mm256_storeu_ps(even, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8)));
    _mm256_storeu_ps(odd, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8)));
  }
};

}  // namespace

bool DepthwisePlanesAvx2(const DepthwiseGeom& g, const float* x, const float* w, const float* bias,
                         float* y, int64_t begin, int64_t end) {
  float* scratch = DepthwiseScratch(DwLayoutFor(g, V8::kLanes).floats);
  if (scratch == nullptr) return false;
  return DwPlanes<V8>(g, x, w, bias, y, begin, end, scratch);
}

bool MaxPoolPlanesAvx2(const DepthwiseGeom& g, const float* x, float* y, int64_t begin,
                       int64_t end) {
  float* scratch = DepthwiseScratch(DwLayoutFor(g, V8::kLanes).floats);
  if (scratch == nullptr) return false;
  return MaxPlanes<V8>(g, x, y, begin, end, scratch);
}

void FillPaddedPlanesAvx2(const DepthwiseGeom& g, const float* x, int64_t c0, int64_t c1,
                          float* buf) {
  DwFillRange<V8>(g, x, c0, c1, buf);
}

}  // namespace mlos::kernels::internal
