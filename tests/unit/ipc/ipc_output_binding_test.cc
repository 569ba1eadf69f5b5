// INFER with an output window: the engine computes the float output straight into the client's
// region (pointer identity inside the server, through a recording plugin host), the reply points
// at it, and outputs that cannot be placed (the int64 label is a view; windows too small,
// misaligned or overlapping the input) are copied or sent inline with the same answers as the
// plugin host called directly. Model: the embedded digits MLP (probabilities float32 [batch, 10]
// from Softmax, label int64 [batch] from a Reshape).
#include <gtest/gtest.h>

#include <cstring>

#include "api/remote_client.h"
#include "server/ipc/ipc_protocol.h"
#include "server/ipc/ipc_server.h"
#include "unit/server/digits_model_stack.h"

namespace mlos::server::ipc {
namespace {

namespace proto = mlos::ipc;

class IpcOutputBindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(stack_.Open("ipc-bind"));
    IpcServerOptions o;
    o.socket_path = stack_.dir() + "/mlos.sock";
    o.max_payload = 8 << 20;
    o.version = "test";
    server_ = IpcServer::Start(o, stack_.models(), stack_.host()).value();
    client_ = api::IpcClient::Connect("unix://" + stack_.dir() + "/mlos.sock").value();
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
  }

  static Tensor Pixels(int rows) {
    std::vector<float> v(static_cast<size_t>(rows) * 64);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 5 + 1) % 17);
    return Tensor::FromVector<float>({rows, 64}, v).value();
  }
  std::vector<NamedTensor> Direct(const Tensor& x) {
    std::vector<NamedTensor> out;
    EXPECT_TRUE(
        stack_.models()->Find(stack_.model_id())->loaded()->Infer({{"pixels", x}}, &out).ok());
    return out;
  }

  struct Out {
    std::string name;
    proto::Location location;
    uint64_t offset = 0, nbytes = 0;
    std::string bytes;  // the tensor's bytes, read from the window or the reply
  };
  // INFER with `x` inline (or in `in_region` at `in_offset`) and the output window
  // [window_offset, window_offset + capacity) of `window`.
  std::vector<Out> Infer(const Tensor& x, const std::shared_ptr<ShmRegion>& window,
                         uint32_t window_id, uint64_t window_offset, uint64_t capacity,
                         int64_t in_offset = -1) {
    std::string p;
    proto::Writer w(&p);
    w.Str(stack_.model_id());
    w.U32(1);
    proto::WriteTensorHead(&w, "pixels", DType::kFloat32, x.shape());
    if (in_offset >= 0) {
      std::memcpy(static_cast<uint8_t*>(window->data()) + in_offset, x.raw_data(), x.nbytes());
      proto::WriteTensorShm(&w, window_id, static_cast<uint64_t>(in_offset), x.nbytes());
    } else {
      proto::WriteTensorInline(&w, 0, x.raw_data(), x.nbytes());
    }
    w.U8(1);
    w.U32(window_id);
    w.U64(window_offset);
    w.U64(capacity);
    Status s = client_->Call(proto::Op::kInfer, p);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<Out> outs;
    if (!s.ok()) return outs;
    std::string_view reply = client_->reply();
    proto::Reader r(reinterpret_cast<const uint8_t*>(reply.data()), reply.size());
    int64_t us = 0;
    uint32_t n = 0;
    r.I64(&us);
    r.I64(&us);
    r.U32(&n);
    for (uint32_t i = 0; i < n; ++i) {
      proto::TensorDesc d;
      EXPECT_TRUE(proto::ReadTensorDesc(&r, &d).ok());
      Out o{std::string(d.name), d.location, d.offset, d.nbytes, {}};
      if (d.location == proto::Location::kShm) {
        EXPECT_EQ(d.region, window_id);
        EXPECT_TRUE(window->CheckRange(d.offset, d.nbytes).ok());
        o.bytes.assign(static_cast<const char*>(window->data()) + d.offset, d.nbytes);
      } else {
        o.bytes.assign(reinterpret_cast<const char*>(d.data), d.nbytes);
      }
      outs.push_back(std::move(o));
    }
    return outs;
  }
  static void ExpectBytes(const Out& o, const NamedTensor& want) {
    EXPECT_EQ(o.name, want.first);
    ASSERT_EQ(o.bytes.size(), want.second.nbytes()) << o.name;
    Tensor c = want.second.Contiguous().value();
    EXPECT_EQ(std::memcmp(o.bytes.data(), c.raw_data(), c.nbytes()), 0) << o.name;
  }
  // The server-side address of window offset `off` (the binding's owner is the server's
  // mapping of the client's region).
  static const uint8_t* ServerAddress(const testing::InferRecord& rec, size_t i, uint64_t off) {
    auto* region = static_cast<const ShmRegion*>(rec.bindings[i].owner.get());
    return static_cast<const uint8_t*>(region->data()) + off;
  }

  testing::DigitsModelStack stack_;  // destroyed after the server and client below
  std::unique_ptr<IpcServer> server_;
  std::unique_ptr<api::IpcClient> client_;
};

