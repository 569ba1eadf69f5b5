// Session::RunInto: graph outputs written straight into caller memory. Placement is proven by
// pointer identity (raw_data() == the bound address); every answer, placed or not, is compared
// with a reference computed here by plain loops. Fallbacks: capacity too small, misaligned
// address, view outputs, bindings overlapping an input or each other, integer outputs in shared
// memory.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "graph/session.h"
#include "unit/onnx_graph_builder.h"

namespace mlos::graph {
namespace {

using test::AddNode;
using test::AddValue;

float Weight(int k, int c) { return 0.25f * static_cast<float>(k * 3 + c) - 1.0f; }

// x: float[n, 4]. Outputs in order:
//   y = Relu(x @ W + b)   [n, 3]  computed by a kernel that allocates it
//   z = Neg(y)            [n, 3]  reads the graph output y
//   v = Identity(x)       [n, 4]  a view of the input
//   i = ArgMax(y, axis 1) [n]     int64
std::string MakeModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("bind");
  auto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->add_dims(3);
  for (int k = 0; k < 4; ++k) {
    for (int c = 0; c < 3; ++c) w->add_float_data(Weight(k, c));
  }
  auto* b = g->add_initializer();
  b->set_name("b");
  b->set_data_type(onnx::TensorProto::FLOAT);
  b->add_dims(3);
  for (float f : {0.5f, -0.25f, 0.125f}) b->add_float_data(f);
  AddValue(g->add_input(), "x", {"n", "4"});
  AddValue(g->add_output(), "y", {"n", "3"});
  AddValue(g->add_output(), "z", {"n", "3"});
  AddValue(g->add_output(), "v", {"n", "4"});
  AddValue(g->add_output(), "i", {"n"}, onnx::TensorProto::INT64);
  AddNode(g, "MatMul", {"x", "W"}, {"mm"});
  AddNode(g, "Add", {"mm", "b"}, {"lin"});
  AddNode(g, "Relu", {"lin"}, {"y"});
  AddNode(g, "Neg", {"y"}, {"z"});
  AddNode(g, "Identity", {"x"}, {"v"});
  auto* am = AddNode(g, "ArgMax", {"y"}, {"i"});
  auto* axis = am->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(1);
  auto* keep = am->add_attribute();
  keep->set_name("keepdims");
  keep->set_type(onnx::AttributeProto::INT);
  keep->set_i(0);
  return m.SerializeAsString();
}

struct Reference {
  std::vector<float> y, z;
  std::vector<int64_t> i;
};

Reference Compute(const std::vector<float>& x, int64_t n) {
  const float b[3] = {0.5f, -0.25f, 0.125f};
  Reference r;
  for (int64_t row = 0; row < n; ++row) {
    int64_t best = 0;
    for (int c = 0; c < 3; ++c) {
      float acc = b[c];
      for (int k = 0; k < 4; ++k) acc += x[static_cast<size_t>(row * 4 + k)] * Weight(k, c);
      const float y = std::max(acc, 0.f);
      r.y.push_back(y);
      r.z.push_back(-y);
      if (y > r.y[static_cast<size_t>(row * 3 + best)]) best = c;
    }
    r.i.push_back(best);
  }
  return r;
}

void ExpectFloats(const Tensor& t, const std::vector<float>& want, const char* what) {
  ASSERT_EQ(t.numel(), static_cast<int64_t>(want.size())) << what;
  for (size_t k = 0; k < want.size(); ++k) {
    EXPECT_NEAR(t.GetAsDouble(static_cast<int64_t>(k)), want[k], 1e-5) << what << " element " << k;
  }
}

class OutputBindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SessionOptions opts;
    opts.pool = &pool_;
    auto s = Session::LoadFromBytes(MakeModel(), ".", opts);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    session_ = std::move(s).value();
    ASSERT_EQ(session_->outputs().size(), 4u);
  }

  Tensor Input(int64_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-2.f, 2.f);
    x_.resize(static_cast<size_t>(n * 4));
    for (auto& v : x_) v = u(rng);
    return Tensor::FromVector<float>({n, 4}, x_).value();
  }

  // Checks every output against the reference for the last Input().
  void ExpectCorrect(const std::vector<Tensor>& out, int64_t n) {
    ASSERT_EQ(out.size(), 4u);
    const Reference r = Compute(x_, n);
    ExpectFloats(out[0], r.y, "y");
    ExpectFloats(out[1], r.z, "z");
    ExpectFloats(out[2], x_, "v");
    ASSERT_EQ(out[3].numel(), n);
    for (int64_t k = 0; k < n; ++k) EXPECT_EQ(out[3].data<int64_t>()[k], r.i[k]) << "i " << k;
  }

  ThreadPool pool_{2};
  std::unique_ptr<Session> session_;
  std::vector<float> x_;
};

