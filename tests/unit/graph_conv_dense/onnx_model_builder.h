// Small helpers the dense-conv session tests use to write ONNX graphs by hand: float inputs and
// outputs without a declared shape, float initializers from a vector. Test-only, header-only.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mlos::graph::test {

inline std::string Raw(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// A float32 graph input or output named `name` (shape left to the run).
inline void AddFloatValue(onnx::ValueInfoProto* vi, const std::string& name) {
  vi->set_name(name);
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
}

inline void AddFloatInitializer(onnx::GraphProto* g, const std::string& name,
                                const std::vector<int64_t>& dims, const std::vector<float>& v) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(Raw(v));
}

}  // namespace mlos::graph::test
