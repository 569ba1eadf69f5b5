// The IPC server in-process, over real Unix sockets, with the real plugin host and the embedded
// digits model: framing errors, bad descriptors, out-of-region offsets, vanishing and
// concurrent clients, and inference results checked against the plugin host called directly.
#include "server/ipc/ipc_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include "api/remote_client.h"
#include "server/ipc/ipc_protocol.h"
#include "unit/server/digits_model_stack.h"

namespace mlos::server::ipc {
namespace {

namespace proto = mlos::ipc;

class IpcServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new testing::DigitsModelStack;
    ASSERT_NO_FATAL_FAILURE(stack_->Open("ipc-test"));
    IpcServerOptions o;
    o.socket_path = stack_->dir() + "/mlos.sock";
    o.max_payload = 8 << 20;
    o.version = "test";
    server_ = IpcServer::Start(o, stack_->models(), stack_->host()).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete stack_;
  }

  static std::string Endpoint() { return "unix://" + stack_->dir() + "/mlos.sock"; }
  static std::unique_ptr<api::IpcClient> Client() {
    auto c = api::IpcClient::Connect(Endpoint());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
  static int RawConnect() {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::string p = stack_->dir() + "/mlos.sock";
    std::memcpy(a.sun_path, p.data(), p.size());
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    return fd;
  }
  // Reads one reply frame (header + payload); false at EOF.
  static bool ReadReply(int fd, proto::FrameHeader* h, std::string* payload) {
    uint8_t hdr[proto::kHeaderSize];
    size_t got = 0;
    while (got < sizeof(hdr)) {
      ssize_t n = recv(fd, hdr + got, sizeof(hdr) - got, 0);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    if (!proto::DecodeHeader(hdr, 1 << 30, h).ok()) return false;
    payload->resize(h->payload_size);
    got = 0;
    while (got < payload->size()) {
      ssize_t n = recv(fd, payload->data() + got, payload->size() - got, 0);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return true;
  }
  static std::string Frame(proto::Op op, uint64_t id, std::string_view payload) {
    proto::FrameHeader h;
    h.opcode = static_cast<uint16_t>(op);
    h.request_id = id;
    h.payload_size = payload.size();
    uint8_t hdr[proto::kHeaderSize];
    proto::EncodeHeader(h, hdr);
    return std::string(reinterpret_cast<char*>(hdr), sizeof(hdr)) + std::string(payload);
  }
  static void ExpectHealthy() {
    auto c = Client();
    auto h = c->Health();
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(*h, "healthy");
  }
  static Tensor Pixels(int rows, float seed) {
    std::vector<float> v(static_cast<size_t>(rows) * 64);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7 + 3) % 17) * seed;
    return Tensor::FromVector<float>({rows, 64}, v).value();
  }
  static std::vector<NamedTensor> Direct(const Tensor& x) {
    std::vector<NamedTensor> out;
    auto e = stack_->models()->Find(stack_->model_id());
    EXPECT_TRUE(e->loaded()->Infer({{"pixels", x}}, &out).ok());
    return out;
  }
  static void ExpectSame(const std::vector<NamedTensor>& a, const std::vector<NamedTensor>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].first, b[i].first);
      ASSERT_EQ(a[i].second.shape(), b[i].second.shape());
      ASSERT_EQ(a[i].second.dtype(), b[i].second.dtype());
      auto ca = a[i].second.Contiguous().value(), cb = b[i].second.Contiguous().value();
      EXPECT_EQ(std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()), 0) << a[i].first;
    }
  }
  static std::shared_ptr<ShmRegion> SealedRegion(size_t size) {
    auto r = ShmRegion::Create("test", size).value();
    EXPECT_TRUE(r->Seal().ok());
    return r;
  }

  static inline testing::DigitsModelStack* stack_;
  static inline IpcServer* server_;
};

