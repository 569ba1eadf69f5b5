// Control flow: If, Loop, Scan (opset 9+ form, and the batched opset-8 form). Bodies run through
// OpContext::RunSubgraph, which resolves outer-scope names from the enclosing frames.
#include <algorithm>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

const Graph* GraphAttr(const OpContext& ctx, const char* name) {
  const Attribute* a = ctx.node().attr(name);
  return a && a->g ? a->g.get() : nullptr;
}

Result<bool> ScalarBool(const OpContext& ctx, const Value& v, const char* what) {
  if (v.kind != Value::Kind::kTensor || v.tensor.numel() != 1) {
    return ctx.Error(std::string(what) + " must be a one-element tensor");
  }
  return v.tensor.GetAsDouble(0) != 0.0;
}

Status IfCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* c, ctx.RequireTensor(0));
  if (c->numel() != 1) return ctx.Error("cond must have one element");
  const Graph* body = GraphAttr(ctx, c->GetAsDouble(0) != 0.0 ? "then_branch" : "else_branch");
  if (!body) return ctx.Error("missing branch graph");
  std::vector<Value> outs;
  MLOS_RETURN_IF_ERROR(ctx.RunSubgraph(*body, {}, &outs));
  if (static_cast<int>(outs.size()) != ctx.num_outputs()) {
    return ctx.Error("branch produces " + std::to_string(outs.size()) + " outputs, node has " +
                     std::to_string(ctx.num_outputs()));
  }
  for (int i = 0; i < ctx.num_outputs(); ++i) ctx.SetOutputValue(i, std::move(outs[i]));
  return Status::OK();
}

// Stacks per-iteration tensors along a new axis `axis` (0 for Loop).
Result<Tensor> Stack(const std::vector<Tensor>& items, int axis) {
  const Tensor& f = items[0];
  Shape shape = f.shape();
  shape.insert(shape.begin() + axis, static_cast<int64_t>(items.size()));
  MLOS_ASSIGN_OR_RETURN(Tensor out, Tensor::Empty(f.dtype(), shape));
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].shape() != f.shape() || items[i].dtype() != f.dtype()) {
      return InvalidArgument("scan outputs differ across iterations: ", ShapeToString(f.shape()),
                             " vs ", ShapeToString(items[i].shape()));
    }
    MLOS_ASSIGN_OR_RETURN(Tensor dst,
                          out.Slice(axis, static_cast<int64_t>(i), static_cast<int64_t>(i) + 1));
    Shape ds = f.shape();
    ds.insert(ds.begin() + axis, 1);
    MLOS_ASSIGN_OR_RETURN(Tensor src, items[i].Contiguous());
    MLOS_ASSIGN_OR_RETURN(Tensor srcv, src.Reshape(ds));
    MLOS_RETURN_IF_ERROR(dst.CopyFrom(srcv));
  }
  return out;
}

