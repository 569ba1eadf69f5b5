// Scaled dot-product attention for one head: O = softmax(scale * Q K^T + mask) V, the kernel
// behind the engine's fused mlos::Attention node.
//
// Q, K, V, the mask and O are strided views (any row and column strides, O unit-stride along its
// columns), so head split/merge transposes never need a copy. The two products run on the GEMM's
// register-tiled micro-kernels (gemm_kernels.h): K^T and V are packed once per call, Q and the
// probabilities once per block of rows; the scores of a block of rows live in a per-thread
// scratch buffer, so no T x S tensor is ever allocated.
// Thread-safety: reentrant; each call is single-threaded (callers split heads and row ranges
// over the shared pool) and uses grow-only thread-local scratch.
// Preconditions (the caller validates shapes): pointers valid for the sizes implied; s, dv > 0
// (d may be 0: the scores are then the mask alone).
#pragma once

#include <cstdint>

#include "mlos/status.h"

namespace mlos::kernels {

struct AttentionHeadArgs {
  int64_t t = 0, s = 0;      // query rows, key rows
  int64_t d = 0, dv = 0;     // width of Q and K, width of V and O
  const float* q = nullptr;  // Q(i, c) = q[i * q_rs + c * q_cs]
  int64_t q_rs = 0, q_cs = 0;
  const float* k = nullptr;  // K(j, c) = k[j * k_rs + c * k_cs] (K itself, not K^T)
  int64_t k_rs = 0, k_cs = 0;
  const float* v = nullptr;  // V(j, c) = v[j * v_rs + c * v_cs]
  int64_t v_rs = 0, v_cs = 0;
  const float* mask = nullptr;  // optional, added to the scaled scores: M(i, j)
  int64_t mask_rs = 0, mask_cs = 0;
  float* o = nullptr;  // O(i, c) = o[i * o_rs + c]
  int64_t o_rs = 0;
  float scale = 1.f;
};

// Computes output rows [r0, r1) of one head. Returns ResourceExhausted when scratch memory
// cannot be had (nothing is written then).
Status AttentionHeadRows(const AttentionHeadArgs& a, int64_t r0, int64_t r1);

// Rows per block that AttentionHeadRows computes at a time (a multiple of the micro-kernel's
// row tile); callers splitting rows over tasks should use multiples of it.
int64_t AttentionRowBlock(int64_t s);

}  // namespace mlos::kernels
