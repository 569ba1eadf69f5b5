// Float32 Add/Sub/Mul/Div on the row fast path of the elementwise ops (same-shape operands, or a
// tensor and a trailing [N] row on either side) against a scalar reference: odd sizes, sizes on
// both sides of the parallel grain, 1 and 2 threads, and shapes that must still take the generic
// broadcast path.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <random>
#include <string>
#include <vector>

#include "graph/session.h"
#include "mlos/thread_pool.h"

namespace mlos::graph {
namespace {

// Not inlined: GCC 12 reports a false -Wrestrict on set_name when it is.
[[gnu::noinline]] void AddInput(onnx::GraphProto* g, const char* name, const Shape& shape) {
  auto* vi = g->add_input();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

// y = op(a, b) as a one-node model with both operands graph inputs (nothing folds).
Result<Tensor> RunBinary(const std::string& op, const Tensor& a, const Tensor& b,
                         ThreadPool& pool) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(14);
  auto* g = m.mutable_graph();
  g->set_name("bin");
  AddInput(g, "a", a.shape());
  AddInput(g, "b", b.shape());
  auto* n = g->add_node();
  n->set_op_type(op);
  // One-char names built as strings: GCC 12 reports a false -Wrestrict on the literals.
  n->add_input(std::string(1, 'a'));
  n->add_input(std::string(1, 'b'));
  n->add_output(std::string(1, 'y'));
  g->add_output()->set_name(std::string(1, 'y'));
  SessionOptions opts;
  opts.pool = &pool;
  MLOS_ASSIGN_OR_RETURN(auto s, Session::LoadFromBytes(m.SerializeAsString(), "", opts));
  std::vector<Tensor> out;
  MLOS_RETURN_IF_ERROR(s->Run({{"a", a}, {"b", b}}, &out));
  return out.at(0);
}

Tensor Random(const Shape& shape, std::mt19937& rng) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::uniform_real_distribution<float> u(0.25f, 2.f);  // away from 0: Div stays finite
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = u(rng) * (rng() % 2 ? 1.f : -1.f);
  return Tensor::FromVector<float>(shape, v).value();
}

float Apply(const std::string& op, float x, float y) {
  if (op == "Add") return x + y;
  if (op == "Sub") return x - y;
  if (op == "Mul") return x * y;
  return x / y;
}

// Element i of the broadcast of t to `out` (numpy rules), by index arithmetic.
float At(const Tensor& t, const Shape& out, int64_t flat) {
  const float* p = static_cast<const float*>(t.raw_data());
  int64_t off = 0, stride = 1;
  const int r = static_cast<int>(out.size()), tr = t.rank();
  for (int d = r - 1; d >= 0; --d) {
    const int64_t idx = flat % out[d];
    flat /= out[d];
    const int td = d - (r - tr);
    if (td < 0) continue;
    const int64_t dim = t.shape()[td];
    if (dim != 1) off += idx * stride;
    stride *= dim;
  }
  return p[off];
}

TEST(ElementwiseRows, MatchesScalarReference) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 5, 7}, {3, 5, 7}},          // same shape, odd
      {{1}, {1}},                      // one element
      {{1, 129, 256}, {1, 129, 256}},  // same shape above the parallel grain
      {{70001}, {70001}},              // long 1-D, odd tail
      {{4, 33}, {33}},                 // trailing row on the right
      {{33}, {4, 33}},                 // ... and on the left (Sub/Div are not symmetric)
      {{2, 3, 1, 40}, {1, 40}},        // row with leading 1s
      {{1, 300, 256}, {256}},          // bias row above the grain
      {{5, 1}, {5, 7}},                // column broadcast: generic path
      {{4, 1}, {1, 6}},                // outer product: generic path
      {{2, 3}, {1, 1}},                // scalar-like: generic path
  };
  std::mt19937 rng(17);
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
      for (const auto& [sa, sb] : cases) {
        std::string trace(op);  // appended piecewise: GCC 12 -Wrestrict false positive on +
        trace.append(" ").append(ShapeToString(sa)).append(" ").append(ShapeToString(sb));
        trace.append(" threads ").append(std::to_string(threads));
        SCOPED_TRACE(trace);
        const Tensor a = Random(sa, rng), b = Random(sb, rng);
        auto y = RunBinary(op, a, b, pool);
        ASSERT_TRUE(y.ok()) << y.status().ToString();
        const Shape want_shape = BroadcastShapes(sa, sb).value();
        ASSERT_EQ(y->shape(), want_shape);
        const float* got = static_cast<const float*>(y->raw_data());
        for (int64_t i = 0; i < y->numel(); ++i) {
          ASSERT_FLOAT_EQ(got[i], Apply(op, At(a, want_shape, i), At(b, want_shape, i)))
              << "element " << i;
        }
      }
    }
  }
}

TEST(ElementwiseRows, MismatchedShapesFailCleanly) {
  ThreadPool pool(2);
  std::mt19937 rng(3);
  auto y = RunBinary("Add", Random({4, 33}, rng), Random({32}, rng), pool);
  EXPECT_FALSE(y.ok());
}

}  // namespace
}  // namespace mlos::graph
