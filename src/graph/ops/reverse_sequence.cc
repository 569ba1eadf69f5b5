// ReverseSequence (opset 10): for batch entry b, reverses the first sequence_lens[b] steps along
// time_axis (0 or 1; the other of the two is batch_axis); later steps are copied unchanged.
#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

Status ReverseSequenceCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* lt, ctx.RequireTensor(1));
  if (xin->rank() < 2) return ctx.Error("input must have rank >= 2");
  const int64_t ta = ctx.node().GetInt("time_axis", 0), ba = ctx.node().GetInt("batch_axis", 1);
  if (!((ta == 0 && ba == 1) || (ta == 1 && ba == 0))) {
    return ctx.Error("time_axis and batch_axis must be 0 and 1 in some order");
  }
  auto lens = ToInt64s(*lt);
  const int64_t nb = xin->shape()[static_cast<size_t>(ba)];
  const int64_t nt = xin->shape()[static_cast<size_t>(ta)];
  if (!lens.ok() || static_cast<int64_t>(lens->size()) != nb) {
    return ctx.Error("sequence_lens must be an int64 vector of the batch size " +
                     std::to_string(nb));
  }
  for (int64_t l : *lens) {
    if (l < 0 || l > nt) return ctx.Error("sequence length " + std::to_string(l) + " out of range");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, xin->dtype(), xin->shape()));
  if (out.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  int64_t inner = 1;
  for (int d = 2; d < x.rank(); ++d) inner *= x.shape()[d];
  const int64_t s0 = x.shape()[1] * inner;  // stride of axis 0; axis 1 has stride inner
  auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* src = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t len = (*lens)[static_cast<size_t>(b)];
      for (int64_t t = 0; t < nt; ++t) {
        const int64_t from_t = t < len ? len - 1 - t : t;
        auto off = [&](int64_t tt) { return ta == 0 ? tt * s0 + b * inner : b * s0 + tt * inner; };
        std::copy(src + off(from_t), src + off(from_t) + inner, o + off(t));
      }
    }
    return Status::OK();
  };
  if (x.dtype() == DType::kString) return run(std::string{});
  return DispatchBySize(x.dtype(), ctx, run);
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(reverse_sequence) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("ReverseSequence", ReverseSequenceCompute, 10);
}
