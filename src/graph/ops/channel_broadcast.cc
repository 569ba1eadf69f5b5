// Per-channel broadcast arithmetic (channel_broadcast.h): one scalar per (image, channel) plane,
// so each plane is a contiguous array op scalar -- no strided iteration, vector bodies.
#include "graph/ops/channel_broadcast.h"

#include <algorithm>

#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/vector_math.h"

namespace mlos::graph::ops {
namespace {

using kernels::BinaryOp;

// `small` is [N or 1, C, 1, 1] against big = [N, C, H, W].
bool IsChannelOperand(const Shape& big, const Shape& small) {
  return big.size() == 4 && small.size() == 4 && (small[0] == big[0] || small[0] == 1) &&
         small[1] == big[1] && small[2] == 1 && small[3] == 1;
}

float Scalar(BinaryOp op, float x, float s) {
  switch (op) {
    case BinaryOp::kAdd:
      return x + s;
    case BinaryOp::kSub:
      return x - s;
    case BinaryOp::kMul:
      return x * s;
    default:
      return x / s;
  }
}

}  // namespace

bool TryChannelBroadcastF32(OpContext& ctx, BinaryOp op, const Tensor& a, const Tensor& b,
                            Status* status) {
  if (op != BinaryOp::kAdd && op != BinaryOp::kSub && op != BinaryOp::kMul &&
      op != BinaryOp::kDiv) {
    return false;
  }
  if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32 || !a.is_contiguous() ||
      !b.is_contiguous()) {
    return false;
  }
  const bool commutes = op == BinaryOp::kAdd || op == BinaryOp::kMul;
  const Tensor* big = nullptr;
  const Tensor* small = nullptr;
  if (IsChannelOperand(a.shape(), b.shape())) {
    big = &a;
    small = &b;
  } else if (commutes && IsChannelOperand(b.shape(), a.shape())) {
    big = &b;
    small = &a;
  } else {
    return false;
  }
  const Shape& shape = big->shape();
  const int64_t planes = shape[0] * shape[1], hw = shape[2] * shape[3];
  if (hw <= 1) return false;  // nothing to gain over the general loop
  Result<Tensor> out = ctx.Output(0, DType::kFloat32, shape);
  if (!out.ok()) {
    *status = out.status();
    return true;
  }
  if (out->numel() == 0) {
    *status = Status::OK();
    return true;
  }
  const float* x = static_cast<const float*>(big->raw_data());
  const float* s = static_cast<const float*>(small->raw_data());
  float* y = static_cast<float*>(out->raw_data());
  const bool per_image = small->dim(0) != 1;
  const int64_t channels = shape[1];
  const bool avx2 = kernels::KernelsUseAvx2();
  auto body = [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float* sv = s + (per_image ? p : p % channels);
      const float* xp = x + p * hw;
      float* yp = y + p * hw;
      if (avx2 && kernels::internal::BinaryF32Avx2(op, xp, 1, sv, 0, yp, hw)) continue;
      for (int64_t i = 0; i < hw; ++i) yp[i] = Scalar(op, xp[i], *sv);
    }
  };
  // ~64K elements (512 KB of traffic) per chunk: a memory-bound op whose planes another core
  // wrote gains from a second thread only when each share is large.
  ctx.pool().ParallelFor(planes, std::max<int64_t>(1, 65536 / hw), body);
  *status = Status::OK();
  return true;
}

}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(channel_broadcast) {}  // a path of Add/Sub/Mul/Div, registered by arithmetic.cc
