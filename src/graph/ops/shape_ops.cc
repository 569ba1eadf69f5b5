// Shape and data-movement operators: Identity, Constant, Shape, Size, Reshape, Flatten, Squeeze,
// Unsqueeze, Transpose, Concat, Split, Slice, Gather, Expand, Tile, ConstantOfShape, Range, Cast,
// CastLike. Views are returned where the layout allows (Reshape and friends never copy).
#include <algorithm>
#include <limits>

#include "graph/ops/op_util.h"
#include "kernels/cpu/nn.h"

namespace mlos::graph::ops {
namespace {

Status IdentityCompute(OpContext& ctx) {
  const Value* v = ctx.input_value(0);
  if (!v) return ctx.Error("input 0 is missing");
  ctx.SetOutputValue(0, *v);
  return Status::OK();
}

Status ConstantCompute(OpContext& ctx) {
  const Node& n = ctx.node();
  for (const auto& [key, a] : n.attrs) {
    if (key == "value") {
      ctx.SetOutput(0, a.t);
      return Status::OK();
    }
    if (key == "value_float") {
      ctx.SetOutput(0, Tensor::Scalar<float>(a.f));
      return Status::OK();
    }
    if (key == "value_int") {
      ctx.SetOutput(0, Tensor::Scalar<int64_t>(a.i));
      return Status::OK();
    }
    if (key == "value_floats") {
      MLOS_ASSIGN_OR_RETURN(
          Tensor t, Tensor::FromVector<float>({static_cast<int64_t>(a.floats.size())}, a.floats));
      ctx.SetOutput(0, t);
      return Status::OK();
    }
    if (key == "value_ints") {
      MLOS_ASSIGN_OR_RETURN(
          Tensor t, Tensor::FromVector<int64_t>({static_cast<int64_t>(a.ints.size())}, a.ints));
      ctx.SetOutput(0, t);
      return Status::OK();
    }
    if (key == "value_string") {
      ctx.SetOutput(0, Tensor::Scalar<std::string>(a.s));
      return Status::OK();
    }
    if (key == "value_strings") {
      MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::FromVector<std::string>(
                                          {static_cast<int64_t>(a.strings.size())}, a.strings));
      ctx.SetOutput(0, t);
      return Status::OK();
    }
  }
  return ctx.Error("no supported value attribute");
}

Status ShapeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  int64_t rank = x->rank();
  int64_t start = ctx.node().GetInt("start", 0), end = ctx.node().GetInt("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(x->shape()[i]);
  MLOS_ASSIGN_OR_RETURN(Tensor t,
                        Tensor::FromVector<int64_t>({static_cast<int64_t>(dims.size())}, dims));
  ctx.SetOutput(0, t);
  return Status::OK();
}

Status SizeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  ctx.SetOutput(0, Tensor::Scalar<int64_t>(x->numel()));
  return Status::OK();
}

// Set by the attention fusion on the Slice and Reshape nodes that feed only an mlos::Attention
// (which reads any strides): their outputs may then be strided views instead of copies.
constexpr char kStridedOutputAttr[] = "mlos_strided_output";

bool StridedOutputAllowed(const OpContext& ctx) {
  return ctx.node().GetInt(kStridedOutputAttr, 0) != 0;
}

// Strides under which the strided tensor (shape, strides) reads as `target` in row-major order
// without a copy, or false when no such strides exist. Both shapes hold the same positive number
// of elements. The source dims are walked from the innermost out in runs that are contiguous with
// each other ("chunks"); each chunk must be exactly covered by consecutive target dims, which then
// step through it at multiples of the chunk's innermost stride.
bool ViewStrides(const Shape& shape, const std::vector<int64_t>& strides, const Shape& target,
                 std::vector<int64_t>* out) {
  out->assign(target.size(), 0);
  int64_t td = static_cast<int64_t>(target.size()) - 1;
  int64_t chunk_stride = strides.empty() ? 1 : strides.back();
  int64_t chunk_elems = 1, covered = 1;
  for (int64_t sd = static_cast<int64_t>(shape.size()) - 1; sd >= 0; --sd) {
    chunk_elems *= shape[sd];
    const bool chunk_ends =
        sd == 0 || (shape[sd - 1] != 1 && strides[sd - 1] != chunk_elems * chunk_stride);
    if (!chunk_ends) continue;
    while (td >= 0 && (covered < chunk_elems || target[td] == 1)) {
      (*out)[td] = covered * chunk_stride;
      covered *= target[td];
      --td;
    }
    if (covered != chunk_elems) return false;
    if (sd > 0) {
      chunk_stride = strides[sd - 1];
      chunk_elems = 1;
      covered = 1;
    }
  }
  return td < 0;
}

