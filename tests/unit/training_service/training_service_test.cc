// The plugin-backed TrainingService through a PluginHost with build/plugins/libmlos_torch.so:
// start / pause / resume / stop / status; a restart of the service (destroyed and created
// again, and a child process killed with SIGKILL) continues a running session from its
// checkpoint and ends with the model of an uninterrupted run; register_as registers a version
// that the torch plugin serves; plugin selection sends TorchScript to the torch plugin.
// Fixtures: tests/unit/training/make_digits.py (scikit-learn digits, an untrained MLP).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "mlos/smi_spec.h"
#include "runtime/model_manager.h"
#include "runtime/plugin_host.h"
#include "runtime/registry_store.h"
#include "runtime/training_json.h"
#include "runtime/training_service_plugin.h"

namespace mlos::runtime {
namespace {

namespace fs = std::filesystem;
using training::SessionState;

std::string* g_fixtures = nullptr;
bool g_fixtures_ok = false;
bool g_fixtures_owned = false;

// Removes the fixture folder once every test ran (a SIGKILLed child leaves its own to us).
class FixtureCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (g_fixtures != nullptr && g_fixtures_owned) {
      std::error_code ec;
      fs::remove_all(*g_fixtures, ec);
    }
  }
};
::testing::Environment* const kCleanup = ::testing::AddGlobalTestEnvironment(new FixtureCleanup);

class TrainingServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (g_fixtures != nullptr) return;
    if (const char* given = std::getenv("MLOS_TRAINING_FIXTURES")) {  // the SIGKILL child
      g_fixtures = new std::string(given);
      g_fixtures_ok = true;
      return;
    }
    g_fixtures_owned = true;
    char tmpl[] = "/tmp/mlos_training_service_fx_XXXXXX";
    g_fixtures = new std::string(mkdtemp(tmpl));
    const std::string cmd = std::string("/usr/bin/python3 ") + MLOS_SOURCE_DIR +
                            "/tests/unit/training/make_digits.py " + *g_fixtures;
    g_fixtures_ok = std::system(cmd.c_str()) == 0;
  }

  void SetUp() override {
    ASSERT_TRUE(g_fixtures_ok) << "make_digits.py failed";
    char tmpl[] = "/tmp/mlos_training_service_XXXXXX";
    dir_ = mkdtemp(tmpl);
    host_ = MakeHost(true);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<PluginHost> MakeHost(bool with_torch) {
    PluginHostOptions o;
    o.pool = &pool_;
    o.log = [](int, std::string_view, std::string_view) {};
    auto host = std::move(CreatePluginHost(o)).value();
    if (with_torch) {
      auto r =
          host->RegisterPlugin("", "", "", std::string(MLOS_PLUGINS_DIR) + "/libmlos_torch.so");
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    }
    return host;
  }

  static std::string Fixture(const std::string& name) { return *g_fixtures + "/" + name; }

  static TrainingRequest Request(int64_t steps, int64_t checkpoint_interval) {
    TrainingRequest r;
    r.model = Fixture("mlp.pt");
    r.dataset = Fixture("digits.csv");
    r.config.optimizer = "adam";
    r.config.learning_rate = 3e-3;
    r.config.batch_size = 32;
    r.config.max_steps = steps;
    r.config.validation_split = 0.2;
    r.config.threads = 1;
    r.config.seed = 42;
    r.config.checkpoint_interval = checkpoint_interval;
    return r;
  }

  // Polls until `pred(info)` holds (the service's view refreshes about every 100 ms).
  template <typename Pred>
  static TrainingSessionInfo PollUntil(const TrainingService& s, const std::string& id, Pred pred,
                                       double timeout_s = 120) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    Result<TrainingSessionInfo> info = s.Get(id);
    while (std::chrono::steady_clock::now() < end) {
      info = s.Get(id);
      EXPECT_TRUE(info.ok()) << info.status().ToString();
      if (!info.ok() || pred(*info)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return info.ok() ? *info : TrainingSessionInfo{};
  }

  // The model's logits for the first 64 digits, through the torch plugin.
  std::vector<float> Logits(PluginHost* host, const std::string& model_path) {
    auto m =
        host->LoadModelWithMetadata("mlos-torch", "probe", model_path, "pytorch", "torchscript");
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return {};
    return Logits(m->get());
  }
  std::vector<float> Logits(LoadedModel* m) {
    std::vector<float> x(64 * 64);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 17) / 16.0f;
    std::vector<NamedTensor> in;
    in.emplace_back("input", *Tensor::FromVector<float>(Shape{64, 64}, x));
    std::vector<NamedTensor> out;
    Status s = m->Infer(in, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok() || out.size() != 1) return {};
    const float* p = out[0].second.data<float>();
    return std::vector<float>(p, p + static_cast<size_t>(out[0].second.numel()));
  }

  ThreadPool pool_{1};
  std::string dir_;
  std::unique_ptr<PluginHost> host_;
};

