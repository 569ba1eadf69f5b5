// Internals of the float32 GEMM (not a public contract): the strided problem description that
// Sgemm, SgemmBatched and MatMul all reduce to, and the per-ISA entry points, exposed so tests
// can run the portable and the SIMD paths in one process.
// Thread-safety: every function here is reentrant; packing scratch is thread-local.
#pragma once

#include <cstdint>

#include "kernels/cpu/activation.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels::gemm_internal {

// C[i*ldc + j] = alpha * sum_p A(i,p) * B(p,j) + beta * C (beta == 0: C is not read),
// then + bias[j] + row_bias[i] (+ sum[i*sum_ld + j]), then the activation.
// A(i,p) = a[i*a_rs + p*a_cs], B(p,j) = b[p*b_rs + j*b_cs]: any strides, transposes included.
struct StridedGemm {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t a_rs = 0, a_cs = 0;
  const float* b = nullptr;
  int64_t b_rs = 0, b_cs = 0;
  float* c = nullptr;
  int64_t ldc = 0;
  float alpha = 1.f;
  float beta = 0.f;
  const float* bias = nullptr;
  const float* row_bias = nullptr;  // m values, + row_bias[i] on row i (before the activation)
  ActivationParams act;
  // Optional residual addend (m x n, row stride sum_ld): + sum[i*sum_ld + j] after the biases,
  // before the activation, in the tile epilogue. Such a problem always takes the packed path.
  const float* sum = nullptr;
  int64_t sum_ld = 0;
  // Optional implicit B (an implicit-GEMM convolution): when set, `b` is ignored and the driver
  // calls pack_b_fn(pack_b_ctx, p0, kc, j0, nc, nr, out) to write B's rows [p0, p0 + kc) x
  // columns [j0, j0 + nc) as NR-column slivers (sliver s at out + s * kc * nr, row-major kc x
  // nr, columns past nc zero) -- the layout the kernel set's pack_b produces. Such a problem
  // always takes the packed path.
  void (*pack_b_fn)(const void* ctx, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int nr,
                    float* out) = nullptr;
  const void* pack_b_ctx = nullptr;
  // Optional prepacked A (a constant weight, packed once by PackA for the same ISA): when set,
  // `a`, a_rs and a_cs are ignored and alpha must already be applied. Such a problem always
  // takes the packed path, which reads each (row block, depth block) straight from it.
  const float* packed_a = nullptr;
};

enum class Isa { kAuto, kPortable, kAvx2, kAvx512 };

// The ISA kAuto resolves to on this machine (kAvx2 or kAvx512 only after the run-time check).
Isa BestIsa();
// True when `isa` can run here (kPortable always).
bool IsaSupported(Isa isa);
// "portable", "avx2", "avx512": the kernel set `isa` runs with here (kAuto resolved).
const char* IsaName(Isa isa);

// Runs `g` with the given ISA (kAuto: BestIsa()), split over `pool` with at most `max_tasks`
// tasks (0: the pool's size). An unsupported ISA falls back to the portable one.
void RunGemm(const StridedGemm& g, Isa isa, ThreadPool& pool, int max_tasks = 0);

// Floats PackA writes for an m x k A with the kernel set of `isa`: for every KC depth block
// (KC fixed by k and the kernel set), all ceil(m / MR) MR-row slivers, rows padded with zeros.
// The block starting at depth pc begins at pc * RoundUp(m, MR); the sliver of rows [i, i + MR)
// at i * kc within it.
int64_t PackedASize(int64_t m, int64_t k, Isa isa);
// Packs A(i,p) = a[i*a_rs + p*a_cs] (m x k) in that layout, multiplied by alpha, into `out`
// (PackedASize floats, 64-byte alignment recommended).
void PackA(const float* a, int64_t a_rs, int64_t a_cs, int64_t m, int64_t k, float alpha, Isa isa,
           float* out);

// Applies beta, bias and the activation to C alone (the k == 0 case).
void ScaleBiasActivate(const StridedGemm& g);

}  // namespace mlos::kernels::gemm_internal