// A view when possible, else a contiguous copy into the output.
Status ReshapeTo(OpContext& ctx, const Tensor& x, Shape shape) {
  MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  if (n != x.numel()) {
    return ctx.Error("cannot reshape " + ShapeToString(x.shape()) + " to " + ShapeToString(shape));
  }
  if (x.is_contiguous()) {
    MLOS_ASSIGN_OR_RETURN(Tensor v, x.Reshape(shape));
    ctx.SetOutput(0, v);
    return Status::OK();
  }
  std::vector<int64_t> strides;
  if (n > 0 && StridedOutputAllowed(ctx) && ViewStrides(x.shape(), x.strides(), shape, &strides)) {
    auto v = Tensor::FromStorage(x.storage(), x.dtype(), shape, std::move(strides), x.offset());
    if (!v.ok()) return ctx.Error(v.status().message());
    ctx.SetOutput(0, *v);
    return Status::OK();
  }
  return CopyToOutput(ctx, 0, x, shape);
}

Status ReshapeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  std::vector<int64_t> spec;
  if (ctx.opset() < 5) {
    spec = ctx.node().GetInts("shape");
  } else {
    MLOS_ASSIGN_OR_RETURN(const Tensor* s, ctx.RequireTensor(1));
    auto r = ToInt64s(*s);
    if (!r.ok()) return ctx.Error(r.status().message());
    spec = *r;
  }
  bool allowzero = ctx.node().GetInt("allowzero", 0) != 0;
  Shape shape(spec.size());
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allowzero) {
      if (i >= static_cast<size_t>(x->rank())) return ctx.Error("0 in shape beyond input rank");
      d = x->shape()[i];
    }
    if (d == -1) {
      if (infer >= 0) return ctx.Error("more than one -1 in shape");
      infer = static_cast<int>(i);
      shape[i] = 1;
      continue;
    }
    if (d < 0) return ctx.Error("negative dimension in shape");
    shape[i] = d;
    if (d != 0 && known > std::numeric_limits<int64_t>::max() / d)
      return ctx.Error("shape overflow");
    known *= d;
  }
  if (infer >= 0) {
    if (known == 0 || x->numel() % known != 0) {
      return ctx.Error("cannot infer -1 reshaping " + ShapeToString(x->shape()));
    }
    shape[infer] = x->numel() / known;
  }
  return ReshapeTo(ctx, *x, shape);
}

Status FlattenCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  int rank = x->rank();
  int64_t axis = ctx.node().GetInt("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) return ctx.Error("axis out of range");
  int64_t outer = 1;
  for (int i = 0; i < axis; ++i) outer *= x->shape()[i];
  int64_t inner = 1;
  for (int i = static_cast<int>(axis); i < rank; ++i) inner *= x->shape()[i];
  return ReshapeTo(ctx, *x, {outer, inner});
}

Result<std::vector<int64_t>> AxesFrom(OpContext& ctx, int input_index, int since_input) {
  if (ctx.opset() >= since_input) {
    if (!ctx.has_input(input_index)) return std::vector<int64_t>{};
    auto r = ToInt64s(ctx.input(input_index));
    if (!r.ok()) return ctx.Error(r.status().message());
    return *r;
  }
  return ctx.node().GetInts("axes");
}

Status SqueezeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(auto axes, AxesFrom(ctx, 1, 13));
  int rank = x->rank();
  std::vector<bool> drop(static_cast<size_t>(rank), false);
  if (axes.empty()) {
    for (int i = 0; i < rank; ++i) drop[i] = x->shape()[i] == 1;
  }
  for (int64_t a : axes) {
    MLOS_ASSIGN_OR_RETURN(int ax, Axis(ctx, a, rank));
    if (x->shape()[ax] != 1) return ctx.Error("cannot squeeze a dimension that is not 1");
    drop[ax] = true;
  }
  Shape shape;
  for (int i = 0; i < rank; ++i) {
    if (!drop[i]) shape.push_back(x->shape()[i]);
  }
  return ReshapeTo(ctx, *x, shape);
}