// Inode of a file (0 if missing): a checkpoint rewritten by a session that started over would
// get a new one (checkpoints are written to a temporary file and renamed).
ino_t Inode(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::string CheckpointFile(const std::string& data, const std::string& id, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof(name), "/ckpt-%012lld.mlosckpt", static_cast<long long>(step));
  return data + "/training/" + id + "/checkpoints" + name;
}

void ExpectClose(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4f) << i;
}

TEST_F(TrainingServiceTest, WithoutTrainingPluginStartIsUnavailable) {
  auto bare = MakeHost(false);
  EXPECT_EQ(bare->OpenTrainer("").status().code(), StatusCode::kUnavailable);
  auto svc = CreatePluginTrainingService(bare.get(), nullptr, dir_);
  auto id = svc->Start(Request(10, 0));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(id.status().message().find("no training plugin loaded (libmlos_torch.so)"),
            std::string::npos);
  EXPECT_TRUE(svc->List().empty());
  EXPECT_EQ(svc->Get("train-1").status().code(), StatusCode::kNotFound);
}

TEST_F(TrainingServiceTest, TrainerEntriesThroughTheHost) {
  auto t = host_->OpenTrainer("");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->plugin_id(), "mlos-torch");
  EXPECT_EQ((*t)->Start("{").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE((*t)->Start(R"({"model_path": "/nope.pt", "dataset": "/nope.csv"})").ok());
  EXPECT_EQ((*t)->Control("train-999", SMI_TRAIN_PAUSE).code(), StatusCode::kNotFound);
  EXPECT_EQ((*t)->Control("train-999", 77).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*t)->StatusJson("train-999").status().code(), StatusCode::kNotFound);
  auto list = (*t)->ListJson();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, "[]");
  EXPECT_EQ(host_->OpenTrainer("no-such-plugin").status().code(), StatusCode::kNotFound);
}

TEST_F(TrainingServiceTest, BadRequestsNameTheField) {
  auto svc = CreatePluginTrainingService(host_.get(), nullptr, dir_);
  TrainingRequest r = Request(10, 0);
  r.model = dir_ + "/missing.pt";
  auto id = svc->Start(r);
  EXPECT_EQ(id.status().code(), StatusCode::kNotFound);
  EXPECT_NE(id.status().message().find("missing.pt"), std::string::npos);
  r = Request(10, 0);
  r.dataset = dir_ + "/missing.csv";
  id = svc->Start(r);
  EXPECT_EQ(id.status().code(), StatusCode::kNotFound);
  EXPECT_NE(id.status().message().find("missing.csv"), std::string::npos);
  r = Request(10, 0);
  r.config.batch_size = 0;
  EXPECT_EQ(svc->Start(r).status().code(), StatusCode::kInvalidArgument);
  r = Request(10, 0);
  r.register_as = "digits";  // no model registry given
  EXPECT_EQ(svc->Start(r).status().code(), StatusCode::kFailedPrecondition);
  r = Request(10, 0);
  r.model = Fixture("digits.csv");  // not TorchScript: the plugin says so
  id = svc->Start(r);
  EXPECT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("TorchScript"), std::string::npos) << id.status().ToString();
  EXPECT_TRUE(svc->List().empty());
  EXPECT_FALSE(fs::exists(dir_ + "/training/train-1"));  // nothing left of it
}

