// EyeLike (opset 9): a 2-D tensor shaped like the input with ones on diagonal k, in `dtype` (or
// the input's dtype).
#include "graph/ops/op_util.h"
#include "graph/tensor_proto.h"

namespace mlos::graph::ops {
namespace {

Status EyeLikeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  if (x->rank() != 2) return ctx.Error("input must be 2-D, got " + ShapeToString(x->shape()));
  DType dt = x->dtype();
  if (const Attribute* a = ctx.node().attr("dtype")) {
    auto r = DTypeFromOnnx(static_cast<int>(a->i));
    if (!r.ok()) return ctx.Error("dtype: " + r.status().message());
    dt = *r;
  }
  if (dt == DType::kString) return ctx.Error("dtype must not be string");
  const int64_t k = ctx.node().GetInt("k", 0);
  const int64_t rows = x->shape()[0], cols = x->shape()[1];
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, dt, x->shape()));
  if (out.numel() == 0) return Status::OK();
  auto fill = [&](auto one) -> Status {
    using T = decltype(one);
    T* o = static_cast<T*>(out.raw_data());
    std::fill(o, o + out.numel(), T{});
    // |k| beyond the matrix leaves it all zero (and keeps i + k from overflowing).
    for (int64_t i = 0; i < rows && k < cols && k > -rows; ++i) {
      const int64_t j = i + k;
      if (j >= 0 && j < cols) o[i * cols + j] = one;
    }
    return Status::OK();
  };
  switch (dt) {
    case DType::kBool:
      return fill(true);
    case DType::kFloat16:
      return fill(Float16(1.f));
    case DType::kBFloat16:
      return fill(BFloat16(1.f));
    default:
      return DispatchNumeric(dt, ctx, [&](auto tag) -> Status {
        using T = decltype(tag);
        return fill(static_cast<T>(1));
      });
  }
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(eyelike) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("EyeLike", EyeLikeCompute, 9);
}
