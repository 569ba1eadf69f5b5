// TrainingService: the daemon's (and embedded KernelAPI's) front door to training sessions, the
// seed's start_training / pause_training / resume_training / get_training_status. Front ends
// (HTTP routes, IPC handlers, KernelAPI, the Python module, mlosctl) talk only to this
// interface; the implementation reaches the trainer through the plugin ABI (a plugin that
// implements the SMI training entries, today libmlos_torch.so), so nothing here needs libtorch.
//
// Sessions are persisted in the data dir: after a restart (or a kill -9) the service lists
// them again and a session that was running continues from its newest checkpoint.
//
// Ownership: the service owns its sessions; destroying it stops running ones (a last
// checkpoint is written). Thread-safety: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlos/status.h"
#include "training/training_types.h"

namespace mlos::runtime {

// What a client asks for when it starts a session.
struct TrainingRequest {
  // A registered model ("name", "name@version", "name:version") or a path to a TorchScript file.
  std::string model;
  // A dataset path (file or folder; see docs/TRAINING.md for the formats).
  std::string dataset;
  training::TrainingConfig config;
  // Non-empty: when the session completes, the trained model is saved and registered as a new
  // version of this model name (version = the next patch version, or `register_version`), and
  // served like any other version.
  std::string register_as;
  std::string register_version;  // optional explicit version for register_as
};

// One session as the service reports it: the trainer's status plus what the service knows.
struct TrainingSessionInfo {
  training::TrainingStatus status;
  std::string model;
  std::string dataset;
  std::string registered_model;  // "name@version" once registered; empty before
  int64_t created_unix_ms = 0;
};

class TrainingService {
 public:
  virtual ~TrainingService() = default;

  // Validates the request (clear InvalidArgument/NotFound errors naming the field) and starts
  // the session in the background; returns its id.
  virtual Result<std::string> Start(const TrainingRequest& request) = 0;
  virtual Status Pause(const std::string& id) = 0;
  virtual Status Resume(const std::string& id) = 0;
  virtual Status Stop(const std::string& id) = 0;
  virtual Result<TrainingSessionInfo> Get(const std::string& id) const = 0;
  virtual std::vector<TrainingSessionInfo> List() const = 0;
  // Blocks until the session is completed, stopped or failed; false on timeout.
  virtual Result<bool> Wait(const std::string& id, double timeout_s) const = 0;
};

// JSON codecs shared by every front end, so HTTP, IPC, KernelAPI and Python agree on one shape.
// The request body: {"model": ..., "dataset": ..., "config": {<TrainingConfig fields by name>},
// "register_as": ..., "register_version": ...}. Unknown config keys are an error naming the key.
Result<TrainingRequest> ParseTrainingRequest(std::string_view json);
std::string TrainingRequestToJson(const TrainingRequest& request);
std::string TrainingSessionToJson(const TrainingSessionInfo& info);
// {"sessions": [<TrainingSessionToJson of each>], "total": N}: the list every front end returns.
std::string TrainingSessionListToJson(const std::vector<TrainingSessionInfo>& sessions);
Result<TrainingSessionInfo> ParseTrainingSession(std::string_view json);

}  // namespace mlos::runtime
