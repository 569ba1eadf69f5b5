// Reductions (ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare) over any axes, and
// ArgMax/ArgMin. Axes come from the attribute (old opsets) or input 1 (ReduceSum >= 13, the
// others >= 18); noop_with_empty_axes is honoured.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

enum class Red { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

template <Red op>
Status ReduceCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  const int rank = x.rank();
  const bool keep = ctx.node().GetInt("keepdims", 1) != 0;
  std::vector<int64_t> axes;
  bool from_input = (op == Red::kSum && ctx.opset() >= 13) || ctx.opset() >= 18;
  if (from_input) {
    if (ctx.has_input(1)) {
      auto r = ToInt64s(ctx.input(1));
      if (!r.ok()) return ctx.Error(r.status().message());
      axes = *r;
    }
  } else {
    axes = ctx.node().GetInts("axes");
  }
  if (axes.empty() && ctx.node().GetInt("noop_with_empty_axes", 0) != 0) {
    return CopyToOutput(ctx, 0, x, x.shape());
  }
  std::vector<bool> red(static_cast<size_t>(rank), axes.empty());
  for (int64_t a : axes) {
    MLOS_ASSIGN_OR_RETURN(int ax, Axis(ctx, a, rank));
    red[ax] = true;
  }
  Shape out_shape, kept_shape;
  for (int d = 0; d < rank; ++d) {
    kept_shape.push_back(red[d] ? 1 : x.shape()[d]);
    if (!red[d])
      out_shape.push_back(x.shape()[d]);
    else if (keep)
      out_shape.push_back(1);
  }
  // Permute reduced axes last: out element o covers a contiguous run after the permutation.
  std::vector<int64_t> perm;
  for (int d = 0; d < rank; ++d)
    if (!red[d]) perm.push_back(d);
  for (int d = 0; d < rank; ++d)
    if (red[d]) perm.push_back(d);
  MLOS_ASSIGN_OR_RETURN(Tensor pv, x.Permute(perm));
  MLOS_ASSIGN_OR_RETURN(Tensor pc, pv.Contiguous());
  int64_t outer = 1, n = 1;
  for (int d = 0; d < rank; ++d) {
    if (red[d])
      n *= x.shape()[d];
    else
      outer *= x.shape()[d];
  }
  return DispatchNumeric(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    using Acc = std::conditional_t<std::is_floating_point_v<C>, double, C>;
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x.dtype(), out_shape));
    const T* px = static_cast<const T*>(pc.raw_data());
    T* py = static_cast<T*>(y.raw_data());
    ctx.pool().ParallelFor(
        outer, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
          for (int64_t o = b; o < e; ++o) {
            const T* xr = px + o * n;
            Acc acc;
            if constexpr (op == Red::kMax)
              acc = n > 0 ? static_cast<Acc>(static_cast<C>(xr[0]))
                          : static_cast<Acc>(std::numeric_limits<C>::lowest());
            else if constexpr (op == Red::kMin)
              acc = n > 0 ? static_cast<Acc>(static_cast<C>(xr[0]))
                          : static_cast<Acc>(std::numeric_limits<C>::max());
            else if constexpr (op == Red::kProd)
              acc = Acc(1);
            else
              acc = Acc(0);
            Acc mx = Acc(0);
            if constexpr (op == Red::kLogSumExp) {
              mx = n > 0 ? static_cast<Acc>(static_cast<C>(xr[0])) : Acc(0);
              for (int64_t i = 1; i < n; ++i)
                mx = std::max(mx, static_cast<Acc>(static_cast<C>(xr[i])));
              if constexpr (std::is_floating_point_v<Acc>) {
                if (std::isinf(mx)) mx = Acc(0);
              }
            }
            for (int64_t i = 0; i < n; ++i) {
              Acc v = static_cast<Acc>(static_cast<C>(xr[i]));
              if constexpr (op == Red::kSum || op == Red::kMean || op == Red::kLogSum)
                acc += v;
              else if constexpr (op == Red::kMax)
                acc = (v > acc || (std::is_floating_point_v<Acc> && v != v)) ? v : acc;
              else if constexpr (op == Red::kMin)
                acc = (v < acc || (std::is_floating_point_v<Acc> && v != v)) ? v : acc;
              else if constexpr (op == Red::kProd)
                acc *= v;
              else if constexpr (op == Red::kL1)
                acc += v < Acc(0) ? static_cast<Acc>(-v) : v;
              else if constexpr (op == Red::kL2 || op == Red::kSumSquare)
                acc += v * v;
              else if constexpr (op == Red::kLogSumExp)
                acc += static_cast<Acc>(std::exp(static_cast<double>(v - mx)));
            }
            double r = static_cast<double>(acc);
            if constexpr (op == Red::kMean)
              r = n > 0 ? r / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
            if constexpr (op == Red::kL2) r = std::sqrt(r);
            if constexpr (op == Red::kLogSum) r = std::log(r);
            if constexpr (op == Red::kLogSumExp) r = std::log(r) + static_cast<double>(mx);
            if constexpr (std::is_integral_v<C>) {
              if constexpr (op == Red::kMean)
                py[o] = static_cast<T>(static_cast<Acc>(acc) /
                                       static_cast<Acc>(std::max<int64_t>(n, 1)));
              else if constexpr (op == Red::kL2 || op == Red::kLogSum || op == Red::kLogSumExp)
                py[o] = static_cast<T>(r);
              else
                py[o] = static_cast<T>(acc);
            } else {
              py[o] = T(static_cast<C>(r));
            }
          }
        });
    return Status::OK();
  });
}

