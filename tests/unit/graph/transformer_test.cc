// Transformer-path tests of the engine: a self-attention block written the way torch.onnx
// exports it (shape arithmetic around every Reshape, a causal mask built from the sequence
// length, baddbmm-style `* 1.0` factors) must fuse into mlos::Attention, skip its
// signature-static steps on planned runs, and match an unfused reference session across
// sequence lengths and repeated runs; Gemm with a constant (packed) B against a hand reference.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "graph/session.h"
#include "graph/session_values.h"
#include "unit/onnx_graph_builder.h"

namespace mlos::graph {
namespace {

using test::AddFloatInitializer;
using test::AddInt64Initializer;
using test::AddNode;
using test::AddValue;
using test::SetFloatAttr;
using test::SetIntAttr;
using test::SetIntsAttr;

constexpr int64_t kModel = 8, kHeads = 2, kHead = 4;

std::vector<float> Random(size_t n, std::mt19937& rng, float scale = 0.5f) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// y = LayerNorm(x + SelfAttention(x)) with a causal mask; x is [b, t, 8], 2 heads of 4.
std::string AttentionBlock() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("block");
  std::mt19937 rng(3);
  for (const char* p : {"q", "k", "v"}) {
    AddFloatInitializer(g, std::string("W") + p, {kModel, kModel}, Random(kModel * kModel, rng));
    AddFloatInitializer(g, std::string("b") + p, {kModel}, Random(kModel, rng));
  }
  AddFloatInitializer(g, "gamma", {kModel}, Random(kModel, rng, 1.f));
  AddFloatInitializer(g, "beta", {kModel}, Random(kModel, rng));
  AddFloatInitializer(g, "one", {}, {1.f});
  AddFloatInitializer(g, "sqrt_d", {}, {2.f});
  AddInt64Initializer(g, "i0", {0}, true);
  AddInt64Initializer(g, "i1", {1}, true);
  AddInt64Initializer(g, "ax0", {0});
  AddInt64Initializer(g, "heads", {kHeads});
  AddInt64Initializer(g, "head", {kHead});
  AddInt64Initializer(g, "model", {kModel});
  AddValue(g->add_input(), "x", {"b", "t", "8"});
  AddValue(g->add_output(), "y", {"b", "t", "8"});
  // Shape arithmetic, as torch exports it.
  AddNode(g, "Shape", {"x"}, {"sh"});
  AddNode(g, "Gather", {"sh", "i0"}, {"b"});
  AddNode(g, "Gather", {"sh", "i1"}, {"t"});
  AddNode(g, "Unsqueeze", {"b", "ax0"}, {"b1"});
  AddNode(g, "Unsqueeze", {"t", "ax0"}, {"t1"});
  AddNode(g, "Concat", {"b1", "t1", "heads", "head"}, {"split_shape"});
  AddNode(g, "Concat", {"b1", "t1", "model"}, {"merge_shape"});
  AddNode(g, "Concat", {"t1", "t1"}, {"tt"});
  auto* cos = AddNode(g, "ConstantOfShape", {"tt"}, {"neg_inf"});
  {
    auto* a = cos->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
    a->mutable_t()->add_dims(1);
    a->mutable_t()->add_float_data(-std::numeric_limits<float>::infinity());
  }
  AddInt64Initializer(g, "k1", {1}, true);
  SetIntAttr(AddNode(g, "Trilu", {"neg_inf", "k1"}, {"mask"}), "upper", 1);
  // Projections and heads.
  for (const char* p : {"q", "k", "v"}) {
    const std::string s = p;
    AddNode(g, "MatMul", {"x", "W" + s}, {s + "_mm"});
    AddNode(g, "Add", {s + "_mm", "b" + s}, {s + "_lin"});
    AddNode(g, "Reshape", {s + "_lin", "split_shape"}, {s + "_heads"});
  }
  SetIntsAttr(AddNode(g, "Transpose", {"q_heads"}, {"qt"}), "perm", {0, 2, 1, 3});
  SetIntsAttr(AddNode(g, "Transpose", {"k_heads"}, {"kt"}), "perm", {0, 2, 3, 1});
  SetIntsAttr(AddNode(g, "Transpose", {"v_heads"}, {"vt"}), "perm", {0, 2, 1, 3});
  AddNode(g, "Div", {"qt", "sqrt_d"}, {"qs"});
  AddNode(g, "MatMul", {"qs", "kt"}, {"scores"});
  AddNode(g, "Mul", {"scores", "one"}, {"scores1"});
  AddNode(g, "Mul", {"mask", "one"}, {"mask1"});
  AddNode(g, "Add", {"scores1", "mask1"}, {"masked"});
  SetIntAttr(AddNode(g, "Softmax", {"masked"}, {"probs"}), "axis", -1);
  AddNode(g, "MatMul", {"probs", "vt"}, {"ctx"});
  SetIntsAttr(AddNode(g, "Transpose", {"ctx"}, {"ctx_t"}), "perm", {0, 2, 1, 3});
  AddNode(g, "Reshape", {"ctx_t", "merge_shape"}, {"attn"});
  AddNode(g, "Add", {"x", "attn"}, {"res"});
  auto* ln = AddNode(g, "LayerNormalization", {"res", "gamma", "beta"}, {"y"});
  SetIntAttr(ln, "axis", -1);
  SetFloatAttr(ln, "epsilon", 1e-5f);
  return m.SerializeAsString();
}

std::unique_ptr<Session> Load(const std::string& bytes, ThreadPool& pool, bool optimize) {
  SessionOptions opts;
  opts.pool = &pool;
  opts.optimize = optimize;
  auto s = Session::LoadFromBytes(bytes, ".", opts);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(Transformer, AttentionBlockFusesAndMatchesUnfusedAcrossRuns) {
  ThreadPool pool(2);
  const std::string model = AttentionBlock();
  auto fused = Load(model, pool, true);
  ASSERT_NE(fused, nullptr);
  int attention = 0, softmax = 0;
  for (const auto& n : SessionGraph(*fused)->nodes) {
    attention += n.op_type == "Attention" && n.domain == "mlos";
    softmax += n.op_type == "Softmax";
  }
  EXPECT_EQ(attention, 1);
  EXPECT_EQ(softmax, 0);
  std::mt19937 rng(9);
  for (int64_t t : {5, 13, 5, 1, 13, 37, 5}) {
    for (int rep = 0; rep < 2; ++rep) {
      SCOPED_TRACE("t " + std::to_string(t) + " rep " + std::to_string(rep));
      const int64_t b = 2;
      Tensor x =
          Tensor::FromVector<float>({b, t, kModel}, Random(b * t * kModel, rng, 1.f)).value();
      std::vector<Tensor> got, want;
      OpProfile profile;
      RunStats stats;
      stats.profile = &profile;
      ASSERT_TRUE(fused->Run({{"x", x}}, &got, &stats).ok());
      // A fresh unoptimised session: its one run computes every node.
      auto ref = Load(model, pool, false);
      ASSERT_NE(ref, nullptr);
      ASSERT_TRUE(ref->Run({{"x", x}}, &want).ok());
      ASSERT_EQ(got[0].shape(), want[0].shape());
      for (int64_t i = 0; i < want[0].numel(); ++i)
        ASSERT_NEAR(got[0].GetAsDouble(i), want[0].GetAsDouble(i), 1e-4) << "element " << i;
      if (rep == 1) {
        // Planned run: the shape arithmetic and the mask come from the signature's cache.
        EXPECT_EQ(profile.ops.count("Shape"), 0u);
        EXPECT_EQ(profile.ops.count("Trilu"), 0u);
        EXPECT_EQ(profile.ops.count("ConstantOfShape"), 0u);
        EXPECT_EQ(profile.ops["mlos::Attention"].calls, 1);
      }
    }
  }
}

// torch.nn.MultiheadAttention's export (sequence-first): one fused QKV projection [t, b, 24]
// split by three Slices whose bounds come from shape arithmetic, heads split by Reshape (whose
// shapes read Shape of the K and V slices) and Transposes. With `k_reader`, a Relu also reads the
// K slice, so that slice must stay a contiguous copy.
std::string FusedQkvBlock(bool k_reader) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("qkv");
  std::mt19937 rng(5);
  AddFloatInitializer(g, "Wqkv", {kModel, 3 * kModel}, Random(3 * kModel * kModel, rng));
  AddFloatInitializer(g, "bqkv", {3 * kModel}, Random(3 * kModel, rng));
  AddFloatInitializer(g, "sqrt_d", {}, {2.f});
  AddInt64Initializer(g, "i0", {0}, true);
  AddInt64Initializer(g, "i1", {1}, true);
  AddInt64Initializer(g, "i2", {2}, true);
  AddInt64Initializer(g, "three", {3}, true);
  AddInt64Initializer(g, "two", {2}, true);
  AddInt64Initializer(g, "heads_s", {kHeads}, true);
  AddInt64Initializer(g, "ax0", {0});
  AddInt64Initializer(g, "last", {-1});
  AddInt64Initializer(g, "zero1", {0});
  AddInt64Initializer(g, "head", {kHead});
  AddInt64Initializer(g, "model", {kModel});
  AddValue(g->add_input(), "x", {"t", "b", "8"});
  AddValue(g->add_output(), "y", {"t", "b", "8"});
  if (k_reader) AddValue(g->add_output(), "k_relu", {"t", "b", "8"});
  AddNode(g, "MatMul", {"x", "Wqkv"}, {"qkv_mm"});
  AddNode(g, "Add", {"bqkv", "qkv_mm"}, {"qkv"});
  AddNode(g, "Shape", {"qkv"}, {"qkv_sh"});
  AddNode(g, "Gather", {"qkv_sh", "i2"}, {"width"});
  AddNode(g, "Div", {"width", "three"}, {"third"});
  AddNode(g, "Unsqueeze", {"third", "ax0"}, {"e1"});
  AddNode(g, "Mul", {"third", "two"}, {"third2"});
  AddNode(g, "Unsqueeze", {"third2", "ax0"}, {"e2"});
  AddNode(g, "Mul", {"third", "three"}, {"third3"});
  AddNode(g, "Unsqueeze", {"third3", "ax0"}, {"e3"});
  AddNode(g, "Slice", {"qkv", "zero1", "e1", "last"}, {"q_s"});
  AddNode(g, "Slice", {"qkv", "e1", "e2", "last"}, {"k_s"});
  AddNode(g, "Slice", {"qkv", "e2", "e3", "last"}, {"v_s"});
  AddNode(g, "Shape", {"x"}, {"x_sh"});
  AddNode(g, "Gather", {"x_sh", "i1"}, {"b"});
  AddNode(g, "Mul", {"b", "heads_s"}, {"bh"});
  AddNode(g, "Unsqueeze", {"bh", "ax0"}, {"bh1"});
  for (const char* p : {"q", "k", "v"}) {
    const std::string s = p;
    AddNode(g, "Shape", {s + "_s"}, {s + "_sh"});
    AddNode(g, "Gather", {s + "_sh", "i0"}, {s + "_t"});
    AddNode(g, "Unsqueeze", {s + "_t", "ax0"}, {s + "_t1"});
    AddNode(g, "Concat", {s + "_t1", "bh1", "head"}, {s + "_shape"});
    AddNode(g, "Reshape", {s + "_s", s + "_shape"}, {s + "_heads"});
  }
  if (k_reader) AddNode(g, "Relu", {"k_s"}, {"k_relu"});
  SetIntsAttr(AddNode(g, "Transpose", {"q_heads"}, {"qt"}), "perm", {1, 0, 2});
  SetIntsAttr(AddNode(g, "Transpose", {"k_heads"}, {"kt"}), "perm", {1, 2, 0});
  SetIntsAttr(AddNode(g, "Transpose", {"v_heads"}, {"vt"}), "perm", {1, 0, 2});
  AddNode(g, "Div", {"qt", "sqrt_d"}, {"qs"});
  AddNode(g, "MatMul", {"qs", "kt"}, {"scores"});
  SetIntAttr(AddNode(g, "Softmax", {"scores"}, {"probs"}), "axis", -1);
  AddNode(g, "MatMul", {"probs", "vt"}, {"ctx"});
  SetIntsAttr(AddNode(g, "Transpose", {"ctx"}, {"ctx_t"}), "perm", {1, 0, 2});
  AddNode(g, "Unsqueeze", {"q_t", "ax0"}, {"t_1"});
  AddNode(g, "Concat", {"t_1", "last", "model"}, {"merge_shape"});
  AddNode(g, "Reshape", {"ctx_t", "merge_shape"}, {"y"});
  for (int i = 0; i < g->node_size(); ++i) {
    if (g->node(i).op_type() == "Concat") SetIntAttr(g->mutable_node(i), "axis", 0);
  }
  return m.SerializeAsString();
}

TEST(Transformer, FusedQkvSlicesAreReadInPlaceAndMatchUnfused) {
  for (bool k_reader : {false, true}) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE("k_reader " + std::to_string(k_reader) + " threads " + std::to_string(threads));
      ThreadPool pool(threads);
      const std::string model = FusedQkvBlock(k_reader);
      auto fused = Load(model, pool, true);
      ASSERT_NE(fused, nullptr);
      int attention = 0;
      std::map<std::string, int64_t> strided;
      for (const auto& n : SessionGraph(*fused)->nodes) {
        attention += n.op_type == "Attention" && n.domain == "mlos";
        if (n.op_type == "Slice") strided[n.outputs[0]] = n.GetInt("mlos_strided_output", 0);
      }
      EXPECT_EQ(attention, 1);
      EXPECT_EQ(strided["q_s"], 1);
      EXPECT_EQ(strided["k_s"], k_reader ? 0 : 1);
      EXPECT_EQ(strided["v_s"], 1);
      std::mt19937 rng(11);
      for (int64_t t : {5, 13, 1, 37, 5}) {
        for (int64_t b : {1, 3}) {
          for (int rep = 0; rep < 2; ++rep) {
            SCOPED_TRACE("t " + std::to_string(t) + " b " + std::to_string(b));
            Tensor x =
                Tensor::FromVector<float>({t, b, kModel}, Random(t * b * kModel, rng, 1.f)).value();
            std::vector<Tensor> got, want;
            Status st = fused->Run({{"x", x}}, &got);
            ASSERT_TRUE(st.ok()) << st.ToString();
            auto ref = Load(model, pool, false);
            ASSERT_NE(ref, nullptr);
            st = ref->Run({{"x", x}}, &want);
            ASSERT_TRUE(st.ok()) << st.ToString();
            ASSERT_EQ(got.size(), want.size());
            for (size_t o = 0; o < want.size(); ++o) {
              ASSERT_EQ(got[o].shape(), want[o].shape());
              for (int64_t i = 0; i < want[o].numel(); ++i)
                ASSERT_NEAR(got[o].GetAsDouble(i), want[o].GetAsDouble(i), 1e-4)
                    << "output " << o << " element " << i;
            }
          }
        }
      }
    }
  }
}

