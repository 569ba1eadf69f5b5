// The tiny ONNX model of plugin_test_util.h, built with the ONNX protobuf classes.
#include <onnx/onnx_pb.h>

#include "plugin_test_util.h"

namespace mlos::runtime::testing {

const std::vector<float>& TinyWeights() {
  static const std::vector<float> w = {0.5f,  -1.0f, 2.0f,  1.5f, 0.25f, -0.5f,
                                       -2.0f, 1.0f,  0.75f, 0.1f, 0.2f,  0.3f};
  return w;
}
const std::vector<float>& TinyBias() {
  static const std::vector<float> b = {0.1f, -0.2f, 0.3f};
  return b;
}

std::string TinyOnnxModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* g = model.mutable_graph();
  g->set_name("tiny");
  auto add_value = [](onnx::ValueInfoProto* v, const char* name, std::vector<int64_t> dims,
                      const char* sym) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) {
      auto* dim = tt->mutable_shape()->add_dim();
      if (d < 0) {
        dim->set_dim_param(sym);
      } else {
        dim->set_dim_value(d);
      }
    }
  };
  add_value(g->add_input(), "x", {-1, 4}, "N");
  add_value(g->add_output(), "y", {-1, 3}, "N");
  auto add_init = [&](const char* name, std::vector<int64_t> dims, const std::vector<float>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float f : v) t->add_float_data(f);
  };
  add_init("W", {4, 3}, TinyWeights());
  add_init("b", {3}, TinyBias());
  auto add_node = [&](const char* op, std::vector<const char*> in, const char* out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(std::string(op) + "_" + out);
    for (const char* i : in) n->add_input(i);
    n->add_output(out);
  };
  add_node("MatMul", {"x", "W"}, "xw");
  add_node("Add", {"xw", "b"}, "xwb");
  add_node("Relu", {"xwb"}, "y");
  return model.SerializeAsString();
}

}  // namespace mlos::runtime::testing
