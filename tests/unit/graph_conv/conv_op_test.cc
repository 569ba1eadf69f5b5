// The Conv operator through a Session: a 1x1 convolution with a constant weight, bias and a
// fused ReLU, run on planes small enough for the packed transposed path (conv_packed.cc) and
// large enough for the general one, in one session (symbolic H, W), 1 and 2 images, 1 and 2
// threads, repeated (planned) runs, against a double-precision reference.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "graph/session.h"
#include "unit/onnx_graph_builder.h"

namespace mlos::graph {
namespace {

using test::AddFloatInitializer;
using test::AddNode;
using test::AddValue;

constexpr int64_t kC = 24, kM = 40;

std::string Model(const std::vector<float>& w, const std::vector<float>& b) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("conv1x1");
  AddValue(g->add_input(), "x", {"n", std::to_string(kC), "h", "w"});
  AddValue(g->add_output(), "y", {"n", std::to_string(kM), "h", "w"});
  AddFloatInitializer(g, "W", {kM, kC, 1, 1}, w);
  AddFloatInitializer(g, "B", {kM}, b);
  AddNode(g, "Conv", {"x", "W", "B"}, {"c"});
  AddNode(g, "Relu", {"c"}, {"y"});
  return m.SerializeAsString();
}

TEST(ConvOp, PointwisePackedAndGeneralPaths) {
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> w(kM * kC), b(kM);
  for (float& v : w) v = u(rng);
  for (float& v : b) v = u(rng);
  const std::string bytes = Model(w, b);
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    SessionOptions o;
    o.pool = &pool;
    auto s = Session::LoadFromBytes(bytes, ".", o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    // hw = 1, 4, 9 take the packed path (M*C = 960 >= hw*(M+C)); 49 and 150 the general one.
    const std::vector<std::vector<int64_t>> shapes = {
        {1, kC, 2, 2}, {2, kC, 3, 3}, {1, kC, 1, 1}, {1, kC, 7, 7}, {2, kC, 10, 15}, {1, kC, 2, 2}};
    for (int rep = 0; rep < 2; ++rep) {
      for (const auto& shape : shapes) {
        SCOPED_TRACE(::testing::Message() << "threads " << threads << " hw " << shape[2] * shape[3]
                                          << " n " << shape[0]);
        const int64_t n = shape[0], hw = shape[2] * shape[3];
        std::vector<float> x(static_cast<size_t>(n * kC * hw));
        for (float& v : x) v = u(rng);
        auto xt = Tensor::FromVector<float>(shape, x);
        ASSERT_TRUE(xt.ok());
        std::vector<Tensor> out;
        Status st = (*s)->Run({{"x", *xt}}, &out);
        ASSERT_TRUE(st.ok()) << st.ToString();
        ASSERT_EQ(out.size(), 1u);
        ASSERT_EQ(out[0].shape(), (Shape{n, kM, shape[2], shape[3]}));
        const float* y = static_cast<const float*>(out[0].raw_data());
        for (int64_t i = 0; i < n; ++i) {
          for (int64_t m = 0; m < kM; ++m) {
            for (int64_t q = 0; q < hw; ++q) {
              double acc = b[m];
              for (int64_t c = 0; c < kC; ++c) {
                acc += static_cast<double>(w[m * kC + c]) * x[(i * kC + c) * hw + q];
              }
              const double want = acc > 0 ? acc : 0;
              ASSERT_NEAR(y[(i * kM + m) * hw + q], want, 1e-4 * (1 + std::fabs(want)))
                  << i << "," << m << "," << q;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace mlos::graph
