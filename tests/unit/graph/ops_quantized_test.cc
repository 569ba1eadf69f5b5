// Edge cases of the loss, quantized and random operators that the ONNX suite does not cover:
// MatMulInteger / QLinearMatMul / ConvInteger on sizes that exercise every tile remainder
// against naive integer references (constant and non-constant weights), per-row/column zero
// points, out-of-range NLL targets failing cleanly, and Bernoulli/RandomUniformLike seeds and
// statistics (the suite's expected values for those come from numpy's global RNG).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <array>
#include <cmath>
#include <random>

#include "graph/session.h"

namespace mlos::graph {
namespace {

struct Io {
  std::string name;
  int elem;  // onnx::TensorProto::DataType
  std::vector<int64_t> dims;
  bool has_shape = true;
};

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset) {
    m_.set_ir_version(8);
    m_.add_opset_import()->set_version(opset);
    m_.mutable_graph()->set_name("t");
  }
  void Input(const Io& io) { Fill(m_.mutable_graph()->add_input(), io); }
  void Output(const Io& io) { Fill(m_.mutable_graph()->add_output(), io); }
  onnx::NodeProto* Node(const std::string& op, const std::vector<std::string>& in,
                        const std::vector<std::string>& out) {
    auto* n = m_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(op);
    for (const auto& s : in) n->add_input(s);
    for (const auto& s : out) n->add_output(s);
    return n;
  }
  void Initializer(const std::string& name, int elem, const std::vector<int64_t>& dims,
                   const std::string& raw) {
    auto* t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(elem);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(raw);
  }
  Result<std::unique_ptr<Session>> Load(ThreadPool& pool) {
    SessionOptions o;
    o.pool = &pool;
    return Session::LoadFromBytes(m_.SerializeAsString(), ".", o);
  }

 private:
  static void Fill(onnx::ValueInfoProto* vi, const Io& io) {
    vi->set_name(io.name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(io.elem);
    if (!io.has_shape) return;
    for (int64_t d : io.dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  onnx::ModelProto m_;
};

template <typename T>
Tensor Random(Shape shape, std::mt19937& rng, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<T>(d(rng));
  return Tensor::FromVector<T>(shape, v).value();
}

constexpr int kU8 = onnx::TensorProto::UINT8;
constexpr int kI8 = onnx::TensorProto::INT8;
constexpr int kI32 = onnx::TensorProto::INT32;
constexpr int kI64 = onnx::TensorProto::INT64;
constexpr int kF32 = onnx::TensorProto::FLOAT;

// MatMulInteger with uint8 A (per-row zero point) and int8 B (per-column zero point).
void CheckMatMulInteger(int64_t m, int64_t k, int64_t n, bool constant_b) {
  ThreadPool pool(2);
  std::mt19937 rng(static_cast<unsigned>(m * 131 + k * 7 + n));
  Tensor a = Random<uint8_t>({m, k}, rng, 0, 255);
  Tensor b = Random<int8_t>({k, n}, rng, -128, 127);
  Tensor azp = Random<uint8_t>({m}, rng, 0, 255);
  Tensor bzp = Random<int8_t>({n}, rng, -128, 127);
  ModelBuilder mb(10);
  mb.Input({"A", kU8, {m, k}});
  mb.Input({"azp", kU8, {m}});
  if (constant_b) {
    mb.Initializer("B", kI8, {k, n},
                   std::string(static_cast<const char*>(b.raw_data()), b.nbytes()));
    mb.Initializer("bzp", kI8, {n},
                   std::string(static_cast<const char*>(bzp.raw_data()), bzp.nbytes()));
  } else {
    mb.Input({"B", kI8, {k, n}});
    mb.Input({"bzp", kI8, {n}});
  }
  mb.Output({"Y", kI32, {m, n}});
  mb.Node("MatMulInteger", {"A", "B", "azp", "bzp"}, {"Y"});
  auto s = mb.Load(pool);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<NamedTensor> in{{"A", a}, {"azp", azp}};
  if (!constant_b) {
    in.push_back({"B", b});
    in.push_back({"bzp", bzp});
  }
  std::vector<Tensor> out;
  ASSERT_TRUE((*s)->Run(in, &out).ok());
  const auto* pa = a.data<uint8_t>();
  const auto* pb = b.data<int8_t>();
  const int32_t* py = out[0].data<int32_t>();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t ref = 0;
      for (int64_t q = 0; q < k; ++q) {
        ref += (int64_t{pa[i * k + q]} - azp.data<uint8_t>()[i]) *
               (int64_t{pb[q * n + j]} - bzp.data<int8_t>()[j]);
      }
      ASSERT_EQ(py[i * n + j], ref)
          << "m=" << m << " k=" << k << " n=" << n << " at " << i << "," << j;
    }
  }
}

TEST(OpsQuantized, MatMulIntegerMatchesNaive) {
  for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{
           {1, 1, 1}, {3, 5, 7}, {4, 16, 16}, {5, 17, 33}, {37, 64, 20}, {70, 129, 47}}) {
    CheckMatMulInteger(m, k, n, false);
    CheckMatMulInteger(m, k, n, true);
  }
}

