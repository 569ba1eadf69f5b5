// ModelBackend: where KernelAPI's model methods go (internal to src/api).
//
//   EmbeddedBackend (kernel_api_embedded.cc): an SMI PluginHost in this process, packages
//     resolved with runtime::ResolvePackage; never the engine directly.
//   RemoteBackend (kernel_api_remote.cc): the mlos_core daemon over the IPC socket.
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernel_api.h"
#include "mlos/status.h"
#include "mlos/thread_pool.h"

namespace mlos::runtime {
class LoadedModel;
}

namespace mlos {

struct ModelState {
  std::string id;
  std::string path;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::string package_dir;                       // embedded: the folder save_model copies
  std::shared_ptr<runtime::LoadedModel> loaded;  // embedded only
  const void* owner = nullptr;                   // the backend that loaded it
};

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  virtual Result<std::shared_ptr<const ModelState>> Load(const std::string& path) = 0;
  virtual Status Save(const ModelState& model, const std::string& destination) = 0;
  virtual Result<std::vector<NamedTensor>> Run(const ModelState& model,
                                               const std::vector<NamedTensor>& inputs) = 0;
  virtual bool remote() const = 0;
};

Result<std::shared_ptr<ModelBackend>> MakeEmbeddedBackend(ThreadPool* pool);
Result<std::shared_ptr<ModelBackend>> MakeRemoteBackend(const std::string& endpoint);

// Copies a model's files (a folder recursively) to a destination that must not exist.
Status CopyModelFiles(const std::string& from, const std::string& destination);

}  // namespace mlos
