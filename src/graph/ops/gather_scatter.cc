// Index-driven data movement: GatherElements, GatherND (batch_dims), ScatterElements (reduction
// none/add/mul/max/min), the deprecated Scatter, ScatterND (reduction). Every index is checked
// against its axis before any element moves (negative indices count from the end); a bad index is
// a Status naming its value, never an out-of-bounds access. Scatters apply updates in index
// order, so with duplicate indices the last update wins (reduction none) as in the reference.
#include <algorithm>
#include <string>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

// Reads an index tensor (int32/int64, any shape) and normalises each entry against `dim`.
Result<std::vector<int64_t>> CheckedIndices(const OpContext& ctx, const Tensor& t, int64_t dim) {
  auto r = ToInt64s(t);
  if (!r.ok()) return ctx.Error("indices: " + r.status().message());
  std::vector<int64_t> idx = std::move(r).value();
  for (int64_t& i : idx) {
    if (i < -dim || i >= dim) {
      return ctx.Error("index " + std::to_string(i) + " is out of range for an axis of size " +
                       std::to_string(dim));
    }
    if (i < 0) i += dim;
  }
  return idx;
}

// Calls fn(T{}) with a type of the element's size, or std::string for strings.
template <typename Fn>
Status DispatchMove(DType t, const OpContext& ctx, Fn&& fn) {
  if (t == DType::kString) return fn(std::string{});
  return DispatchBySize(t, ctx, fn);
}

// For every element of an index tensor of shape `ishape` (same rank as the data), the data
// offset it addresses: coordinates on the other axes plus idx * stride on `axis`.
std::vector<int64_t> ElementOffsets(const Shape& ishape, const std::vector<int64_t>& dstrides,
                                    int axis, const std::vector<int64_t>& idx) {
  std::vector<int64_t> off(idx.size());
  const int rank = static_cast<int>(ishape.size());
  std::vector<int64_t> c(static_cast<size_t>(rank), 0);
  int64_t base = 0;  // sum of c[d] * stride[d] over d != axis
  for (size_t e = 0; e < idx.size(); ++e) {
    off[e] = base + idx[e] * dstrides[static_cast<size_t>(axis)];
    for (int d = rank - 1; d >= 0; --d) {
      const size_t ds = static_cast<size_t>(d);
      if (++c[ds] < ishape[ds]) {
        if (d != axis) base += dstrides[ds];
        break;
      }
      if (d != axis) base -= dstrides[ds] * (ishape[ds] - 1);
      c[ds] = 0;
    }
  }
  return off;
}

// Checks ranks and dims for the *Elements ops and returns the normalised axis.
Result<int> ElementsAxis(const OpContext& ctx, const Tensor& data, const Tensor& ind) {
  const int rank = data.rank();
  if (rank == 0) return ctx.Error("data must have rank >= 1");
  if (ind.rank() != rank) {
    return ctx.Error("indices rank " + std::to_string(ind.rank()) + " differs from data rank " +
                     std::to_string(rank));
  }
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", 0), rank));
  for (int d = 0; d < rank; ++d) {
    if (d != axis && ind.shape()[d] > data.shape()[d]) {
      return ctx.Error("indices shape " + ShapeToString(ind.shape()) + " exceeds data shape " +
                       ShapeToString(data.shape()) + " off the axis");
    }
  }
  return axis;
}

Status GatherElementsCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* data, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(int axis, ElementsAxis(ctx, *data, *ind));
  MLOS_ASSIGN_OR_RETURN(auto idx, CheckedIndices(ctx, *ind, data->shape()[axis]));
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, data->dtype(), ind->shape()));
  if (out.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor src, data->Contiguous());
  std::vector<int64_t> off =
      ElementOffsets(ind->shape(), ContiguousStrides(data->shape()), axis, idx);
  return DispatchMove(data->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* s = static_cast<const T*>(src.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    ctx.pool().ParallelFor(static_cast<int64_t>(off.size()), 32768, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = s[off[static_cast<size_t>(i)]];
    });
    return Status::OK();
  });
}

enum class Red { kNone, kAdd, kMul, kMax, kMin };

Result<Red> ParseReduction(const OpContext& ctx) {
  const std::string r = ctx.node().GetString("reduction", "none");
  if (r == "none") return Red::kNone;
  if (r == "add") return Red::kAdd;
  if (r == "mul") return Red::kMul;
  if (r == "max") return Red::kMax;
  if (r == "min") return Red::kMin;
  return ctx.Error("unknown reduction '" + r + "'");
}