// 64-byte aligned scratch standing in for a client region.
struct Buffer {
  explicit Buffer(size_t n) : bytes(n + 128, 0xCD) {}
  uint8_t* at(size_t off) {
    const auto base = reinterpret_cast<uintptr_t>(bytes.data());
    return bytes.data() + ((64 - base % 64) % 64) + off;
  }
  std::vector<uint8_t> bytes;
};

TEST_F(OutputBindingTest, KernelOutputsAreWrittenInPlaceOnEveryRun) {
  const int64_t n = 5;
  Buffer buf(1024);
  auto owner = std::make_shared<int>(7);
  std::vector<OutputBinding> b(2);
  b[0] = {buf.at(0), 3 * n * sizeof(float), owner};
  b[1] = {buf.at(256), 3 * n * sizeof(float), owner};
  // The first run of a signature records the memory plan, the next ones use it.
  for (int run = 0; run < 3; ++run) {
    std::vector<Tensor> out;
    ASSERT_TRUE(
        session_->RunInto({{"x", Input(n, 10u + static_cast<unsigned>(run))}}, b, &out).ok());
    ExpectCorrect(out, n);
    EXPECT_EQ(out[0].raw_data(), buf.at(0)) << "run " << run;
    EXPECT_EQ(out[1].raw_data(), buf.at(256)) << "run " << run;
    EXPECT_GE(owner.use_count(), 3) << "the placed outputs keep the owner alive";
    // The reference values are in the caller's bytes themselves.
    const Reference r = Compute(x_, n);
    const auto* placed = reinterpret_cast<const float*>(buf.at(0));
    for (size_t k = 0; k < r.y.size(); ++k) EXPECT_NEAR(placed[k], r.y[k], 1e-5);
  }
  b.clear();
  EXPECT_EQ(owner.use_count(), 1) << "nothing keeps the owner once the outputs are gone";
  // Bytes past the output were not touched.
  EXPECT_EQ(buf.at(3 * n * sizeof(float))[0], 0xCD);
}

TEST_F(OutputBindingTest, PlainRunIsUnchangedAndBindingsAreOptional) {
  std::vector<Tensor> out;
  ASSERT_TRUE(session_->Run({{"x", Input(3, 1)}}, &out).ok());
  ExpectCorrect(out, 3);
  std::vector<OutputBinding> none;
  ASSERT_TRUE(session_->RunInto({{"x", Input(3, 2)}}, none, &out).ok());
  ExpectCorrect(out, 3);
  std::vector<OutputBinding> unbound(4);  // data == nullptr everywhere
  ASSERT_TRUE(session_->RunInto({{"x", Input(3, 3)}}, unbound, &out).ok());
  ExpectCorrect(out, 3);
}

TEST_F(OutputBindingTest, TooSmallOrMisalignedBindingsFallBack) {
  const int64_t n = 4;
  Buffer buf(1024);
  std::vector<OutputBinding> b(2);
  b[0] = {buf.at(0), 3 * n * sizeof(float) - 1, nullptr};  // one byte short
  b[1] = {buf.at(258), 3 * n * sizeof(float), nullptr};    // not float-aligned
  for (int run = 0; run < 2; ++run) {
    std::vector<Tensor> out;
    ASSERT_TRUE(
        session_->RunInto({{"x", Input(n, 20u + static_cast<unsigned>(run))}}, b, &out).ok());
    ExpectCorrect(out, n);
    EXPECT_NE(out[0].raw_data(), buf.at(0));
    EXPECT_NE(out[1].raw_data(), buf.at(258));
  }
  EXPECT_EQ(buf.at(0)[0], 0xCD) << "a refused binding is not written";
  EXPECT_EQ(buf.at(258)[0], 0xCD);
  // The same shapes with room enough are placed (the cached plan does not stand in the way).
  b[0].capacity += 1;
  b[1].data = buf.at(256);
  std::vector<Tensor> out;
  ASSERT_TRUE(session_->RunInto({{"x", Input(n, 22)}}, b, &out).ok());
  ExpectCorrect(out, n);
  EXPECT_EQ(out[0].raw_data(), buf.at(0));
  EXPECT_EQ(out[1].raw_data(), buf.at(256));
}

