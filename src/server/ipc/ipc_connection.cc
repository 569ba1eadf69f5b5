// IpcConnection I/O: frame reading (with SCM_RIGHTS descriptors), replies, the serve loop.
#include "server/ipc/ipc_connection.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "runtime/log.h"

namespace mlos::server::ipc {

namespace proto = mlos::ipc;

namespace {
constexpr size_t kReadBufferSize = 64 << 10;
constexpr size_t kKeepPayloadBytes = 16 << 20;  // larger payload buffers are freed after use
}  // namespace

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

bool AlignedBuffer::Reserve(size_t n, size_t keep) {
  if (n <= cap_) return true;
  size_t cap = std::max<size_t>(n, std::min<size_t>(cap_ * 2, n + (64 << 20)));
  cap = (cap + proto::kPayloadAlign - 1) / proto::kPayloadAlign * proto::kPayloadAlign;
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(proto::kPayloadAlign, cap));
  if (!p) return false;
  if (keep) std::memcpy(p, data_, std::min(keep, cap_));
  std::free(data_);
  data_ = p;
  cap_ = cap;
  return true;
}

void AlignedBuffer::ShrinkIfAbove(size_t limit) {
  if (cap_ <= limit) return;
  std::free(data_);
  data_ = nullptr;
  cap_ = 0;
}

IpcConnection::IpcConnection(int fd, std::shared_ptr<IpcContext> ctx)
    : fd_(fd), ctx_(std::move(ctx)), rbuf_(new uint8_t[kReadBufferSize]) {
  socklen_t len = sizeof(peer_);
  if (getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &peer_, &len) != 0) {
    peer_.pid = 0;
    peer_.uid = static_cast<uid_t>(-1);  // unknown peers get no owner rights
    peer_.gid = static_cast<gid_t>(-1);
  }
  timeval tv{ctx_->options.send_timeout_ms / 1000, (ctx_->options.send_timeout_ms % 1000) * 1000};
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

IpcConnection::~IpcConnection() {
  for (int f : pending_fds_) close(f);
  ctx_->counters.regions.fetch_sub(static_cast<int64_t>(regions_.size()));
  regions_.clear();
  if (fd_ >= 0) close(fd_);
}

void IpcConnection::Stop() { shutdown(fd_, SHUT_RDWR); }

void IpcConnection::TakeFds(msghdr* msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* p = CMSG_DATA(c);
    for (size_t i = 0; i < n; ++i) {
      int f;
      std::memcpy(&f, p + i * sizeof(int), sizeof(int));
      if (pending_fds_.size() < kMaxPendingFds) {
        pending_fds_.push_back(f);
      } else {
        close(f);  // a client flooding us with descriptors gets them closed
      }
    }
  }
}

// Reads into `dst` (or the read buffer when dst is null) with recvmsg, so descriptors that
// arrive with any byte are collected. Returns bytes read, 0 at EOF, -1 on error.
static ssize_t RecvWithFds(int fd, void* dst, size_t n, IpcConnection* conn,
                           void (IpcConnection::*take)(msghdr*)) {
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 8)];
  iovec iov{dst, n};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof(cbuf);
  ssize_t got;
  do {
    got = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got >= 0) (conn->*take)(&msg);
  // MSG_CTRUNC: descriptors beyond cbuf were closed by the kernel; nothing to do.
  return got;
}

bool IpcConnection::FillBuffer() {
  rpos_ = rend_ = 0;
  ssize_t got = RecvWithFds(fd_, rbuf_.get(), kReadBufferSize, this, &IpcConnection::TakeFds);
  if (got <= 0) return false;
  rend_ = static_cast<size_t>(got);
  return true;
}