template <bool kMax>
Status ArgCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  const int rank = x.rank();
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", 0), rank));
  const bool keep = ctx.node().GetInt("keepdims", 1) != 0;
  const bool last = ctx.node().GetInt("select_last_index", 0) != 0;
  int64_t outer = 1, n = x.shape()[axis], inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.shape()[d];
  for (int d = axis + 1; d < rank; ++d) inner *= x.shape()[d];
  Shape out_shape;
  for (int d = 0; d < rank; ++d) {
    if (d != axis)
      out_shape.push_back(x.shape()[d]);
    else if (keep)
      out_shape.push_back(1);
  }
  return DispatchNumeric(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, DType::kInt64, out_shape));
    const T* px = static_cast<const T*>(x.raw_data());
    int64_t* py = static_cast<int64_t*>(y.raw_data());
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t in = 0; in < inner; ++in) {
        int64_t best = 0;
        C bv = static_cast<C>(px[o * n * inner + in]);
        for (int64_t i = 1; i < n; ++i) {
          C v = static_cast<C>(px[(o * n + i) * inner + in]);
          bool better = kMax ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
          if (better) {
            bv = v;
            best = i;
          }
        }
        py[o * inner + in] = best;
      }
    }
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(reduce) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("ReduceSum", ReduceCompute<Red::kSum>);
  r.Add("ReduceMean", ReduceCompute<Red::kMean>);
  r.Add("ReduceMax", ReduceCompute<Red::kMax>);
  r.Add("ReduceMin", ReduceCompute<Red::kMin>);
  r.Add("ReduceProd", ReduceCompute<Red::kProd>);
  r.Add("ReduceL1", ReduceCompute<Red::kL1>);
  r.Add("ReduceL2", ReduceCompute<Red::kL2>);
  r.Add("ReduceLogSum", ReduceCompute<Red::kLogSum>);
  r.Add("ReduceLogSumExp", ReduceCompute<Red::kLogSumExp>);
  r.Add("ReduceSumSquare", ReduceCompute<Red::kSumSquare>);
  r.Add("ArgMax", ArgCompute<true>);
  r.Add("ArgMin", ArgCompute<false>);
}