Status LoopCompute(OpContext& ctx) {
  const Graph* body = GraphAttr(ctx, "body");
  if (!body) return ctx.Error("missing body graph");
  int64_t max_trip = INT64_MAX;
  if (ctx.has_input(0)) {
    MLOS_ASSIGN_OR_RETURN(const Tensor* m, ctx.RequireTensor(0));
    if (m->numel() != 1) return ctx.Error("M must have one element");
    max_trip = static_cast<int64_t>(m->GetAsDouble(0));
  }
  bool cond = true;
  if (ctx.has_input(1)) {
    MLOS_ASSIGN_OR_RETURN(cond, ScalarBool(ctx, *ctx.input_value(1), "cond"));
  }
  const int n_carried = ctx.num_inputs() - 2;
  const int n_scan = ctx.num_outputs() - n_carried;
  if (n_carried < 0 || n_scan < 0) return ctx.Error("inputs and outputs do not match the body");
  std::vector<Value> carried;
  for (int i = 0; i < n_carried; ++i) {
    const Value* v = ctx.input_value(2 + i);
    carried.push_back(v ? *v : Value());
  }
  std::vector<std::vector<Tensor>> scans(static_cast<size_t>(n_scan));
  constexpr int64_t kMaxIterations = int64_t{1} << 31;
  int64_t it = 0;
  for (; it < max_trip && cond; ++it) {
    if (it >= kMaxIterations) return ctx.Error("loop exceeded 2^31 iterations");
    std::vector<Value> in;
    in.push_back(Value::FromTensor(Tensor::Scalar<int64_t>(it)));
    in.push_back(Value::FromTensor(Tensor::Scalar<bool>(cond)));
    in.insert(in.end(), carried.begin(), carried.end());
    std::vector<Value> out;
    MLOS_RETURN_IF_ERROR(ctx.RunSubgraph(*body, in, &out));
    if (static_cast<int>(out.size()) != 1 + n_carried + n_scan) {
      return ctx.Error("body returns " + std::to_string(out.size()) + " values, expected " +
                       std::to_string(1 + n_carried + n_scan));
    }
    MLOS_ASSIGN_OR_RETURN(cond, ScalarBool(ctx, out[0], "body cond"));
    for (int i = 0; i < n_carried; ++i) carried[i] = std::move(out[1 + i]);
    for (int i = 0; i < n_scan; ++i) {
      const Value& v = out[1 + n_carried + i];
      if (v.kind != Value::Kind::kTensor) return ctx.Error("scan outputs must be tensors");
      scans[i].push_back(v.tensor);
    }
  }
  for (int i = 0; i < n_carried; ++i) ctx.SetOutputValue(i, std::move(carried[i]));
  for (int i = 0; i < n_scan; ++i) {
    if (scans[i].empty()) {
      MLOS_ASSIGN_OR_RETURN(Tensor e, ctx.Output(n_carried + i, DType::kFloat32, {0}));
      (void)e;
      continue;
    }
    auto st = Stack(scans[i], 0);
    if (!st.ok()) return ctx.Error(st.status().message());
    ctx.SetOutput(n_carried + i, *st);
  }
  return Status::OK();
}

