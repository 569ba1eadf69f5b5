// Trilu: upper or lower triangle of the last two dimensions, offset k (input 1).
#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

Status TriluCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  if (xin->rank() < 2) return ctx.Error("input must have rank >= 2");
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  int64_t k = 0;
  if (ctx.has_input(1)) {
    auto r = ToInt64s(ctx.input(1));
    if (!r.ok() || r->size() != 1) return ctx.Error("k must be a scalar integer");
    k = (*r)[0];
  }
  const bool upper = ctx.node().GetInt("upper", 1) != 0;
  const int64_t rows = x.shape()[x.rank() - 2], cols = x.shape().back();
  const int64_t mats = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x.dtype(), x.shape()));
  auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* px = static_cast<const T*>(x.raw_data());
    T* py = static_cast<T*>(y.raw_data());
    for (int64_t m = 0; m < mats; ++m) {
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) {
          const int64_t o = (m * rows + i) * cols + j;
          const bool keep = upper ? (j - i >= k) : (j - i <= k);
          py[o] = keep ? px[o] : T{};
        }
      }
    }
    return Status::OK();
  };
  if (x.dtype() == DType::kString) return run(std::string{});
  return DispatchBySize(x.dtype(), ctx, run);
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(trilu) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Trilu", TriluCompute);
}