Status UnsqueezeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(auto axes, AxesFrom(ctx, 1, 13));
  int out_rank = x->rank() + static_cast<int>(axes.size());
  std::vector<bool> ins(static_cast<size_t>(out_rank), false);
  for (int64_t a : axes) {
    MLOS_ASSIGN_OR_RETURN(int ax, Axis(ctx, a, out_rank));
    if (ins[ax]) return ctx.Error("duplicate axis");
    ins[ax] = true;
  }
  Shape shape;
  int src = 0;
  for (int i = 0; i < out_rank; ++i) shape.push_back(ins[i] ? 1 : x->shape()[src++]);
  return ReshapeTo(ctx, *x, shape);
}

Status TransposeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  int rank = x->rank();
  std::vector<int64_t> perm = ctx.node().GetInts("perm");
  if (perm.empty()) {
    for (int i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  if (static_cast<int>(perm.size()) != rank) return ctx.Error("perm length differs from rank");
  auto view = x->Permute(perm);
  if (!view.ok()) return ctx.Error(view.status().message());
  if (x->is_contiguous() && view->is_contiguous()) {
    // Only size-1 dims move (torch's [1, T, D] <-> [T, 1, D] around attention): the same
    // bytes in the same order, so a view as Reshape gives, not a copy.
    MLOS_ASSIGN_OR_RETURN(Tensor v, x->Reshape(view->shape()));
    ctx.SetOutput(0, v);
    return Status::OK();
  }
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x->dtype(), view->shape()));
  if (kernels::Transpose(*x, perm, out, ctx.pool()).ok()) return Status::OK();
  return out.CopyFrom(*view);
}

Status ConcatCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* first, ctx.RequireTensor(0));
  int rank = first->rank();
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", 0), rank));
  Shape shape = first->shape();
  shape[axis] = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    MLOS_ASSIGN_OR_RETURN(const Tensor* t, ctx.RequireTensor(i));
    if (t->rank() != rank || t->dtype() != first->dtype())
      return ctx.Error("inputs differ in rank or dtype");
    for (int d = 0; d < rank; ++d) {
      if (d != axis && t->shape()[d] != first->shape()[d]) {
        return ctx.Error("input shapes " + ShapeToString(first->shape()) + " and " +
                         ShapeToString(t->shape()) + " differ off the axis");
      }
    }
    shape[axis] += t->shape()[axis];
  }
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, first->dtype(), shape));
  int64_t pos = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(i);
    int64_t len = t.shape()[axis];
    if (len == 0) continue;
    MLOS_ASSIGN_OR_RETURN(Tensor dst, out.Slice(axis, pos, pos + len));
    MLOS_RETURN_IF_ERROR(dst.CopyFrom(t));
    pos += len;
  }
  return Status::OK();
}

Status SplitCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  int rank = x->rank();
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", 0), rank));
  std::vector<int64_t> split;
  if (ctx.opset() >= 13 && ctx.has_input(1)) {
    auto r = ToInt64s(ctx.input(1));
    if (!r.ok()) return ctx.Error(r.status().message());
    split = *r;
  } else if (ctx.opset() < 13) {
    split = ctx.node().GetInts("split");
  }
  int n = ctx.num_outputs();
  int64_t dim = x->shape()[axis];
  if (split.empty()) {
    int64_t parts = ctx.node().GetInt("num_outputs", n);
    int64_t chunk = (dim + parts - 1) / std::max<int64_t>(parts, 1);
    for (int i = 0; i < n; ++i)
      split.push_back(std::max<int64_t>(0, std::min(chunk, dim - chunk * i)));
  }
  if (static_cast<int>(split.size()) != n) return ctx.Error("split count differs from outputs");
  int64_t pos = 0;
  for (int i = 0; i < n; ++i) {
    if (split[i] < 0 || pos + split[i] > dim) return ctx.Error("split sizes exceed the axis");
    MLOS_ASSIGN_OR_RETURN(Tensor part, x->Slice(axis, pos, pos + split[i]));
    pos += split[i];
    if (!ctx.has_output(i)) continue;
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(i, x->dtype(), part.shape()));
    MLOS_RETURN_IF_ERROR(out.CopyFrom(part));
  }
  return Status::OK();
}