TEST_F(OutputBindingTest, ViewOutputsAreNotPlaced) {
  const int64_t n = 3;
  Buffer buf(1024);
  std::vector<OutputBinding> b(3);
  b[2] = {buf.at(0), 4 * n * sizeof(float), nullptr};
  std::vector<Tensor> out;
  Tensor in = Input(n, 30);
  ASSERT_TRUE(session_->RunInto({{"x", in}}, b, &out).ok());
  ExpectCorrect(out, n);
  EXPECT_NE(out[2].raw_data(), buf.at(0));
  EXPECT_EQ(buf.at(0)[0], 0xCD);
}

TEST_F(OutputBindingTest, IntegerOutputsArePlacedOnlyInPrivateMemory) {
  const int64_t n = 6;
  Buffer buf(1024);
  std::vector<OutputBinding> b(4);
  b[3] = {buf.at(64), n * sizeof(int64_t), nullptr};
  std::vector<Tensor> out;
  ASSERT_TRUE(session_->RunInto({{"x", Input(n, 40)}}, b, &out).ok());
  ExpectCorrect(out, n);
  EXPECT_NE(out[3].raw_data(), buf.at(64)) << "shared memory: indices are not placed";
  b[3].private_memory = true;
  ASSERT_TRUE(session_->RunInto({{"x", Input(n, 41)}}, b, &out).ok());
  ExpectCorrect(out, n);
  EXPECT_EQ(out[3].raw_data(), buf.at(64));
}

TEST_F(OutputBindingTest, BindingsOverlappingAnInputOrEachOtherFallBack) {
  const int64_t n = 8;
  // The input lives in the same buffer as the bindings.
  Buffer buf(4096);
  Input(n, 50);
  std::memcpy(buf.at(0), x_.data(), x_.size() * sizeof(float));
  Tensor in = Tensor::FromStorage(Storage::Wrap(buf.at(0), x_.size() * sizeof(float), nullptr),
                                  DType::kFloat32, {n, 4})
                  .value();
  std::vector<OutputBinding> b(2);
  b[0] = {buf.at(64), 3 * n * sizeof(float), nullptr};    // inside the input's 128 bytes
  b[1] = {buf.at(1024), 3 * n * sizeof(float), nullptr};  // clear of everything
  std::vector<Tensor> out;
  ASSERT_TRUE(session_->RunInto({{"x", in}}, b, &out).ok());
  ExpectCorrect(out, n);
  EXPECT_NE(out[0].raw_data(), buf.at(64));
  EXPECT_EQ(out[1].raw_data(), buf.at(1024));
  // Two bindings on the same bytes: the first wins, the second falls back.
  b[0] = {buf.at(2048), 3 * n * sizeof(float), nullptr};
  b[1] = {buf.at(2048 + 32), 3 * n * sizeof(float), nullptr};
  ASSERT_TRUE(session_->RunInto({{"x", in}}, b, &out).ok());
  ExpectCorrect(out, n);
  EXPECT_EQ(out[0].raw_data(), buf.at(2048));
  EXPECT_NE(out[1].raw_data(), buf.at(2048 + 32));
}

TEST_F(OutputBindingTest, ShapesChangeBetweenRuns) {
  Buffer buf(4096);
  std::vector<OutputBinding> b(1);
  b[0] = {buf.at(0), 3 * 10 * sizeof(float), nullptr};
  for (int64_t n : {2, 10, 11, 1, 10}) {
    std::vector<Tensor> out;
    ASSERT_TRUE(session_->RunInto({{"x", Input(n, static_cast<unsigned>(60 + n))}}, b, &out).ok());
    ExpectCorrect(out, n);
    EXPECT_EQ(out[0].raw_data() == buf.at(0), n <= 10) << "n " << n;
  }
}

}  // namespace
}  // namespace mlos::graph
