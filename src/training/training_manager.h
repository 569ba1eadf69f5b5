// TrainingManager: the daemon's registry of training sessions (start_training, pause_training,
// resume_training, stop, get_training_status of the seed). Sessions run in the background; ids
// are "train-<n>". Torch-free header: servers include it without libtorch.
// Ownership: owns its sessions; destroying the manager stops them (a last checkpoint is
// written) and joins their threads.
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mlos/status.h"
#include "training/training_session.h"
#include "training/training_types.h"

namespace mlos::training {

class TrainingManager {
 public:
  TrainingManager() = default;
  ~TrainingManager();
  TrainingManager(const TrainingManager&) = delete;
  TrainingManager& operator=(const TrainingManager&) = delete;

  // Starts a session; returns its id. With `resume_from_checkpoint`, a session whose
  // config.checkpoint_dir already holds checkpoints continues from the newest one (after a
  // crash of the daemon, say).
  Result<std::string> StartTraining(const std::string& model_path, const std::string& dataset_path,
                                    const TrainingConfig& config,
                                    bool resume_from_checkpoint = false);
  Status PauseTraining(const std::string& id);
  Status ResumeTraining(const std::string& id);
  Status StopTraining(const std::string& id);
  Result<TrainingStatus> GetTrainingStatus(const std::string& id) const;
  std::vector<TrainingStatus> ListTraining() const;
  // Waits until the session completed, stopped or failed; false on timeout.
  Result<bool> WaitTraining(const std::string& id, double timeout_s) const;
  Result<std::vector<float>> FlatParameters(const std::string& id) const;
  // Stops the session (a last checkpoint is written), waits for its thread and forgets it.
  Status RemoveTraining(const std::string& id);

 private:
  Result<std::shared_ptr<TrainingSession>> Find(const std::string& id) const;

  mutable std::mutex mu_;
  int64_t next_id_ = 1;
  // shared: a call that found a session keeps it alive while RemoveTraining drops it.
  std::map<std::string, std::shared_ptr<TrainingSession>> sessions_;
};

}  // namespace mlos::training
