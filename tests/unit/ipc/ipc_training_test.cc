// The IPC training operations (0x40..0x45) through a real Unix socket against an in-memory
// TrainingService: the JSON shapes, the state errors, and malformed payloads (truncated
// strings, trailing bytes, bad JSON, unknown keys, oversized ids) failing that request only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "api/remote_client.h"
#include "runtime/training_service.h"
#include "server/ipc/ipc_protocol.h"
#include "server/ipc/ipc_server.h"
#include "unit/ipc/fake_training.h"

namespace mlos::server::ipc {
namespace {

namespace proto = mlos::ipc;
namespace fs = std::filesystem;
using training::SessionState;

std::string OneStr(std::string_view s) {
  std::string p;
  proto::Writer(&p).Str(s);
  return p;
}

class IpcTrainingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mlos-ipc-training-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void StartServer(runtime::TrainingService* training) {
    IpcServerOptions o;
    o.socket_path = dir_ + "/mlos.sock";
    o.version = "test";
    auto s = IpcServer::Start(o, nullptr, nullptr, training);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }
  std::unique_ptr<api::IpcClient> Client() {
    auto c = api::IpcClient::Connect("unix://" + dir_ + "/mlos.sock");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
  // The reply's JSON parsed back into a session.
  static runtime::TrainingSessionInfo Session(const std::string& json) {
    auto s = runtime::ParseTrainingSession(json);
    EXPECT_TRUE(s.ok()) << s.status().ToString() << " in " << json;
    return s.ok() ? *s : runtime::TrainingSessionInfo{};
  }

  static inline int counter_ = 0;
  std::string dir_;
  std::unique_ptr<IpcServer> server_;
  testing::FakeTrainingService fake_;
};

TEST_F(IpcTrainingTest, StartControlStatusList) {
  StartServer(&fake_);
  auto c = Client();
  auto started = c->Training(
      proto::Op::kTrainStart,
      R"({"model":"/m/mlp.pt","dataset":"/d/digits.csv","config":{"epochs":3,"seed":7},)"
      R"("register_as":"digits-trained"})");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  runtime::TrainingSessionInfo s = Session(*started);
  EXPECT_EQ(s.status.id, "train-1");
  EXPECT_EQ(s.status.state, SessionState::kRunning);
  EXPECT_EQ(s.model, "/m/mlp.pt");
  // The request reached the service as parsed by the shared codec.
  EXPECT_EQ(fake_.last_request.config.epochs, 3);
  EXPECT_EQ(fake_.last_request.config.seed, 7u);
  EXPECT_EQ(fake_.last_request.register_as, "digits-trained");

  auto paused = c->Training(proto::Op::kTrainPause, "train-1");
  ASSERT_TRUE(paused.ok()) << paused.status().ToString();
  EXPECT_EQ(Session(*paused).status.state, SessionState::kPaused);
  // Pausing twice is a state error, not a crash; the connection keeps serving.
  EXPECT_EQ(c->Training(proto::Op::kTrainPause, "train-1").status().code(),
            StatusCode::kFailedPrecondition);
  auto resumed = c->Training(proto::Op::kTrainResume, "train-1");
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(Session(*resumed).status.state, SessionState::kRunning);
  fake_.Set("train-1", SessionState::kRunning, 42);
  auto status = c->Training(proto::Op::kTrainStatus, "train-1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(Session(*status).status.step, 42);
  auto stopped = c->Training(proto::Op::kTrainStop, "train-1");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(Session(*stopped).status.state, SessionState::kStopped);
  EXPECT_EQ(c->Training(proto::Op::kTrainStop, "train-1").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(c->Training(proto::Op::kTrainResume, "train-1").status().code(),
            StatusCode::kFailedPrecondition);

  ASSERT_TRUE(c->Training(proto::Op::kTrainStart, R"({"model":"b.pt","dataset":"d"})").ok());
  auto list = c->Training(proto::Op::kTrainList, {});
  ASSERT_TRUE(list.ok());
  EXPECT_NE(list->find("\"total\":2"), std::string::npos) << *list;
  EXPECT_NE(list->find("\"train-2\""), std::string::npos) << *list;
}

TEST_F(IpcTrainingTest, UnknownIdsAndBadRequestsFailThatRequestOnly) {
  StartServer(&fake_);
  auto c = Client();
  for (proto::Op op : {proto::Op::kTrainPause, proto::Op::kTrainResume, proto::Op::kTrainStop,
                       proto::Op::kTrainStatus}) {
    auto r = c->Training(op, "train-99");
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << proto::OpName(static_cast<uint16_t>(op));
    EXPECT_NE(r.status().message().find("train-99"), std::string::npos);
  }
  struct Case {
    const char* json;
    const char* needle;  // the error names what is wrong
  };
  for (const Case& k :
       {Case{"", "JSON"}, Case{"{", "JSON"}, Case{"[1,2]", "object"},
        Case{R"({"model":"m.pt"})", "dataset"},
        Case{R"({"model":"m.pt","dataset":"d","colour":"red"})", "colour"},
        Case{R"({"model":"m.pt","dataset":"d","config":{"optimiser":"sgd"}})", "optimiser"},
        Case{R"({"model":"m.pt","dataset":"d","config":{"batch_size":-4}})", "batch_size"},
        Case{R"({"model":7,"dataset":"d"})", "model"}}) {
    auto r = c->Training(proto::Op::kTrainStart, k.json);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << k.json;
    EXPECT_NE(r.status().message().find(k.needle), std::string::npos)
        << k.json << " -> " << r.status().message();
  }
  // The service's own errors come back with their code.
  EXPECT_EQ(c->Training(proto::Op::kTrainStart, R"({"model":"missing.pt","dataset":"d"})")
                .status()
                .code(),
            StatusCode::kNotFound);
  // Malformed payloads: no string, a length past the end, trailing bytes, an empty id, an id
  // over the limit, a payload on list.
  EXPECT_EQ(c->Call(proto::Op::kTrainStatus, "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Call(proto::Op::kTrainStart, "").code(), StatusCode::kInvalidArgument);
  std::string truncated;
  proto::Writer(&truncated).U32(1000);
  truncated += "abc";
  EXPECT_EQ(c->Call(proto::Op::kTrainStatus, truncated).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Call(proto::Op::kTrainStop, OneStr("train-1") + "xx").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Call(proto::Op::kTrainPause, OneStr("")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Call(proto::Op::kTrainStatus, OneStr(std::string(5000, 'x'))).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Call(proto::Op::kTrainList, "junk").code(), StatusCode::kInvalidArgument);
  std::string nul_id = OneStr(std::string("train-1\0zz", 10));
  EXPECT_EQ(c->Call(proto::Op::kTrainStatus, nul_id).code(), StatusCode::kNotFound);
  // Unassigned opcodes in the training range are unknown.
  EXPECT_EQ(c->Call(static_cast<proto::Op>(0x4f), "").code(), StatusCode::kUnimplemented);
  // After all that the connection still serves.
  auto h = c->Health();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_TRUE(c->Training(proto::Op::kTrainList, {}).ok());
}

TEST_F(IpcTrainingTest, WithoutAServiceTrainingIsUnavailable) {
  StartServer(nullptr);
  auto c = Client();
  for (proto::Op op : {proto::Op::kTrainStart, proto::Op::kTrainPause, proto::Op::kTrainResume,
                       proto::Op::kTrainStop, proto::Op::kTrainStatus, proto::Op::kTrainList}) {
    auto r = c->Training(op, "x");
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  }
  EXPECT_TRUE(c->Health().ok());
}

}  // namespace
}  // namespace mlos::server::ipc
