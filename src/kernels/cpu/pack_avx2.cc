// Vectorised packing for the AVX-512 micro-kernel (12 x 32 tiles): a 12-row panel of row-major A
// into out[p * 12 + i] = alpha * a[i * rs + p], and a 32-column sliver of a B whose columns are
// contiguous along the depth (K^T in attention) into out[p * 32 + j] = b[j * cs + p]. The
// generic packer moves one float at a time; this one transposes 8 x 8 and 4 x 8 blocks in
// registers (measured: packing was ~5% of a BERT-style encoder's run time).
// Compiled with AVX2/FMA (the _avx2.cc rule); entered only after KernelsUseAvx2().
#include <immintrin.h>

#include "kernels/cpu/pack_internal.h"

namespace mlos::kernels::internal {
namespace {

// 8 x 8 transpose of r[0..7] in place: afterwards r[j] holds column j.
inline void Transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

}  // namespace

void PackA12RowMajorAvx2(const float* a, int64_t rs, int64_t kc, float alpha, float* out) {
  const __m256 scale = _mm256_set1_ps(alpha);
  const bool scaled = alpha != 1.f;
  int64_t p = 0;
  for (; p + 8 <= kc; p += 8) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i) {
      r[i] = _mm256_loadu_ps(a + i * rs + p);
      if (scaled) r[i] = _mm256_mul_ps(r[i], scale);
    }
    Transpose8(r);
    // Rows 8..11: a 4 x 8 block, transposed into four-float groups per depth step.
    __m256 q[4];
    for (int i = 0; i < 4; ++i) {
      q[i] = _mm256_loadu_ps(a + (8 + i) * rs + p);
      if (scaled) q[i] = _mm256_mul_ps(q[i], scale);
    }
    const __m256 u0 = _mm256_unpacklo_ps(q[0], q[1]), u1 = _mm256_unpackhi_ps(q[0], q[1]);
    const __m256 u2 = _mm256_unpacklo_ps(q[2], q[3]), u3 = _mm256_unpackhi_ps(q[2], q[3]);
    // c_j holds depth steps j (low lane) and j + 4 (high lane) of rows 8..11.
    const __m256 c0 = _mm256_shuffle_ps(u0, u2, 0x44), c1 = _mm256_shuffle_ps(u0, u2, 0xEE);
    const __m256 c2 = _mm256_shuffle_ps(u1, u3, 0x44), c3 = _mm256_shuffle_ps(u1, u3, 0xEE);
    const __m256 c[4] = {c0, c1, c2, c3};
    float* o = out + p * 12;
    for (int j = 0; j < 8; ++j) {
      _mm256_storeu_ps(o + j * 12, r[j]);
      const __m256 cj = c[j & 3];
      _mm_storeu_ps(o + j * 12 + 8,
                    j < 4 ? _mm256_castps256_ps128(cj) : _mm256_extractf128_ps(cj, 1));
    }
  }
  for (; p < kc; ++p) {
    for (int i = 0; i < 12; ++i) out[p * 12 + i] = alpha * a[i * rs + p];
  }
}

void PackBColumns32Avx2(const float* b, int64_t cs, int64_t kc, float* out) {
  int64_t p = 0;
  for (; p + 8 <= kc; p += 8) {
    for (int j0 = 0; j0 < 32; j0 += 8) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(b + (j0 + j) * cs + p);
      Transpose8(r);  // r[q]: depth step p + q of columns j0 .. j0 + 7
      for (int q = 0; q < 8; ++q) _mm256_storeu_ps(out + (p + q) * 32 + j0, r[q]);
    }
  }
  for (; p < kc; ++p) {
    for (int j = 0; j < 32; ++j) out[p * 32 + j] = b[j * cs + p];
  }
}

}  // namespace mlos::kernels::internal