TEST_F(IpcOutputBindingTest, FloatOutputIsComputedInTheClientsWindow) {
  auto region = ShmRegion::Create("out", 1 << 16).value();
  const uint32_t id = client_->RegisterRegion(region, "out").value();
  for (int rows : {3, 7, 3}) {  // the first run of a shape records its plan, the next reuse it
    Tensor x = Pixels(rows);
    const auto want = Direct(x);
    std::memset(region->data(), 0xEE, region->size());
    stack_.host()->Clear();
    auto outs = Infer(x, region, id, 128, 4096);
    ASSERT_EQ(outs.size(), 2u);
    ExpectBytes(outs[0], want[0]);
    ExpectBytes(outs[1], want[1]);
    ASSERT_EQ(outs[0].location, proto::Location::kShm);
    ASSERT_EQ(outs[1].location, proto::Location::kShm);
    EXPECT_EQ(outs[0].offset, 128u) << "the float output starts the window";
    EXPECT_GE(outs[1].offset, outs[0].offset + outs[0].nbytes) << "the copied label follows it";
    EXPECT_EQ(outs[1].offset % 64, 0u);
    // Inside the server: the engine's output tensor is the client's region at that offset.
    const testing::InferRecord rec = stack_.host()->Last();
    ASSERT_EQ(rec.bindings.size(), 2u);
    ASSERT_EQ(rec.outputs.size(), 2u);
    EXPECT_EQ(rec.outputs[0], ServerAddress(rec, 0, outs[0].offset)) << "rows " << rows;
    EXPECT_EQ(rec.outputs[0], rec.bindings[0].data);
    EXPECT_EQ(rec.bindings[1].data, nullptr) << "an output after a dynamic one is not bound";
    EXPECT_NE(rec.outputs[1], ServerAddress(rec, 0, outs[1].offset));
  }
}

TEST_F(IpcOutputBindingTest, WindowsThatCannotHoldTheOutputFallBack) {
  auto region = ShmRegion::Create("out", 1 << 16).value();
  const uint32_t id = client_->RegisterRegion(region, "out").value();
  Tensor x = Pixels(4);
  const auto want = Direct(x);
  // 64 bytes: too small for 4x10 floats (160 bytes); the 32-byte label still fits.
  auto outs = Infer(x, region, id, 0, 64);
  ASSERT_EQ(outs.size(), 2u);
  ExpectBytes(outs[0], want[0]);
  ExpectBytes(outs[1], want[1]);
  EXPECT_EQ(outs[0].location, proto::Location::kInline);
  EXPECT_EQ(outs[1].location, proto::Location::kShm);
  EXPECT_EQ(outs[1].offset, 0u);
  testing::InferRecord rec = stack_.host()->Last();
  EXPECT_NE(rec.outputs[0], rec.bindings[0].data);
  // A window at an offset that is not float-aligned: computed elsewhere, copied in.
  outs = Infer(x, region, id, 130, 4096);
  ASSERT_EQ(outs.size(), 2u);
  ExpectBytes(outs[0], want[0]);
  ExpectBytes(outs[1], want[1]);
  EXPECT_EQ(outs[0].location, proto::Location::kShm);
  EXPECT_EQ(outs[0].offset, 130u);
  rec = stack_.host()->Last();
  EXPECT_NE(rec.outputs[0], rec.bindings[0].data);
}

TEST_F(IpcOutputBindingTest, AWindowOverlappingTheInputIsNotWrittenDuringTheRun) {
  auto region = ShmRegion::Create("io", 1 << 16).value();
  ASSERT_TRUE(region->Seal().ok());
  const uint32_t id = client_->RegisterRegion(region, "io").value();
  Tensor x = Pixels(5);
  const auto want = Direct(x);
  // The input at 0..1280 and the window over it: the engine must not compute there.
  auto outs = Infer(x, region, id, 0, 8192, /*in_offset=*/0);
  ASSERT_EQ(outs.size(), 2u);
  ExpectBytes(outs[0], want[0]);
  ExpectBytes(outs[1], want[1]);
  const testing::InferRecord rec = stack_.host()->Last();
  EXPECT_NE(rec.outputs[0], rec.bindings[0].data);
  // A window after the input in the same region is used.
  outs = Infer(x, region, id, 4096, 4096, /*in_offset=*/0);
  ASSERT_EQ(outs.size(), 2u);
  ExpectBytes(outs[0], want[0]);
  ExpectBytes(outs[1], want[1]);
  const testing::InferRecord rec2 = stack_.host()->Last();
  EXPECT_EQ(rec2.outputs[0], ServerAddress(rec2, 0, 4096));
}

TEST_F(IpcOutputBindingTest, TheRemoteClientGetsTheSameAnswers) {
  // api::IpcClient passes a pooled output window (at least 1 MiB) with every call; the
  // probabilities land in it uncopied.
  for (int i = 0; i < 3; ++i) {
    Tensor x = Pixels(2 + i);
    const auto want = Direct(x);
    auto got = client_->Infer(stack_.model_id(), {{"pixels", x}});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), 2u);
    for (size_t k = 0; k < 2; ++k) {
      ASSERT_EQ((*got)[k].second.nbytes(), want[k].second.nbytes());
      Tensor c = want[k].second.Contiguous().value();
      EXPECT_EQ(std::memcmp((*got)[k].second.raw_data(), c.raw_data(), c.nbytes()), 0);
    }
    const testing::InferRecord rec = stack_.host()->Last();
    ASSERT_FALSE(rec.bindings.empty());
    EXPECT_EQ(rec.outputs[0], rec.bindings[0].data) << "call " << i;
  }
}

}  // namespace
}  // namespace mlos::server::ipc