Status SliceCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  int rank = x->rank();
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.node().GetInts("starts");
    ends = ctx.node().GetInts("ends");
    axes = ctx.node().GetInts("axes");
  } else {
    auto get = [&](int i, std::vector<int64_t>* out) -> Status {
      if (!ctx.has_input(i)) return Status::OK();
      auto r = ToInt64s(ctx.input(i));
      if (!r.ok()) return ctx.Error(r.status().message());
      *out = *r;
      return Status::OK();
    };
    MLOS_RETURN_IF_ERROR(get(1, &starts));
    MLOS_RETURN_IF_ERROR(get(2, &ends));
    MLOS_RETURN_IF_ERROR(get(3, &axes));
    MLOS_RETURN_IF_ERROR(get(4, &steps));
  }
  if (axes.empty()) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    return ctx.Error("starts/ends/axes/steps lengths differ");
  }
  // Build the view by hand: offset and strides per axis (negative steps allowed).
  std::vector<int64_t> st(x->strides());
  Shape shape = x->shape();
  int64_t offset = x->offset();
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (size_t i = 0; i < starts.size(); ++i) {
    MLOS_ASSIGN_OR_RETURN(int ax, Axis(ctx, axes[i], rank));
    if (seen[ax]) return ctx.Error("repeated axis");
    seen[ax] = true;
    int64_t dim = x->shape()[ax], step = steps[i];
    if (step == 0) return ctx.Error("step 0");
    int64_t s = starts[i], e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    int64_t len;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      len = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, -1, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      len = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    shape[ax] = len;
    if (len > 0) offset += s * x->strides()[ax];
    st[ax] = x->strides()[ax] * step;
  }
  MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  if (n == 0) {
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x->dtype(), shape));
    (void)out;
    return Status::OK();
  }
  auto view = Tensor::FromStorage(x->storage(), x->dtype(), shape, st, offset);
  if (!view.ok()) return ctx.Error(view.status().message());
  if (StridedOutputAllowed(ctx)) {
    // The Q/K/V column blocks of a fused in-projection: no copy, the attention reads them.
    ctx.SetOutput(0, *view);
    return Status::OK();
  }
  return CopyToOutput(ctx, 0, *view, shape);
}

Status GatherCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* data, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequireTensor(1));
  int rank = data->rank();
  if (rank == 0) return ctx.Error("data must have rank >= 1");
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", 0), rank));
  auto idx_r = ToInt64s(*ind);
  if (!idx_r.ok()) return ctx.Error(idx_r.status().message());
  std::vector<int64_t> idx = std::move(idx_r).value();
  const int64_t dim = data->shape()[axis];
  for (auto& i : idx) {
    if (i < -dim || i >= dim)
      return ctx.Error("index " + std::to_string(i) + " out of range for dimension " +
                       std::to_string(dim));
    if (i < 0) i += dim;
  }
  Shape shape(data->shape().begin(), data->shape().begin() + axis);
  for (int64_t d : ind->shape()) shape.push_back(d);
  for (int d = axis + 1; d < rank; ++d) shape.push_back(data->shape()[d]);
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, data->dtype(), shape));
  MLOS_ASSIGN_OR_RETURN(Tensor src, data->Contiguous());
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= data->shape()[d];
  for (int d = axis + 1; d < rank; ++d) inner *= data->shape()[d];
  const int64_t ni = static_cast<int64_t>(idx.size());
  auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* s = static_cast<const T*>(src.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    ctx.pool().ParallelFor(outer * ni, std::max<int64_t>(1, 4096 / std::max<int64_t>(inner, 1)),
                           [&](int64_t b, int64_t e) {
                             for (int64_t r = b; r < e; ++r) {
                               int64_t oi = r / ni, j = r % ni;
                               const T* from = s + (oi * dim + idx[j]) * inner;
                               T* to = o + r * inner;
                               std::copy(from, from + inner, to);
                             }
                           });
    return Status::OK();
  };
  if (data->dtype() == DType::kString) return run(std::string{});
  return DispatchBySize(data->dtype(), ctx, run);
}

