// CumSum (opsets 11, 14): running sums along one axis, with the exclusive and reverse flags.
// The axis comes from a scalar int32/int64 input. The tensor is viewed as [outer, len, inner]; a
// running row of `inner` sums advances along the axis (contiguous, vectorisable), and the outer
// blocks are split over the pool. 16-bit floats accumulate in float.
#include <algorithm>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

template <typename T>
void CumSumBlock(const T* x, T* y, int64_t len, int64_t inner, int64_t width, bool exclusive,
                 bool reverse, std::vector<CalcT<T>>* acc) {
  using C = CalcT<T>;
  acc->assign(static_cast<size_t>(width), C(0));
  C* a = acc->data();
  for (int64_t s = 0; s < len; ++s) {
    const int64_t p = reverse ? len - 1 - s : s;
    const T* xr = x + p * inner;
    T* yr = y + p * inner;
    if (exclusive) {
      for (int64_t i = 0; i < width; ++i) {
        yr[i] = T(a[i]);
        a[i] += static_cast<C>(xr[i]);
      }
    } else {
      for (int64_t i = 0; i < width; ++i) {
        a[i] += static_cast<C>(xr[i]);
        yr[i] = T(a[i]);
      }
    }
  }
}

Status CumSumCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* at, ctx.RequireTensor(1));
  auto ax = ToInt64s(*at);
  if (!ax.ok() || ax->size() != 1) return ctx.Error("axis must be a scalar int32/int64 tensor");
  const int rank = xin->rank();
  if (rank == 0) return ctx.Error("input must have rank >= 1");
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, (*ax)[0], rank));
  const bool exclusive = ctx.node().GetInt("exclusive", 0) != 0;
  const bool reverse = ctx.node().GetInt("reverse", 0) != 0;
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, xin->dtype(), xin->shape()));
  if (out.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.shape()[d];
  for (int d = axis + 1; d < rank; ++d) inner *= x.shape()[d];
  const int64_t len = x.shape()[axis];
  return DispatchNumeric(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x.raw_data());
    T* yp = static_cast<T*>(out.raw_data());
    // Tasks: (outer block, chunk of the inner run), so one big block still spreads out.
    const int64_t block = len * inner;
    const int64_t chunk = std::min<int64_t>(inner, 4096);
    const int64_t nchunks = (inner + chunk - 1) / chunk;
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(len * chunk, 1));
    ctx.pool().ParallelFor(outer * nchunks, grain, [&](int64_t b, int64_t e) {
      std::vector<CalcT<T>> acc;
      for (int64_t t = b; t < e; ++t) {
        const int64_t o = t / nchunks, i0 = (t % nchunks) * chunk;
        const int64_t w = std::min(chunk, inner - i0);
        CumSumBlock<T>(xp + o * block + i0, yp + o * block + i0, len, inner, w, exclusive, reverse,
                       &acc);
      }
    });
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(cumsum) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("CumSum", CumSumCompute, 11);
}
