// Data-dependent selection: Compress, NonZero, TopK (largest/smallest, ties by lower index),
// Unique (sorted or first-occurrence order, flattened or along an axis, all four outputs).
// Output sizes depend on values, so outputs are allocated after the selection is known.
#include <algorithm>
#include <numeric>
#include <string>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

// Calls fn(T{}) for numeric dtypes, bool and string.
template <typename Fn>
Status DispatchAll(DType t, const OpContext& ctx, Fn&& fn) {
  if (t == DType::kString) return fn(std::string{});
  if (t == DType::kBool) return fn(bool{});
  return DispatchNumeric(t, ctx, fn);
}

// The tensor viewed as [outer, dim, inner] around `axis` (contiguous copy if needed).
struct Split3 {
  Tensor t;
  int64_t outer = 1, dim = 1, inner = 1;
};

Result<Split3> SplitAround(const Tensor& x, int axis) {
  Split3 s;
  MLOS_ASSIGN_OR_RETURN(s.t, x.Contiguous());
  for (int d = 0; d < axis; ++d) s.outer *= x.shape()[d];
  s.dim = x.shape()[axis];
  for (int d = axis + 1; d < x.rank(); ++d) s.inner *= x.shape()[d];
  return s;
}

Status CompressCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* cond, ctx.RequireTensor(1));
  if (cond->rank() != 1) return ctx.Error("condition must be 1-D");
  Tensor xin = *x;
  int axis = 0;
  if (ctx.node().attr("axis")) {
    if (x->rank() == 0) return ctx.Error("input must have rank >= 1 with an axis");
    MLOS_ASSIGN_OR_RETURN(axis, Axis(ctx, ctx.node().GetInt("axis", 0), x->rank()));
  } else {
    MLOS_ASSIGN_OR_RETURN(Tensor c, x->Contiguous());
    MLOS_ASSIGN_OR_RETURN(xin, c.Reshape({x->numel()}));
  }
  MLOS_ASSIGN_OR_RETURN(Split3 s, SplitAround(xin, axis));
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < cond->numel(); ++i) {
    if (cond->GetAsDouble(i) == 0.0) continue;
    if (i >= s.dim) {
      return ctx.Error("condition selects index " + std::to_string(i) + " beyond the axis size " +
                       std::to_string(s.dim));
    }
    keep.push_back(i);
  }
  Shape oshape = xin.shape();
  oshape[static_cast<size_t>(axis)] = static_cast<int64_t>(keep.size());
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x->dtype(), oshape));
  if (out.numel() == 0) return Status::OK();
  return DispatchAll(x->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* src = static_cast<const T*>(s.t.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    for (int64_t a = 0; a < s.outer; ++a) {
      for (int64_t k : keep) {
        const T* from = src + (a * s.dim + k) * s.inner;
        o = std::copy(from, from + s.inner, o);
      }
    }
    return Status::OK();
  });
}

Status NonZeroCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  if (x->dtype() == DType::kString) return ctx.Error("string input is not supported");
  const int rank = x->rank();
  std::vector<int64_t> hits;
  for (int64_t i = 0; i < x->numel(); ++i) {
    if (x->GetAsDouble(i) != 0.0) hits.push_back(i);
  }
  const int64_t n = static_cast<int64_t>(hits.size());
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, DType::kInt64, {std::max(rank, 1), n}));
  int64_t* o = static_cast<int64_t*>(out.raw_data());
  if (rank == 0) {
    std::fill(o, o + n, 0);
    return Status::OK();
  }
  for (int64_t h = 0; h < n; ++h) {
    int64_t rem = hits[static_cast<size_t>(h)];
    for (int d = rank - 1; d >= 0; --d) {
      o[d * n + h] = rem % x->shape()[d];
      rem /= x->shape()[d];
    }
  }
  return Status::OK();
}

Status TopKCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  if (x->rank() == 0) return ctx.Error("input must have rank >= 1");
  int64_t k;
  if (ctx.opset() < 10) {
    k = ctx.node().GetInt("k", -1);
  } else {
    MLOS_ASSIGN_OR_RETURN(const Tensor* kt, ctx.RequireTensor(1));
    auto r = ToInt64s(*kt);
    if (!r.ok() || r->size() != 1) return ctx.Error("K must be a one-element int64 tensor");
    k = (*r)[0];
  }
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", -1), x->rank()));
  const bool largest = ctx.node().GetInt("largest", 1) != 0;
  if (k < 0 || k > x->shape()[axis]) {
    return ctx.Error("K = " + std::to_string(k) + " out of range for axis size " +
                     std::to_string(x->shape()[axis]));
  }
  MLOS_ASSIGN_OR_RETURN(Split3 s, SplitAround(*x, axis));
  Shape oshape = x->shape();
  oshape[static_cast<size_t>(axis)] = k;
  MLOS_ASSIGN_OR_RETURN(Tensor vals, ctx.Output(0, x->dtype(), oshape));
  MLOS_ASSIGN_OR_RETURN(Tensor inds, ctx.Output(1, DType::kInt64, oshape));
  if (vals.numel() == 0) return Status::OK();
  return DispatchNumeric(x->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    const T* src = static_cast<const T*>(s.t.raw_data());
    T* vo = static_cast<T*>(vals.raw_data());
    int64_t* io = static_cast<int64_t*>(inds.raw_data());
    ctx.pool().ParallelFor(
        s.outer * s.inner, std::max<int64_t>(1, 4096 / s.dim), [&](int64_t b, int64_t e) {
          std::vector<int64_t> idx(static_cast<size_t>(s.dim));
          for (int64_t t = b; t < e; ++t) {
            const int64_t a = t / s.inner, i = t % s.inner;
            const T* row = src + a * s.dim * s.inner + i;
            auto val = [&](int64_t j) { return static_cast<C>(row[j * s.inner]); };
            std::iota(idx.begin(), idx.end(), 0);
            auto cmp = [&](int64_t p, int64_t q) {
              const C vp = val(p), vq = val(q);
              if (vp != vq) return largest ? vp > vq : vp < vq;
              return p < q;
            };
            std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), cmp);
            for (int64_t j = 0; j < k; ++j) {
              const int64_t off = (a * k + j) * s.inner + i;
              vo[off] = row[idx[static_cast<size_t>(j)] * s.inner];
              io[off] = idx[static_cast<size_t>(j)];
            }
          }
        });
    return Status::OK();
  });
}