template <typename T>
void Combine(Red red, T* dst, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    switch (red) {
      case Red::kAdd:
      case Red::kMax:
        *dst = *dst || v;
        return;
      case Red::kMul:
      case Red::kMin:
        *dst = *dst && v;
        return;
      case Red::kNone:
        *dst = v;
        return;
    }
  } else {
    using C = CalcT<T>;
    switch (red) {
      case Red::kNone:
        *dst = v;
        return;
      case Red::kAdd:
        *dst = T(static_cast<C>(*dst) + static_cast<C>(v));
        return;
      case Red::kMul:
        *dst = T(static_cast<C>(*dst) * static_cast<C>(v));
        return;
      case Red::kMax:
        if (static_cast<C>(v) > static_cast<C>(*dst)) *dst = v;
        return;
      case Red::kMin:
        if (static_cast<C>(v) < static_cast<C>(*dst)) *dst = v;
        return;
    }
  }
}

// Copies `data` into output 0 and applies `n_slices` updates of `slice` contiguous elements each:
// update slice s goes to offset off[s].
Status ApplyScatter(OpContext& ctx, const Tensor& data, const Tensor& updates,
                    const std::vector<int64_t>& off, int64_t slice, Red red) {
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, data.dtype(), data.shape()));
  MLOS_RETURN_IF_ERROR(out.CopyFrom(data));
  if (off.empty() || slice == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor upd, updates.Contiguous());
  auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    T* o = static_cast<T*>(out.raw_data());
    const T* u = static_cast<const T*>(upd.raw_data());
    for (size_t s = 0; s < off.size(); ++s) {
      T* dst = o + off[s];
      const T* src = u + static_cast<int64_t>(s) * slice;
      if constexpr (std::is_same_v<T, std::string>) {
        std::copy(src, src + slice, dst);
      } else {
        for (int64_t j = 0; j < slice; ++j) Combine<T>(red, dst + j, src[j]);
      }
    }
    return Status::OK();
  };
  if (red == Red::kNone) return DispatchMove(data.dtype(), ctx, run);
  if (data.dtype() == DType::kBool) return run(bool{});
  return DispatchNumeric(data.dtype(), ctx, run);
}

Status ScatterElementsCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* data, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(const Tensor* upd, ctx.RequireTensor(2));
  MLOS_ASSIGN_OR_RETURN(int axis, ElementsAxis(ctx, *data, *ind));
  if (upd->shape() != ind->shape() || upd->dtype() != data->dtype()) {
    return ctx.Error("updates (" + std::string(DTypeName(upd->dtype())) + " " +
                     ShapeToString(upd->shape()) + ") must match indices' shape " +
                     ShapeToString(ind->shape()) + " and data's dtype");
  }
  Red red = Red::kNone;
  if (ctx.node().op_type != "Scatter") {
    MLOS_ASSIGN_OR_RETURN(red, ParseReduction(ctx));
  }
  MLOS_ASSIGN_OR_RETURN(auto idx, CheckedIndices(ctx, *ind, data->shape()[axis]));
  std::vector<int64_t> off =
      ElementOffsets(ind->shape(), ContiguousStrides(data->shape()), axis, idx);
  return ApplyScatter(ctx, *data, *upd, off, 1, red);
}

// Checks an ND index tensor against data dims [first, first + k) and returns, per index tuple,
// the element offset within one batch of `data` (strides from `dstrides`).
Result<std::vector<int64_t>> TupleOffsets(const OpContext& ctx, const Tensor& ind,
                                          const Shape& dshape, const std::vector<int64_t>& dstrides,
                                          int first, int64_t k) {
  auto r = ToInt64s(ind);
  if (!r.ok()) return ctx.Error("indices: " + r.status().message());
  const std::vector<int64_t>& idx = *r;
  const size_t n = k == 0 ? 0 : idx.size() / static_cast<size_t>(k);
  std::vector<int64_t> off(n, 0);
  for (size_t t = 0; t < n; ++t) {
    for (int64_t j = 0; j < k; ++j) {
      const size_t d = static_cast<size_t>(first + j);
      int64_t i = idx[t * static_cast<size_t>(k) + static_cast<size_t>(j)];
      if (i < -dshape[d] || i >= dshape[d]) {
        return ctx.Error("index " + std::to_string(i) + " is out of range for axis " +
                         std::to_string(d) + " of size " + std::to_string(dshape[d]));
      }
      if (i < 0) i += dshape[d];
      off[t] += i * dstrides[d];
    }
  }
  return off;
}

