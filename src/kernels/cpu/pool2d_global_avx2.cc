// AVX2 body of the many-plane global average (pool2d_global.h). Each of 8 planes is summed into
// one 8-lane vector (the tail through a masked load); the 8 vectors are then folded into the 8
// plane sums with three rounds of pairwise horizontal adds, so a 7x7 plane costs ~7 loads and
// adds plus 1/8 of the fold, where a per-plane reduction paid its whole shuffle chain and a call.
// The target is switched with a pragma after the standard headers; entered only after the
// run-time check in pool2d.cc.
#include <cstdint>

#include "kernels/cpu/pool2d_global.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <immintrin.h>

namespace mlos::kernels::internal {
namespace {

__m256i TailMask(int64_t n) {  // lanes [0, n) set, 0 < n < 8
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
}

__m256 PlaneSum(const float* x, int64_t hw, int64_t hw8, __m256i tail) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0;
  int64_t i = 0;
  for (; i + 16 <= hw8; i += 16) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + 8));
  }
  if (i < hw8) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
  if (hw8 < hw) s1 = _mm256_add_ps(s1, _mm256_maskload_ps(x + hw8, tail));
  return _mm256_add_ps(s0, s1);
}

}  // namespace

void GlobalAveragePlanesAvx2(const float* x, int64_t planes, int64_t hw, float* y) {
  const int64_t hw8 = hw / 8 * 8;
  const __m256i tail = TailMask(hw - hw8 == 0 ? 1 : hw - hw8);
  const __m256 scale = _mm256_set1_ps(1.f / static_cast<float>(hw));
  int64_t p = 0;
  for (; p + 8 <= planes; p += 8) {
    __m256 v[8];
    for (int j = 0; j < 8; ++j) v[j] = PlaneSum(x + (p + j) * hw, hw, hw8, tail);
    // hadd(a, b) = a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7 per 128-bit half.
    const __m256 h01 = _mm256_hadd_ps(v[0], v[1]), h23 = _mm256_hadd_ps(v[2], v[3]);
    const __m256 h45 = _mm256_hadd_ps(v[4], v[5]), h67 = _mm256_hadd_ps(v[6], v[7]);
    const __m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);
    // q0 lanes: planes 0..3 (low half's partial sums), then planes 0..3 (high half's).
    const __m256 lo = _mm256_permute2f128_ps(q0, q1, 0x20);
    const __m256 hi = _mm256_permute2f128_ps(q0, q1, 0x31);
    _mm256_storeu_ps(y + p, _mm256_mul_ps(_mm256_add_ps(lo, hi), scale));
  }
  for (; p < planes; ++p) {
    const __m256 v = PlaneSum(x + p * hw, hw, hw8, tail);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    y[p] = _mm_cvtss_f32(s) / static_cast<float>(hw);
  }
}

}  // namespace mlos::kernels::internal

#pragma GCC pop_options