TEST(OpsQuantized, QLinearMatMulInt8Saturates) {
  ThreadPool pool(2);
  ModelBuilder mb(10);
  // a (1x2) int8 = [100, 100], b (2x1) = [100, 100], scales 1: 20000 saturates to 127.
  mb.Initializer("a", kI8, {1, 2}, std::string("\x64\x64", 2));
  mb.Initializer("b", kI8, {2, 1}, std::string("\x64\x64", 2));
  float one = 1.f;
  std::string f1(reinterpret_cast<const char*>(&one), 4);
  mb.Initializer("s", kF32, {}, f1);
  mb.Initializer("z", kI8, {}, std::string("\0", 1));
  mb.Input({"dummy", kF32, {1}});
  mb.Output({"y", kI8, {1, 1}});
  mb.Node("QLinearMatMul", {"a", "s", "z", "b", "s", "z", "s", "z"}, {"y"});
  mb.Node("Identity", {"dummy"}, {"unused"});
  auto s = mb.Load(pool);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<Tensor> out;
  Status st = (*s)->Run({{"dummy", Tensor::Scalar<float>(0.f).Reshape({1}).value()}}, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(out[0].data<int8_t>()[0], 127);
}

TEST(OpsQuantized, ConvIntegerMatchesNaive) {
  ThreadPool pool(2);
  std::mt19937 rng(5);
  const int64_t c = 4, h = 9, w = 7, mo = 6, kh = 3, kw = 2, group = 2;
  Tensor x = Random<uint8_t>({1, c, h, w}, rng, 0, 255);
  Tensor wt = Random<int8_t>({mo, c / group, kh, kw}, rng, -128, 127);
  ModelBuilder mb(10);
  mb.Input({"x", kU8, {1, c, h, w}});
  mb.Input({"w", kI8, {mo, c / group, kh, kw}});
  mb.Initializer("xz", kU8, {}, std::string("\x07", 1));
  mb.Output({"y", kI32, {}, false});
  auto* n = mb.Node("ConvInteger", {"x", "w", "xz"}, {"y"});
  auto* a = n->add_attribute();
  a->set_name("group");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(group);
  a = n->add_attribute();
  a->set_name("pads");
  a->set_type(onnx::AttributeProto::INTS);
  for (int v : {1, 0, 1, 1}) a->add_ints(v);
  a = n->add_attribute();
  a->set_name("strides");
  a->set_type(onnx::AttributeProto::INTS);
  for (int v : {2, 1}) a->add_ints(v);
  auto s = mb.Load(pool);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<Tensor> out;
  Status st = (*s)->Run({{"x", x}, {"w", wt}}, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const int64_t oh = (h + 2 - kh) / 2 + 1, ow = (w + 1 - kw) + 1;
  ASSERT_EQ(out[0].shape(), (Shape{1, mo, oh, ow}));
  const auto* px = x.data<uint8_t>();
  const auto* pw = wt.data<int8_t>();
  for (int64_t m = 0; m < mo; ++m) {
    const int64_t g = m / (mo / group);
    for (int64_t i = 0; i < oh; ++i) {
      for (int64_t j = 0; j < ow; ++j) {
        int64_t ref = 0;
        for (int64_t cc = 0; cc < c / group; ++cc) {
          for (int64_t u = 0; u < kh; ++u) {
            for (int64_t v = 0; v < kw; ++v) {
              const int64_t yi = i * 2 - 1 + u, xi = j - 0 + v;
              if (yi < 0 || yi >= h || xi < 0 || xi >= w) continue;
              const int64_t ch = g * (c / group) + cc;
              ref += (int64_t{px[(ch * h + yi) * w + xi]} - 7) *
                     int64_t{pw[((m * (c / group) + cc) * kh + u) * kw + v]};
            }
          }
        }
        ASSERT_EQ(out[0].data<int32_t>()[(m * oh + i) * ow + j], ref) << m << " " << i << " " << j;
      }
    }
  }
}

TEST(OpsLosses, NllOutOfRangeTargetFails) {
  ThreadPool pool(1);
  ModelBuilder mb(13);
  mb.Input({"x", kF32, {2, 3}});
  mb.Input({"t", kI64, {2}});
  mb.Output({"y", kF32, {}});
  mb.Node("NegativeLogLikelihoodLoss", {"x", "t"}, {"y"});
  auto s = mb.Load(pool);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Tensor x = Tensor::Zeros(DType::kFloat32, {2, 3}).value();
  for (int64_t bad : {int64_t{3}, int64_t{-1}, int64_t{1} << 40}) {
    Tensor t = Tensor::FromVector<int64_t>({2}, std::vector<int64_t>{0, bad}).value();
    std::vector<Tensor> out;
    Status st = (*s)->Run({{"x", x}, {"t", t}}, &out);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("out of range"), std::string::npos) << st.ToString();
  }
}

TEST(OpsRandom, BernoulliSeedAndStatistics) {
  ThreadPool pool(1);
  ModelBuilder mb(15);
  mb.Input({"p", kF32, {20000}});
  mb.Output({"y", kF32, {20000}});
  auto* n = mb.Node("Bernoulli", {"p"}, {"y"});
  auto* a = n->add_attribute();
  a->set_name("seed");
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(3.f);
  auto s = mb.Load(pool);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<float> p(20000);
  for (size_t i = 0; i < p.size(); ++i) p[i] = i < 10000 ? 0.25f : 0.f;
  Tensor pt = Tensor::FromVector<float>({20000}, p).value();
  std::vector<Tensor> o1, o2;
  ASSERT_TRUE((*s)->Run({{"p", pt}}, &o1).ok());
  ASSERT_TRUE((*s)->Run({{"p", pt}}, &o2).ok());
  double ones = 0;
  for (int i = 0; i < 20000; ++i) {
    const float v = o1[0].data<float>()[i];
    ASSERT_TRUE(v == 0.f || v == 1.f);
    ASSERT_EQ(v, o2[0].data<float>()[i]) << "same seed must give the same draw";
    if (i >= 10000) {
      ASSERT_EQ(v, 0.f);
    }
    ones += v;
  }
  EXPECT_NEAR(ones / 10000.0, 0.25, 0.02);
}

}  // namespace
}  // namespace mlos::graph
