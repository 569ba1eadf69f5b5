// The Conv operator through a Session with a constant k x k weight, which the Conv kernel
// (conv_packed.cc) packs once for the implicit-GEMM conv (Conv2dParams::packed_weight): 3x3
// pad 1 (groups 1 and 2), 3x3 stride 2, 1x1 stride 2 and 5x5 dilated, bias or none, with
// several depth blocks (C*k*k > 256) and output channels not a multiple of the tile, small
// output planes with many channels (the transposed form, W^T prepacked), on 1 and 2 threads, run
// twice per session (the packed weight is reused), against a double-precision direct loop.
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

struct Case {
  int64_t c, m, h, w, k, stride, pad, dil, groups;
  bool bias;
};

std::string Model(const Case& k, const std::vector<float>& w, const std::vector<float>& b) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("conv");
  test::AddFloatValue(g->add_input(), "x");
  test::AddFloatValue(g->add_output(), "y");
  test::AddFloatInitializer(g, "W", {k.m, k.c / k.groups, k.k, k.k}, w);
  if (k.bias) test::AddFloatInitializer(g, "B", {k.m}, b);
  auto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv");
  conv->add_input("x");
  conv->add_input("W");
  if (k.bias) conv->add_input("B");
  conv->add_output("y");
  test::SetIntsAttr(conv, "kernel_shape", {k.k, k.k});
  test::SetIntsAttr(conv, "strides", {k.stride, k.stride});
  test::SetIntsAttr(conv, "pads", {k.pad, k.pad, k.pad, k.pad});
  test::SetIntsAttr(conv, "dilations", {k.dil, k.dil});
  auto* grp = conv->add_attribute();
  grp->set_name("group");
  grp->set_type(onnx::AttributeProto::INT);
  grp->set_i(k.groups);
  return m.SerializeAsString();
}

TEST(ConvOp, ConstantDenseWeightPackedOnce) {
  std::mt19937 rng(31);
  std::uniform_real_distribution<float> u(-1, 1);
  const Case cases[] = {
      {70, 37, 9, 11, 3, 1, 1, 1, 1, true},    // k = 630: three depth blocks
      {16, 26, 12, 10, 3, 1, 1, 1, 2, false},  // groups
      {33, 50, 13, 14, 3, 2, 1, 1, 1, true},   // stride 2
      {20, 30, 9, 8, 1, 2, 0, 1, 1, true},     // 1x1 stride 2 (not the pointwise path)
      {6, 13, 15, 13, 5, 1, 4, 2, 1, true},    // 5x5 dilated
      {40, 20, 40, 41, 3, 1, 1, 1, 1, true},   // one row block, B split into narrowed panels
      // Small output planes, many channels: the transposed form with W^T prepacked as B.
      {40, 70, 7, 7, 3, 1, 1, 1, 1, true},    // 49 pixels, k = 360
      {16, 64, 14, 14, 3, 1, 1, 1, 1, true},  // 196 pixels: 16 full row tiles and a tail
      {64, 96, 5, 5, 3, 1, 1, 1, 1, false},   // 25 pixels: a 1-row tail tile
      {20, 64, 3, 4, 5, 1, 2, 1, 1, true},    // 12 pixels, 5x5 taps
      {24, 66, 9, 9, 3, 2, 1, 1, 1, true},    // 3x3 s2 -> 5x5
      {8, 64, 2, 9, 7, 1, 3, 1, 1, true},     // 2x9 out, 7x7: rows span > 16 (scalar gather)
      // Rows of >= 28 pixels, >= 32 input channels, output channels a multiple of 32: the
      // transposed form with A read in place (PackedSgemmDirectA; AVX-512): row tiles 12 + 12
      // + 12 + 12 + 8, 12 + 12 + 6, ...
      {40, 64, 4, 56, 3, 1, 1, 1, 1, true},   // k = 360: two depth blocks
      {33, 96, 3, 30, 3, 1, 1, 1, 1, false},  // 3 slivers, a 6-pixel tail tile
      {32, 32, 7, 61, 3, 2, 1, 1, 1, true},   // stride 2 -> 4 x 31
      {32, 32, 3, 29, 5, 1, 2, 1, 1, true},   // 5x5, 29-pixel rows (12 + 12 + 5)
  };
  for (const Case& k : cases) {
    const int64_t cg = k.c / k.groups, mg = k.m / k.groups;
    std::vector<float> w(static_cast<size_t>(k.m * cg * k.k * k.k)), b(static_cast<size_t>(k.m));
    for (float& v : w) v = u(rng) * 0.2f;
    for (float& v : b) v = u(rng);
    const std::string bytes = Model(k, w, b);
    const int64_t span = k.dil * (k.k - 1) + 1;
    const int64_t oh = (k.h + 2 * k.pad - span) / k.stride + 1;
    const int64_t ow = (k.w + 2 * k.pad - span) / k.stride + 1;
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      SessionOptions o;
      o.pool = &pool;
      auto s = Session::LoadFromBytes(bytes, ".", o);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      for (int rep = 0; rep < 2; ++rep) {
        SCOPED_TRACE(::testing::Message()
                     << "c" << k.c << " m" << k.m << " k" << k.k << " s" << k.stride << " g"
                     << k.groups << " threads " << threads << " rep " << rep);
        std::vector<float> x(static_cast<size_t>(k.c * k.h * k.w));
        for (float& v : x) v = u(rng);
        auto xt = Tensor::FromVector<float>({1, k.c, k.h, k.w}, x);
        ASSERT_TRUE(xt.ok());
        std::vector<Tensor> out;
        Status st = (*s)->Run({{"x", *xt}}, &out);
        ASSERT_TRUE(st.ok()) << st.ToString();
        ASSERT_EQ(out.size(), 1u);
        ASSERT_EQ(out[0].shape(), (Shape{1, k.m, oh, ow}));
        const float* y = static_cast<const float*>(out[0].raw_data());
        for (int64_t m = 0; m < k.m; ++m) {
          const int64_t g = m / mg;
          for (int64_t oy = 0; oy < oh; ++oy) {
            for (int64_t ox = 0; ox < ow; ++ox) {
              double acc = k.bias ? b[m] : 0.0;
              for (int64_t c = 0; c < cg; ++c) {
                for (int64_t i = 0; i < k.k; ++i) {
                  const int64_t iy = oy * k.stride - k.pad + i * k.dil;
                  if (iy < 0 || iy >= k.h) continue;
                  for (int64_t j = 0; j < k.k; ++j) {
                    const int64_t ix = ox * k.stride - k.pad + j * k.dil;
                    if (ix < 0 || ix >= k.w) continue;
                    acc += static_cast<double>(w[((m * cg + c) * k.k + i) * k.k + j]) *
                           x[((g * cg + c) * k.h + iy) * k.w + ix];
                  }
                }
              }
              ASSERT_NEAR(y[(m * oh + oy) * ow + ox], acc, 2e-4 * (1 + std::fabs(acc)))
                  << m << "," << oy << "," << ox;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace mlos::graph