Status ExpandCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* s, ctx.RequireTensor(1));
  auto spec = ToInt64s(*s);
  if (!spec.ok()) return ctx.Error(spec.status().message());
  auto shape = BroadcastShapes(x->shape(), *spec);
  if (!shape.ok()) return ctx.Error(shape.status().message());
  MLOS_ASSIGN_OR_RETURN(Tensor view, x->BroadcastTo(*shape));
  return CopyToOutput(ctx, 0, view, *shape);
}

Status TileCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* r, ctx.RequireTensor(1));
  auto reps = ToInt64s(*r);
  if (!reps.ok()) return ctx.Error(reps.status().message());
  int rank = x->rank();
  if (static_cast<int>(reps->size()) != rank) return ctx.Error("repeats length differs from rank");
  // View x as [1, d0, 1, d1, ...] broadcast to [r0, d0, r1, d1, ...], then reshape.
  Shape inter, bshape, out_shape;
  for (int d = 0; d < rank; ++d) {
    if ((*reps)[d] < 0) return ctx.Error("negative repeat");
    inter.push_back(1);
    inter.push_back(x->shape()[d]);
    bshape.push_back((*reps)[d]);
    bshape.push_back(x->shape()[d]);
    out_shape.push_back((*reps)[d] * x->shape()[d]);
  }
  MLOS_ASSIGN_OR_RETURN(Tensor c, x->Contiguous());
  MLOS_ASSIGN_OR_RETURN(Tensor v, c.Reshape(inter));
  MLOS_ASSIGN_OR_RETURN(Tensor b, v.BroadcastTo(bshape));
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x->dtype(), bshape));
  MLOS_RETURN_IF_ERROR(out.CopyFrom(b));
  MLOS_ASSIGN_OR_RETURN(Tensor res, out.Reshape(out_shape));
  ctx.SetOutput(0, res);
  return Status::OK();
}

Status ConstantOfShapeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* s, ctx.RequireTensor(0));
  auto spec = ToInt64s(*s);
  if (!spec.ok()) return ctx.Error(spec.status().message());
  for (int64_t d : *spec) {
    if (d < 0) return ctx.Error("negative dimension");
  }
  const Attribute* a = ctx.node().attr("value");
  Tensor value = a && a->t.defined() ? a->t : Tensor::Scalar<float>(0.f);
  if (value.numel() != 1) return ctx.Error("value must have one element");
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, value.dtype(), *spec));
  MLOS_ASSIGN_OR_RETURN(Tensor one, value.Reshape({}));
  MLOS_ASSIGN_OR_RETURN(Tensor b, one.BroadcastTo(*spec));
  return out.CopyFrom(b);
}

Status RangeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* s, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* l, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(const Tensor* d, ctx.RequireTensor(2));
  return DispatchNumeric(s->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    C start = static_cast<C>(s->GetAsDouble(0)), limit = static_cast<C>(l->GetAsDouble(0)),
      delta = static_cast<C>(d->GetAsDouble(0));
    if (delta == C(0)) return ctx.Error("delta is 0");
    double count = std::ceil((static_cast<double>(limit) - static_cast<double>(start)) /
                             static_cast<double>(delta));
    int64_t n = std::max<int64_t>(0, static_cast<int64_t>(count));
    if (n > (int64_t{1} << 32)) return ctx.Error("range too large");
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, s->dtype(), {n}));
    T* o = static_cast<T*>(out.raw_data());
    for (int64_t i = 0; i < n; ++i) o[i] = T(static_cast<C>(start + static_cast<C>(i) * delta));
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(shape_ops) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Identity", IdentityCompute);
  r.Add("Constant", ConstantCompute);
  r.Add("Shape", ShapeCompute);
  r.Add("Size", SizeCompute);
  r.Add("Reshape", ReshapeCompute);
  r.Add("Flatten", FlattenCompute);
  r.Add("Squeeze", SqueezeCompute);
  r.Add("Unsqueeze", UnsqueezeCompute);
  r.Add("Transpose", TransposeCompute);
  r.Add("Concat", ConcatCompute);
  r.Add("Split", SplitCompute);
  r.Add("Slice", SliceCompute);
  r.Add("Gather", GatherCompute);
  r.Add("Expand", ExpandCompute);
  r.Add("Tile", TileCompute);
  r.Add("ConstantOfShape", ConstantOfShapeCompute);
  r.Add("Range", RangeCompute);
}
