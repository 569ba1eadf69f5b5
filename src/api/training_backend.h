// TrainingBackend: where KernelAPI's training methods go (internal to src/api).
//
//   embedded (kernel_api_training.cc + kernel_api_training_embedded.cc): a TrainingService in
//     this process, on a plugin host of its own that loaded the torch plugin;
//   remote: the mlos_core daemon over a dedicated IPC connection.
//
// Every method speaks the JSON of the HTTP routes (runtime/training_service.h codecs).
// Thread-safety: every method may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "mlos/status.h"
#include "mlos/thread_pool.h"

namespace mlos::runtime {
class TrainingService;
}

namespace mlos {

class TrainingBackend {
 public:
  virtual ~TrainingBackend() = default;
  // `request_json`: ParseTrainingRequest's shape; returns the session id.
  virtual Result<std::string> Start(const std::string& request_json) = 0;
  virtual Status Pause(const std::string& id) = 0;
  virtual Status Resume(const std::string& id) = 0;
  virtual Status Stop(const std::string& id) = 0;
  virtual Result<std::string> StatusJson(const std::string& id) = 0;
  virtual Result<std::string> ListJson() = 0;
  virtual Result<bool> Wait(const std::string& id, double timeout_s) = 0;
  virtual bool remote() const = 0;
};

// A TrainingService for an embedded KernelAPI: loads libmlos_torch.so from $MLOS_PLUGINS_DIR,
// else the build tree's plugins folder, else the installed plugin folders; sessions live under
// $MLOS_DATA_DIR (default ~/.mlos/embedded)/training. Unavailable when no training plugin is
// found. The service owns the plugin host it runs on.
Result<std::unique_ptr<runtime::TrainingService>> MakeEmbeddedTrainingService(ThreadPool* pool);

}  // namespace mlos
