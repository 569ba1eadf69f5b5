// SequenceMap (opset 17): runs the `body` graph once per element of the first input sequence.
// Body input j is element i of input j when that input is a sequence (all sequences must have
// the same length), else input j itself; body output k of every run is collected into output
// sequence k. Runs are sequential (the body may itself use the pool).
#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

Status SequenceMapCompute(OpContext& ctx) {
  const Attribute* a = ctx.node().attr("body");
  if (!a || !a->g) return ctx.Error("missing body graph");
  const Graph& body = *a->g;
  const Value* first = ctx.input_value(0);
  if (!first || first->kind != Value::Kind::kSequence)
    return ctx.Error("input 0 must be a sequence");
  const size_t n = first->seq.size();
  for (int j = 1; j < ctx.num_inputs(); ++j) {
    const Value* v = ctx.input_value(j);
    if (!v) return ctx.Error("input " + std::to_string(j) + " is missing");
    if (v->kind == Value::Kind::kSequence && v->seq.size() != n) {
      return ctx.Error("input sequence " + std::to_string(j) + " has " +
                       std::to_string(v->seq.size()) + " elements, input 0 has " +
                       std::to_string(n));
    }
  }
  const int nout = ctx.num_outputs();
  std::vector<std::vector<Tensor>> outs(static_cast<size_t>(nout));
  std::vector<DType> dtypes(static_cast<size_t>(nout), DType::kFloat32);
  for (int k = 0; k < nout && static_cast<size_t>(k) < body.outputs.size(); ++k) {
    dtypes[static_cast<size_t>(k)] = body.outputs[static_cast<size_t>(k)].dtype;
  }
  for (size_t i = 0; i < n; ++i) {
    std::vector<Value> in;
    for (int j = 0; j < ctx.num_inputs(); ++j) {
      const Value* v = ctx.input_value(j);
      in.push_back(v->kind == Value::Kind::kSequence ? Value::FromTensor(v->seq[i]) : *v);
    }
    std::vector<Value> res;
    MLOS_RETURN_IF_ERROR(ctx.RunSubgraph(body, in, &res));
    if (static_cast<int>(res.size()) != nout) {
      return ctx.Error("body returns " + std::to_string(res.size()) + " values, node has " +
                       std::to_string(nout) + " outputs");
    }
    for (int k = 0; k < nout; ++k) {
      if (res[static_cast<size_t>(k)].kind != Value::Kind::kTensor) {
        return ctx.Error("body output " + std::to_string(k) + " must be a tensor");
      }
      dtypes[static_cast<size_t>(k)] = res[static_cast<size_t>(k)].tensor.dtype();
      outs[static_cast<size_t>(k)].push_back(std::move(res[static_cast<size_t>(k)].tensor));
    }
  }
  for (int k = 0; k < nout; ++k) {
    ctx.SetOutputValue(k, Value::FromSequence(std::move(outs[static_cast<size_t>(k)]),
                                              dtypes[static_cast<size_t>(k)]));
  }
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(sequence_map) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("SequenceMap", SequenceMapCompute, 17);
}
