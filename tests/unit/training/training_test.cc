// Training sessions end to end through TrainingManager: the digits MLP reaches 95% validation
// accuracy; pausing and resuming twice, and continuing from checkpoints after a stop (or after
// the newest checkpoint is lost, as after kill -9 mid-write), end with the parameters of an
// uninterrupted run. Fixtures come from /usr/bin/python3 with scikit-learn and PyTorch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "training/checkpoint_io.h"
#include "training/dataset.h"
#include "training/training_manager.h"

namespace mlos::training {
namespace {

namespace fs = std::filesystem;

class TrainingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/mlos_training_test_XXXXXX";
    dir_ = new std::string(mkdtemp(tmpl));
    const std::string cmd = std::string("/usr/bin/python3 ") + MLOS_SOURCE_DIR +
                            "/tests/unit/training/make_digits.py " + *dir_;
    fixtures_ok_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }
  void SetUp() override { ASSERT_TRUE(fixtures_ok_) << "make_digits.py failed"; }

  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }

  static TrainingConfig SmallRun() {
    TrainingConfig c;
    c.optimizer = "adam";
    c.learning_rate = 3e-3;
    c.batch_size = 32;
    c.max_steps = 240;
    c.validation_split = 0.2;
    c.threads = 1;
    c.seed = 42;
    return c;
  }

  static void WaitForStep(TrainingManager& m, const std::string& id, int64_t step) {
    for (int i = 0; i < 60000; ++i) {
      auto s = m.GetTrainingStatus(id);
      ASSERT_TRUE(s.ok());
      if (s->step >= step ||
          (s->state != SessionState::kRunning && s->state != SessionState::kStarting)) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL() << "session never reached step " << step;
  }

  static void WaitForState(TrainingManager& m, const std::string& id, SessionState want) {
    // Up to 2 minutes: loading big_digits.csv under ASan takes a while.
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < end) {
      if (m.GetTrainingStatus(id)->state == want) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL() << "session never became " << SessionStateName(want);
  }

  static std::vector<float> RunToEnd(TrainingManager& m, const TrainingConfig& c,
                                     bool resume = false) {
    auto id = m.StartTraining(Path("mlp.pt"), Path("digits.csv"), c, resume);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return {};
    EXPECT_TRUE(*m.WaitTraining(*id, 120));
    auto st = m.GetTrainingStatus(*id);
    EXPECT_EQ(st->state, SessionState::kCompleted) << st->error;
    return *m.FlatParameters(*id);
  }

  static double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    double d = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
      d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
    }
    return d;
  }

  static std::string* dir_;
  static bool fixtures_ok_;
};

std::string* TrainingTest::dir_ = nullptr;
bool TrainingTest::fixtures_ok_ = false;

TEST_F(TrainingTest, DatasetsLoadInEveryFormat) {
  auto csv = LoadDataset(Path("digits.csv"), "auto", -1, 0);
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ(csv->num_samples, 1797);
  EXPECT_EQ(csv->feature_size, 64);
  auto npy = LoadDataset(Path("digits_npy"), "auto", -1, 0);
  ASSERT_TRUE(npy.ok()) << npy.status().ToString();
  auto npz = LoadDataset(Path("digits.npz"), "auto", -1, 0);
  ASSERT_TRUE(npz.ok()) << npz.status().ToString();
  for (const Dataset* d : {&*npy, &*npz}) {
    EXPECT_EQ(d->num_samples, 1797);
    EXPECT_EQ(d->sample_shape, std::vector<int64_t>{64});
    ASSERT_EQ(d->targets.size(), csv->targets.size());
    EXPECT_EQ(d->targets, csv->targets);
    double diff = 0;
    for (size_t i = 0; i < d->features.size(); ++i) {
      diff = std::max(diff, static_cast<double>(std::fabs(d->features[i] - csv->features[i])));
    }
    EXPECT_LT(diff, 1e-5);  // the CSV holds 6 significant digits
  }
}

