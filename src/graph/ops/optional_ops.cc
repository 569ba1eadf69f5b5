// Optional (opset 15), OptionalHasElement and OptionalGetElement (15, 18). The engine represents
// an optional as a plain Value: an empty optional is Value::Kind::kNone, a full one is the tensor
// or sequence it holds, so these ops only test or pass the value through.
#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

Status OptionalCompute(OpContext& ctx) {
  const Value* v = ctx.num_inputs() > 0 ? ctx.input_value(0) : nullptr;
  ctx.SetOutputValue(0, v ? *v : Value());
  return Status::OK();
}

Status OptionalHasElementCompute(OpContext& ctx) {
  const bool has = ctx.num_inputs() > 0 && ctx.input_value(0) != nullptr;
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, DType::kBool, {}));
  *static_cast<bool*>(out.raw_data()) = has;
  return Status::OK();
}

Status OptionalGetElementCompute(OpContext& ctx) {
  const Value* v = ctx.num_inputs() > 0 ? ctx.input_value(0) : nullptr;
  if (!v) return ctx.Error("the optional input is empty");
  ctx.SetOutputValue(0, *v);
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(optional_ops) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Optional", OptionalCompute, 15);
  r.Add("OptionalHasElement", OptionalHasElementCompute, 15);
  r.Add("OptionalGetElement", OptionalGetElementCompute, 15);
}
