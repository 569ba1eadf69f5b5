// The residual fusion (cnn_fusion.cc: Conv -> Add(other) [-> Relu] folded into the Conv, which
// adds `other` in its epilogue) through a Session, against a double-precision direct loop of
// the unfused graph: the implicit-GEMM path (3x3, grid and exact-column layouts, several depth
// blocks, the addend on either side of the Add), the pointwise GEMM, depthwise and 1-D paths (which
// add it in a pass after the conv), an addend that broadcasts (the run-time fallback to conv, Add,
// Relu), a conv whose output is also a graph output (must not be fused), two images, 1 and 2
// threads.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "graph/session.h"
#include "unit/onnx_graph_builder.h"

namespace mlos::graph {
namespace {

struct Case {
  const char* name;
  int64_t n, c, m, h, w, k, stride, pad, groups;
  bool bias, relu, conv_right, one_d, broadcast, conv_is_output;
};

std::string Model(const Case& k, const std::vector<float>& w, const std::vector<float>& b) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("residual");
  test::AddFloatValue(g->add_input(), "x");
  test::AddFloatValue(g->add_input(), "r");
  test::AddFloatValue(g->add_output(), "y");
  if (k.conv_is_output) test::AddFloatValue(g->add_output(), "c");
  if (k.one_d) {
    test::AddFloatInitializer(g, "W", {k.m, k.c / k.groups, k.k}, w);
  } else {
    test::AddFloatInitializer(g, "W", {k.m, k.c / k.groups, k.k, k.k}, w);
  }
  if (k.bias) test::AddFloatInitializer(g, "B", {k.m}, b);
  auto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->add_input("x");
  conv->add_input("W");
  if (k.bias) conv->add_input("B");
  conv->add_output("c");
  if (k.one_d) {
    test::SetIntsAttr(conv, "kernel_shape", {k.k});
    test::SetIntsAttr(conv, "strides", {k.stride});
    test::SetIntsAttr(conv, "pads", {k.pad, k.pad});
  } else {
    test::SetIntsAttr(conv, "kernel_shape", {k.k, k.k});
    test::SetIntsAttr(conv, "strides", {k.stride, k.stride});
    test::SetIntsAttr(conv, "pads", {k.pad, k.pad, k.pad, k.pad});
  }
  auto* grp = conv->add_attribute();
  grp->set_name("group");
  grp->set_type(onnx::AttributeProto::INT);
  grp->set_i(k.groups);
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->add_input(k.conv_right ? "r" : "c");
  add->add_input(k.conv_right ? "c" : "r");
  add->add_output(k.relu ? "s" : "y");
  if (k.relu) {
    auto* relu = g->add_node();
    relu->set_op_type("Relu");
    relu->add_input("s");
    relu->add_output("y");
  }
  return m.SerializeAsString();
}

TEST(ConvOp, ResidualAddFusedMatchesUnfusedGraph) {
  std::mt19937 rng(57);
  std::uniform_real_distribution<float> u(-1, 1);
  // name, n, c, m, h, w, k, stride, pad, groups, bias, relu, conv_right, 1-d, broadcast, output
  const Case cases[] = {
      {"3x3 implicit", 1, 70, 37, 9, 11, 3, 1, 1, 1, true, true, false, false, false, false},
      // Exact-column layout with narrowed B panels; 3x3 s2 below (7 x 7 out): the grid layout.
      {"3x3 wide", 2, 24, 20, 9, 40, 3, 1, 1, 1, true, true, false, false, false, false},
      {"3x3 right no relu", 2, 16, 26, 12, 10, 3, 1, 1, 1, false, false, true, false, false, false},
      {"3x3 s2", 1, 33, 50, 13, 14, 3, 2, 1, 1, true, true, true, false, false, false},
      {"1x1 pointwise", 2, 20, 30, 9, 8, 1, 1, 0, 1, true, true, false, false, false, false},
      {"1x1 large plane", 1, 32, 96, 24, 24, 1, 1, 0, 1, true, true, false, false, false, false},
      {"small C 3x3 s2", 2, 3, 16, 17, 19, 3, 2, 1, 1, true, true, false, false, false, false},
      {"small C 7x7 s2", 1, 3, 8, 23, 22, 7, 2, 3, 1, false, true, true, false, false, false},
      // Weight larger than the activations: conv_packed.cc's transposed prepacked path.
      {"1x1 small plane", 2, 64, 48, 3, 3, 1, 1, 0, 1, true, true, true, false, false, false},
      {"1x1 small plane bcast", 1, 64, 48, 3, 3, 1, 1, 0, 1, false, true, false, false, true,
       false},
      // Small output planes with many channels: the transposed implicit GEMM (conv.cc /
      // ImplicitGemmConvT), the addend added after its transpose; 7x7 and 3x3 s2 -> 5x5.
      {"3x3 small plane", 2, 40, 70, 7, 7, 3, 1, 1, 1, true, true, false, false, false, false},
      {"3x3 s2 small plane", 1, 24, 64, 9, 10, 3, 2, 1, 1, false, true, true, false, false, false},
      // Rows of >= 28 pixels, >= 32 input channels, output channels a multiple of 32: the
      // transposed form with A read in place (PackedSgemmDirectA), the addend added after its
      // transpose.
      {"3x3 direct T", 2, 32, 64, 5, 28, 3, 1, 1, 1, true, true, false, false, false, false},
      {"3x3 s2 direct T", 1, 36, 32, 6, 60, 3, 2, 1, 1, false, true, true, false, false, false},
      {"depthwise", 1, 12, 12, 10, 9, 3, 1, 1, 12, true, true, false, false, false, false},
      {"1-d", 2, 8, 10, 1, 17, 3, 1, 1, 1, true, true, true, true, false, false},
      {"broadcast addend", 1, 16, 24, 8, 9, 3, 1, 1, 1, true, true, false, false, true, false},
      {"conv also output", 1, 16, 24, 8, 9, 3, 1, 1, 1, true, true, false, false, false, true},
  };
  for (const Case& k : cases) {
    const int64_t cg = k.c / k.groups, mg = k.m / k.groups;
    const int64_t kh = k.one_d ? 1 : k.k, ph = k.one_d ? 0 : k.pad;
    std::vector<float> w(static_cast<size_t>(k.m * cg * kh * k.k)), b(static_cast<size_t>(k.m));
    for (float& v : w) v = u(rng) * 0.2f;
    for (float& v : b) v = u(rng);
    const std::string bytes = Model(k, w, b);
    const int64_t oh = (k.h + 2 * ph - kh) / k.stride + 1;
    const int64_t ow = (k.w + 2 * k.pad - k.k) / k.stride + 1;
    Shape xs{k.n, k.c, k.h, k.w}, ys{k.n, k.m, oh, ow};
    Shape rs = k.broadcast ? Shape{1, k.m, 1, 1} : ys;
    if (k.one_d) {
      xs = {k.n, k.c, k.w};
      ys = {k.n, k.m, ow};
      rs = ys;
    }
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      SessionOptions o;
      o.pool = &pool;
      auto s = Session::LoadFromBytes(bytes, ".", o);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      for (int rep = 0; rep < 2; ++rep) {
        SCOPED_TRACE(::testing::Message() << k.name << " threads " << threads << " rep " << rep);
        std::vector<float> x(static_cast<size_t>(k.n * k.c * k.h * k.w));
        for (float& v : x) v = u(rng);
        int64_t rn = 1;
        for (int64_t d : rs) rn *= d;
        std::vector<float> r(static_cast<size_t>(rn));
        for (float& v : r) v = u(rng);
        auto xt = Tensor::FromVector<float>(xs, x);
        auto rt = Tensor::FromVector<float>(rs, r);
        ASSERT_TRUE(xt.ok() && rt.ok());
        std::vector<Tensor> out;
        Status st = (*s)->Run({{"x", *xt}, {"r", *rt}}, &out);
        ASSERT_TRUE(st.ok()) << st.ToString();
        ASSERT_EQ(out.size(), k.conv_is_output ? 2u : 1u);
        ASSERT_EQ(out[0].shape(), ys);
        const float* y = static_cast<const float*>(out[0].raw_data());
        for (int64_t n = 0; n < k.n; ++n) {
          for (int64_t m = 0; m < k.m; ++m) {
            const int64_t g = m / mg;
            for (int64_t oy = 0; oy < oh; ++oy) {
              for (int64_t ox = 0; ox < ow; ++ox) {
                double acc = k.bias ? b[m] : 0.0;
                for (int64_t c = 0; c < cg; ++c) {
                  for (int64_t i = 0; i < kh; ++i) {
                    const int64_t iy = oy * k.stride - ph + i;
                    if (iy < 0 || iy >= k.h) continue;
                    for (int64_t j = 0; j < k.k; ++j) {
                      const int64_t ix = ox * k.stride - k.pad + j;
                      if (ix < 0 || ix >= k.w) continue;
                      acc += static_cast<double>(w[((m * cg + c) * kh + i) * k.k + j]) *
                             x[(((n * k.c + g * cg + c) * k.h) + iy) * k.w + ix];
                    }
                  }
                }
                const int64_t yi = ((n * k.m + m) * oh + oy) * ow + ox;
                if (k.conv_is_output) {
                  const float* cy = static_cast<const float*>(out[1].raw_data());
                  ASSERT_NEAR(cy[yi], acc, 2e-4 * (1 + std::fabs(acc)));
                }
                double ref = acc + r[k.broadcast ? m : yi];
                if (k.relu) ref = std::max(ref, 0.0);
                ASSERT_NEAR(y[yi], ref, 2e-4 * (1 + std::fabs(ref)))
                    << "n" << n << " m" << m << " " << oy << "," << ox;
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