Status ScanCompute(OpContext& ctx) {
  const Graph* body = GraphAttr(ctx, "body");
  if (!body) return ctx.Error("missing body graph");
  const bool v8 = ctx.opset() < 9;  // opset 8: a batch axis 0 and sequence_lens input 0
  const int first = v8 ? 1 : 0;
  const int64_t m = ctx.node().GetInt("num_scan_inputs", 0);
  const int n_in = ctx.num_inputs() - first;
  const int n_state = n_in - static_cast<int>(m);
  const int n_scan_out = ctx.num_outputs() - n_state;
  if (m < 1 || n_state < 0 || n_scan_out < 0)
    return ctx.Error("num_scan_inputs does not match the inputs");
  std::vector<int64_t> in_axes = ctx.node().GetInts("scan_input_axes", std::vector<int64_t>(m, 0));
  std::vector<int64_t> in_dirs =
      ctx.node().GetInts(v8 ? "directions" : "scan_input_directions", std::vector<int64_t>(m, 0));
  std::vector<int64_t> out_axes =
      ctx.node().GetInts("scan_output_axes", std::vector<int64_t>(n_scan_out, 0));
  std::vector<int64_t> out_dirs =
      ctx.node().GetInts("scan_output_directions", std::vector<int64_t>(n_scan_out, 0));
  if (static_cast<int64_t>(in_axes.size()) != m || static_cast<int64_t>(in_dirs.size()) != m ||
      static_cast<int>(out_axes.size()) != n_scan_out ||
      static_cast<int>(out_dirs.size()) != n_scan_out) {
    return ctx.Error("scan axis/direction attributes have the wrong length");
  }
  const int64_t batch = v8 ? ctx.input(first).shape().at(0) : 1;
  std::vector<std::vector<Tensor>> batch_states(static_cast<size_t>(n_state)),
      batch_scans(static_cast<size_t>(n_scan_out));
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Value> state;
    for (int i = 0; i < n_state; ++i) {
      MLOS_ASSIGN_OR_RETURN(const Tensor* t, ctx.RequireTensor(first + i));
      Tensor s = *t;
      if (v8) {
        MLOS_ASSIGN_OR_RETURN(s, t->Slice(0, b, b + 1));
      }
      if (v8) {
        Shape sh(s.shape().begin() + 1, s.shape().end());
        MLOS_ASSIGN_OR_RETURN(Tensor c, s.Contiguous());
        MLOS_ASSIGN_OR_RETURN(s, c.Reshape(sh));
      }
      state.push_back(Value::FromTensor(s));
    }
    std::vector<Tensor> xs;
    int64_t len = -1;
    for (int64_t j = 0; j < m; ++j) {
      MLOS_ASSIGN_OR_RETURN(const Tensor* t,
                            ctx.RequireTensor(first + n_state + static_cast<int>(j)));
      Tensor x = *t;
      if (v8) {
        MLOS_ASSIGN_OR_RETURN(Tensor sl, t->Slice(0, b, b + 1));
        MLOS_ASSIGN_OR_RETURN(Tensor c, sl.Contiguous());
        Shape sh(c.shape().begin() + 1, c.shape().end());
        MLOS_ASSIGN_OR_RETURN(x, c.Reshape(sh));
      }
      MLOS_ASSIGN_OR_RETURN(int ax, Axis(ctx, in_axes[j], x.rank()));
      in_axes[j] = ax;
      if (len >= 0 && x.shape()[ax] != len) return ctx.Error("scan inputs differ in length");
      len = x.shape()[ax];
      xs.push_back(x);
    }
    std::vector<std::vector<Tensor>> scans(static_cast<size_t>(n_scan_out));
    for (int64_t t = 0; t < len; ++t) {
      std::vector<Value> in = state;
      for (int64_t j = 0; j < m; ++j) {
        int64_t idx = in_dirs[j] ? len - 1 - t : t;
        MLOS_ASSIGN_OR_RETURN(Tensor sl, xs[j].Slice(in_axes[j], idx, idx + 1));
        MLOS_ASSIGN_OR_RETURN(Tensor c, sl.Contiguous());
        Shape sh = c.shape();
        sh.erase(sh.begin() + in_axes[j]);
        MLOS_ASSIGN_OR_RETURN(Tensor r, c.Reshape(sh));
        in.push_back(Value::FromTensor(r));
      }
      std::vector<Value> out;
      MLOS_RETURN_IF_ERROR(ctx.RunSubgraph(*body, in, &out));
      if (static_cast<int>(out.size()) != n_state + n_scan_out)
        return ctx.Error("body output count mismatch");
      for (int i = 0; i < n_state; ++i) state[i] = out[i];
      for (int i = 0; i < n_scan_out; ++i) scans[i].push_back(out[n_state + i].tensor);
    }
    for (int i = 0; i < n_state; ++i) batch_states[i].push_back(state[i].tensor);
    for (int i = 0; i < n_scan_out; ++i) {
      if (out_dirs[i]) std::reverse(scans[i].begin(), scans[i].end());
      if (scans[i].empty()) return ctx.Error("empty scan");
      const int r = scans[i][0].rank() + 1;
      MLOS_ASSIGN_OR_RETURN(int ax, Axis(ctx, out_axes[i], r));
      auto st = Stack(scans[i], ax);
      if (!st.ok()) return ctx.Error(st.status().message());
      batch_scans[i].push_back(*st);
    }
  }
  for (int i = 0; i < n_state; ++i) {
    if (v8) {
      auto st = Stack(batch_states[i], 0);
      if (!st.ok()) return ctx.Error(st.status().message());
      ctx.SetOutput(i, *st);
    } else {
      ctx.SetOutput(i, batch_states[i][0]);
    }
  }
  for (int i = 0; i < n_scan_out; ++i) {
    if (v8) {
      auto st = Stack(batch_scans[i], 0);
      if (!st.ok()) return ctx.Error(st.status().message());
      ctx.SetOutput(n_state + i, *st);
    } else {
      ctx.SetOutput(n_state + i, batch_scans[i][0]);
    }
  }
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(control_flow) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("If", IfCompute);
  r.Add("Loop", LoopCompute);
  r.Add("Scan", ScanCompute);
}