TEST_F(TrainingServiceTest, StartPauseResumeStop) {
  auto svc = CreatePluginTrainingService(host_.get(), nullptr, dir_);
  auto id = svc->Start(Request(1000000, 0));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "train-1");
  auto info = PollUntil(*svc, *id, [](const auto& i) { return i.status.step > 0; });
  EXPECT_EQ(info.status.state, SessionState::kRunning);
  EXPECT_EQ(info.status.total_steps, 1000000);  // known once the plugin loaded the data
  EXPECT_GT(info.status.train_samples, 0);
  EXPECT_EQ(info.model, Fixture("mlp.pt"));
  EXPECT_GT(info.created_unix_ms, 0);

  ASSERT_TRUE(svc->Pause(*id).ok());
  EXPECT_EQ(svc->Get(*id)->status.state, SessionState::kPaused);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const int64_t paused_at = svc->Get(*id)->status.step;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(svc->Get(*id)->status.step, paused_at);
  EXPECT_EQ(svc->Get(*id)->status.state, SessionState::kPaused);

  ASSERT_TRUE(svc->Resume(*id).ok());
  info = PollUntil(*svc, *id, [&](const auto& i) { return i.status.step > paused_at; });
  EXPECT_EQ(info.status.state, SessionState::kRunning);

  ASSERT_TRUE(svc->Stop(*id).ok());
  auto done = svc->Wait(*id, 60);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
  info = *svc->Get(*id);
  EXPECT_EQ(info.status.state, SessionState::kStopped);
  ASSERT_FALSE(info.status.checkpoints.empty());  // stop writes one
  EXPECT_EQ(info.status.checkpoints.back().step, info.status.step);
  EXPECT_EQ(info.status.checkpoints.back().path.rfind(dir_ + "/training/train-1/checkpoints/", 0),
            0u);
  EXPECT_EQ(svc->Pause(*id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(svc->Resume(*id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(svc->Stop(*id).code(), StatusCode::kFailedPrecondition);  // already stopped
  EXPECT_EQ(svc->Pause("train-99").code(), StatusCode::kNotFound);
  ASSERT_EQ(svc->List().size(), 1u);

  // A second session gets the next id; the JSON of a session parses back.
  auto id2 = svc->Start(Request(20, 0));
  ASSERT_TRUE(id2.ok());
  EXPECT_EQ(*id2, "train-2");
  ASSERT_TRUE(*svc->Wait(*id2, 60));
  info = *svc->Get(*id2);
  EXPECT_EQ(info.status.state, SessionState::kCompleted);
  EXPECT_EQ(info.status.step, 20);
  EXPECT_TRUE(fs::exists(dir_ + "/training/train-2/model.pt"));
  // Stopping a completed session is refused like stopping a stopped one (HTTP 409).
  Status again = svc->Stop(*id2);
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("completed"), std::string::npos) << again.ToString();
  auto back = ParseTrainingSession(TrainingSessionToJson(info));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->status.id, "train-2");
  EXPECT_EQ(svc->List().size(), 2u);
}

// Start returns while the plugin still loads (big_digits.csv takes a while to parse): the
// session is "starting"; pause and stop asked meanwhile apply once loaded; a load failure
// fails the session with a clear error.
TEST_F(TrainingServiceTest, StartReturnsWhileLoading) {
  auto svc = CreatePluginTrainingService(host_.get(), nullptr, dir_);
  TrainingRequest r = Request(5, 0);
  r.dataset = Fixture("big_digits.csv");
  auto id = svc->Start(r);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(svc->Get(*id)->status.state, SessionState::kStarting);
  EXPECT_EQ(svc->Get(*id)->status.total_steps, 0);
  ASSERT_TRUE(svc->Pause(*id).ok());
  EXPECT_EQ(svc->Get(*id)->status.state, SessionState::kPaused);
  auto info = PollUntil(*svc, *id, [](const auto& i) { return i.status.total_steps == 5; });
  EXPECT_EQ(info.status.state, SessionState::kPaused);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  info = *svc->Get(*id);
  EXPECT_EQ(info.status.state, SessionState::kPaused);
  EXPECT_EQ(info.status.step, 0);
  ASSERT_TRUE(svc->Resume(*id).ok());
  ASSERT_TRUE(*svc->Wait(*id, 120));
  info = *svc->Get(*id);
  EXPECT_EQ(info.status.state, SessionState::kCompleted) << info.status.error;
  EXPECT_EQ(info.status.step, 5);

  id = svc->Start(r);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(svc->Get(*id)->status.state, SessionState::kStarting);
  ASSERT_TRUE(svc->Stop(*id).ok());
  ASSERT_TRUE(*svc->Wait(*id, 120));
  info = *svc->Get(*id);
  EXPECT_EQ(info.status.state, SessionState::kStopped) << info.status.error;
  EXPECT_EQ(info.status.step, 0);
  EXPECT_EQ(svc->Stop(*id).code(), StatusCode::kFailedPrecondition);

  r = Request(5, 0);
  r.model = Fixture("digits.npz");  // a zip archive, but not TorchScript: refused at once
  id = svc->Start(r);
  EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(id.status().message().find("not a TorchScript file"), std::string::npos)
      << id.status().ToString();
  r = Request(5, 0);
  r.dataset = dir_ + "/bad_cells.csv";  // only parsing finds it wrong: fails the session
  std::ofstream(r.dataset) << "a,b,c\n1,2,3\n4,five,6\n";
  id = svc->Start(r);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(*svc->Wait(*id, 60));
  info = *svc->Get(*id);
  EXPECT_EQ(info.status.state, SessionState::kFailed);
  EXPECT_NE(info.status.error.find("bad_cells.csv"), std::string::npos) << info.status.error;
}

TEST_F(TrainingServiceTest, DamagedTableIsSetAsideAndIdsStayUnique) {
  {
    auto svc = CreatePluginTrainingService(host_.get(), nullptr, dir_);
    auto id = svc->Start(Request(5, 0));
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(*svc->Wait(*id, 60));
  }
  const std::string table = dir_ + "/training/sessions.json";
  { std::ofstream(table, std::ios::trunc) << "{\"sessions\": [{\"id\": 3"; }
  { std::ofstream(table + ".tmp-1-2") << "half a write"; }
  auto svc = CreatePluginTrainingService(host_.get(), nullptr, dir_);
  EXPECT_TRUE(svc->List().empty());
  EXPECT_TRUE(fs::exists(table + ".corrupt"));
  EXPECT_FALSE(fs::exists(table + ".tmp-1-2"));
  auto id = svc->Start(Request(5, 0));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "train-2");  // train-1's folder is still there
  ASSERT_TRUE(*svc->Wait(*id, 60));
}

