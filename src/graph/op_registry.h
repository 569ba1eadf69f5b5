// Operator registry and the context every operator kernel runs in.
//
// Adding an operator = one file src/graph/ops/<family>.cc that ends with
//   MLOS_REGISTER_OPS(family) { r.Add("Relu", ReluCompute); r.AddKernel("Conv", MakeConv); }
// CMake globs ops/*.cc and generates the call of every MLOS_REGISTER_OPS function, so no central
// list is edited. See docs/ENGINE.md "How to add an operator".
//
// Ownership: the registry owns the OpDefs; kernels (OpKernel objects) are created per node at load
// time and owned by the session's plan. Thread-safety: the registry is built once (function-local
// static) and read-only after; OpKernel::Compute is const and must be safe to call concurrently
// from several runs; an OpContext belongs to one run.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/thread_pool.h"

namespace mlos::graph {

// A runtime value: a tensor, a sequence of tensors, or nothing (omitted / empty optional).
struct Value {
  enum class Kind : uint8_t { kNone, kTensor, kSequence };
  Kind kind = Kind::kNone;
  Tensor tensor;
  std::vector<Tensor> seq;
  DType seq_dtype = DType::kFloat32;  // element dtype of an (empty) sequence

  static Value FromTensor(Tensor t) {
    Value v;
    v.kind = Kind::kTensor;
    v.tensor = std::move(t);
    return v;
  }
  static Value FromSequence(std::vector<Tensor> s, DType dtype) {
    Value v;
    v.kind = Kind::kSequence;
    v.seq = std::move(s);
    v.seq_dtype = dtype;
    return v;
  }
};

class OpContext;

// The hooks the executor gives an OpContext: output allocation (from the memory plan) and
// subgraph execution (If/Loop/Scan).
class ExecHooks {
 public:
  virtual ~ExecHooks() = default;
  virtual Result<Tensor> AllocateOutput(int node_index, int output_index, DType dtype,
                                        Shape shape) = 0;
  // Runs `body` with `inputs` bound to its graph inputs in order; outer-scope names resolve to the
  // values visible from the calling node.
  virtual Status RunSubgraph(const Graph& body, const std::vector<Value>& inputs,
                             std::vector<Value>* outputs) = 0;
};

class OpContext {
 public:
  OpContext(const Node& node, int node_index, int64_t opset, std::span<const Value*> inputs,
            std::span<Value> outputs, ThreadPool& pool, ExecHooks& hooks)
      : node_(node),
        node_index_(node_index),
        opset_(opset),
        inputs_(inputs),
        outputs_(outputs),
        pool_(pool),
        hooks_(hooks) {}

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }  // the model's opset for this node's domain
  ThreadPool& pool() { return pool_; }

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  // True when input i was given (not omitted, not an empty optional).
  bool has_input(int i) const {
    return i >= 0 && i < num_inputs() && inputs_[i] != nullptr &&
           inputs_[i]->kind != Value::Kind::kNone;
  }
  // Precondition: has_input(i) and it is a tensor; use RequireTensor for a checked access.
  const Tensor& input(int i) const { return inputs_[i]->tensor; }
  const Value* input_value(int i) const { return has_input(i) ? inputs_[i] : nullptr; }
  // Checked access to input i as a tensor; the error names the node and the input.
  Result<const Tensor*> RequireTensor(int i) const;

  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  bool has_output(int i) const { return i < num_outputs() && !node_.outputs[i].empty(); }

  // Allocates output i (from the memory plan when one applies; contents uninitialised, except
  // strings which start empty). The returned tensor is also stored as the output.
  Result<Tensor> Output(int i, DType dtype, Shape shape);
  // Sets output i to an existing tensor (a view of an input, a constant, a computed result).
  void SetOutput(int i, Tensor t) { outputs_[i] = Value::FromTensor(std::move(t)); }
  void SetOutputValue(int i, Value v) { outputs_[i] = std::move(v); }

  Status RunSubgraph(const Graph& body, const std::vector<Value>& inputs,
                     std::vector<Value>* outputs) {
    return hooks_.RunSubgraph(body, inputs, outputs);
  }

  // An error prefixed with this node's description (name, op, opset).
  Status Error(const std::string& msg) const;

 private:
  const Node& node_;
  int node_index_;
  int64_t opset_;
  std::span<const Value*> inputs_;
  std::span<Value> outputs_;
  ThreadPool& pool_;
  ExecHooks& hooks_;
};

// A kernel instance bound to one node (may precompute from attributes and constant inputs).
class OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual Status Compute(OpContext& ctx) const = 0;
};

using ComputeFn = Status (*)(OpContext& ctx);

// What a kernel factory sees at load time.
struct KernelInit {
  const Node& node;
  int64_t opset;
  // The constant (initializer) value of input i, or nullptr when it is not constant.
  std::function<const Tensor*(int)> constant_input;
};
using KernelFactory = std::function<Result<std::unique_ptr<OpKernel>>(const KernelInit&)>;

struct OpDef {
  std::string domain;
  std::string op_type;
  int since_version = 1;  // used for models whose opset >= since_version
  KernelFactory factory;
};

class OpRegistry {
 public:
  // A stateless kernel: fn runs on every call and reads attributes from ctx.node().
  void Add(const std::string& op_type, ComputeFn fn, int since_version = 1,
           const std::string& domain = "");
  // A kernel object built once per node by `factory`.
  void AddKernel(const std::string& op_type, KernelFactory factory, int since_version = 1,
                 const std::string& domain = "");
  // The def with the highest since_version <= opset, or nullptr.
  const OpDef* Find(const std::string& domain, const std::string& op_type, int64_t opset) const;
  // "domain::op" names known, for listing.
  std::vector<std::string> Names() const;

  // The process-wide registry with every op in ops/ registered (built on first use).
  static const OpRegistry& Global();

 private:
  std::map<std::string, std::vector<OpDef>> defs_;  // key: domain + "::" + op_type
};

// Normalises "ai.onnx" to "".
std::string CanonicalDomain(const std::string& domain);

}  // namespace mlos::graph

// Defines the registration function of one ops file; `family` must equal the file's stem.
#define MLOS_REGISTER_OPS(family)                              \
  void MlosRegisterOps_##family(::mlos::graph::OpRegistry& r); \
  void MlosRegisterOps_##family([[maybe_unused]] ::mlos::graph::OpRegistry& r)
