// Helpers the engine's unit tests use to write small ONNX graphs by hand: graph inputs/outputs
// with fixed or symbolic dimensions, float and int64 initializers, nodes and their attributes.
// One set for every test that builds a model in code, so that the tests read as the graph they
// build. Test-only, header-only; no state.
#pragma once

#include <onnx/onnx_pb.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

namespace mlos::graph::test {

// The little-endian bytes of `v`, for TensorProto::raw_data.
inline std::string Raw(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// A graph input or output named `name` of element type `elem_type`. Each entry of `dims` is a
// fixed size ("4") or a symbolic one ("batch"); no entries at all leaves the shape undeclared.
inline void AddValue(onnx::ValueInfoProto* vi, const std::string& name,
                     const std::vector<std::string>& dims = {},
                     int elem_type = onnx::TensorProto::FLOAT) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  for (const auto& d : dims) {
    auto* dim = tt->mutable_shape()->add_dim();
    if (!d.empty() && std::isdigit(static_cast<unsigned char>(d[0]))) {
      dim->set_dim_value(std::stoll(d));
    } else {
      dim->set_dim_param(d);
    }
  }
}

// A float32 graph input or output named `name` (shape left to the run).
inline void AddFloatValue(onnx::ValueInfoProto* vi, const std::string& name) { AddValue(vi, name); }

inline void AddFloatInitializer(onnx::GraphProto* g, const std::string& name,
                                const std::vector<int64_t>& dims, const std::vector<float>& v) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(Raw(v));
}

// An int64 initializer: 1-D of v.size() elements, or a 0-D scalar (v must hold one value).
inline void AddInt64Initializer(onnx::GraphProto* g, const std::string& name,
                                const std::vector<int64_t>& v, bool scalar = false) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  if (!scalar) t->add_dims(static_cast<int64_t>(v.size()));
  for (int64_t x : v) t->add_int64_data(x);
}

// A node named after its op and first output (unique as long as outputs are).
inline onnx::NodeProto* AddNode(onnx::GraphProto* g, const std::string& op,
                                const std::vector<std::string>& in,
                                const std::vector<std::string>& out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + out.at(0));
  for (const auto& s : in) n->add_input(s);
  for (const auto& s : out) n->add_output(s);
  return n;
}

inline void SetIntsAttr(onnx::NodeProto* n, const std::string& name,
                        const std::vector<int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

inline void SetIntAttr(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

inline void SetFloatAttr(onnx::NodeProto* n, const std::string& name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

}  // namespace mlos::graph::test
