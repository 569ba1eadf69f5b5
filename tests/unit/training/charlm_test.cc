// A small character-level transformer language model trained end to end through
// TrainingManager on a text corpus that Debian ships; it must reach a documented loss.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "training/training_manager.h"

namespace mlos::training {
namespace {

namespace fs = std::filesystem;

// A character-level transformer LM (bench/training/models.py) on the GPL-3 text that Debian's
// base-files ships. Target: validation cross-entropy <= kLmTargetLoss nats per character
// (a uniform guess over the corpus's bytes is ln(vocab) ~ 4.4).
constexpr double kLmTargetLoss = 2.5;

TEST(CharTransformerTraining, ReachesTheTargetLoss) {
  const std::string corpus = "/usr/share/common-licenses/GPL-3";
  ASSERT_TRUE(fs::exists(corpus));
  char tmpl[] = "/tmp/mlos_charlm_test_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string cmd = std::string("/usr/bin/python3 ") + MLOS_SOURCE_DIR +
                          "/bench/training/models.py " + dir + " " + corpus + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "models.py failed";
  TrainingConfig c;
  c.optimizer = "adamw";
  c.learning_rate = 6e-3;
  c.schedule = "cosine";
  c.warmup_steps = 10;
  c.batch_size = 16;
  c.max_steps = 160;
  c.context_length = 64;
  c.dataset_format = "text";
  c.validation_split = 0.1;
  c.eval_interval = 160;
  c.threads = 1;
  c.seed = 3;
  TrainingManager m;
  auto id = m.StartTraining(dir + "/charlm.pt", corpus, c);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(*m.WaitTraining(*id, 600));
  auto st = *m.GetTrainingStatus(*id);
  ASSERT_EQ(st.state, SessionState::kCompleted) << st.error;
  std::printf("char transformer: val_loss %.4f (target %.2f), train loss %.4f, %.0f samples/s\n",
              st.val_loss, kLmTargetLoss, st.loss, st.samples_per_second);
  EXPECT_LE(st.val_loss, kLmTargetLoss);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace mlos::training
