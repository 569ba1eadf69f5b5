// IpcServer: socket setup, the accept loop, connection threads and shutdown.
#include "server/ipc/ipc_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "runtime/log.h"
#include "runtime/metrics.h"
#include "server/ipc/ipc_connection.h"

namespace mlos::server::ipc {

std::string DefaultSocketPath(const std::string& data_dir) {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg) return std::string(xdg) + "/mlos.sock";
  return data_dir + "/mlos.sock";
}

namespace {

Result<sockaddr_un> MakeAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty()) return InvalidArgument("--socket: empty path");
  if (path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("--socket: path '", path, "' is longer than ", sizeof(addr.sun_path) - 1,
                           " bytes");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// True when some process accepts connections on `addr`.
bool SomeoneListens(const sockaddr_un& addr) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool live = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return live;
}

}  // namespace

Result<std::unique_ptr<IpcServer>> IpcServer::Start(const IpcServerOptions& options,
                                                    runtime::ModelManager* models,
                                                    runtime::PluginHost* plugins,
                                                    runtime::TrainingService* training) {
  MLOS_ASSIGN_OR_RETURN(sockaddr_un addr, MakeAddress(options.socket_path));
  std::unique_ptr<IpcServer> s(new IpcServer());
  s->ctx_ = std::make_shared<IpcContext>();
  s->ctx_->options = options;
  s->ctx_->models = models;
  s->ctx_->plugins = plugins;
  s->ctx_->training = training;
  s->ctx_->server_uid = geteuid();
  s->ctx_->started_us = runtime::MonotonicMicros();

  struct stat st;
  if (lstat(options.socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return AlreadyExists("--socket: '", options.socket_path, "' exists and is not a socket");
    }
    if (SomeoneListens(addr)) {
      return AlreadyExists("--socket: another server listens on '", options.socket_path, "'");
    }
    unlink(options.socket_path.c_str());  // stale, from a daemon that did not exit cleanly
  }
  s->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->listen_fd_ < 0) return Internal("socket(AF_UNIX): ", std::strerror(errno));
  // Created with no permissions for others from the start (no window where it is 0777).
  mode_t old = umask(0117);
  int rc = bind(s->listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  umask(old);
  if (rc != 0) {
    return Unavailable("--socket: cannot bind '", options.socket_path, "': ", std::strerror(err));
  }
  chmod(options.socket_path.c_str(), 0660);
  if (listen(s->listen_fd_, 256) != 0) {
    return Internal("listen on '", options.socket_path, "': ", std::strerror(errno));
  }
  s->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->wake_fd_ < 0) return Internal("eventfd: ", std::strerror(errno));
  s->accept_thread_ = std::thread([srv = s.get()] { srv->AcceptLoop(); });
  return s;
}

void IpcServer::ReapFinished() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->done()) {
      it = connections_.erase(it);  // the thread has been detached; the last ref closes it
    } else {
      ++it;
    }
  }
}

void IpcServer::AcceptLoop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    int n = poll(fds, 2, 1000);
    ReapFinished();
    if (n < 0 && errno != EINTR) break;
    if (fds[1].revents) break;
    if (n <= 0 || !(fds[0].revents & POLLIN)) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    IpcCounters& c = ctx_->counters;
    if (c.connections.load() >= ctx_->options.max_connections) {
      runtime::LogWarn("IPC connection refused: limit reached",
                       {{"max_connections", std::to_string(ctx_->options.max_connections)}});
      close(fd);
      continue;
    }
    auto conn = std::make_shared<IpcConnection>(fd, ctx_);
    runtime::Log(
        runtime::LogLevel::kDebug, "IPC client connected",
        {{"pid", std::to_string(conn->peer_pid())}, {"uid", std::to_string(conn->peer_uid())}});
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) break;
      connections_.push_back(conn);
    }
    c.connections.fetch_add(1);
    c.connections_total.fetch_add(1);
    // The thread holds its own reference, so Run() never outlives the connection object.
    std::thread([conn, ctx = ctx_] {
      conn->Run();
      ctx->counters.connections.fetch_sub(1);
    }).detach();
  }
}

void IpcServer::Shutdown() {
  std::list<std::shared_ptr<IpcConnection>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  uint64_t one = 1;
  if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof(one)) < 0) {
    // The eventfd cannot fail a write of 1; the poll timeout ends the loop anyway.
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    conns.swap(connections_);
  }
  for (auto& c : conns) c->Stop();
  // Detached threads finish their current request and see EOF; wait for them briefly so
  // the models they use are not unloaded under them.
  for (int i = 0; i < 500 && ctx_->counters.connections.load() > 0; ++i) usleep(10000);
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
  unlink(ctx_->options.socket_path.c_str());
}

IpcServer::~IpcServer() { Shutdown(); }

}  // namespace mlos::server::ipc