// Gemm(A, B constant, C) for every transpose/alpha/beta/C-shape combination, on both sides of
// the row count from which the packed copy of B is used.
TEST(Transformer, GemmWithConstantBMatchesReference) {
  ThreadPool pool(2);
  std::mt19937 rng(4);
  const int64_t k = 37, n = 45;
  for (int64_t m : {3, 40}) {
    for (int ta = 0; ta < 2; ++ta) {
      for (int tb = 0; tb < 2; ++tb) {
        for (int c_kind = 0; c_kind < 3; ++c_kind) {  // none, [n] bias, [m, n]
          SCOPED_TRACE("m " + std::to_string(m) + " ta " + std::to_string(ta) + " tb " +
                       std::to_string(tb) + " c " + std::to_string(c_kind));
          const float alpha = 0.75f, beta = c_kind == 2 ? 0.5f : 1.f;
          onnx::ModelProto mp;
          mp.set_ir_version(8);
          mp.add_opset_import()->set_version(13);
          auto* g = mp.mutable_graph();
          g->set_name("gemm");
          const std::vector<float> bv = Random(k * n, rng), cv = Random(m * n, rng);
          AddFloatInitializer(g, "B", tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n},
                              bv);
          std::vector<std::string> ins = {"A", "B"};
          if (c_kind == 1)
            AddFloatInitializer(g, "C", {n}, std::vector<float>(cv.begin(), cv.begin() + n));
          if (c_kind == 2) AddFloatInitializer(g, "C", {m, n}, cv);
          if (c_kind > 0) ins.push_back("C");
          AddValue(g->add_input(), "A",
                   ta ? std::vector<std::string>{std::to_string(k), "m"}
                      : std::vector<std::string>{"m", std::to_string(k)});
          AddValue(g->add_output(), "Y", {"m", std::to_string(n)});
          auto* node = AddNode(g, "Gemm", ins, {"Y"});
          SetIntAttr(node, "transA", ta);
          SetIntAttr(node, "transB", tb);
          SetFloatAttr(node, "alpha", alpha);
          SetFloatAttr(node, "beta", beta);
          auto s = Load(mp.SerializeAsString(), pool, true);
          ASSERT_NE(s, nullptr);
          const std::vector<float> av = Random(m * k, rng);
          Tensor a = Tensor::FromVector<float>(ta ? Shape{k, m} : Shape{m, k}, av).value();
          for (int rep = 0; rep < 2; ++rep) {
            std::vector<Tensor> out;
            ASSERT_TRUE(s->Run({{"A", a}}, &out).ok());
            for (int64_t i = 0; i < m; ++i) {
              for (int64_t j = 0; j < n; ++j) {
                double acc = 0;
                for (int64_t p = 0; p < k; ++p)
                  acc += static_cast<double>(ta ? av[p * m + i] : av[i * k + p]) *
                         (tb ? bv[j * k + p] : bv[p * n + j]);
                double want = alpha * acc;
                if (c_kind == 1) want += beta * cv[j];
                if (c_kind == 2) want += beta * cv[i * n + j];
                ASSERT_NEAR(out[0].GetAsDouble(i * n + j), want, 1e-4) << i << "," << j;
              }
            }
          }
        }
      }
    }
  }
}

