// IpcServer: the daemon's Unix-domain-socket server speaking the MLOS IPC protocol
// (docs/IPC.md, server/ipc/ipc_protocol.h): health, stats, model list/info/register/
// unregister/save, inference with inline or shared-memory tensors, shared-memory region
// registration (memfd descriptors passed with SCM_RIGHTS), and training sessions.
//
// Threads: one accept thread, and one I/O thread per connection that reads frames, serves them
// in order (pipelined requests are answered in the order sent) and writes replies. Inference
// runs on that thread; the engine parallelises inside the shared ThreadPool. A blocking
// connection thread is the lowest-latency design for a handful of local clients (no hand-off
// between an event loop and a worker).
// Ownership: the server borrows the ModelManager and PluginHost, which must outlive it. Each
// connection owns the regions registered on it; they are unmapped when it closes.
// Safety: every frame and size a client sends is checked; a bad frame gets an error reply
// (and the connection is closed when the stream cannot be resynchronised); nothing a client
// sends reads or writes outside a region the client registered.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "mlos/status.h"
#include "runtime/model_manager.h"
#include "runtime/plugin_host.h"
#include "server/ipc/ipc_protocol.h"

namespace mlos::runtime {
class TrainingService;  // runtime/training_service.h
}  // namespace mlos::runtime

namespace mlos::server::ipc {

struct IpcServerOptions {
  std::string socket_path;  // must fit sockaddr_un (107 bytes)
  uint64_t max_payload = mlos::ipc::kDefaultMaxPayload;
  int max_connections = 1024;
  int max_regions_per_connection = 4096;
  int send_timeout_ms = 60000;  // a client that stops reading its replies is dropped
  std::string version;
};

struct IpcCounters {
  std::atomic<int64_t> connections{0};        // open now
  std::atomic<int64_t> connections_total{0};  // accepted since start
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> regions{0};  // registered now, over all connections
};

// What the connection threads share.
struct IpcContext {
  IpcServerOptions options;
  runtime::ModelManager* models = nullptr;
  runtime::PluginHost* plugins = nullptr;
  runtime::TrainingService* training = nullptr;  // null: training ops answer kUnavailable
  uid_t server_uid = 0;
  int64_t started_us = 0;
  IpcCounters counters;
};

class IpcConnection;

class IpcServer {
 public:
  ~IpcServer();
  IpcServer(const IpcServer&) = delete;
  IpcServer& operator=(const IpcServer&) = delete;

  // Binds (mode 0660; a stale socket file nobody listens on is replaced, a live one is an
  // AlreadyExists error) and starts accepting. `training` (may be null) serves the training
  // operations and must outlive the server.
  static Result<std::unique_ptr<IpcServer>> Start(const IpcServerOptions& options,
                                                  runtime::ModelManager* models,
                                                  runtime::PluginHost* plugins,
                                                  runtime::TrainingService* training = nullptr);
  // Stops accepting, closes every connection, joins the threads and removes the socket file.
  void Shutdown();

  const std::string& path() const { return ctx_->options.socket_path; }
  const IpcCounters& counters() const { return ctx_->counters; }

 private:
  IpcServer() = default;
  void AcceptLoop();
  void ReapFinished();

  std::shared_ptr<IpcContext> ctx_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd that ends the accept loop
  std::thread accept_thread_;
  std::mutex mu_;
  std::list<std::shared_ptr<IpcConnection>> connections_;
  bool stopped_ = false;
};

// The socket path when none is configured: $XDG_RUNTIME_DIR/mlos.sock, else
// <data_dir>/mlos.sock.
std::string DefaultSocketPath(const std::string& data_dir);

}  // namespace mlos::server::ipc
