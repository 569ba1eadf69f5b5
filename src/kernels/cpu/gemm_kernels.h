// Internals of the float32 GEMM: the per-ISA kernel set (register-blocked micro-kernel, packing
// routines and cache-blocking sizes) that the blocked driver in gemm_driver.cc runs.
// A micro-kernel computes an MR x NR tile of C from a packed A sliver (kc x MR, alpha already
// applied) and a packed B sliver (kc x NR), and applies the epilogue while the tile is hot.
// Thread-safety: all functions are pure over their arguments (no shared state).
#pragma once

#include <cstdint>

#include "kernels/cpu/activation.h"

namespace mlos::kernels::gemm_internal {

struct TileEpilogue {
  float beta = 0.f;                 // first k block only; 0 means C is overwritten, never read
  bool first = true;                // C = acc + beta * C; otherwise C += acc
  bool last = true;                 // then + bias[j] and the activation
  const float* bias = nullptr;      // this tile's first column, or null
  const float* row_bias = nullptr;  // this tile's first row, or null (per-row bias)
  const ActivationParams* act = nullptr;
  // Optional residual addend, last k block only: + addend[i * addend_ld + j] before the
  // activation (this tile's origin), so a Conv->Add->Relu needs no pass of its own over C.
  const float* addend = nullptr;
  int64_t addend_ld = 0;
  // Optional: packed B the caller reads next (kc x NR floats, the next sliver), which kernels
  // that support it pull toward L2 while they compute, so the next tile does not wait on it.
  const float* prefetch_b = nullptr;
};

// kc: depth; ap: kc x MR packed A; bp: kc x NR packed B; c: tile origin; mr/nr: valid rows/cols.
using MicroKernelFn = void (*)(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc,
                               int mr, int nr, const TileEpilogue& ep);
// Packs mc x kc of A(i,p) = a[i*rs + p*cs] into MR-row slivers (p-major, rows padded with 0),
// multiplied by alpha.
using PackAFn = void (*)(const float* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc,
                         float alpha, float* out);
// Packs kc x nc of B(p,j) = b[p*rs + j*cs] into NR-column slivers (p-major, padded with 0).
using PackBFn = void (*)(const float* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc,
                         float* out);

// Small-m path (few rows, m <= KernelSet::small_m per call): C rows [0, m) x columns [0, n)
// computed straight from row-major B (unit column stride, row stride ldb) without packing, all
// of k in registers, so B streams through once per call. A(i,p) = a[i*a_rs + p*a_cs]; alpha
// is applied here; ep.first/ep.last as for the micro-kernel (the driver k-blocks over row
// groups when m is a few times small_m).
using SmallMKernelFn = void (*)(int m, int64_t n, int64_t k, const float* a, int64_t a_rs,
                                int64_t a_cs, const float* b, int64_t ldb, float* c, int64_t ldc,
                                float alpha, const TileEpilogue& ep);

// Small-m path for a transposed B (B(p,j) = b[j*ldbt + p], unit stride along k) and A with
// unit stride along k: each C element is a dot product of two contiguous runs. Same contract
// otherwise as SmallMKernelFn (a_cs must be 1; ldb is B's column stride).
using SmallMDotKernelFn = SmallMKernelFn;

// Direct-A micro-kernel (optional): as MicroKernelFn, but A is read in place: row i at depth
// step p is a[aoffs[p] + i] (i < MR may be read for rows past mr; they are not stored). A
// convolution's padded input, its rows the consecutive pixels of one output row.
using DirectAKernelFn = void (*)(int64_t kc, const float* a, const int64_t* aoffs, const float* bp,
                                 float* c, int64_t ldc, int mr, int nr, const TileEpilogue& ep);

// Row-major direct-A micro-kernel (optional): as MicroKernelFn for a full MR-row tile, but A is
// read in place: row i at depth step p is a[i * lda + p] (all MR rows must exist).
using RowsAKernelFn = void (*)(int64_t kc, const float* a, int64_t lda, const float* bp, float* c,
                               int64_t ldc, int nr, const TileEpilogue& ep);

struct KernelSet {
  const char* name;
  int mr, nr;          // register tile
  int64_t mc, kc, nc;  // cache blocks: A block mc x kc in L2, B sliver kc x nr in L1, B panel
                       // kc x nc in L3; mc a multiple of mr, nc a multiple of nr
  MicroKernelFn kernel;
  PackAFn pack_a;
  PackBFn pack_b;
  int small_m = 0;     // rows per small_m_kernel call; 0: no small-m path
  int small_m_nr = 0;  // its column block: task splits of n are multiples of this
  SmallMKernelFn small_m_kernel = nullptr;
  int small_m_dot = 0;  // rows per small_m_dot_kernel call; 0: none
  SmallMDotKernelFn small_m_dot_kernel = nullptr;
  DirectAKernelFn direct_a_kernel = nullptr;
  RowsAKernelFn rows_a_kernel = nullptr;
};

// The dot-product kernels (gemm_dot_avx2.cc, gemm_dot_avx512.cc).
void Avx2SmallMDot(int m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                   const float* b, int64_t ldb, float* c, int64_t ldc, float alpha,
                   const TileEpilogue& ep);
void Avx512SmallMDot(int m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                     const float* b, int64_t ldb, float* c, int64_t ldc, float alpha,
                     const TileEpilogue& ep);

const KernelSet& PortableKernels();
// Only call after the run-time checks: UseAvx2(); and UseAvx512() for the AVX-512 set.
const KernelSet& Avx2Kernels();
const KernelSet& Avx512Kernels();
bool UseAvx512();

// The epilogue on a tile held in `acc` (row stride acc_ld), scalar; used by every ISA for
// partial tiles. Compiled without ISA extensions.
void StoreTileScalar(const float* acc, int acc_ld, float* c, int64_t ldc, int mr, int nr,
                     const TileEpilogue& ep);

}  // namespace mlos::kernels::gemm_internal
