// Engine session tests: loading errors, numerics of a small graph against a hand-computed
// reference, plan reuse across runs and shapes, concurrent runs, input validation.
#include "graph/session.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <random>
#include <thread>

#include "unit/onnx_graph_builder.h"

namespace mlos::graph {
namespace {

using test::AddFloatInitializer;
using test::AddNode;
using test::AddValue;

// y = relu(x @ W + b) * 2 + x[:, :3]; x is [batch, 4], W is 4x3.
std::string MakeModel(const std::string& extra_op = "") {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("t");
  std::vector<float> w(12);
  for (int i = 0; i < 12; ++i) w[i] = 0.1f * static_cast<float>(i) - 0.5f;
  AddFloatInitializer(g, "W", {4, 3}, w);
  AddFloatInitializer(g, "b", {3}, {0.1f, -0.2f, 0.3f});
  AddFloatInitializer(g, "two", {}, {2.f});
  auto* st = g->add_initializer();
  st->set_name("starts");
  st->set_data_type(onnx::TensorProto::INT64);
  st->add_dims(1);
  st->add_int64_data(0);
  auto* en = g->add_initializer();
  en->CopyFrom(*st);
  en->set_name("ends");
  en->set_int64_data(0, 3);
  auto* ax = g->add_initializer();
  ax->CopyFrom(*st);
  ax->set_name("axes");
  ax->set_int64_data(0, 1);
  AddValue(g->add_input(), "x", {"batch", "4"});
  AddValue(g->add_output(), "y", {"batch", "3"});
  AddNode(g, "MatMul", {"x", "W"}, {"mm"});
  AddNode(g, "Add", {"mm", "b"}, {"lin"});
  AddNode(g, "Relu", {"lin"}, {"act"});
  AddNode(g, "Mul", {"act", "two"}, {"scaled"});
  AddNode(g, "Slice", {"x", "starts", "ends", "axes"}, {"xs"});
  AddNode(g, extra_op.empty() ? "Add" : extra_op, {"scaled", "xs"}, {"y"});
  return m.SerializeAsString();
}

std::vector<float> Reference(const std::vector<float>& x, int64_t batch) {
  std::vector<float> y(static_cast<size_t>(batch * 3));
  const float b[3] = {0.1f, -0.2f, 0.3f};
  for (int64_t r = 0; r < batch; ++r) {
    for (int c = 0; c < 3; ++c) {
      float acc = b[c];
      for (int k = 0; k < 4; ++k)
        acc += x[r * 4 + k] * (0.1f * static_cast<float>(k * 3 + c) - 0.5f);
      y[r * 3 + c] = std::max(acc, 0.f) * 2.f + x[r * 4 + c];
    }
  }
  return y;
}

Tensor RandomInput(int64_t batch, std::vector<float>* values, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  values->resize(static_cast<size_t>(batch * 4));
  for (auto& v : *values) v = u(rng);
  return Tensor::FromVector<float>({batch, 4}, *values).value();
}

void ExpectNear(const Tensor& t, const std::vector<float>& want) {
  ASSERT_EQ(t.numel(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(t.GetAsDouble(static_cast<int64_t>(i)), want[i], 1e-5) << "element " << i;
  }
}

TEST(GraphSession, RunsAndMatchesReferenceAcrossShapesAndRuns) {
  ThreadPool pool(2);
  SessionOptions opts;
  opts.pool = &pool;
  auto s = Session::LoadFromBytes(MakeModel(), ".", opts);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ((*s)->inputs().size(), 1u);
  EXPECT_EQ((*s)->inputs()[0].dim_names[0], "batch");
  for (int64_t batch : {2, 5, 2, 5, 1}) {
    for (int rep = 0; rep < 2; ++rep) {  // the second run of a shape uses the arena plan
      std::vector<float> x;
      Tensor in = RandomInput(batch, &x, static_cast<unsigned>(batch * 10 + rep));
      std::vector<Tensor> out;
      RunStats stats;
      ASSERT_TRUE((*s)->Run({{"x", in}}, &out, &stats).ok());
      ASSERT_EQ(out.size(), 1u);
      EXPECT_EQ(out[0].shape(), (Shape{batch, 3}));
      ExpectNear(out[0], Reference(x, batch));
      EXPECT_GT(stats.arena_peak_bytes, 0u);
    }
  }
}

TEST(GraphSession, ConcurrentRunsAreIndependent) {
  ThreadPool pool(2);
  SessionOptions opts;
  opts.pool = &pool;
  auto s = Session::LoadFromBytes(MakeModel(), ".", opts);
  ASSERT_TRUE(s.ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        int64_t batch = 1 + (t + i) % 3;
        std::vector<float> x;
        Tensor in = RandomInput(batch, &x, static_cast<unsigned>(t * 1000 + i));
        std::vector<Tensor> out;
        if (!(*s)->Run({{"x", in}}, &out).ok()) {
          ++failures;
          continue;
        }
        auto want = Reference(x, batch);
        for (size_t k = 0; k < want.size(); ++k) {
          if (std::fabs(out[0].GetAsDouble(static_cast<int64_t>(k)) - want[k]) > 1e-5) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(GraphSession, CorruptAndTruncatedModelsFailCleanly) {
  ThreadPool pool(1);
  SessionOptions opts;
  opts.pool = &pool;
  std::string bytes = MakeModel();
  for (size_t cut : {size_t{0}, size_t{1}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 1}) {
    auto s = Session::LoadFromBytes(std::string_view(bytes).substr(0, cut), ".", opts);
    if (s.ok()) continue;  // a prefix can be a valid smaller message; it must just not crash
    EXPECT_FALSE(s.status().message().empty());
  }
  auto garbage = Session::LoadFromBytes("\xff\xff\xff\xff garbage", ".", opts);
  EXPECT_FALSE(garbage.ok());
}

TEST(GraphSession, UnsupportedOpNamesNodeOpAndOpset) {
  ThreadPool pool(1);
  SessionOptions opts;
  opts.pool = &pool;
  auto s = Session::LoadFromBytes(MakeModel("NoSuchOp"), ".", opts);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("NoSuchOp"), std::string::npos) << s.status().ToString();
  EXPECT_NE(s.status().message().find("opset 13"), std::string::npos) << s.status().ToString();
}

TEST(GraphSession, RejectsBadInputs) {
  ThreadPool pool(1);
  SessionOptions opts;
  opts.pool = &pool;
  auto s = Session::LoadFromBytes(MakeModel(), ".", opts);
  ASSERT_TRUE(s.ok());
  std::vector<Tensor> out;
  auto wrong_dim = Tensor::Zeros(DType::kFloat32, {2, 5}).value();
  EXPECT_FALSE((*s)->Run({{"x", wrong_dim}}, &out).ok());
  auto wrong_type = Tensor::Zeros(DType::kInt64, {2, 4}).value();
  EXPECT_FALSE((*s)->Run({{"x", wrong_type}}, &out).ok());
  EXPECT_FALSE((*s)->Run({}, &out).ok());
  EXPECT_FALSE((*s)->Run({{"nope", wrong_dim}}, &out).ok());
}

}  // namespace
}  // namespace mlos::graph
