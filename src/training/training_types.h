// Training sessions: the configuration a client sends and the status it reads back. Plain
// values with no libtorch in sight, so servers and clients include this without torch headers.
// Thread-safety: plain structs; copy them freely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mlos::training {

struct TrainingConfig {
  std::string optimizer = "adam";  // sgd | adam | adamw
  double learning_rate = 1e-3;
  double momentum = 0.0;              // sgd
  double weight_decay = 0.0;          // all three (adamw's decoupled decay)
  std::string schedule = "constant";  // constant | cosine | step | linear
  int64_t step_size = 0;              // schedule "step": decay every N steps (0: one epoch)
  double gamma = 0.1;                 // schedule "step": factor per decay
  int64_t warmup_steps = 0;           // linear warm-up before the schedule
  int64_t batch_size = 32;
  int64_t epochs = 1;
  int64_t max_steps = 0;               // > 0: stop after this many steps (wins over epochs)
  std::string loss = "cross_entropy";  // cross_entropy | mse
  double validation_split = 0.1;       // fraction held out (deterministic from the seed)
  int threads = 1;
  uint64_t seed = 0;
  int64_t checkpoint_interval = 0;  // steps between checkpoints; 0: none by step count
  // Seconds of training (pauses excluded) after which a checkpoint is written, besides
  // checkpoint_interval; 0: none by time. The default bounds what a crash of the daemon can
  // lose to about 30 s of training; the interval stretches to 50x the last checkpoint's
  // write time when that is longer, so checkpoints never cost more than ~2% of throughput.
  double checkpoint_seconds = 30.0;
  std::string checkpoint_dir;  // empty: no checkpoints
  std::string output_path;     // where the trained TorchScript model is saved; may be empty
  // Datasets.
  std::string dataset_format = "auto";  // auto | csv | npy | npz | text | folder
  int64_t label_column = -1;            // csv: which column is the label (-1: the last)
  int64_t context_length = 64;          // text: characters per sample
  int64_t eval_interval = 0;            // steps between validations; 0: at each epoch end
};

// kStarting: accepted, the model and data are being loaded on the session's thread (it becomes
// running, paused when a pause came meanwhile, stopped, or failed when loading failed).
enum class SessionState { kRunning, kPaused, kStopped, kCompleted, kFailed, kStarting };
// The state's wire name ("starting", "running", ...), as every front end and the JSON use it.
inline const char* SessionStateName(SessionState s) {
  switch (s) {
    case SessionState::kStarting:
      return "starting";
    case SessionState::kRunning:
      return "running";
    case SessionState::kPaused:
      return "paused";
    case SessionState::kStopped:
      return "stopped";
    case SessionState::kCompleted:
      return "completed";
    case SessionState::kFailed:
      return "failed";
  }
  return "unknown";
}

struct CheckpointInfo {
  std::string path;
  int64_t step = 0;
};

struct TrainingStatus {
  std::string id;
  SessionState state = SessionState::kRunning;
  std::string error;  // kFailed: why
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimizer steps done
  int64_t total_steps = 0;
  double loss = 0.0;  // mean training loss of the last logged window
  double learning_rate = 0.0;
  bool has_validation = false;
  double val_loss = 0.0;
  double val_accuracy = -1.0;  // cross-entropy only; -1 when not measured
  double samples_per_second = 0.0;
  double eta_seconds = -1.0;
  int64_t train_samples = 0;
  int64_t val_samples = 0;
  std::vector<CheckpointInfo> checkpoints;
  std::string output_path;  // set once the model was saved
};

}  // namespace mlos::training