// One uninterrupted reference run; returns the saved model's path.
std::string ReferenceRun(PluginHost* host, const std::string& dir, const TrainingRequest& r) {
  auto svc = CreatePluginTrainingService(host, nullptr, dir);
  auto id = svc->Start(r);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  if (!id.ok()) return "";
  EXPECT_TRUE(*svc->Wait(*id, 300));
  auto info = svc->Get(*id);
  EXPECT_EQ(info->status.state, SessionState::kCompleted) << info->status.error;
  return info->status.output_path;
}

constexpr int64_t kRestartSteps = 6000;
constexpr int64_t kRestartInterval = 500;

TEST_F(TrainingServiceTest, RestartContinuesFromCheckpoint) {
  const TrainingRequest r = Request(kRestartSteps, kRestartInterval);
  const std::string ref = ReferenceRun(host_.get(), dir_ + "/ref", r);
  const std::string data = dir_ + "/data";
  std::string id;
  {
    auto svc = CreatePluginTrainingService(host_.get(), nullptr, data);
    auto started = svc->Start(r);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    id = *started;
    auto info = PollUntil(*svc, id, [](const auto& i) { return i.status.step >= 1200; });
    ASSERT_EQ(info.status.state, SessionState::kRunning) << "finished before the restart";
  }  // the service goes away mid-run (a daemon shutdown): a last checkpoint, state kept
  const ino_t first = Inode(CheckpointFile(data, id, kRestartInterval));
  ASSERT_NE(first, 0u);

  auto svc = CreatePluginTrainingService(host_.get(), nullptr, data);
  auto listed = svc->List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].status.id, id);
  // Continued in the plugin, which loads the model and data again first.
  EXPECT_TRUE(listed[0].status.state == SessionState::kStarting ||
              listed[0].status.state == SessionState::kRunning)
      << training::SessionStateName(listed[0].status.state);
  ASSERT_TRUE(*svc->Wait(id, 300));
  auto info = *svc->Get(id);
  EXPECT_EQ(info.status.state, SessionState::kCompleted) << info.status.error;
  EXPECT_EQ(info.status.step, kRestartSteps);
  // No checkpoint was lost: every interval's file is still there, and the ones from before
  // the restart were not written again (the session continued rather than starting over).
  for (int64_t s = kRestartInterval; s < kRestartSteps; s += kRestartInterval) {
    EXPECT_TRUE(fs::exists(CheckpointFile(data, id, s))) << s;
  }
  EXPECT_EQ(Inode(CheckpointFile(data, id, kRestartInterval)), first);
  ExpectClose(Logits(host_.get(), info.status.output_path), Logits(host_.get(), ref));
  // Ids stay unique across restarts.
  auto next = svc->Start(Request(5, 0));
  ASSERT_TRUE(next.ok());
  EXPECT_NE(*next, id);
  EXPECT_TRUE(*svc->Wait(*next, 60));
}

