// The 14-row direct-A micro-kernel of the transposed implicit-GEMM convolution (AVX-512): a
// 14 x 32 register tile (28 accumulators, 2 B vectors, 1 broadcast) whose 14 rows (output
// pixels) are read in place from the padded input planes, like KernelSet::direct_a_kernel, but
// 14 rows instead of 12, so the 14-, 28- and 56-pixel output rows of ResNet-style layers split
// into whole tiles (no 8- or 4-row tails) and a 7x7 plane takes pairs of rows per tile.
// Row i of a tile at depth step p is a[aoffs[p] + i] for i < split and a[aoffs[p] + gap + i]
// for i >= split (split < 14: the tile's rows continue on the next output row, gap floats
// further on: the padded row length minus the output width).
// Thread-safety: pure over its arguments.
#pragma once

#include <cstdint>

#include "kernels/cpu/gemm_kernels.h"

namespace mlos::kernels::internal {

constexpr int kDirectA14Rows = 14;

// Whether the kernel can run here (AVX-512 and the AVX-512 GEMM kernel set, whose B sliver
// layout, 32 columns wide, it reads).
bool DirectA14Available();

// C tile (mr <= 14 rows of ldc stride, nr <= 32 columns) = A B over kc depth steps, then the
// epilogue (ep.first: overwrite, else accumulate; ep.last: + bias, activation; beta and
// addend are not supported and must be 0 / null). split: 14 or 7 (the only instantiated ones).
// bp: a packed 32-column B sliver (kc x 32). Only call when DirectA14Available().
void DirectA14Kernel(int64_t kc, const float* a, const int64_t* aoffs, int split, int64_t gap,
                     const float* bp, float* c, int64_t ldc, int mr, int nr,
                     const gemm_internal::TileEpilogue& ep);

// The whole-depth form: one call computes a tile over all k depth steps of a prepacked W^T
// (PackedMatrix layout: depth blocks of kc, block pb at packed + pb * n_pad, its 32-column
// sliver jr at + jr * min(kc, k - pb)) with the accumulators in registers throughout, then
// writes the tile transposed into NCHW planes: channel jr + j, pixels q0 .. q0 + mr - 1 at
// y + (jr + j) * hw + q0, after + bias, + the residual addend (same layout) and the activation.
// No partial sums in memory and no separate transpose pass. rows: 14 (split 14 or 7) or 8
// (split 8; the odd last row of a 7-wide plane).
struct DirectAPlanesOut {
  float* y = nullptr;
  const float* sum = nullptr;  // optional, y's layout
  int64_t hw = 0;
  const float* bias = nullptr;  // optional, indexed by channel
  const ActivationParams* act = nullptr;
};
void DirectAPlanesKernel(int64_t k, int64_t kc, int64_t n_pad, const float* packed, int64_t jr,
                         const float* a, const int64_t* aoffs, int rows, int split, int64_t gap,
                         int64_t q0, int mr, int nr, const DirectAPlanesOut& out);

}  // namespace mlos::kernels::internal
