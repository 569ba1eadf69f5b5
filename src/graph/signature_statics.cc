#include "graph/signature_statics.h"

#include <set>
#include <string>

#include "graph/executor.h"

namespace mlos::graph {
namespace {

// Output shapes are a function of the input shapes (and attributes) only.
const std::set<std::string>& ShapeOnlyOps() {
  static const std::set<std::string> ops = {
      // elementwise, unary and broadcasting
      "Abs", "Acos", "Acosh", "Add", "And", "Asin", "Asinh", "Atan", "Atanh", "BitShift", "Cast",
      "CastLike", "Ceil", "Celu", "Clip", "Cos", "Cosh", "Div", "Elu", "Equal", "Erf", "Exp",
      "Floor", "Gelu", "Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish", "Identity", "IsInf",
      "IsNaN", "LeakyRelu", "Less", "LessOrEqual", "Log", "Max", "Mean", "Min", "Mish", "Mod",
      "Mul", "Neg", "Not", "Or", "Pow", "PRelu", "Reciprocal", "Relu", "Round", "Selu", "Sigmoid",
      "Sign", "Sin", "Sinh", "Softplus", "Softsign", "Sqrt", "Sub", "Sum", "Tan", "Tanh",
      "ThresholdedRelu", "Where", "Xor",
      // normalisation, softmax, products, layout
      "BatchNormalization", "InstanceNormalization", "LayerNormalization", "LpNormalization",
      "MeanVarianceNormalization", "Softmax", "LogSoftmax", "Hardmax", "MatMul", "Gemm",
      "Transpose", "Gather", "GatherElements", "Concat", "Flatten", "Trilu", "CumSum",
      "DepthToSpace", "SpaceToDepth", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool",
      "GlobalMaxPool", "LpPool", "Shape", "Size", "Einsum",
      // engine-internal fused operators
      "FusedMatMul", "Attention", "AddLayerNormalization"};
  return ops;
}

// Output shapes follow from input 0's shape and the values of the other inputs.
const std::set<std::string>& ShapeFromValuesOps() {
  static const std::set<std::string> ops = {
      "Reshape",    "Expand",   "Slice",     "Unsqueeze",    "Squeeze",         "Tile",
      "Split",      "Pad",      "ReduceSum", "ReduceMean",   "ReduceMax",       "ReduceMin",
      "ReduceProd", "ReduceL1", "ReduceL2",  "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};
  return ops;
}

// Operators whose outputs are not a function of their inputs.
const std::set<std::string>& NondeterministicOps() {
  static const std::set<std::string> ops = {
      "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
      "Multinomial",  "Bernoulli",     "Dropout"};
  return ops;
}

bool HasSubgraph(const Node& n) {
  for (const auto& [k, a] : n.attrs) {
    if (a.g || !a.graphs.empty()) return true;
  }
  return false;
}

}  // namespace

SignatureStatics AnalyzeSignatureStatics(const GraphPlan& plan) {
  const int nv = plan.num_values();
  std::vector<bool> value_static(nv, false), shape_static(nv, false);
  for (const auto& [id, t] : plan.constants()) value_static[id] = shape_static[id] = true;
  // A graph input may override an initializer of the same name: never static by value.
  for (int id : plan.input_ids()) {
    value_static[id] = false;
    shape_static[id] = true;  // the signature fixes every input tensor's shape
  }
  for (int id : plan.outer_ids()) value_static[id] = shape_static[id] = false;
  std::vector<bool> is_output(nv, false);
  for (int id : plan.output_ids()) is_output[id] = true;

  const auto& steps = plan.steps();
  SignatureStatics r;
  r.step_static.assign(steps.size(), false);
  for (size_t si = 0; si < steps.size(); ++si) {
    const Step& st = steps[si];
    const Node& n = *st.node;
    const bool std_op = n.domain.empty() || n.domain == "mlos";
    if (!std_op || HasSubgraph(n) || NondeterministicOps().count(n.op_type) ||
        !st.implicit_ids.empty())
      continue;
    bool all_values = true, all_shapes = true, rest_values = true;
    for (size_t k = 0; k < st.in_ids.size(); ++k) {
      const int id = st.in_ids[k];
      if (id < 0) continue;
      all_values = all_values && value_static[id];
      all_shapes = all_shapes && shape_static[id];
      if (k > 0) rest_values = rest_values && value_static[id];
    }
    bool out_values = all_values;
    if (n.domain.empty() && (n.op_type == "Shape" || n.op_type == "Size")) {
      out_values = !st.in_ids.empty() && st.in_ids[0] >= 0 && shape_static[st.in_ids[0]];
    }
    bool out_shapes = out_values;
    if (!out_shapes && all_shapes && ShapeOnlyOps().count(n.op_type)) out_shapes = true;
    if (!out_shapes && ShapeFromValuesOps().count(n.op_type) && !st.in_ids.empty() &&
        st.in_ids[0] >= 0 && shape_static[st.in_ids[0]] && rest_values)
      out_shapes = true;
    bool step_static = out_values;
    for (int id : st.out_ids) {
      if (id < 0) continue;
      if (is_output[id]) step_static = false;
      shape_static[id] = out_shapes;
    }
    if (step_static) {
      for (int id : st.out_ids) {
        if (id >= 0) value_static[id] = true;
      }
    }
    r.step_static[si] = step_static;
  }
  // The static values that some run-time step reads.
  std::vector<bool> needed(nv, false);
  for (size_t si = 0; si < steps.size(); ++si) {
    if (r.step_static[si]) continue;
    for (int id : steps[si].in_ids) {
      if (id >= 0 && value_static[id]) needed[id] = true;
    }
  }
  std::vector<bool> is_constant(nv, false);
  for (const auto& [id, t] : plan.constants()) is_constant[id] = true;
  for (int id = 0; id < nv; ++id) {
    // Constants are bound by every frame anyway.
    if (needed[id] && !is_constant[id]) r.frontier.push_back(id);
  }
  return r;
}

}  // namespace mlos::graph