Status GatherNDCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* data, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequireTensor(1));
  const int64_t b = ctx.node().GetInt("batch_dims", 0);
  const int r = data->rank(), q = ind->rank();
  if (q < 1 || b < 0 || b >= std::min(r, q)) {
    return ctx.Error("batch_dims " + std::to_string(b) + " invalid for data rank " +
                     std::to_string(r) + " and indices rank " + std::to_string(q));
  }
  const int64_t k = ind->shape().back();
  if (k < 1 || k > r - b) {
    return ctx.Error("indices' last dimension " + std::to_string(k) + " must be in [1, " +
                     std::to_string(r - b) + "]");
  }
  for (int d = 0; d < b; ++d) {
    if (data->shape()[d] != ind->shape()[d]) {
      return ctx.Error("batch dims of data " + ShapeToString(data->shape()) + " and indices " +
                       ShapeToString(ind->shape()) + " differ");
    }
  }
  Shape oshape(ind->shape().begin(), ind->shape().end() - 1);
  for (int d = static_cast<int>(b + k); d < r; ++d) oshape.push_back(data->shape()[d]);
  const std::vector<int64_t> dstrides = ContiguousStrides(data->shape());
  MLOS_ASSIGN_OR_RETURN(auto off,
                        TupleOffsets(ctx, *ind, data->shape(), dstrides, static_cast<int>(b), k));
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, data->dtype(), oshape));
  if (out.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor src, data->Contiguous());
  int64_t batches = 1;
  for (int d = 0; d < b; ++d) batches *= data->shape()[d];
  const int64_t per_batch_tuples = static_cast<int64_t>(off.size()) / batches;
  const int64_t batch_stride = b > 0 ? dstrides[static_cast<size_t>(b - 1)] : 0;
  const int64_t slice = k == r - b ? 1 : dstrides[static_cast<size_t>(b + k - 1)];
  return DispatchMove(data->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* s = static_cast<const T*>(src.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    ctx.pool().ParallelFor(static_cast<int64_t>(off.size()), std::max<int64_t>(1, 16384 / slice),
                           [&](int64_t lo, int64_t hi) {
                             for (int64_t t = lo; t < hi; ++t) {
                               const T* from = s + (t / per_batch_tuples) * batch_stride +
                                               off[static_cast<size_t>(t)];
                               std::copy(from, from + slice, o + t * slice);
                             }
                           });
    return Status::OK();
  });
}

Status ScatterNDCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* data, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(const Tensor* upd, ctx.RequireTensor(2));
  const int r = data->rank(), q = ind->rank();
  if (q < 1 || r < 1) return ctx.Error("data and indices must have rank >= 1");
  const int64_t k = ind->shape().back();
  if (k < 1 || k > r) {
    return ctx.Error("indices' last dimension " + std::to_string(k) + " must be in [1, " +
                     std::to_string(r) + "]");
  }
  Shape ushape(ind->shape().begin(), ind->shape().end() - 1);
  for (int d = static_cast<int>(k); d < r; ++d) ushape.push_back(data->shape()[d]);
  if (upd->shape() != ushape || upd->dtype() != data->dtype()) {
    return ctx.Error("updates " + ShapeToString(upd->shape()) + " must have shape " +
                     ShapeToString(ushape) + " and data's dtype");
  }
  MLOS_ASSIGN_OR_RETURN(Red red, ParseReduction(ctx));
  const std::vector<int64_t> dstrides = ContiguousStrides(data->shape());
  MLOS_ASSIGN_OR_RETURN(auto off, TupleOffsets(ctx, *ind, data->shape(), dstrides, 0, k));
  const int64_t slice = k == r ? 1 : dstrides[static_cast<size_t>(k - 1)];
  return ApplyScatter(ctx, *data, *upd, off, slice, red);
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(gather_scatter) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("GatherElements", GatherElementsCompute, 11);
  r.Add("ScatterElements", ScatterElementsCompute, 11);
  r.Add("Scatter", ScatterElementsCompute, 9);
  r.Add("GatherND", GatherNDCompute, 11);
  r.Add("ScatterND", ScatterNDCompute, 11);
}