TEST_F(IpcServerTest, HealthStatsAndModels) {
  auto c = Client();
  EXPECT_EQ(c->Health().value(), "healthy");
  EXPECT_NE(c->StatsJson().value().find("\"ipc\""), std::string::npos);
  EXPECT_NE(c->ModelListJson().value().find(stack_->model_id()), std::string::npos);
  auto d = c->ModelInfo(stack_->model_id());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, "ready");
  ASSERT_EQ(d->inputs.size(), 1u);
  EXPECT_EQ(d->inputs[0].name, "pixels");
  EXPECT_EQ(c->ModelInfo("nope/nope").status().code(), StatusCode::kNotFound);
  // Training operations need a training service; this server has none.
  EXPECT_EQ(c->Call(proto::Op::kTrainStart, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(c->Call(static_cast<proto::Op>(0x7777), "").code(), StatusCode::kUnimplemented);
}

TEST_F(IpcServerTest, InferenceInlineAndSharedMemoryMatchTheHost) {
  auto c = Client();
  Tensor x = Pixels(3, 0.5f);
  auto want = Direct(x);
  auto got = c->Infer(stack_->model_id(), {{"pixels", x}});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSame(*got, want);
  // Large input (goes through the scratch region) and an input in a caller's region.
  Tensor big = Pixels(2000, 0.25f);
  auto r = c->Infer(stack_->model_id(), {{"pixels", big}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSame(*r, Direct(big));
  auto region = ShmRegion::Create("in", 4096 + big.nbytes()).value();
  auto st = Storage::FromShm(region, 4096, big.nbytes()).value();
  Tensor in_shm = Tensor::FromStorage(st, DType::kFloat32, {2000, 64}).value();
  ASSERT_TRUE(in_shm.CopyFrom(big).ok());
  r = c->Infer(stack_->model_id(), {{"pixels", in_shm}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSame(*r, Direct(big));
  // Outputs that are still held keep their region; a second call must not overwrite them.
  auto first = c->Infer(stack_->model_id(), {{"pixels", x}}).value();
  auto second = c->Infer(stack_->model_id(), {{"pixels", Pixels(3, 2.0f)}}).value();
  ExpectSame(first, want);
  ExpectSame(second, Direct(Pixels(3, 2.0f)));
}

TEST_F(IpcServerTest, BadInferenceRequestsAreRefused) {
  auto c = Client();
  auto region = SealedRegion(1 << 16);
  uint32_t id = c->RegisterRegion(region, "r").value();
  auto infer = [&](auto fill) {
    std::string p;
    proto::Writer w(&p);
    w.Str(stack_->model_id());
    w.U32(1);
    fill(&w);
    return c->Call(proto::Op::kInfer, p);
  };
  auto head = [](proto::Writer* w, int64_t rows) {
    proto::WriteTensorHead(w, "pixels", DType::kFloat32, {rows, 64});
  };
  // In bounds: fine.
  EXPECT_TRUE(infer([&](proto::Writer* w) {
                head(w, 2);
                proto::WriteTensorShm(w, id, 0, 512);
                w->U8(0);
              }).ok());
  // Past the end, offset overflow, unknown region, misaligned offset.
  EXPECT_EQ(infer([&](proto::Writer* w) {
              head(w, 2);
              proto::WriteTensorShm(w, id, (1 << 16) - 256, 512);
              w->U8(0);
            }).code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(infer([&](proto::Writer* w) {
              head(w, 2);
              proto::WriteTensorShm(w, id, UINT64_MAX - 100, 512);
              w->U8(0);
            }).code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(infer([&](proto::Writer* w) {
              head(w, 2);
              proto::WriteTensorShm(w, id + 100, 0, 512);
              w->U8(0);
            }).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(infer([&](proto::Writer* w) {
              head(w, 2);
              proto::WriteTensorShm(w, id, 2, 512);
              w->U8(0);
            }).code(),
            StatusCode::kInvalidArgument);
  // Output window outside the region.
  EXPECT_EQ(infer([&](proto::Writer* w) {
              head(w, 2);
              proto::WriteTensorShm(w, id, 0, 512);
              w->U8(1);
              w->U32(id);
              w->U64(1 << 15);
              w->U64(1 << 16);
            }).code(),
            StatusCode::kOutOfRange);
  // Trailing garbage, a wrong shape for the model, an unknown model.
  EXPECT_FALSE(infer([&](proto::Writer* w) {
                 head(w, 2);
                 proto::WriteTensorShm(w, id, 0, 512);
                 w->U8(0);
                 w->U32(5);
               }).ok());
  EXPECT_FALSE(infer([&](proto::Writer* w) {
                 proto::WriteTensorHead(w, "pixels", DType::kFloat32, {2, 63});
                 proto::WriteTensorShm(w, id, 0, 504);
                 w->U8(0);
               }).ok());
  EXPECT_TRUE(c->Health().ok());  // the connection survived every refusal
  EXPECT_TRUE(c->UnregisterRegion(id).ok());
  EXPECT_EQ(c->UnregisterRegion(id).code(), StatusCode::kNotFound);
}

TEST_F(IpcServerTest, BadDescriptorsAreRefused) {
  auto c = Client();
  auto reg = [&](int fd, uint64_t size) {
    std::string p;
    proto::Writer w(&p);
    w.Str("bad");
    w.U64(size);
    w.U8(1);
    return c->Call(proto::Op::kShmRegister, p, fd);
  };
  // No descriptor at all.
  EXPECT_EQ(reg(-1, 4096).code(), StatusCode::kInvalidArgument);
  // A pipe, /dev/null, an unsealed memfd, a sealed memfd smaller than claimed, size 0.
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  EXPECT_FALSE(reg(pipefd[0], 4096).ok());
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  EXPECT_FALSE(reg(devnull, 4096).ok());
  int mfd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ASSERT_EQ(ftruncate(mfd, 4096), 0);
  EXPECT_EQ(reg(mfd, 4096).code(), StatusCode::kFailedPrecondition);
  auto small = SealedRegion(4096);
  EXPECT_FALSE(reg(small->fd(), 8192).ok());
  EXPECT_FALSE(reg(small->fd(), 0).ok());
  EXPECT_TRUE(reg(small->fd(), 4096).ok());
  close(pipefd[0]);
  close(pipefd[1]);
  close(devnull);
  close(mfd);
  EXPECT_TRUE(c->Health().ok());
}

TEST_F(IpcServerTest, MalformedFramesCloseOnlyThatConnection) {
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    int fd = RawConnect();
    std::string junk(1 + rng() % 300, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    if (i % 3 == 0) junk.replace(0, 4, "MLOS");  // right magic, garbage after it
    ASSERT_GT(send(fd, junk.data(), junk.size(), MSG_NOSIGNAL), 0);
    shutdown(fd, SHUT_WR);
    proto::FrameHeader h;
    std::string payload;
    // Either an error reply or a closed connection; never a crash.
    while (ReadReply(fd, &h, &payload)) {
    }
    close(fd);
  }
  ExpectHealthy();
}

TEST_F(IpcServerTest, OversizedAndTruncatedFrames) {
  {
    int fd = RawConnect();
    proto::FrameHeader h;
    h.opcode = static_cast<uint16_t>(proto::Op::kHealth);
    h.request_id = 5;
    h.payload_size = uint64_t{1} << 40;
    uint8_t hdr[proto::kHeaderSize];
    proto::EncodeHeader(h, hdr);
    ASSERT_EQ(send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL), 32);
    proto::FrameHeader r;
    std::string payload;
    ASSERT_TRUE(ReadReply(fd, &r, &payload));
    EXPECT_TRUE(r.flags & proto::kFlagError);
    EXPECT_EQ(r.status, static_cast<uint32_t>(StatusCode::kResourceExhausted));
    EXPECT_EQ(r.request_id, 5u);
    EXPECT_FALSE(ReadReply(fd, &r, &payload));  // then closed
    close(fd);
  }
  // A client that vanishes mid-header and mid-payload.
  for (size_t cut : {size_t{10}, size_t{40}}) {
    int fd = RawConnect();
    std::string p(1000, 'x');
    std::string f = Frame(proto::Op::kInfer, 1, p);
    ASSERT_GT(send(fd, f.data(), cut, MSG_NOSIGNAL), 0);
    close(fd);
  }
  ExpectHealthy();
}

TEST_F(IpcServerTest, PipelinedRequestsAnsweredInOrder) {
  int fd = RawConnect();
  std::string all;
  for (uint64_t id = 1; id <= 20; ++id) {
    all += Frame(id % 2 ? proto::Op::kHealth : proto::Op::kModelList, id, "");
  }
  ASSERT_EQ(send(fd, all.data(), all.size(), MSG_NOSIGNAL), static_cast<ssize_t>(all.size()));
  for (uint64_t id = 1; id <= 20; ++id) {
    proto::FrameHeader h;
    std::string payload;
    ASSERT_TRUE(ReadReply(fd, &h, &payload));
    EXPECT_EQ(h.request_id, id);
    EXPECT_FALSE(h.flags & proto::kFlagError);
  }
  close(fd);
}

TEST_F(IpcServerTest, SixtyFourConcurrentClients) {
  Tensor x = Pixels(4, 1.0f);
  auto want = Direct(x);
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 64; ++i) {
    ts.emplace_back([&, i] {
      auto c = api::IpcClient::Connect(Endpoint());
      if (!c.ok()) return;
      bool good = true;
      for (int k = 0; k < 10; ++k) {
        auto r = (*c)->Infer(stack_->model_id(), {{"pixels", x}});
        if (!r.ok() || r->size() != want.size()) {
          good = false;
          break;
        }
        auto a = (*r)[1].second.Contiguous().value();
        auto b = want[1].second.Contiguous().value();
        good = good && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
      }
      if (i % 8 == 0) {
        // Some clients disappear with a request half sent.
        int fd = RawConnect();
        std::string f = Frame(proto::Op::kInfer, 1, std::string(500, 'z'));
        (void)send(fd, f.data(), 100, MSG_NOSIGNAL);
        close(fd);
      }
      if (good) ok.fetch_add(1);
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 64);
  ExpectHealthy();
}

}  // namespace
}  // namespace mlos::server::ipc
