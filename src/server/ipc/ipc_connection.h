// IpcConnection: one client of the IPC server (internal to server/ipc).
//
// Owns its socket, the descriptors received with SCM_RIGHTS that no request has claimed yet
// (at most kMaxPendingFds; extras are closed at once), the shared-memory regions registered on
// it, and its receive and reply buffers. Run() serves frames until the peer closes, sends a
// frame that cannot be resynchronised, or Stop() is called from another thread.
// Thread-safety: Run() on one thread; Stop() and done() from any.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "mlos/shm.h"
#include "mlos/status.h"
#include "server/ipc/ipc_protocol.h"
#include "server/ipc/ipc_server.h"

namespace mlos::server::ipc {

// A 64-byte aligned, growable byte buffer (payloads are viewed as tensors in place).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  ~AlignedBuffer();
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  // Ensures capacity >= n, keeping the first `keep` bytes. False if memory ran out.
  bool Reserve(size_t n, size_t keep);
  // Frees the memory when it grew past `limit` (after a one-off large frame).
  void ShrinkIfAbove(size_t limit);
  uint8_t* data() { return data_; }
  size_t capacity() const { return cap_; }

 private:
  uint8_t* data_ = nullptr;
  size_t cap_ = 0;
};

struct RegionEntry {
  std::shared_ptr<ShmRegion> region;
  std::string name;
};

class IpcConnection {
 public:
  static constexpr size_t kMaxPendingFds = 16;

  IpcConnection(int fd, std::shared_ptr<IpcContext> ctx);
  ~IpcConnection();

  void Run();
  void Stop();  // shuts the socket down; Run() returns soon after
  bool done() const { return done_.load(std::memory_order_acquire); }
  pid_t peer_pid() const { return peer_.pid; }
  uid_t peer_uid() const { return peer_.uid; }

 private:
  // ---- I/O (ipc_connection.cc) ----
  bool ReadExact(uint8_t* dst, size_t n);
  bool FillBuffer();  // one recvmsg into rbuf_, collecting descriptors
  void TakeFds(msghdr* msg);
  bool SendReply(uint64_t request_id, uint16_t op, const Status& st);
  bool ServeFrame();

  // ---- operations (ipc_handlers.cc, ipc_infer.cc) ----
  Status Dispatch(uint16_t op, const uint8_t* payload, size_t size);
  Status Health(std::string* out);
  Status Stats(std::string* out);
  Status ModelList(std::string* out);
  Status ModelRegister(mlos::ipc::Reader* r);
  Status ModelUnregister(mlos::ipc::Reader* r);
  Status ModelInfo(mlos::ipc::Reader* r);
  Status ModelSave(mlos::ipc::Reader* r);
  Status ShmRegister(mlos::ipc::Reader* r);
  Status ShmUnregister(mlos::ipc::Reader* r);
  Status ShmStatus();
  Status Infer(mlos::ipc::Reader* r);
  Status Training(mlos::ipc::Op op, mlos::ipc::Reader* r);  // ipc_training.cc
  Status RequireOwner(std::string_view op) const;

  int fd_;
  std::shared_ptr<IpcContext> ctx_;
  ucred peer_{};
  std::atomic<bool> done_{false};

  std::unique_ptr<uint8_t[]> rbuf_;
  size_t rpos_ = 0, rend_ = 0;
  AlignedBuffer payload_;
  std::string reply_;  // payload of the reply being built
  std::deque<int> pending_fds_;
  std::unordered_map<uint32_t, RegionEntry> regions_;
  uint32_t next_region_ = 1;
};

}  // namespace mlos::server::ipc
