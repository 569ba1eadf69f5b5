// OneHot (opsets 9, 11): indices (any numeric dtype, negative values count from the end of depth
// in opset 11), a scalar depth, values [off, on]; output inserts a depth axis at `axis`. Indices
// outside [-depth, depth) give an all-off slice, as the spec says.
#include <cmath>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

Status OneHotCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* dt, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(const Tensor* vals, ctx.RequireTensor(2));
  if (dt->numel() != 1 || dt->dtype() == DType::kString) return ctx.Error("depth must be a scalar");
  if (vals->numel() != 2) return ctx.Error("values must hold [off_value, on_value]");
  if (ind->dtype() == DType::kString || ind->dtype() == DType::kBool) {
    return ctx.Error("indices must be numeric");
  }
  const double dd = dt->GetAsDouble(0);
  if (!(dd >= 1.0) || dd > static_cast<double>(int64_t{1} << 40)) {
    return ctx.Error("depth must be a positive integer");
  }
  const int64_t depth = static_cast<int64_t>(dd);
  const int out_rank = ind->rank() + 1;
  int64_t axis = ctx.node().GetInt("axis", -1);
  if (axis < -out_rank || axis >= out_rank) return ctx.Error("axis out of range");
  if (axis < 0) axis += out_rank;
  Shape oshape = ind->shape();
  oshape.insert(oshape.begin() + axis, depth);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= ind->shape()[static_cast<size_t>(d)];
  for (int d = static_cast<int>(axis); d < ind->rank(); ++d) inner *= ind->shape()[d];
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, vals->dtype(), oshape));
  if (out.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor vc, vals->Contiguous());
  std::vector<int64_t> idx(static_cast<size_t>(ind->numel()));
  for (int64_t i = 0; i < ind->numel(); ++i) {
    const double v = ind->GetAsDouble(i);
    int64_t k = std::isfinite(v) && std::fabs(v) < 9e15 ? static_cast<int64_t>(v) : depth;
    if (k < 0) k += depth;
    idx[static_cast<size_t>(i)] = k >= 0 && k < depth ? k : -1;
  }
  auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    const T off = static_cast<const T*>(vc.raw_data())[0];
    const T on = static_cast<const T*>(vc.raw_data())[1];
    T* o = static_cast<T*>(out.raw_data());
    std::fill(o, o + out.numel(), off);
    for (int64_t a = 0; a < outer; ++a) {
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t k = idx[static_cast<size_t>(a * inner + i)];
        if (k >= 0) o[(a * depth + k) * inner + i] = on;
      }
    }
    return Status::OK();
  };
  if (vals->dtype() == DType::kString) return run(std::string{});
  return DispatchBySize(vals->dtype(), ctx, run);
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(onehot) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("OneHot", OneHotCompute, 9);
}
