// Add/Sub/Mul/Div of [N, C, H, W] and [N|1, C, 1, 1] through a Session (the per-channel path of
// graph/ops/channel_broadcast.cc, and the general broadcast loop for the operand orders that
// path leaves alone: Sub/Div with the per-channel operand first), against a double-precision
// reference: one and two images, per-image and shared scales, planes from 2x3 to 33x17, 1x1
// planes, 1 and 2 threads.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "graph/session.h"
#include "unit/onnx_graph_builder.h"

namespace mlos::graph {
namespace {

// A float input/output of rank 4 with its own symbolic dimensions (nothing known at load).
void AddIo(onnx::ValueInfoProto* vi, const std::string& name) {
  test::AddValue(vi, name, {name + "a", name + "b", name + "c", name + "d"});
}

std::string Model(const std::string& op, bool scale_first) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("channel_broadcast");
  AddIo(g->add_input(), "x");
  AddIo(g->add_input(), "s");
  AddIo(g->add_output(), "y");
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name("op");
  n->add_input(scale_first ? "s" : "x");
  n->add_input(scale_first ? "x" : "s");
  n->add_output("y");
  return m.SerializeAsString();
}

double Apply(const std::string& op, double a, double b) {
  if (op == "Add") return a + b;
  if (op == "Sub") return a - b;
  if (op == "Mul") return a * b;
  return a / b;
}

TEST(ChannelBroadcast, MatchesReference) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.5f, 2.f);
  struct Shape4 {
    int64_t n, c, h, w, sn;
  };
  const Shape4 shapes[] = {{1, 5, 2, 3, 1},    {2, 3, 4, 4, 2}, {2, 7, 33, 17, 1},
                           {1, 96, 7, 7, 1},   {1, 4, 1, 1, 1}, {2, 40, 14, 14, 2},
                           {1, 2, 130, 129, 1}};
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    for (const std::string op : {"Add", "Sub", "Mul", "Div"}) {
      for (bool scale_first : {false, true}) {
        SessionOptions o;
        o.pool = &pool;
        auto s = Session::LoadFromBytes(Model(op, scale_first), ".", o);
        ASSERT_TRUE(s.ok()) << s.status().ToString();
        for (const Shape4& sh : shapes) {
          SCOPED_TRACE(::testing::Message()
                       << op << " scale_first " << scale_first << " threads " << threads << " "
                       << sh.n << "x" << sh.c << "x" << sh.h << "x" << sh.w << " sn " << sh.sn);
          const int64_t hw = sh.h * sh.w;
          std::vector<float> x(static_cast<size_t>(sh.n * sh.c * hw)),
              sc(static_cast<size_t>(sh.sn * sh.c));
          for (float& v : x) v = u(rng);
          for (float& v : sc) v = u(rng);
          auto xt = Tensor::FromVector<float>({sh.n, sh.c, sh.h, sh.w}, x);
          auto st = Tensor::FromVector<float>({sh.sn, sh.c, 1, 1}, sc);
          ASSERT_TRUE(xt.ok() && st.ok());
          std::vector<Tensor> out;
          Status r = (*s)->Run({{"x", *xt}, {"s", *st}}, &out);
          ASSERT_TRUE(r.ok()) << r.ToString();
          ASSERT_EQ(out.size(), 1u);
          ASSERT_EQ(out[0].shape(), (Shape{sh.n, sh.c, sh.h, sh.w}));
          const float* y = static_cast<const float*>(out[0].raw_data());
          for (int64_t i = 0; i < sh.n; ++i) {
            for (int64_t c = 0; c < sh.c; ++c) {
              const double sv = sc[(sh.sn == 1 ? 0 : i) * sh.c + c];
              for (int64_t q = 0; q < hw; ++q) {
                const double xv = x[(i * sh.c + c) * hw + q];
                const double want = scale_first ? Apply(op, sv, xv) : Apply(op, xv, sv);
                ASSERT_NEAR(y[(i * sh.c + c) * hw + q], want, 1e-5 * (1 + std::fabs(want)))
                    << i << "," << c << "," << q;
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace mlos::graph
