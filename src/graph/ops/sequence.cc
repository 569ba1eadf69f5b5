// Sequence operators: SequenceEmpty/Construct/Insert/At/Erase/Length, SplitToSequence,
// ConcatFromSequence. Sequences hold tensors by reference (no copies).
#include <algorithm>

#include "graph/ops/op_util.h"
#include "graph/tensor_proto.h"

namespace mlos::graph::ops {
namespace {

Result<const Value*> RequireSequence(const OpContext& ctx, int i) {
  const Value* v = ctx.input_value(i);
  if (!v || v->kind != Value::Kind::kSequence) {
    return ctx.Error("input " + std::to_string(i) + " must be a sequence");
  }
  return v;
}

// A position input (scalar int), normalised against `size` (`size` itself allowed when
// `allow_end`).
Result<int64_t> Position(const OpContext& ctx, int i, int64_t size, bool allow_end, int64_t dflt) {
  if (!ctx.has_input(i)) return dflt;
  auto r = ToInt64s(ctx.input(i));
  if (!r.ok() || r->size() != 1) return ctx.Error("position must be a scalar integer");
  int64_t p = (*r)[0];
  if (p < 0) p += size;
  if (p < 0 || p > size || (!allow_end && p == size)) {
    return ctx.Error("position " + std::to_string((*r)[0]) + " out of range for a sequence of " +
                     std::to_string(size));
  }
  return p;
}

Status SequenceEmptyCompute(OpContext& ctx) {
  auto dt = DTypeFromOnnx(static_cast<int>(ctx.node().GetInt("dtype", 1)));
  if (!dt.ok()) return ctx.Error(dt.status().message());
  ctx.SetOutputValue(0, Value::FromSequence({}, *dt));
  return Status::OK();
}

Status SequenceConstructCompute(OpContext& ctx) {
  std::vector<Tensor> items;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    MLOS_ASSIGN_OR_RETURN(const Tensor* t, ctx.RequireTensor(i));
    if (t->dtype() != ctx.input(0).dtype()) return ctx.Error("tensors differ in dtype");
    items.push_back(*t);
  }
  DType dt = items.empty() ? DType::kFloat32 : items[0].dtype();
  ctx.SetOutputValue(0, Value::FromSequence(std::move(items), dt));
  return Status::OK();
}

Status SequenceInsertCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Value* s, RequireSequence(ctx, 0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* t, ctx.RequireTensor(1));
  const int64_t n = static_cast<int64_t>(s->seq.size());
  MLOS_ASSIGN_OR_RETURN(int64_t pos, Position(ctx, 2, n, true, n));
  std::vector<Tensor> items = s->seq;
  items.insert(items.begin() + pos, *t);
  ctx.SetOutputValue(0, Value::FromSequence(std::move(items), t->dtype()));
  return Status::OK();
}

Status SequenceAtCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Value* s, RequireSequence(ctx, 0));
  const int64_t n = static_cast<int64_t>(s->seq.size());
  if (!ctx.has_input(1)) return ctx.Error("position is required");
  MLOS_ASSIGN_OR_RETURN(int64_t pos, Position(ctx, 1, n, false, 0));
  ctx.SetOutput(0, s->seq[pos]);
  return Status::OK();
}

Status SequenceEraseCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Value* s, RequireSequence(ctx, 0));
  const int64_t n = static_cast<int64_t>(s->seq.size());
  if (n == 0) return ctx.Error("cannot erase from an empty sequence");
  MLOS_ASSIGN_OR_RETURN(int64_t pos, Position(ctx, 1, n, false, n - 1));
  std::vector<Tensor> items = s->seq;
  items.erase(items.begin() + pos);
  ctx.SetOutputValue(0, Value::FromSequence(std::move(items), s->seq_dtype));
  return Status::OK();
}

Status SequenceLengthCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Value* s, RequireSequence(ctx, 0));
  ctx.SetOutput(0, Tensor::Scalar<int64_t>(static_cast<int64_t>(s->seq.size())));
  return Status::OK();
}