// Add -> LayerNormalization fuses into mlos::AddLayerNormalization, also when the Add
// broadcasts (the op then adds first) and not when the sum has a second reader; the result
// matches an unoptimised session.
TEST(Transformer, ResidualAddLayerNormFusesAndMatchesUnfused) {
  ThreadPool pool(2);
  std::mt19937 rng(5);
  for (int second_reader = 0; second_reader < 2; ++second_reader) {
    for (int64_t r_rows : {int64_t{1}, int64_t{0}}) {  // 0: r has x's shape
      SCOPED_TRACE("second_reader " + std::to_string(second_reader) + " r_rows " +
                   std::to_string(r_rows));
      const int64_t t = 9;
      onnx::ModelProto m;
      m.set_ir_version(8);
      m.add_opset_import()->set_version(17);
      auto* g = m.mutable_graph();
      g->set_name("addln");
      AddFloatInitializer(g, "gamma", {kModel}, Random(kModel, rng, 1.f));
      AddFloatInitializer(g, "beta", {kModel}, Random(kModel, rng, 1.f));
      AddValue(g->add_input(), "x", {std::to_string(t), std::to_string(kModel)});
      AddValue(g->add_input(), "r",
               {std::to_string(r_rows == 0 ? t : r_rows), std::to_string(kModel)});
      AddValue(g->add_output(), "y", {std::to_string(t), std::to_string(kModel)});
      AddNode(g, "Add", {"x", "r"}, {"sum"});
      auto* ln = AddNode(g, "LayerNormalization", {"sum", "gamma", "beta"}, {"y"});
      SetFloatAttr(ln, "epsilon", 1e-5f);
      if (second_reader) {
        AddValue(g->add_output(), "z", {std::to_string(t), std::to_string(kModel)});
        AddNode(g, "Relu", {"sum"}, {"z"});
      }
      const std::string model = m.SerializeAsString();
      auto fused = Load(model, pool, true);
      auto ref = Load(model, pool, false);
      ASSERT_NE(fused, nullptr);
      ASSERT_NE(ref, nullptr);
      int add_ln = 0;
      for (const auto& n : SessionGraph(*fused)->nodes)
        add_ln += n.op_type == "AddLayerNormalization" && n.domain == "mlos";
      EXPECT_EQ(add_ln, second_reader ? 0 : 1);
      for (int rep = 0; rep < 2; ++rep) {
        Tensor x = Tensor::FromVector<float>({t, kModel}, Random(t * kModel, rng, 3.f)).value();
        const int64_t rr = r_rows == 0 ? t : r_rows;
        Tensor r = Tensor::FromVector<float>({rr, kModel}, Random(rr * kModel, rng, 3.f)).value();
        std::vector<Tensor> got, want;
        ASSERT_TRUE(fused->Run({{"x", x}, {"r", r}}, &got).ok());
        ASSERT_TRUE(ref->Run({{"x", x}, {"r", r}}, &want).ok());
        ASSERT_EQ(got[0].shape(), want[0].shape());
        for (int64_t i = 0; i < want[0].numel(); ++i)
          ASSERT_NEAR(got[0].GetAsDouble(i), want[0].GetAsDouble(i), 1e-4) << "element " << i;
      }
    }
  }
}

}  // namespace
}  // namespace mlos::graph