template <typename T>
bool ElemLess(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) {
    return a < b;
  } else {
    return static_cast<CalcT<T>>(a) < static_cast<CalcT<T>>(b);
  }
}

Status UniqueCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  const bool sorted = ctx.node().GetInt("sorted", 1) != 0;
  const bool has_axis = ctx.node().attr("axis") != nullptr;
  Tensor xin = *x;
  int axis = 0;
  if (has_axis) {
    if (x->rank() == 0) return ctx.Error("input must have rank >= 1 with an axis");
    MLOS_ASSIGN_OR_RETURN(axis, Axis(ctx, ctx.node().GetInt("axis", 0), x->rank()));
  } else {
    MLOS_ASSIGN_OR_RETURN(Tensor c, x->Contiguous());
    MLOS_ASSIGN_OR_RETURN(xin, c.Reshape({x->numel()}));
  }
  MLOS_ASSIGN_OR_RETURN(Split3 s, SplitAround(xin, axis));
  return DispatchAll(x->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* src = static_cast<const T*>(s.t.raw_data());
    // Slice j = elements (a, j, i) for all a, i; compared lexicographically in (a, i) order.
    auto at = [&](int64_t j, int64_t e) -> const T& {
      return src[((e / s.inner) * s.dim + j) * s.inner + e % s.inner];
    };
    const int64_t len = s.outer * s.inner;
    auto less = [&](int64_t p, int64_t q) {
      for (int64_t e = 0; e < len; ++e) {
        const T& a = at(p, e);
        const T& b = at(q, e);
        if (ElemLess<T>(a, b)) return true;
        if (ElemLess<T>(b, a)) return false;
      }
      return false;
    };
    std::vector<int64_t> order(static_cast<size_t>(s.dim));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), less);
    // Groups of equal slices, in sorted order: first occurrence and count.
    std::vector<int64_t> first, count, group_of(static_cast<size_t>(s.dim));
    for (size_t i = 0; i < order.size(); ++i) {
      if (i == 0 || less(order[i - 1], order[i])) {
        first.push_back(order[i]);
        count.push_back(0);
      }
      ++count.back();
      group_of[static_cast<size_t>(order[i])] = static_cast<int64_t>(first.size()) - 1;
    }
    const int64_t ng = static_cast<int64_t>(first.size());
    std::vector<int64_t> pos(static_cast<size_t>(ng));  // output position of each group
    std::iota(pos.begin(), pos.end(), 0);
    if (!sorted) {
      std::vector<int64_t> g(static_cast<size_t>(ng));
      std::iota(g.begin(), g.end(), 0);
      std::sort(g.begin(), g.end(), [&](int64_t a, int64_t b) { return first[a] < first[b]; });
      for (int64_t i = 0; i < ng; ++i) pos[static_cast<size_t>(g[i])] = i;
    }
    std::vector<int64_t> out_first(static_cast<size_t>(ng)), out_count(static_cast<size_t>(ng));
    for (int64_t gi = 0; gi < ng; ++gi) {
      out_first[static_cast<size_t>(pos[gi])] = first[static_cast<size_t>(gi)];
      out_count[static_cast<size_t>(pos[gi])] = count[static_cast<size_t>(gi)];
    }
    Shape yshape = xin.shape();
    yshape[static_cast<size_t>(axis)] = ng;
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x->dtype(), yshape));
    T* yo = static_cast<T*>(y.raw_data());
    for (int64_t a = 0; a < s.outer; ++a) {
      for (int64_t j = 0; j < ng; ++j) {
        const T* from = src + (a * s.dim + out_first[static_cast<size_t>(j)]) * s.inner;
        std::copy(from, from + s.inner, yo + (a * ng + j) * s.inner);
      }
    }
    auto put = [&](int i, const std::vector<int64_t>& v) -> Status {
      if (!ctx.has_output(i)) return Status::OK();
      MLOS_ASSIGN_OR_RETURN(Tensor t,
                            ctx.Output(i, DType::kInt64, {static_cast<int64_t>(v.size())}));
      std::copy(v.begin(), v.end(), static_cast<int64_t*>(t.raw_data()));
      return Status::OK();
    };
    std::vector<int64_t> inverse(static_cast<size_t>(s.dim));
    for (int64_t j = 0; j < s.dim; ++j) {
      inverse[static_cast<size_t>(j)] = pos[static_cast<size_t>(group_of[static_cast<size_t>(j)])];
    }
    MLOS_RETURN_IF_ERROR(put(1, out_first));
    MLOS_RETURN_IF_ERROR(put(2, inverse));
    return put(3, out_count);
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(select_ops) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Compress", CompressCompute, 9);
  r.Add("NonZero", NonZeroCompute, 9);
  r.Add("TopK", TopKCompute, 1);
  r.Add("Unique", UniqueCompute, 11);
}