Status SplitToSequenceCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  const int rank = x->rank();
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", 0), rank));
  const bool keepdims = ctx.node().GetInt("keepdims", 1) != 0;
  const int64_t dim = x->shape()[axis];
  std::vector<int64_t> sizes;
  bool squeeze = false;
  if (!ctx.has_input(1)) {
    sizes.assign(static_cast<size_t>(dim), 1);
    squeeze = !keepdims;
  } else {
    auto r = ToInt64s(ctx.input(1));
    if (!r.ok()) return ctx.Error(r.status().message());
    if (ctx.input(1).rank() == 0) {
      int64_t chunk = (*r)[0];
      if (chunk <= 0) return ctx.Error("split must be positive");
      for (int64_t p = 0; p < dim; p += chunk) sizes.push_back(std::min(chunk, dim - p));
    } else {
      sizes = *r;
    }
  }
  std::vector<Tensor> items;
  int64_t pos = 0;
  for (int64_t s : sizes) {
    if (s < 0 || pos + s > dim) return ctx.Error("split sizes exceed the axis");
    MLOS_ASSIGN_OR_RETURN(Tensor part, x->Slice(axis, pos, pos + s));
    MLOS_ASSIGN_OR_RETURN(Tensor c, part.Clone());
    if (squeeze) {
      Shape sh = c.shape();
      sh.erase(sh.begin() + axis);
      MLOS_ASSIGN_OR_RETURN(c, c.Reshape(sh));
    }
    items.push_back(std::move(c));
    pos += s;
  }
  if (pos != dim) return ctx.Error("split sizes do not cover the axis");
  ctx.SetOutputValue(0, Value::FromSequence(std::move(items), x->dtype()));
  return Status::OK();
}

Status ConcatFromSequenceCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Value* s, RequireSequence(ctx, 0));
  if (s->seq.empty()) return ctx.Error("cannot concatenate an empty sequence");
  const bool new_axis = ctx.node().GetInt("new_axis", 0) != 0;
  const Tensor& first = s->seq[0];
  const int out_rank = first.rank() + (new_axis ? 1 : 0);
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", 0), out_rank));
  std::vector<Tensor> parts;
  Shape shape;
  for (const Tensor& t : s->seq) {
    Tensor p = t;
    if (new_axis) {
      Shape sh = t.shape();
      sh.insert(sh.begin() + axis, 1);
      MLOS_ASSIGN_OR_RETURN(Tensor c, t.Contiguous());
      MLOS_ASSIGN_OR_RETURN(p, c.Reshape(sh));
    }
    if (p.rank() != out_rank || p.dtype() != first.dtype())
      return ctx.Error("tensors differ in rank or dtype");
    if (shape.empty()) {
      shape = p.shape();
    } else {
      for (int d = 0; d < out_rank; ++d) {
        if (d != axis && p.shape()[d] != shape[d]) return ctx.Error("tensors differ off the axis");
      }
      shape[axis] += p.shape()[axis];
    }
    parts.push_back(p);
  }
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, first.dtype(), shape));
  int64_t pos = 0;
  for (const Tensor& p : parts) {
    int64_t len = p.shape()[axis];
    if (len == 0) continue;
    MLOS_ASSIGN_OR_RETURN(Tensor dst, out.Slice(axis, pos, pos + len));
    MLOS_RETURN_IF_ERROR(dst.CopyFrom(p));
    pos += len;
  }
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(sequence) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("SequenceEmpty", SequenceEmptyCompute);
  r.Add("SequenceConstruct", SequenceConstructCompute);
  r.Add("SequenceInsert", SequenceInsertCompute);
  r.Add("SequenceAt", SequenceAtCompute);
  r.Add("SequenceErase", SequenceEraseCompute);
  r.Add("SequenceLength", SequenceLengthCompute);
  r.Add("SplitToSequence", SplitToSequenceCompute);
  r.Add("ConcatFromSequence", ConcatFromSequenceCompute);
}