bool IpcConnection::ReadExact(uint8_t* dst, size_t n) {
  while (n > 0) {
    if (rpos_ < rend_) {
      size_t k = std::min(n, rend_ - rpos_);
      std::memcpy(dst, rbuf_.get() + rpos_, k);
      rpos_ += k;
      dst += k;
      n -= k;
    } else if (n >= kReadBufferSize) {
      // Large payloads go straight to their destination.
      ssize_t got = RecvWithFds(fd_, dst, n, this, &IpcConnection::TakeFds);
      if (got <= 0) return false;
      dst += got;
      n -= static_cast<size_t>(got);
    } else if (!FillBuffer()) {
      return false;
    }
  }
  return true;
}

bool IpcConnection::SendReply(uint64_t request_id, uint16_t op, const Status& st) {
  proto::FrameHeader h;
  h.opcode = op;
  h.request_id = request_id;
  h.flags = proto::kFlagReply;
  if (!st.ok()) {
    ctx_->counters.errors.fetch_add(1, std::memory_order_relaxed);
    h.flags |= proto::kFlagError;
    h.status = static_cast<uint32_t>(st.code());
    reply_.assign(st.message());
  }
  h.payload_size = reply_.size();
  uint8_t hdr[proto::kHeaderSize];
  proto::EncodeHeader(h, hdr);
  iovec iov[2] = {{hdr, sizeof(hdr)}, {reply_.data(), reply_.size()}};
  size_t total = sizeof(hdr) + reply_.size();
  size_t sent = 0;
  msghdr msg{};
  while (sent < total) {
    // Skip what has been sent.
    iovec cur[2];
    int cnt = 0;
    size_t skip = sent;
    for (const iovec& v : iov) {
      if (skip >= v.iov_len) {
        skip -= v.iov_len;
        continue;
      }
      cur[cnt++] = {static_cast<char*>(v.iov_base) + skip, v.iov_len - skip};
      skip = 0;
    }
    msg.msg_iov = cur;
    msg.msg_iovlen = static_cast<size_t>(cnt);
    ssize_t n = sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // the peer went away or stopped reading (SO_SNDTIMEO)
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads one frame and answers it. False ends the connection.
bool IpcConnection::ServeFrame() {
  uint8_t hdr[proto::kHeaderSize];
  if (!ReadExact(hdr, sizeof(hdr))) return false;
  proto::FrameHeader h;
  Status st = proto::DecodeHeader(hdr, ctx_->options.max_payload, &h);
  ctx_->counters.requests.fetch_add(1, std::memory_order_relaxed);
  if (!st.ok()) {
    // The stream cannot be trusted past a bad header: answer, then close.
    SendReply(h.request_id, h.opcode, st);
    return false;
  }
  if (h.flags & proto::kFlagReply) {
    SendReply(h.request_id, h.opcode, InvalidArgument("frame: clients send requests, not replies"));
    return false;
  }
  // The payload arrives in steps of at most 64 MiB, so a header that promises a huge payload
  // costs memory only as the bytes really come.
  size_t size = static_cast<size_t>(h.payload_size);
  size_t got = 0;
  while (got < size) {
    size_t step = std::min(size - got, size_t{64} << 20);
    if (!payload_.Reserve(got + step, got)) {
      SendReply(h.request_id, h.opcode,
                ResourceExhausted("frame: cannot buffer a payload of ", size, " bytes"));
      return false;
    }
    if (!ReadExact(payload_.data() + got, step)) return false;  // peer vanished mid-frame
    got += step;
  }
  reply_.clear();
  st = Dispatch(h.opcode, payload_.data(), size);
  if (!st.ok()) reply_.clear();
  bool ok = SendReply(h.request_id, h.opcode, st);
  payload_.ShrinkIfAbove(kKeepPayloadBytes);
  if (reply_.capacity() > kKeepPayloadBytes) std::string().swap(reply_);
  return ok;
}

void IpcConnection::Run() {
  while (ServeFrame()) {
  }
  shutdown(fd_, SHUT_RDWR);  // the peer sees EOF now, not when the accept loop reaps us
  done_.store(true, std::memory_order_release);
}

}  // namespace mlos::server::ipc
