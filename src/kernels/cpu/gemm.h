// Float32 matrix multiplication: the GEMM at the heart of MatMul, Gemm, Conv and attention.
//
// Row-major. C = alpha * op(A) * op(B) + beta * C, then + bias (per column, length n) and the
// activation, applied while the tile is in cache. AVX2/FMA path chosen at run time, portable
// fallback otherwise. Work is split over the given shared ThreadPool. No allocation on the hot
// path beyond per-call packing buffers from thread-local scratch.
// Preconditions (callers validate shapes first): pointers valid for the sizes implied.
#pragma once

#include <cstdint>

#include "kernels/cpu/activation.h"
#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels {

struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;  // m x k, or k x m when trans_a
  int64_t lda = 0;
  bool trans_a = false;
  const float* b = nullptr;  // k x n, or n x k when trans_b
  int64_t ldb = 0;
  bool trans_b = false;
  float* c = nullptr;  // m x n
  int64_t ldc = 0;
  float alpha = 1.f;
  float beta = 0.f;
  const float* bias = nullptr;  // optional, n values added to every row
  // Optional, m values: row_bias[i] added to every element of row i (a convolution's
  // per-output-channel bias), on the last k block like `bias`. Not combined with trans_b
  // few-row paths: such calls take the packed path.
  const float* row_bias = nullptr;
  ActivationParams activation;
};

void Sgemm(const GemmArgs& args, ThreadPool& pool);

// `batch` GEMMs whose operands advance by the given element strides (0 repeats a matrix).
void SgemmBatched(const GemmArgs& args, int64_t batch, int64_t stride_a, int64_t stride_b,
                  int64_t stride_c, ThreadPool& pool);

// numpy.matmul shape rule: 1-D operands are promoted and the promoted axis dropped again; batch
// axes broadcast. InvalidArgument names both shapes on mismatch.
Result<Shape> MatMulShape(const Shape& a, const Shape& b);
// numpy.matmul of float32 tensors with any strides into `out`, preallocated with MatMulShape.
Status MatMul(const Tensor& a, const Tensor& b, Tensor& out, ThreadPool& pool);

}  // namespace mlos::kernels
