// One attention head on the GEMM micro-kernels: pack K^T and V once, then per block of query
// rows pack scale * Q, compute the scores tile by tile into scratch, softmax them in place and
// multiply by V straight into O. With the row-major direct-A kernel (AVX-512), Q and the
// probabilities are read in place instead (only a last partial row tile is packed) and the
// scale is applied in the softmax's first pass.
#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>

#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/pack_internal.h"
#include "kernels/cpu/prepacked_gemm.h"
#include "kernels/cpu/scratch_buffer.h"
#include "kernels/cpu/vector_math.h"

namespace mlos::kernels {
namespace {

using gemm_internal::KernelSet;
using gemm_internal::TileEpilogue;

int64_t RoundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

using Scratch = internal::ScratchBuffer;

// Packs B(p, j) = b[p * rs + j * cs], depth x n, into depth blocks of at most ks.kc, each block
// a run of NR-column slivers (the layout the micro-kernel reads).
void PackBBlocks(const KernelSet& ks, const float* b, int64_t rs, int64_t cs, int64_t depth,
                 int64_t n, float* out) {
  const int64_t n_pad = RoundUp(n, ks.nr);
  // Columns contiguous along the depth (K^T): full 32-column slivers are transposed in registers.
  const bool fast = ks.nr == 32 && rs == 1 && KernelsUseAvx2();
  for (int64_t pc = 0; pc < depth; pc += ks.kc) {
    const int64_t kc = std::min<int64_t>(ks.kc, depth - pc);
    float* block = out + pc * n_pad;
    int64_t j0 = 0;
    if (fast) {
      for (; j0 + 32 <= n; j0 += 32)
        internal::PackBColumns32Avx2(b + pc + j0 * cs, cs, kc, block + j0 * kc);
    }
    if (j0 < n) ks.pack_b(b + pc * rs + j0 * cs, rs, cs, kc, n - j0, block + j0 * kc);
  }
}

// C (rows x n, row stride ldc, overwritten) = alpha * A (rows x depth, A(i, p) = a[i * a_rs +
// p * a_cs]) times B packed by PackBBlocks. abuf holds RoundUp(rows, mr) * kc floats.
void Product(const KernelSet& ks, int64_t rows, int64_t n, int64_t depth, const float* a,
             int64_t a_rs, int64_t a_cs, float alpha, const float* bpacked, float* abuf, float* c,
             int64_t ldc) {
  const int64_t n_pad = RoundUp(n, ks.nr);
  if (depth == 0) {
    for (int64_t i = 0; i < rows; ++i) std::fill_n(c + i * ldc, n, 0.f);
    return;
  }
  TileEpilogue ep;
  // A row-major with alpha 1 (the probabilities; Q when the scale is left to the softmax): full
  // row tiles read A in place, only a last partial tile is packed.
  const bool direct = ks.rows_a_kernel != nullptr && ks.mr == 12 && a_cs == 1 && alpha == 1.f;
  const int64_t full = direct ? rows / ks.mr * ks.mr : 0;
  for (int64_t pc = 0; pc < depth; pc += ks.kc) {
    const int64_t kc = std::min<int64_t>(ks.kc, depth - pc);
    ep.first = pc == 0;
    ep.last = pc + kc >= depth;
    const float* bblock = bpacked + pc * n_pad;
    if (direct) {
      if (full < rows) ks.pack_a(a + full * a_rs + pc, a_rs, 1, rows - full, kc, 1.f, abuf);
      for (int64_t jr = 0; jr < n; jr += ks.nr) {
        const int nr = static_cast<int>(std::min<int64_t>(ks.nr, n - jr));
        for (int64_t ir = 0; ir < full; ir += ks.mr) {
          ks.rows_a_kernel(kc, a + ir * a_rs + pc, a_rs, bblock + jr * kc, c + ir * ldc + jr, ldc,
                           nr, ep);
        }
        if (full < rows) {
          ks.kernel(kc, abuf, bblock + jr * kc, c + full * ldc + jr, ldc,
                    static_cast<int>(rows - full), nr, ep);
        }
      }
      continue;
    }
    PackA(ks, a + pc * a_cs, a_rs, a_cs, rows, kc, alpha, abuf);
    for (int64_t jr = 0; jr < n; jr += ks.nr) {
      const int nr = static_cast<int>(std::min<int64_t>(ks.nr, n - jr));
      for (int64_t ir = 0; ir < rows; ir += ks.mr) {
        const int mr = static_cast<int>(std::min<int64_t>(ks.mr, rows - ir));
        ks.kernel(kc, abuf + ir * kc, bblock + jr * kc, c + ir * ldc + jr, ldc, mr, nr, ep);
      }
    }
  }
}

// Adds the mask row, then replaces the row by its softmax. A row whose every score is -inf
// comes out NaN, as the unfused Softmax would give.
void SoftmaxRow(float* x, int64_t n, const float* m, int64_t m_cs, float scale, bool avx2,
                bool avx512) {
  if (avx512 && (m == nullptr || m_cs == 1)) {
    internal::MaskedSoftmaxRowAvx512(x, n, m, scale);
    return;
  }
  if (scale != 1.f) {
    if (avx2) {
      internal::AffineF32Avx2(x, scale, 0.f, x, n);
    } else {
      for (int64_t j = 0; j < n; ++j) x[j] *= scale;
    }
  }
  if (m != nullptr) {
    if (m_cs == 1 && avx2) {
      internal::BinaryF32Avx2(BinaryOp::kAdd, x, 1, m, 1, x, n);
    } else {
      for (int64_t j = 0; j < n; ++j) x[j] += m[j * m_cs];
    }
  }
  if (avx2) {
    const float mx = internal::MaxF32Avx2(x, n);
    const float sum = internal::ExpShiftSumF32Avx2(x, mx, x, n);
    internal::AffineF32Avx2(x, 1.f / sum, 0.f, x, n);
    return;
  }
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) mx = std::max(mx, x[j]);
  float sum = 0.f;
  for (int64_t j = 0; j < n; ++j) {
    x[j] = std::exp(x[j] - mx);
    sum += x[j];
  }
  const float inv = 1.f / sum;
  for (int64_t j = 0; j < n; ++j) x[j] *= inv;
}

}  // namespace

