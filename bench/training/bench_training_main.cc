// bench_training: trains one TorchScript model on one dataset through TrainingManager (as the
// daemon does) and prints one JSON line with samples/s and the final metrics. Its peer, the
// same loop in plain PyTorch, is run beside it by bench/training/run_bench.py.
// Usage: bench_training MODEL DATASET STEPS BATCH THREADS OPTIMIZER LR [CONTEXT]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "training/training_manager.h"

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(
        stderr, "usage: bench_training MODEL DATASET STEPS BATCH THREADS OPTIMIZER LR [CONTEXT]\n");
    return 2;
  }
  mlos::training::TrainingConfig c;
  c.max_steps = std::atoll(argv[3]);
  c.batch_size = std::atoll(argv[4]);
  c.threads = std::atoi(argv[5]);
  c.optimizer = argv[6];
  c.learning_rate = std::atof(argv[7]);
  if (argc > 8) c.context_length = std::atoll(argv[8]);
  c.validation_split = 0;  // the peer loop does no validation either
  c.seed = 1;
  mlos::training::TrainingManager m;
  auto id = m.StartTraining(argv[1], argv[2], c);
  if (!id.ok()) {
    std::fprintf(stderr, "%s\n", id.status().ToString().c_str());
    return 1;
  }
  (void)m.WaitTraining(*id, 3600);
  auto st = m.GetTrainingStatus(*id);
  if (!st.ok() || st->state != mlos::training::SessionState::kCompleted) {
    std::fprintf(stderr, "training failed: %s\n", st.ok() ? st->error.c_str() : "");
    return 1;
  }
  std::printf("{\"samples_per_second\": %.2f, \"steps\": %lld, \"loss\": %.5f}\n",
              st->samples_per_second, static_cast<long long>(st->step), st->loss);
  return 0;
}
