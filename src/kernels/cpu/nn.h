// Neural-network kernels: softmax, layer norm, transpose, 2-D convolution and pooling.
// Float32 unless stated; outputs preallocated by the caller (shape helpers given).
#pragma once

#include <span>

#include "kernels/cpu/activation.h"
#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels {

// Softmax (or log-softmax) along `axis` (negative allowed); y has x's shape.
Status Softmax(const Tensor& x, int64_t axis, Tensor& y, ThreadPool& pool, bool log = false);

// Normalises over the axes from `axis` to the end; scale (and optional bias) broadcast over
// those axes. y has x's shape.
Status LayerNorm(const Tensor& x, const Tensor& scale, const Tensor* bias, int64_t axis,
                 float epsilon, Tensor& y, ThreadPool& pool);

// y = x permuted by `perm`, materialised contiguously (any dtype, strings included).
Status Transpose(const Tensor& x, std::span<const int64_t> perm, Tensor& y, ThreadPool& pool);

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  ActivationParams activation;  // fused epilogue
  // Optional: the weight prepacked by PackConv2dWeight (the caller keeps it alive and passes the
  // same weight as `w`); paths that cannot use it read `w`.
  const float* packed_weight = nullptr;
  // Optional: a contiguous addend of the output's shape (N x M x oH x oW), e.g. a residual
  // branch: y = activation(conv + bias + sum). Must not overlap y.
  const float* sum = nullptr;
};
// Floats PackConv2dWeight needs for weight shape w (M x C/groups x kH x kW) and `groups`.
int64_t Conv2dPackedWeightFloats(const Shape& w, int64_t groups);
// Packs a contiguous weight for the GEMM micro-kernel (each group's M/groups x C/groups*kH*kW
// block, one after another) into `out` (Conv2dPackedWeightFloats floats, 64-byte aligned).
void PackConv2dWeight(const float* w, const Shape& w_shape, int64_t groups, float* out);
// x: N x C x H x W, w: M x C/groups x kH x kW, bias: M (optional). Output N x M x oH x oW.
Result<Shape> Conv2dShape(const Shape& x, const Shape& w, const Conv2dParams& p);
Status Conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, const Conv2dParams& p,
              Tensor& y, ThreadPool& pool);

enum class PoolKind : uint8_t { kMax, kAverage };
struct Pool2dParams {
  PoolKind kind = PoolKind::kMax;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  bool ceil_mode = false;
  bool count_include_pad = false;  // average pooling only
};
Result<Shape> Pool2dShape(const Shape& x, const Pool2dParams& p);
Status Pool2d(const Tensor& x, const Pool2dParams& p, Tensor& y, ThreadPool& pool);
// Global average or max pooling over H x W: N x C x H x W -> N x C x 1 x 1.
Status GlobalPool2d(PoolKind kind, const Tensor& x, Tensor& y, ThreadPool& pool);

}  // namespace mlos::kernels