int64_t AttentionRowBlock(int64_t s) {
  const KernelSet& ks = MicroKernels();
  // Scores of a block stay within ~128 KB (L2) next to the packed K^T and V.
  const int64_t budget = 32768 / std::max<int64_t>(RoundUp(s, 16), 1);
  const int64_t rows = std::clamp<int64_t>(budget, ks.mr, 8 * ks.mr);
  return rows / ks.mr * ks.mr;
}

Status AttentionHeadRows(const AttentionHeadArgs& a, int64_t r0, int64_t r1) {
  if (r0 >= r1) return Status::OK();
  const KernelSet& ks = MicroKernels();
  const bool avx2 = KernelsUseAvx2();
  const bool avx512 = avx2 && gemm_internal::UseAvx512();
  const int64_t rb = AttentionRowBlock(a.s);
  const int64_t s_ld = RoundUp(a.s, 16);
  const int64_t kt_floats = RoundUp(a.s, ks.nr) * a.d;
  const int64_t v_floats = RoundUp(a.dv, ks.nr) * a.s;
  const int64_t a_floats =
      RoundUp(rb, ks.mr) * std::max<int64_t>(1, std::min<int64_t>(ks.kc, std::max(a.d, a.s)));
  const int64_t s_floats = rb * s_ld;
  thread_local Scratch scratch;
  float* base = scratch.Get(kt_floats + v_floats + a_floats + s_floats + 64);
  if (base == nullptr) return ResourceExhausted("attention: no memory for scratch");
  float* kt = base;
  float* vp = kt + RoundUp(kt_floats, 16);
  float* ap = vp + RoundUp(v_floats, 16);
  float* scores = ap + RoundUp(a_floats, 16);
  // K^T(p, j) = K(j, p): depth d, n = s. V(p, j): depth s, n = dv.
  PackBBlocks(ks, a.k, a.k_cs, a.k_rs, a.d, a.s, kt);
  PackBBlocks(ks, a.v, a.v_rs, a.v_cs, a.s, a.dv, vp);
  // A row-major Q is read in place (no packing pass) when the scale can move to the softmax's
  // first pass instead of the packing of Q (AVX-512, where the softmax takes it for free).
  const bool scale_in_softmax =
      ks.rows_a_kernel != nullptr && a.q_cs == 1 && avx512 && (a.mask == nullptr || a.mask_cs == 1);
  const float q_alpha = scale_in_softmax ? 1.f : a.scale;
  const float softmax_scale = scale_in_softmax ? a.scale : 1.f;
  for (int64_t i0 = r0; i0 < r1; i0 += rb) {
    const int64_t rows = std::min(rb, r1 - i0);
    Product(ks, rows, a.s, a.d, a.q + i0 * a.q_rs, a.q_rs, a.q_cs, q_alpha, kt, ap, scores, s_ld);
    if (avx512 && (a.mask == nullptr || a.mask_cs == 1)) {
      internal::MaskedSoftmaxRowsAvx512(scores, s_ld, rows, a.s,
                                        a.mask != nullptr ? a.mask + i0 * a.mask_rs : nullptr,
                                        a.mask_rs, softmax_scale);
    } else {
      for (int64_t i = 0; i < rows; ++i) {
        const float* m = a.mask != nullptr ? a.mask + (i0 + i) * a.mask_rs : nullptr;
        SoftmaxRow(scores + i * s_ld, a.s, m, a.mask_cs, softmax_scale, avx2, avx512);
      }
    }
    Product(ks, rows, a.dv, a.s, scores, s_ld, 1, 1.f, vp, ap, a.o + i0 * a.o_rs, a.o_rs);
  }
  return Status::OK();
}

}  // namespace mlos::kernels
