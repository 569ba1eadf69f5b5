// Graph IR of the ONNX engine: Graph, Node, Attribute and ValueInfo (dtype + shape with symbolic
// dimensions). Built by the loader from a ModelProto, rewritten by the passes, then compiled into
// an execution plan. Ownership: a Graph owns its nodes, initializers and subgraphs (If/Loop/Scan
// bodies, held by shared_ptr so plans can keep them alive). Thread-safety: immutable after
// loading and optimisation, so concurrent readers are safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mlos/dtype.h"
#include "mlos/status.h"
#include "mlos/tensor.h"

namespace mlos::graph {

struct Graph;

// One dimension of a declared shape: a fixed size, a named symbol ("batch") or unknown.
struct Dim {
  int64_t value = -1;  // >= 0 when fixed
  std::string symbol;  // non-empty for symbolic dims
};

enum class ValueKind : uint8_t { kTensor, kSequence, kOptional, kMap, kUnknown };

struct ValueInfo {
  std::string name;
  ValueKind kind = ValueKind::kTensor;
  DType dtype = DType::kFloat32;  // element dtype (of the tensors inside, for sequences)
  bool has_shape = false;
  std::vector<Dim> dims;
};

struct Attribute {
  enum class Type : uint8_t {
    kUndefined,
    kFloat,
    kInt,
    kString,
    kTensor,
    kGraph,
    kFloats,
    kInts,
    kStrings,
    kTensors,
    kGraphs,
    kSparseTensor,
    kTypeProto,
  };
  Type type = Type::kUndefined;
  float f = 0.f;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;               // "" for the default ONNX domain
  std::vector<std::string> inputs;  // "" marks an omitted optional input
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attrs;

  const Attribute* attr(const std::string& key) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? nullptr : &it->second;
  }
  int64_t GetInt(const std::string& key, int64_t dflt) const;
  float GetFloat(const std::string& key, float dflt) const;
  std::string GetString(const std::string& key, const std::string& dflt) const;
  std::vector<int64_t> GetInts(const std::string& key, std::vector<int64_t> dflt = {}) const;
  std::vector<float> GetFloats(const std::string& key, std::vector<float> dflt = {}) const;
  std::vector<std::string> GetAttrStrings(const std::string& key) const;
  // "node 'name' (Op)": used to prefix every error about this node.
  std::string Describe() const;
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<ValueInfo> inputs;  // may include names that also have an initializer
  std::vector<ValueInfo> outputs;
  std::map<std::string, ValueInfo> value_info;
  std::map<std::string, Tensor> initializers;
  // Opset of each imported domain ("" = default ONNX), shared with subgraphs.
  std::map<std::string, int64_t> opsets;
};

int64_t DefaultOpset(const Graph& g);

}  // namespace mlos::graph
