// KernelAPI's training methods in remote mode, against an IPC server with an in-memory
// TrainingService: the request the daemon receives (paths made absolute, register_as lifted
// out of the config), the bool results of pause/resume/stop, and KernelError codes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "kernel_api.h"
#include "runtime/training_service.h"
#include "server/ipc/ipc_server.h"
#include "unit/ipc/fake_training.h"

namespace mlos {
namespace {

namespace fs = std::filesystem;
using training::SessionState;

class KernelApiTrainingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mlos-kapi-train-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    server::ipc::IpcServerOptions o;
    o.socket_path = dir_ + "/mlos.sock";
    auto s = server::ipc::IpcServer::Start(o, nullptr, nullptr, &fake_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    kernel_ = std::make_unique<KernelAPI>("unix://" + o.socket_path);
  }
  void TearDown() override {
    kernel_.reset();
    server_->Shutdown();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static StatusCode CodeOf(const std::function<void()>& f) {
    try {
      f();
    } catch (const KernelError& e) {
      return e.code();
    }
    return StatusCode::kOk;
  }

  std::string dir_;
  testing::FakeTrainingService fake_;
  std::unique_ptr<server::ipc::IpcServer> server_;
  std::unique_ptr<KernelAPI> kernel_;
};

TEST_F(KernelApiTrainingTest, StartBuildsTheRequestTheDaemonNeeds) {
  // A relative path that exists here is sent absolute; a name that is no file stays as is.
  const std::string rel = "mlos-kapi-train-data-" + std::to_string(getpid()) + ".csv";
  std::ofstream(rel) << "1,2,0\n";
  std::string id =
      kernel_->start_training("digits@1.0.0", rel,
                              R"({"epochs": 4, "register_as": "mine", "register_version": "2.0.0",
          "output_path": "out/model.pt"})");
  fs::remove(rel);
  EXPECT_EQ(id, "train-1");
  const runtime::TrainingRequest& r = fake_.last_request;
  EXPECT_EQ(r.model, "digits@1.0.0");
  EXPECT_EQ(r.dataset, (fs::current_path() / rel).string());
  EXPECT_EQ(r.config.epochs, 4);
  EXPECT_EQ(r.register_as, "mine");
  EXPECT_EQ(r.register_version, "2.0.0");
  EXPECT_EQ(r.config.output_path, (fs::current_path() / "out/model.pt").string());
  // The default config is "{}", and blank text counts as that.
  EXPECT_EQ(kernel_->start_training("/abs/m.pt", "/abs/d.csv"), "train-2");
  EXPECT_EQ(fake_.last_request.config.epochs, 1);
  EXPECT_EQ(kernel_->start_training("/abs/m.pt", "/abs/d.csv", "  "), "train-3");
}

TEST_F(KernelApiTrainingTest, ControlReturnsFalseOnStateConflictsAndThrowsOnUnknownIds) {
  std::string id = kernel_->start_training("/m.pt", "/d.csv");
  EXPECT_TRUE(kernel_->pause_training(id));
  EXPECT_FALSE(kernel_->pause_training(id));  // already paused
  EXPECT_NE(kernel_->get_training_status(id).find("\"state\":\"paused\""), std::string::npos);
  EXPECT_TRUE(kernel_->resume_training(id));
  EXPECT_FALSE(kernel_->resume_training(id));
  fake_.Set(id, SessionState::kRunning, 7);
  EXPECT_NE(kernel_->get_training_status(id).find("\"step\":7"), std::string::npos);
  EXPECT_FALSE(kernel_->wait_training(id, 0.15));
  EXPECT_TRUE(kernel_->stop_training(id));
  EXPECT_FALSE(kernel_->stop_training(id));
  EXPECT_TRUE(kernel_->wait_training(id, 5));
  EXPECT_NE(kernel_->list_training().find("\"total\":1"), std::string::npos);

  EXPECT_EQ(CodeOf([&] { kernel_->pause_training("train-9"); }), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { kernel_->get_training_status("train-9"); }), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { kernel_->wait_training("train-9", 1); }), StatusCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { kernel_->start_training("/m.pt", "/d.csv", "[1]"); }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { kernel_->start_training("/m.pt", "/d.csv", "{\"epoch\": 1}"); }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { kernel_->start_training("/m.pt", "/d.csv", "{\"register_as\": 1}"); }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { kernel_->start_training("", "/d.csv"); }), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { kernel_->start_training("missing.pt", "/d.csv"); }),
            StatusCode::kNotFound);
  try {
    kernel_->start_training("/m.pt", "/d.csv", "{\"optimiser\": \"sgd\"}");
    FAIL() << "no error";
  } catch (const KernelError& e) {
    EXPECT_NE(std::string(e.what()).find("optimiser"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mlos
