// GEMM with a constant right-hand side packed once: C = A * B (+ bias, activation), where B is a
// model weight. Packing B into the micro-kernel's column slivers at load time saves the per-call
// packing pass and lets every call stream B in the order the kernel reads it.
//
// Ownership: a PackedMatrix owns its packed copy (B itself is not kept). Thread-safety: a
// PackedMatrix is immutable after Pack, so any number of concurrent PackedSgemm calls may share
// it; PackedSgemm splits its work over the given shared pool and uses thread-local scratch.
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/cpu/activation.h"
#include "mlos/status.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels {

namespace gemm_internal {
struct KernelSet;
}

// The register-tiled micro-kernel set this process runs (the GEMM's choice: AVX-512, AVX2 or
// portable; portable when KernelsUseAvx2() is false, e.g. forced by tests).
const gemm_internal::KernelSet& MicroKernels();

struct PackedGemmArgs {
  int64_t m = 0;
  const float* a = nullptr;  // A(i, p) = a[i * a_rs + p * a_cs], m x b.k()
  int64_t a_rs = 0, a_cs = 1;
  float* c = nullptr;  // m x b.n(), row stride ldc
  int64_t ldc = 0;
  float beta = 0.f;             // C = A B + beta * C (0: C is not read)
  const float* bias = nullptr;  // optional, n values added to every row
  ActivationParams activation;
  // Optional implicit A (an implicit-GEMM convolution's transposed form): when set, `a` is not
  // read and PackedSgemm calls pack_a_fn(pack_a_ctx, i0, mc, p0, kc, mr, out) to write A's rows
  // [i0, i0 + mc) x depth [p0, p0 + kc) as MR-row slivers (sliver s at out + s * mr * kc,
  // p-major, rows past mc zero) -- the layout the kernel set's pack_a produces.
  void (*pack_a_fn)(const void* ctx, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int mr,
                    float* out) = nullptr;
  const void* pack_a_ctx = nullptr;
};

class PackedMatrix;
// C = A * B (+ beta C) (+ bias) then the activation, B given by PackedMatrix::Pack.
void PackedSgemm(const PackedGemmArgs& args, const PackedMatrix& b, ThreadPool& pool);

// The transposed form of a convolution with A read in place (KernelSet::direct_a_kernel): A's
// row q is output pixel (q / ow, q % ow) and A(q, p) = a[aoffs[p] + (q / ow) * row_len + q % ow]
// (the padded input planes; see conv2d_implicit.cc). C = A B (+ bias) then the activation, C
// oh*ow x b.n() with row stride ldc. Row tiles never straddle output rows, so each tile's
// rows are consecutive floats of every depth row. Only call when DirectAConvAvailable(b).
struct DirectAConvArgs {
  const float* a = nullptr;
  const int64_t* aoffs = nullptr;  // b.k() entries
  int64_t oh = 0, ow = 0, row_len = 0;
  float* c = nullptr;
  int64_t ldc = 0;
  const float* bias = nullptr;
  ActivationParams activation;
  // Optional (only where DirectAConvPlanesAvailable): C is not written; each tile runs over the
  // whole depth and writes its transpose into NCHW planes y_planes (b.n() planes of oh*ow),
  // adding sum (same layout, optional) before the activation.
  float* y_planes = nullptr;
  const float* sum = nullptr;
};
bool DirectAConvAvailable(const PackedMatrix& b);
// Whether the planes form (DirectAConvArgs::y_planes) runs for output rows of ow pixels: the
// 14-row kernel (conv2d_direct_a.h) in whole tiles (ow a multiple of 14, or 7: pairs of rows).
bool DirectAConvPlanesAvailable(const PackedMatrix& b, int64_t ow);
void PackedSgemmDirectA(const DirectAConvArgs& args, const PackedMatrix& b, ThreadPool& pool);

class PackedMatrix {
 public:
  // Packs alpha * B, B(p, j) = b[p * rs + j * cs] for p < k, j < n. ResourceExhausted when the
  // copy cannot be allocated; InvalidArgument for negative sizes.
  static Result<std::shared_ptr<const PackedMatrix>> Pack(const float* b, int64_t rs, int64_t cs,
                                                          int64_t k, int64_t n, float alpha = 1.f);
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  size_t bytes() const { return floats_ * sizeof(float); }

 private:
  friend void PackedSgemm(const PackedGemmArgs& args, const PackedMatrix& b, ThreadPool& pool);
  friend bool DirectAConvAvailable(const PackedMatrix& b);
  friend bool DirectAConvPlanesAvailable(const PackedMatrix& b, int64_t ow);
  friend void PackedSgemmDirectA(const DirectAConvArgs& args, const PackedMatrix& b,
                                 ThreadPool& pool);
  PackedMatrix() = default;
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  const gemm_internal::KernelSet* ks_ = nullptr;
  int64_t k_ = 0, n_ = 0, n_pad_ = 0;
  size_t floats_ = 0;
  std::unique_ptr<float, FreeDeleter> data_;  // depth blocks of ks_->kc, each n_pad_ x kc
};

}  // namespace mlos::kernels
