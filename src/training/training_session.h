// TrainingSession: one training run of a TorchScript module on a Dataset, on its own background
// thread (libtorch runs its compute on its intra-op pool, sized by config.threads). The header
// is torch-free; everything touching libtorch is in training_session.cc.
//
// Determinism: the validation split and each epoch's sample order come from the seed alone
// (std::mt19937_64, our own shuffle), so a paused/resumed run, or one continued from a
// checkpoint, visits the same batches in the same order as an uninterrupted run.
// Thread-safety: all public methods may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mlos/status.h"
#include "training/training_types.h"

namespace mlos::training {

class TrainingSession {
 public:
  virtual ~TrainingSession() = default;
  // Checks what is cheap to check (the config; the model file exists and is a zip archive, as
  // TorchScript files are; the dataset exists, is readable and its format is known) and starts
  // the thread, which loads the model and data (state kStarting meanwhile; a load failure turns
  // the session kFailed with the reason) and then trains. So Start never waits for libtorch or
  // for a large dataset. With config.checkpoint_dir holding checkpoints and `resume` set, the
  // session continues from the newest one.
  static Result<std::unique_ptr<TrainingSession>> Start(const std::string& id,
                                                        const std::string& model_path,
                                                        const std::string& dataset_path,
                                                        const TrainingConfig& config, bool resume);
  virtual Status Pause() = 0;
  virtual Status Resume() = 0;
  // A stop of a session that already ended is FailedPrecondition naming its state.
  virtual Status Stop() = 0;
  virtual TrainingStatus GetStatus() const = 0;
  // Blocks until the session completed, stopped or failed, or `timeout_s` passed (false).
  virtual bool Wait(double timeout_s) = 0;
  // The module's parameters, flattened in named_parameters order (for tests and digests).
  virtual std::vector<float> FlatParameters() const = 0;
};

}  // namespace mlos::training
