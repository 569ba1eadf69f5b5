// Pad: constant, reflect, edge and wrap modes, pads from the attribute (opset < 11) or input 1,
// optional axes (opset 18). Negative pads crop.
#include <algorithm>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

Status PadCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  const int rank = x.rank();
  std::string mode = ctx.node().GetString("mode", "constant");
  std::vector<int64_t> pads;
  double value = 0;
  if (ctx.opset() < 11) {
    pads = ctx.node().GetInts(ctx.opset() < 2 ? "paddings" : "pads");
    value = ctx.node().GetFloat("value", 0.f);
  } else {
    MLOS_ASSIGN_OR_RETURN(const Tensor* p, ctx.RequireTensor(1));
    auto r = ToInt64s(*p);
    if (!r.ok()) return ctx.Error(r.status().message());
    pads = *r;
    if (ctx.has_input(2) && ctx.input(2).numel() > 0) value = ctx.input(2).GetAsDouble(0);
  }
  std::vector<int64_t> axes;
  if (ctx.has_input(3)) {
    auto r = ToInt64s(ctx.input(3));
    if (!r.ok()) return ctx.Error(r.status().message());
    axes = *r;
  } else {
    for (int d = 0; d < rank; ++d) axes.push_back(d);
  }
  if (pads.size() != 2 * axes.size())
    return ctx.Error("pads must have 2 * (number of axes) values");
  std::vector<int64_t> pb(static_cast<size_t>(rank), 0), pe(static_cast<size_t>(rank), 0);
  const size_t na = axes.size();
  for (size_t i = 0; i < na; ++i) {
    MLOS_ASSIGN_OR_RETURN(int ax, Axis(ctx, axes[i], rank));
    pb[ax] = pads[i];
    pe[ax] = pads[i + na];
  }
  Shape out_shape(static_cast<size_t>(rank));
  for (int d = 0; d < rank; ++d) {
    out_shape[d] = x.shape()[d] + pb[d] + pe[d];
    if (out_shape[d] < 0) return ctx.Error("pads crop below zero");
    if (mode != "constant" && x.shape()[d] == 0 && out_shape[d] > 0)
      return ctx.Error("cannot pad an empty axis in this mode");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x.dtype(), out_shape));
  MLOS_ASSIGN_OR_RETURN(int64_t total, NumElements(out_shape));
  auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    T* py = static_cast<T*>(y.raw_data());
    T fill{};
    if constexpr (!std::is_same_v<T, std::string>) fill = T(static_cast<CalcT<T>>(value));
    std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
    for (int64_t o = 0; o < total; ++o) {
      int64_t src = 0;
      bool inside = true;
      for (int d = 0; d < rank; ++d) {
        int64_t i = idx[d] - pb[d], n = x.shape()[d];
        if (i < 0 || i >= n) {
          if (mode == "constant") {
            inside = false;
            break;
          } else if (mode == "edge") {
            i = std::clamp<int64_t>(i, 0, n - 1);
          } else if (mode == "reflect") {
            if (n == 1) {
              i = 0;
            } else {
              int64_t period = 2 * (n - 1);
              i = ((i % period) + period) % period;
              if (i >= n) i = period - i;
            }
          } else if (mode == "wrap") {
            i = ((i % n) + n) % n;
          } else {
            return ctx.Error("unknown mode '" + mode + "'");
          }
        }
        src = src * n + i;
      }
      py[o] = inside ? px[src] : fill;
      for (int d = rank - 1; d >= 0; --d) {
        if (++idx[d] < out_shape[d]) break;
        idx[d] = 0;
      }
    }
    return Status::OK();
  };
  if (x.dtype() == DType::kString) return run(std::string{});
  if (x.dtype() == DType::kBool) return run(bool{});
  return DispatchNumeric(x.dtype(), ctx, run);
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(pad) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Pad", PadCompute);
}