TEST_F(TrainingTest, MalformedInputIsAnErrorNotACrash) {
  EXPECT_FALSE(ParseNpy("garbage", "x").ok());
  EXPECT_FALSE(ParseNpy(std::string("\x93NUMPY\x01\x00\xff\xff", 10), "x").ok());
  EXPECT_FALSE(ParseNpz("PK\x03\x04", "x").ok());
  EXPECT_EQ(LoadDataset(Path("nope.csv"), "auto", -1, 0).status().code(), StatusCode::kNotFound);
  TrainingManager m;
  TrainingConfig c = SmallRun();
  c.optimizer = "lbfgs";
  EXPECT_EQ(m.StartTraining(Path("mlp.pt"), Path("digits.csv"), c).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(m.StartTraining(Path("digits.csv"), Path("digits.csv"), SmallRun()).ok());
  EXPECT_EQ(m.PauseTraining("train-99").code(), StatusCode::kNotFound);
}

TEST_F(TrainingTest, DigitsMlpReaches95PercentValidationAccuracy) {
  TrainingManager m;
  TrainingConfig c = SmallRun();
  c.max_steps = 0;
  c.epochs = 25;
  c.schedule = "cosine";
  c.output_path = Path("digits_trained.pt");
  auto id = m.StartTraining(Path("mlp.pt"), Path("digits.csv"), c);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(*m.WaitTraining(*id, 300));
  auto st = *m.GetTrainingStatus(*id);
  ASSERT_EQ(st.state, SessionState::kCompleted) << st.error;
  EXPECT_EQ(st.epoch, 25);
  EXPECT_EQ(st.val_samples, 359);
  ASSERT_TRUE(st.has_validation);
  std::printf("digits MLP: val_accuracy %.4f val_loss %.4f train loss %.4f, %.0f samples/s\n",
              st.val_accuracy, st.val_loss, st.loss, st.samples_per_second);
  EXPECT_GE(st.val_accuracy, 0.95);
  EXPECT_GT(st.samples_per_second, 0);
  EXPECT_EQ(st.output_path, c.output_path);
  EXPECT_TRUE(fs::exists(c.output_path));
  // The saved model trains further: it loads as a TorchScript module with parameters.
  TrainingConfig again = SmallRun();
  again.max_steps = 1;
  auto id2 = m.StartTraining(c.output_path, Path("digits.csv"), again);
  ASSERT_TRUE(id2.ok()) << id2.status().ToString();
  ASSERT_TRUE(*m.WaitTraining(*id2, 60));
  EXPECT_GE(m.GetTrainingStatus(*id2)->val_accuracy, 0.95);
}

TEST_F(TrainingTest, SgdWithMseRecoversALinearFunction) {
  TrainingManager m;
  TrainingConfig c;
  c.optimizer = "sgd";
  c.momentum = 0.9;
  c.learning_rate = 0.05;
  c.schedule = "step";
  c.step_size = 200;
  c.gamma = 0.5;
  c.loss = "mse";
  c.batch_size = 16;
  c.epochs = 20;
  c.validation_split = 0.1;
  c.seed = 9;
  auto id = m.StartTraining(Path("linear.pt"), Path("linear.csv"), c);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(*m.WaitTraining(*id, 120));
  auto st = *m.GetTrainingStatus(*id);
  ASSERT_EQ(st.state, SessionState::kCompleted) << st.error;
  EXPECT_LT(st.val_loss, 1e-6);
  EXPECT_EQ(st.val_accuracy, -1.0);  // not measured for MSE
  // nn.Linear's parameters in order: weight [1, 2], then bias [1].
  const std::vector<float> p = *m.FlatParameters(*id);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_NEAR(p[0], 2.0, 1e-3);
  EXPECT_NEAR(p[1], -1.0, 1e-3);
  EXPECT_NEAR(p[2], 0.5, 1e-3);
}

TEST_F(TrainingTest, PausedAndResumedTwiceEqualsUninterrupted) {
  TrainingManager m;
  const TrainingConfig c = SmallRun();
  const std::vector<float> reference = RunToEnd(m, c);
  ASSERT_FALSE(reference.empty());

  auto id = m.StartTraining(Path("mlp.pt"), Path("digits.csv"), c);
  ASSERT_TRUE(id.ok());
  for (int64_t at : {60, 150}) {
    WaitForStep(m, *id, at);
    ASSERT_TRUE(m.PauseTraining(*id).ok());
    WaitForState(m, *id, SessionState::kPaused);
    const int64_t paused_at = m.GetTrainingStatus(*id)->step;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(m.GetTrainingStatus(*id)->step, paused_at) << "a paused session kept training";
    EXPECT_LT(paused_at, c.max_steps);
    ASSERT_TRUE(m.ResumeTraining(*id).ok());
  }
  ASSERT_TRUE(*m.WaitTraining(*id, 120));
  ASSERT_EQ(m.GetTrainingStatus(*id)->state, SessionState::kCompleted);
  const double diff = MaxDiff(reference, *m.FlatParameters(*id));
  std::printf("pause/resume x2: max |param difference| = %g\n", diff);
  EXPECT_LE(diff, 1e-6);
}

TEST_F(TrainingTest, ContinuingFromCheckpointsEqualsUninterrupted) {
  TrainingManager m;
  TrainingConfig c = SmallRun();
  const std::vector<float> reference = RunToEnd(m, c);
  c.checkpoint_dir = Path("ckpts");
  c.checkpoint_interval = 25;
  auto id = m.StartTraining(Path("mlp.pt"), Path("digits.csv"), c);
  ASSERT_TRUE(id.ok());
  WaitForStep(m, *id, 110);
  ASSERT_TRUE(m.StopTraining(*id).ok());
  ASSERT_TRUE(*m.WaitTraining(*id, 60));
  auto stopped = *m.GetTrainingStatus(*id);
  ASSERT_EQ(stopped.state, SessionState::kStopped) << stopped.error;
  auto ckpts = ListCheckpoints(c.checkpoint_dir);
  ASSERT_GE(ckpts.size(), 5u);  // 25, 50, 75, 100 and the one at the stop
  EXPECT_EQ(ckpts.back().step, stopped.step);
  for (size_t i = 0; i + 1 < ckpts.size(); ++i) EXPECT_EQ(ckpts[i].step, 25 * (i + 1));

  // From the checkpoint written at the stop.
  double diff = MaxDiff(reference, RunToEnd(m, c, /*resume=*/true));
  std::printf("continued from step %lld: max |param difference| = %g\n",
              static_cast<long long>(stopped.step), diff);
  EXPECT_LE(diff, 1e-6);

  // As after a kill -9: only the interval checkpoints up to step 100 and a torn temporary file.
  std::error_code ec;
  for (const auto& e : ListCheckpoints(c.checkpoint_dir)) {
    if (e.step > 100) fs::remove(e.path, ec);
  }
  std::ofstream(CheckpointPath(c.checkpoint_dir, 125) + ".tmp.1") << "torn";
  ASSERT_EQ(ListCheckpoints(c.checkpoint_dir).back().step, 100);
  diff = MaxDiff(reference, RunToEnd(m, c, /*resume=*/true));
  std::printf("continued from step 100: max |param difference| = %g\n", diff);
  EXPECT_LE(diff, 1e-6);
}

// Start answers after the cheap checks; the model and data load on the session's thread
// (big_digits.csv takes a while to parse), so the session is first "starting". A pause
// asked meanwhile takes effect once loaded (step 0); a stop ends it without training.
TEST_F(TrainingTest, StartReturnsBeforeLoadingAndControlsApplyOnceLoaded) {
  TrainingManager m;
  TrainingConfig c = SmallRun();
  c.max_steps = 5;
  auto id = m.StartTraining(Path("mlp.pt"), Path("big_digits.csv"), c);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto st = *m.GetTrainingStatus(*id);
  EXPECT_EQ(st.state, SessionState::kStarting);
  EXPECT_EQ(st.total_steps, 0);  // not loaded yet
  ASSERT_TRUE(m.PauseTraining(*id).ok());
  WaitForState(m, *id, SessionState::kPaused);
  st = *m.GetTrainingStatus(*id);
  EXPECT_EQ(st.step, 0);
  EXPECT_EQ(st.total_steps, 5);
  EXPECT_EQ(st.train_samples + st.val_samples, 1797 * 80);
  ASSERT_TRUE(m.ResumeTraining(*id).ok());
  ASSERT_TRUE(*m.WaitTraining(*id, 120));
  st = *m.GetTrainingStatus(*id);
  EXPECT_EQ(st.state, SessionState::kCompleted) << st.error;
  EXPECT_EQ(st.step, 5);

  c.checkpoint_dir = Path("ckpt_starting");
  id = m.StartTraining(Path("mlp.pt"), Path("big_digits.csv"), c);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(m.GetTrainingStatus(*id)->state, SessionState::kStarting);
  ASSERT_TRUE(m.StopTraining(*id).ok());
  ASSERT_TRUE(*m.WaitTraining(*id, 120));
  st = *m.GetTrainingStatus(*id);
  EXPECT_EQ(st.state, SessionState::kStopped) << st.error;
  EXPECT_EQ(st.step, 0);
  EXPECT_TRUE(ListCheckpoints(c.checkpoint_dir).empty());
  // Every control of an ended session is refused, stop included.
  EXPECT_EQ(m.StopTraining(*id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(m.PauseTraining(*id).code(), StatusCode::kFailedPrecondition);
}

// Cheap checks answer at once; what needs the loading fails the session, with a message and
// no libtorch backtrace.
TEST_F(TrainingTest, LoadFailuresFailTheSessionWithAClearError) {
  TrainingManager m;
  TrainingConfig c = SmallRun();
  auto bad = m.StartTraining(Path("digits.csv"), Path("digits.csv"), c);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not a TorchScript file"), std::string::npos)
      << bad.status().ToString();
  EXPECT_EQ(m.StartTraining(Path("nope.pt"), Path("digits.csv"), c).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(m.StartTraining(Path("mlp.pt"), Path("nope.csv"), c).status().code(),
            StatusCode::kNotFound);
  TrainingConfig npy = c;
  npy.dataset_format = "npy";
  EXPECT_EQ(m.StartTraining(Path("mlp.pt"), Path("digits.csv"), npy).status().code(),
            StatusCode::kInvalidArgument);

  // A zip archive that is not TorchScript (an .npz: no constants.pkl) is refused at once too.
  bad = m.StartTraining(Path("digits.npz"), Path("digits.csv"), c);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("constants.pkl"), std::string::npos)
      << bad.status().ToString();

  // A CSV that only parsing finds wrong: accepted, then failed on the session's thread.
  std::ofstream(Path("bad_cells.csv")) << "a,b,c\n1,2,3\n4,five,6\n";
  auto id = m.StartTraining(Path("mlp.pt"), Path("bad_cells.csv"), c);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(*m.WaitTraining(*id, 60));
  auto st = *m.GetTrainingStatus(*id);
  EXPECT_EQ(st.state, SessionState::kFailed);
  EXPECT_NE(st.error.find("bad_cells.csv"), std::string::npos) << st.error;

  // A model whose input does not fit the data (2 features, not 64): fails at its first step.
  id = m.StartTraining(Path("linear.pt"), Path("digits.csv"), c);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(*m.WaitTraining(*id, 60));
  st = *m.GetTrainingStatus(*id);
  EXPECT_EQ(st.state, SessionState::kFailed);
  EXPECT_NE(st.error.find("training step 0"), std::string::npos) << st.error;
  EXPECT_EQ(st.error.find("Exception raised from"), std::string::npos) << st.error;
  EXPECT_EQ(st.error.find("frame #"), std::string::npos) << st.error;
  std::printf("step failure reads: %s\n", st.error.c_str());
}

// checkpoint_seconds (default 30): checkpoints by training time even with no
// checkpoint_interval, so a crash loses at most about that much work.
TEST_F(TrainingTest, TimeBasedCheckpointsWithoutAnInterval) {
  EXPECT_DOUBLE_EQ(TrainingConfig{}.checkpoint_seconds, 30.0);
  EXPECT_EQ(TrainingConfig{}.checkpoint_interval, 0);
  TrainingManager m;
  TrainingConfig c = SmallRun();
  c.max_steps = 6000;
  c.checkpoint_dir = Path("ckpt_time");
  c.checkpoint_seconds = 0.02;
  auto id = m.StartTraining(Path("mlp.pt"), Path("digits.csv"), c);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(*m.WaitTraining(*id, 300));
  auto st = *m.GetTrainingStatus(*id);
  ASSERT_EQ(st.state, SessionState::kCompleted) << st.error;
  auto ckpts = ListCheckpoints(c.checkpoint_dir);
  ASSERT_GE(ckpts.size(), 2u) << "no checkpoint before the final one";
  EXPECT_GT(ckpts.front().step, 0);
  EXPECT_LT(ckpts.front().step, 6000);
  EXPECT_EQ(ckpts.back().step, 6000);
  std::printf("checkpoints by time (every >= 0.02 s): %zu for 6000 steps\n", ckpts.size());

  // Off: only the final one.
  c.checkpoint_dir = Path("ckpt_off");
  c.checkpoint_seconds = 0;
  c.max_steps = 1000;
  id = m.StartTraining(Path("mlp.pt"), Path("digits.csv"), c);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(*m.WaitTraining(*id, 300));
  ckpts = ListCheckpoints(c.checkpoint_dir);
  ASSERT_EQ(ckpts.size(), 1u);
  EXPECT_EQ(ckpts[0].step, 1000);
}

}  // namespace
}  // namespace mlos::training
