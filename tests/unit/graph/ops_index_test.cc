// Edge cases of the index-driven and resampling operators that the ONNX suite does not cover:
// out-of-range indices fail cleanly (a Status, no crash), scatter reductions with duplicate
// indices, Resize bilinear/nearest on float32 against an independent reference loop, huge
// scales rejected, OneHot's out-of-range indices, Einsum's matmul path against a naive loop.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <random>

#include "graph/session.h"
#include "mlos/thread_pool.h"

namespace mlos::graph {
namespace {

struct In {
  std::string name;
  Tensor value;
};

int OnnxType(DType t) {
  switch (t) {
    case DType::kFloat32:
      return onnx::TensorProto::FLOAT;
    case DType::kInt64:
      return onnx::TensorProto::INT64;
    default:
      return onnx::TensorProto::UNDEFINED;
  }
}

// One-node model whose inputs are all graph inputs (so nothing is folded at load time).
Result<std::vector<Tensor>> RunOne(const std::string& op, const std::vector<In>& ins, int n_out,
                                   const std::function<void(onnx::NodeProto*)>& attrs = {},
                                   int opset = 13) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name("t");
  auto* n = g->add_node();
  n->set_op_type(op);
  for (const auto& i : ins) {
    n->add_input(i.name);
    if (i.name.empty()) continue;
    auto* vi = g->add_input();
    vi->set_name(i.name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(OnnxType(i.value.dtype()));
    for (int64_t d : i.value.shape()) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  for (int k = 0; k < n_out; ++k) {
    std::string name(1, 'y');
    name.append(std::to_string(k));  // not "y" + ...: GCC 12 -Wrestrict false positive
    n->add_output(name);
    g->add_output()->set_name(name);
  }
  if (attrs) attrs(n);
  std::string bytes;
  m.SerializeToString(&bytes);
  static ThreadPool pool(2);
  SessionOptions opts;
  opts.pool = &pool;
  MLOS_ASSIGN_OR_RETURN(auto s, Session::LoadFromBytes(bytes, "", opts));
  std::vector<NamedTensor> feeds;
  for (const auto& i : ins)
    if (!i.name.empty()) feeds.push_back({i.name, i.value});
  std::vector<Tensor> out;
  MLOS_RETURN_IF_ERROR(s->Run(feeds, &out));
  return out;
}

Tensor F(Shape s, std::vector<float> v) { return Tensor::FromVector<float>(s, v).value(); }
Tensor I(Shape s, std::vector<int64_t> v) { return Tensor::FromVector<int64_t>(s, v).value(); }

void SetInt(onnx::NodeProto* n, const std::string& k, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void SetStr(onnx::NodeProto* n, const std::string& k, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(k);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

TEST(OpsIndex, GatherElementsRejectsOutOfRange) {
  Tensor d = F({2, 2}, {1, 2, 3, 4});
  EXPECT_FALSE(RunOne("GatherElements", {{"d", d}, {"i", I({2, 2}, {0, 2, 1, 0})}}, 1).ok());
  EXPECT_FALSE(RunOne("GatherElements", {{"d", d}, {"i", I({2, 2}, {0, -3, 1, 0})}}, 1).ok());
  EXPECT_FALSE(RunOne("GatherElements", {{"d", d}, {"i", I({2, 3}, {0, 0, 0, 0, 0, 0})}}, 1,
                      [](onnx::NodeProto* n) { SetInt(n, "axis", 0); })
                   .ok());
  auto ok = RunOne("GatherElements", {{"d", d}, {"i", I({2, 2}, {-1, 0, 1, 1})}}, 1,
                   [](onnx::NodeProto* n) { SetInt(n, "axis", 1); });
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].GetAsDouble(0), 2);
  EXPECT_EQ((*ok)[0].GetAsDouble(1), 1);
  EXPECT_EQ((*ok)[0].GetAsDouble(3), 4);
}

TEST(OpsIndex, ScatterReductionsAndBounds) {
  Tensor d = F({4}, {1, 1, 1, 1});
  auto r = RunOne(
      "ScatterElements", {{"d", d}, {"i", I({3}, {1, 1, -1})}, {"u", F({3}, {2, 3, 5})}}, 1,
      [](onnx::NodeProto* n) { SetStr(n, "reduction", "add"); }, 16);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].GetAsDouble(1), 6);
  EXPECT_EQ((*r)[0].GetAsDouble(3), 6);
  EXPECT_FALSE(
      RunOne("ScatterElements", {{"d", d}, {"i", I({1}, {4})}, {"u", F({1}, {2})}}, 1).ok());
  auto nd = RunOne(
      "ScatterND", {{"d", d}, {"i", I({2, 1}, {2, 2})}, {"u", F({2}, {3, 4})}}, 1,
      [](onnx::NodeProto* n) { SetStr(n, "reduction", "mul"); }, 16);
  ASSERT_TRUE(nd.ok()) << nd.status().ToString();
  EXPECT_EQ((*nd)[0].GetAsDouble(2), 12);
  EXPECT_FALSE(RunOne("ScatterND", {{"d", d}, {"i", I({1, 1}, {-5})}, {"u", F({1}, {3})}}, 1).ok());
  EXPECT_FALSE(RunOne("GatherND", {{"d", d}, {"i", I({1, 1}, {7})}}, 1).ok());
  EXPECT_FALSE(RunOne("GatherND", {{"d", d}, {"i", I({1, 2}, {0, 0})}}, 1).ok());
}

TEST(OpsIndex, OtherIndexInputsFailCleanly) {
  EXPECT_FALSE(RunOne("TopK", {{"x", F({3}, {1, 2, 3})}, {"k", I({1}, {4})}}, 2).ok());
  EXPECT_FALSE(RunOne("MaxUnpool", {{"x", F({1, 1, 1, 1}, {1})}, {"i", I({1, 1, 1, 1}, {9})}}, 1,
                      [](onnx::NodeProto* n) {
                        auto* a = n->add_attribute();
                        a->set_name("kernel_shape");
                        a->set_type(onnx::AttributeProto::INTS);
                        a->add_ints(2);
                        a->add_ints(2);
                      })
                   .ok());
  // OneHot: out-of-range indices give all-off rows.
  auto oh = RunOne("OneHot", {{"i", I({2}, {5, -1})}, {"d", I({}, {3})}, {"v", F({2}, {0, 1})}}, 1,
                   {}, 11);
  ASSERT_TRUE(oh.ok()) << oh.status().ToString();
  ASSERT_EQ((*oh)[0].shape(), (Shape{2, 3}));
  const double want[6] = {0, 0, 0, 0, 0, 1};
  for (int i = 0; i < 6; ++i) EXPECT_EQ((*oh)[0].GetAsDouble(i), want[i]);
  EXPECT_FALSE(RunOne("CumSum", {{"x", F({2}, {1, 2})}, {"a", I({}, {1})}}, 1).ok());
}

// Independent reference: half_pixel bilinear on the last two axes with edge clamping.
float RefBilinear(const std::vector<float>& x, int64_t h, int64_t w, int64_t oh, int64_t ow,
                  int64_t plane, int64_t oy, int64_t ox) {
  auto src = [](int64_t o, int64_t in, int64_t out) {
    double s = (o + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5;
    return std::clamp(s, 0.0, static_cast<double>(in - 1));
  };
  const double sy = src(oy, h, oh), sx = src(ox, w, ow);
  const int64_t y0 = static_cast<int64_t>(sy), x0 = static_cast<int64_t>(sx);
  const int64_t y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
  const double fy = sy - y0, fx = sx - x0;
  const float* p = x.data() + plane * h * w;
  return static_cast<float>((1 - fy) * ((1 - fx) * p[y0 * w + x0] + fx * p[y0 * w + x1]) +
                            fy * ((1 - fx) * p[y1 * w + x0] + fx * p[y1 * w + x1]));
}

TEST(OpsIndex, ResizeBilinearAndNearestMatchReference) {
  const int64_t n = 2, c = 3, h = 5, w = 7, oh = 9, ow = 13;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> xv(static_cast<size_t>(n * c * h * w));
  for (auto& v : xv) v = u(rng);
  Tensor x = F({n, c, h, w}, xv);
  auto lin =
      RunOne("Resize", {{"x", x}, {"", Tensor()}, {"", Tensor()}, {"s", I({4}, {n, c, oh, ow})}}, 1,
             [](onnx::NodeProto* nd) { SetStr(nd, "mode", "linear"); });
  ASSERT_TRUE(lin.ok()) << lin.status().ToString();
  const Tensor& y = (*lin)[0];
  ASSERT_EQ(y.shape(), (Shape{n, c, oh, ow}));
  for (int64_t p = 0; p < n * c; ++p)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        ASSERT_NEAR(y.GetAsDouble((p * oh + oy) * ow + ox),
                    RefBilinear(xv, h, w, oh, ow, p, oy, ox), 1e-5);
  // Nearest, asymmetric + floor, scale 2: output (y, x) reads input (y / 2, x / 2).
  auto near = RunOne("Resize", {{"x", x}, {"", Tensor()}, {"sc", F({4}, {1, 1, 2, 2})}}, 1,
                     [](onnx::NodeProto* nd) {
                       SetStr(nd, "coordinate_transformation_mode", "asymmetric");
                       SetStr(nd, "nearest_mode", "floor");
                     });
  ASSERT_TRUE(near.ok()) << near.status().ToString();
  for (int64_t p = 0; p < n * c; ++p)
    for (int64_t oy = 0; oy < 2 * h; ++oy)
      for (int64_t ox = 0; ox < 2 * w; ++ox)
        ASSERT_EQ((*near)[0].GetAsDouble((p * 2 * h + oy) * 2 * w + ox),
                  xv[static_cast<size_t>((p * h + oy / 2) * w + ox / 2)]);
  EXPECT_FALSE(
      RunOne("Resize", {{"x", x}, {"", Tensor()}, {"sc", F({4}, {1, 1, 1e30f, 2})}}, 1).ok());
  EXPECT_FALSE(RunOne("Resize", {{"x", x}, {"", Tensor()}, {"sc", F({3}, {1, 1, 2})}}, 1).ok());
}

TEST(OpsIndex, EinsumMatmulPathMatchesNaive) {
  const int64_t b = 3, m = 17, k = 11, nn = 19;
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> av(static_cast<size_t>(b * m * k)), bv(static_cast<size_t>(b * nn * k));
  for (auto& v : av) v = u(rng);
  for (auto& v : bv) v = u(rng);
  auto r = RunOne("Einsum", {{"a", F({b, m, k}, av)}, {"b", F({b, nn, k}, bv)}}, 1,
                  [](onnx::NodeProto* nd) { SetStr(nd, "equation", "bmk,bnk->bnm"); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < nn; ++j)
      for (int64_t p = 0; p < m; ++p) {
        double s = 0;
        for (int64_t q = 0; q < k; ++q) s += av[(i * m + p) * k + q] * bv[(i * nn + j) * k + q];
        ASSERT_NEAR((*r)[0].GetAsDouble((i * nn + j) * m + p), s, 1e-4);
      }
  EXPECT_FALSE(RunOne("Einsum", {{"a", F({2, 3}, {1, 2, 3, 4, 5, 6})}}, 1, [](onnx::NodeProto* nd) {
                 SetStr(nd, "equation", "ijk->i");
               }).ok());
}

}  // namespace
}  // namespace mlos::graph