TEST_F(TrainingServiceTest, PausedSessionStaysPausedAcrossRestartAndResumes) {
  const TrainingRequest r = Request(3000, 1000);
  const std::string data = dir_ + "/data";
  std::string id;
  int64_t paused_at = 0;
  {
    auto svc = CreatePluginTrainingService(host_.get(), nullptr, data);
    id = *svc->Start(r);
    PollUntil(*svc, id, [](const auto& i) { return i.status.step >= 300; });
    ASSERT_TRUE(svc->Pause(id).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the plugin applies it
    auto info = *svc->Get(id);
    ASSERT_EQ(info.status.state, SessionState::kPaused);
    ASSERT_LT(info.status.step, 3000);
    paused_at = info.status.step;
  }
  auto svc = CreatePluginTrainingService(host_.get(), nullptr, data);
  auto info = *svc->Get(id);
  EXPECT_EQ(info.status.state, SessionState::kPaused);
  EXPECT_EQ(info.status.step, paused_at);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(svc->Get(id)->status.step, paused_at);  // nothing trains while it is paused
  EXPECT_FALSE(*svc->Wait(id, 0.2));
  ASSERT_TRUE(svc->Resume(id).ok());
  ASSERT_TRUE(*svc->Wait(id, 300));
  info = *svc->Get(id);
  EXPECT_EQ(info.status.state, SessionState::kCompleted) << info.status.error;
  EXPECT_EQ(info.status.step, 3000);
  const std::string ref = ReferenceRun(host_.get(), dir_ + "/ref", r);
  ExpectClose(Logits(host_.get(), info.status.output_path), Logits(host_.get(), ref));
}

// Run only as the child of KillNineMidRunAndResume: trains until a few checkpoints exist, then
// kills itself with SIGKILL (no destructor runs, nothing is flushed).
TEST_F(TrainingServiceTest, KillNineChild) {
  const char* data = std::getenv("MLOS_TRAINING_KILL_CHILD_DIR");
  if (data == nullptr) GTEST_SKIP() << "helper of KillNineMidRunAndResume";
  auto svc = CreatePluginTrainingService(host_.get(), nullptr, data);
  auto id = svc->Start(Request(kRestartSteps, kRestartInterval));
  if (!id.ok()) _exit(3);
  PollUntil(*svc, *id, [](const auto& i) { return i.status.checkpoints.size() >= 3; });
  kill(getpid(), SIGKILL);
}

TEST_F(TrainingServiceTest, KillNineMidRunAndResume) {
  const TrainingRequest r = Request(kRestartSteps, kRestartInterval);
  const std::string data = dir_ + "/data";
  fs::create_directories(data);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("MLOS_TRAINING_KILL_CHILD_DIR", data.c_str(), 1);
    setenv("MLOS_TRAINING_FIXTURES", g_fixtures->c_str(), 1);
    execl("/proc/self/exe", "training_service_test",
          "--gtest_filter=TrainingServiceTest.KillNineChild", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  // What the killed process left: at least three checkpoints, remembered by inode.
  std::vector<std::pair<std::string, ino_t>> before;
  for (int64_t s = kRestartInterval; s < kRestartSteps; s += kRestartInterval) {
    const std::string f = CheckpointFile(data, "train-1", s);
    if (Inode(f) != 0) before.emplace_back(f, Inode(f));
  }
  ASSERT_GE(before.size(), 3u);
  ASSERT_LT(before.size(), static_cast<size_t>(kRestartSteps / kRestartInterval - 1));

  auto svc = CreatePluginTrainingService(host_.get(), nullptr, data);
  auto listed = svc->List();
  ASSERT_EQ(listed.size(), 1u);
  const std::string id = listed[0].status.id;
  EXPECT_EQ(id, "train-1");
  // Continued in the plugin, which loads the model and data again first.
  EXPECT_TRUE(listed[0].status.state == SessionState::kStarting ||
              listed[0].status.state == SessionState::kRunning)
      << training::SessionStateName(listed[0].status.state);
  ASSERT_TRUE(*svc->Wait(id, 300));
  auto info = *svc->Get(id);
  EXPECT_EQ(info.status.state, SessionState::kCompleted) << info.status.error;
  EXPECT_EQ(info.status.step, kRestartSteps);
  for (const auto& [f, ino] : before) EXPECT_EQ(Inode(f), ino) << f << " was written again";
  const std::string ref = ReferenceRun(host_.get(), dir_ + "/ref", r);
  ExpectClose(Logits(host_.get(), info.status.output_path), Logits(host_.get(), ref));
}

TEST_F(TrainingServiceTest, RegisterAsServesTheTrainedModel) {
  auto store = RegistryStore::Open(dir_ + "/registry.db");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ModelManager models(store->get(), host_.get(), dir_);
  auto svc = CreatePluginTrainingService(host_.get(), &models, dir_);
  TrainingRequest r = Request(60, 0);
  r.register_as = "digits";
  auto id = svc->Start(r);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(*svc->Wait(*id, 120));
  auto info = *svc->Get(*id);
  ASSERT_EQ(info.status.state, SessionState::kCompleted) << info.status.error;
  EXPECT_EQ(info.registered_model, "local/digits@1.0.0");
  auto entry = models.Find("local/digits");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->id(), "local/digits@1.0.0");
  EXPECT_EQ(entry->state(), ModelState::kReady) << entry->error();
  EXPECT_EQ(entry->plugin_id(), "mlos-torch");
  ASSERT_TRUE(entry->loaded());
  ExpectClose(Logits(entry->loaded().get()), Logits(host_.get(), info.status.output_path));

  // The next session registers the next patch version; an explicit version is taken as given.
  auto id2 = svc->Start(r);
  ASSERT_TRUE(id2.ok());
  ASSERT_TRUE(*svc->Wait(*id2, 120));
  EXPECT_EQ(svc->Get(*id2)->registered_model, "local/digits@1.0.1");
  r.register_version = "7";
  auto id3 = svc->Start(r);
  ASSERT_TRUE(id3.ok());
  ASSERT_TRUE(*svc->Wait(*id3, 120));
  EXPECT_EQ(svc->Get(*id3)->registered_model, "local/digits@7");
  // A registered model can be trained further by its id.
  TrainingRequest again = Request(10, 0);
  again.model = "local/digits@1.0.1";
  auto id4 = svc->Start(again);
  ASSERT_TRUE(id4.ok()) << id4.status().ToString();
  ASSERT_TRUE(*svc->Wait(*id4, 120));
  EXPECT_EQ(svc->Get(*id4)->status.state, SessionState::kCompleted);
}

TEST_F(TrainingServiceTest, TorchScriptGoesToTheTorchPlugin) {
  // The built-in ONNX plugin lists pytorch too, and comes first.
  auto plugins = host_->ListPlugins();
  ASSERT_GE(plugins.size(), 2u);
  const std::string onnx = plugins[0].id;
  ASSERT_NE(onnx, "mlos-torch");
  EXPECT_EQ(*host_->SelectPlugin("pytorch", "pytorch", ""), "mlos-torch");
  EXPECT_EQ(*host_->SelectPlugin("pytorch", "", ""), "mlos-torch");
  EXPECT_EQ(*host_->SelectPlugin("pytorch", "torchscript", ""), "mlos-torch");
  EXPECT_EQ(*host_->SelectPlugin("pytorch", "onnx", ""), onnx);  // exported to ONNX
  EXPECT_EQ(*host_->SelectPlugin("onnx", "", ""), onnx);
  EXPECT_EQ(*host_->SelectPlugin("tensorflow", "", ""), onnx);
  EXPECT_EQ(*host_->SelectPlugin("pytorch", "pytorch", onnx), onnx);  // explicit wins

  // A .pt file registered without naming a framework (it is inferred from the extension).
  auto store = RegistryStore::Open(dir_ + "/registry.db");
  ASSERT_TRUE(store.ok());
  ModelManager models(store->get(), host_.get(), dir_);
  RegisterRequest req;
  req.model_id = "local/mlp@1";
  req.path = Fixture("mlp.pt");
  auto e = models.Register(req);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->plugin_id(), "mlos-torch");
  EXPECT_EQ((*e)->state(), ModelState::kReady);
}

}  // namespace
}  // namespace mlos::runtime
