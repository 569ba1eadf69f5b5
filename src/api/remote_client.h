// IpcClient: a connection to mlos_core's IPC server (docs/IPC.md), used by the remote
// KernelAPI, the Python module, the benchmarks and the tests.
//
// Zero-copy: an input whose bytes live in a shared-memory region (a SharedMemoryBuffer, or a
// region this client made) is sent as (region, offset, size) after the region is registered
// once (its fd passed with SCM_RIGHTS, its size sealed). Other inputs are copied once into a
// scratch region. Outputs are written by the daemon into a pooled client region and come back
// as tensors viewing it; the region returns to the pool when the last of those tensors is gone.
// Outputs that do not fit the window come inline in the reply.
//
// Thread-safety: all methods are safe to call concurrently; calls on one client are serialised
// (one request in flight per connection). Use one client per thread for parallel requests.
// Errors: Status values; a broken connection is Unavailable and the client stays broken.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlos/shm.h"
#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/tensor_info.h"
#include "server/ipc/ipc_protocol.h"

namespace mlos::api {

struct RemoteTiming {
  int64_t plugin_us = 0;  // the daemon's time inside the plugin
  int64_t server_us = 0;  // the daemon's time for the whole request
};

// "unix:///run/mlos.sock" or "/run/mlos.sock" -> the socket path; other schemes fail.
Result<std::string> SocketPathFromEndpoint(std::string_view endpoint);

class IpcClient {
 public:
  ~IpcClient();
  IpcClient(const IpcClient&) = delete;
  IpcClient& operator=(const IpcClient&) = delete;

  static Result<std::unique_ptr<IpcClient>> Connect(std::string_view endpoint);

  // One request/reply. `fd` >= 0 is passed with SCM_RIGHTS. The reply payload is valid until
  // the next call (read it with reply()).
  Status Call(mlos::ipc::Op op, std::string_view payload, int fd = -1);
  std::string_view reply() const;

  Result<std::string> Health();  // "healthy"
  Result<std::string> StatsJson();
  Result<std::string> ModelListJson();
  Result<mlos::ipc::ModelDesc> RegisterModel(std::string_view request_json);
  Result<mlos::ipc::ModelDesc> ModelInfo(std::string_view id);
  Status UnregisterModel(std::string_view id);
  Status SaveModel(std::string_view id, std::string_view destination);
  // A training operation (kTrainStart .. kTrainList): `arg` is the request JSON (start), the
  // session id, or empty (list); returns the reply's JSON.
  Result<std::string> Training(mlos::ipc::Op op, std::string_view arg);

  // Registers `region` (sealing its size first if needed); returns the daemon's region id.
  Result<uint32_t> RegisterRegion(const std::shared_ptr<ShmRegion>& region, std::string_view name);
  Status UnregisterRegion(uint32_t id);

  // Runs `model` on `inputs`; outputs in the model's order.
  Result<std::vector<NamedTensor>> Infer(std::string_view model,
                                         const std::vector<NamedTensor>& inputs,
                                         RemoteTiming* timing = nullptr);

  struct Pool;  // output regions (remote_client.cc)

 private:
  IpcClient() = default;
  Status CallLocked(mlos::ipc::Op op, std::string_view payload, int fd);
  Result<uint32_t> RegisterRegionLocked(const std::shared_ptr<ShmRegion>& region,
                                        std::string_view name);
  Result<uint32_t> RegionIdFor(const std::shared_ptr<ShmRegion>& region);
  Status EnsureScratch(size_t bytes);

  std::mutex mu_;
  int fd_ = -1;
  bool broken_ = false;
  uint64_t next_id_ = 1;
  std::string request_;
  uint8_t* reply_ = nullptr;  // 64-byte aligned
  size_t reply_cap_ = 0;
  size_t reply_size_ = 0;
  // Regions of others (SharedMemoryBuffers) registered on this connection, by address.
  struct Known {
    std::weak_ptr<ShmRegion> region;
    uint32_t id;
  };
  std::unordered_map<const ShmRegion*, Known> known_;
  std::shared_ptr<ShmRegion> scratch_;  // inputs that are not in shared memory are copied here
  uint32_t scratch_id_ = 0;
  std::shared_ptr<Pool> pool_;
  std::unordered_map<std::string, uint64_t> output_bytes_;  // last output size per model
};

}  // namespace mlos::api
