// IpcClient: framing over the socket, region registration, and remote inference.
#include "api/remote_client.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace mlos::api {

namespace proto = mlos::ipc;

namespace {

constexpr size_t kAlign = proto::kPayloadAlign;
constexpr size_t kInlineLimit = 64 << 10;  // smaller non-shared inputs travel in the frame
constexpr size_t kMinWindow = 1 << 20;
constexpr size_t kMaxPoolSlots = 8;

size_t AlignUp(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

Status Broken(const char* what) {
  return Unavailable("IPC connection: ", what, ": ", errno ? std::strerror(errno) : "closed");
}

}  // namespace

struct IpcClient::Pool {
  struct Slot {
    std::shared_ptr<ShmRegion> region;
    uint32_t id = 0;
    bool busy = false;
  };
  std::mutex mu;
  std::vector<Slot> slots;
};

namespace {

// Keeps an output region mapped and marks its pool slot free when the last output tensor
// viewing it is released.
struct Lease {
  std::shared_ptr<ShmRegion> region;
  std::weak_ptr<IpcClient::Pool> pool;
  size_t slot = 0;
  ~Lease() {
    if (auto p = pool.lock()) {
      std::lock_guard<std::mutex> lock(p->mu);
      if (slot < p->slots.size() && p->slots[slot].region == region) p->slots[slot].busy = false;
    }
  }
};

}  // namespace

Result<std::string> SocketPathFromEndpoint(std::string_view endpoint) {
  constexpr std::string_view kUnix = "unix://";
  if (endpoint.substr(0, kUnix.size()) == kUnix) endpoint.remove_prefix(kUnix.size());
  if (endpoint.empty() || endpoint.front() != '/') {
    return InvalidArgument("endpoint '", endpoint,
                           "': expected unix:///path/to/mlos.sock (remote KernelAPI speaks the "
                           "Unix-socket IPC protocol)");
  }
  return std::string(endpoint);
}

IpcClient::~IpcClient() {
  if (fd_ >= 0) close(fd_);
  std::free(reply_);
}

Result<std::unique_ptr<IpcClient>> IpcClient::Connect(std::string_view endpoint) {
  MLOS_ASSIGN_OR_RETURN(std::string path, SocketPathFromEndpoint(endpoint));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path))
    return InvalidArgument("socket path '", path, "' too long");
  std::memcpy(addr.sun_path, path.data(), path.size());
  std::unique_ptr<IpcClient> c(new IpcClient());
  c->fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) return Internal("socket: ", std::strerror(errno));
  if (connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Unavailable("cannot connect to mlos_core at '", path, "': ", std::strerror(errno));
  }
  c->pool_ = std::make_shared<Pool>();
  return c;
}

std::string_view IpcClient::reply() const {
  return std::string_view(reinterpret_cast<const char*>(reply_), reply_size_);
}

Status IpcClient::Call(proto::Op op, std::string_view payload, int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  return CallLocked(op, payload, fd);
}

Status IpcClient::CallLocked(proto::Op op, std::string_view payload, int fd) {
  if (broken_) return Unavailable("IPC connection is closed");
  proto::FrameHeader h;
  h.opcode = static_cast<uint16_t>(op);
  h.request_id = next_id_++;
  h.payload_size = payload.size();
  uint8_t hdr[proto::kHeaderSize];
  proto::EncodeHeader(h, hdr);

  size_t total = sizeof(hdr) + payload.size(), sent = 0;
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
  while (sent < total) {
    iovec iov[2];
    int cnt = 0;
    if (sent < sizeof(hdr)) iov[cnt++] = {hdr + sent, sizeof(hdr) - sent};
    size_t poff = sent > sizeof(hdr) ? sent - sizeof(hdr) : 0;
    if (poff < payload.size()) {
      iov[cnt++] = {const_cast<char*>(payload.data()) + poff, payload.size() - poff};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(cnt);
    if (fd >= 0 && sent == 0) {
      msg.msg_control = cbuf;
      msg.msg_controllen = sizeof(cbuf);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n = sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      broken_ = true;
      return Broken("send");
    }
    sent += static_cast<size_t>(n);
  }

  auto read_exact = [this](uint8_t* dst, size_t n) {
    while (n > 0) {
      ssize_t got = recv(fd_, dst, n, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      dst += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  };
  errno = 0;
  if (!read_exact(hdr, sizeof(hdr))) {
    broken_ = true;
    return Broken("receive");
  }
  proto::FrameHeader r;
  Status st = proto::DecodeHeader(hdr, uint64_t{1} << 40, &r);
  if (!st.ok() || !(r.flags & proto::kFlagReply) || r.request_id != h.request_id) {
    broken_ = true;
    return Internal("IPC connection: unexpected reply frame");
  }
  size_t size = static_cast<size_t>(r.payload_size);
  if (size > reply_cap_) {
    size_t cap = AlignUp(std::max(size, reply_cap_ * 2));
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(kAlign, cap));
    if (!p) return ResourceExhausted("IPC reply of ", size, " bytes");
    std::free(reply_);
    reply_ = p;
    reply_cap_ = cap;
  }
  if (!read_exact(reply_, size)) {
    broken_ = true;
    return Broken("receive");
  }
  reply_size_ = size;
  if (r.flags & proto::kFlagError) {
    StatusCode code =
        r.status >= 1 && r.status <= 12 ? static_cast<StatusCode>(r.status) : StatusCode::kInternal;
    return Status(code, std::string(reply()));
  }
  return Status::OK();
}

Result<std::string> IpcClient::Health() {
  std::lock_guard<std::mutex> lock(mu_);
  MLOS_RETURN_IF_ERROR(CallLocked(proto::Op::kHealth, {}, -1));
  proto::Reader r(reply_, reply_size_);
  std::string_view s;
  r.Str(&s);
  MLOS_RETURN_IF_ERROR(r.Check("health reply"));
  return std::string(s);
}

Result<std::string> IpcClient::StatsJson() {
  std::lock_guard<std::mutex> lock(mu_);
  MLOS_RETURN_IF_ERROR(CallLocked(proto::Op::kStats, {}, -1));
  return std::string(reply());
}

Result<std::string> IpcClient::ModelListJson() {
  std::lock_guard<std::mutex> lock(mu_);
  MLOS_RETURN_IF_ERROR(CallLocked(proto::Op::kModelList, {}, -1));
  return std::string(reply());
}

namespace {
std::string OneString(std::string_view a) {
  std::string p;
  proto::Writer w(&p);
  w.Str(a);
  return p;
}
}  // namespace

Result<std::string> IpcClient::Training(proto::Op op, std::string_view arg) {
  std::lock_guard<std::mutex> lock(mu_);
  MLOS_RETURN_IF_ERROR(
      CallLocked(op, op == proto::Op::kTrainList ? std::string() : OneString(arg), -1));
  proto::Reader r(reply_, reply_size_);
  std::string_view json;
  r.Str(&json, UINT32_MAX);
  MLOS_RETURN_IF_ERROR(r.Check(proto::OpName(static_cast<uint16_t>(op))));
  return std::string(json);
}

Result<proto::ModelDesc> IpcClient::RegisterModel(std::string_view request_json) {
  std::lock_guard<std::mutex> lock(mu_);
  MLOS_RETURN_IF_ERROR(CallLocked(proto::Op::kModelRegister, OneString(request_json), -1));
  proto::Reader r(reply_, reply_size_);
  proto::ModelDesc d;
  MLOS_RETURN_IF_ERROR(proto::ReadModelDesc(&r, &d));
  return d;
}

Result<proto::ModelDesc> IpcClient::ModelInfo(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  MLOS_RETURN_IF_ERROR(CallLocked(proto::Op::kModelInfo, OneString(id), -1));
  proto::Reader r(reply_, reply_size_);
  proto::ModelDesc d;
  MLOS_RETURN_IF_ERROR(proto::ReadModelDesc(&r, &d));
  return d;
}

Status IpcClient::UnregisterModel(std::string_view id) {
  return Call(proto::Op::kModelUnregister, OneString(id));
}

Status IpcClient::SaveModel(std::string_view id, std::string_view destination) {
  std::string p;
  proto::Writer w(&p);
  w.Str(id);
  w.Str(destination);
  return Call(proto::Op::kModelSave, p);
}

Result<uint32_t> IpcClient::RegisterRegion(const std::shared_ptr<ShmRegion>& region,
                                           std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  return RegisterRegionLocked(region, name);
}

Result<uint32_t> IpcClient::RegisterRegionLocked(const std::shared_ptr<ShmRegion>& region,
                                                 std::string_view name) {
  if (!region) return InvalidArgument("RegisterRegion: no region");
  if (!region->size_sealed()) MLOS_RETURN_IF_ERROR(region->Seal());
  std::string p;
  proto::Writer w(&p);
  w.Str(name);
  w.U64(region->size());
  w.U8(region->writable() ? 1 : 0);
  MLOS_RETURN_IF_ERROR(CallLocked(proto::Op::kShmRegister, p, region->fd()));
  proto::Reader r(reply_, reply_size_);
  uint32_t id = 0;
  r.U32(&id);
  MLOS_RETURN_IF_ERROR(r.Check("shm_register reply"));
  return id;
}

Status IpcClient::UnregisterRegion(uint32_t id) {
  std::string p;
  proto::Writer w(&p);
  w.U32(id);
  return Call(proto::Op::kShmUnregister, p);
}

Result<uint32_t> IpcClient::RegionIdFor(const std::shared_ptr<ShmRegion>& region) {
  auto it = known_.find(region.get());
  if (it != known_.end()) {
    if (it->second.region.lock() == region) return it->second.id;
    known_.erase(it);  // an old region at a reused address
  }
  // Forget regions that are gone (the daemon unmaps them when asked).
  for (auto k = known_.begin(); k != known_.end();) {
    if (k->second.region.expired()) {
      std::string p;
      proto::Writer w(&p);
      w.U32(k->second.id);
      (void)CallLocked(proto::Op::kShmUnregister, p, -1);
      k = known_.erase(k);
    } else {
      ++k;
    }
  }
  MLOS_ASSIGN_OR_RETURN(uint32_t id, RegisterRegionLocked(region, "tensor"));
  known_[region.get()] = Known{region, id};
  return id;
}

Status IpcClient::EnsureScratch(size_t bytes) {
  if (scratch_ && scratch_->size() >= bytes) return Status::OK();
  if (scratch_) {
    std::string p;
    proto::Writer w(&p);
    w.U32(scratch_id_);
    (void)CallLocked(proto::Op::kShmUnregister, p, -1);
    scratch_.reset();
  }
  MLOS_ASSIGN_OR_RETURN(scratch_, ShmRegion::Create("mlos-ipc-inputs", AlignUp(bytes + bytes / 4)));
  MLOS_ASSIGN_OR_RETURN(scratch_id_, RegisterRegionLocked(scratch_, "inputs"));
  return Status::OK();
}

Result<std::vector<NamedTensor>> IpcClient::Infer(std::string_view model,
                                                  const std::vector<NamedTensor>& inputs,
                                                  RemoteTiming* timing) {
  std::lock_guard<std::mutex> lock(mu_);
  // Pass 1: which inputs are already in shared memory, and how much scratch the rest need.
  struct Place {
    uint32_t region = 0;
    uint64_t offset = 0;
    bool shm = false;
    bool scratch = false;
  };
  std::vector<Place> places(inputs.size());
  size_t scratch_bytes = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i].second;
    if (!t.defined()) return InvalidArgument("input '", inputs[i].first, "' is empty");
    if (t.dtype() == DType::kString) {
      return InvalidArgument("input '", inputs[i].first,
                             "': string tensors are not carried by IPC v1");
    }
    const std::shared_ptr<ShmRegion>& region = t.storage()->shm_region();
    if (region && t.is_contiguous() && t.nbytes() > 0) {
      MLOS_ASSIGN_OR_RETURN(places[i].region, RegionIdFor(region));
      places[i].offset = static_cast<uint64_t>(static_cast<const uint8_t*>(t.raw_data()) -
                                               static_cast<const uint8_t*>(region->data()));
      places[i].shm = true;
    } else if (t.nbytes() > kInlineLimit) {
      places[i].scratch = true;
      places[i].offset = scratch_bytes;
      scratch_bytes = AlignUp(scratch_bytes + t.nbytes());
    }
  }
  if (scratch_bytes) MLOS_RETURN_IF_ERROR(EnsureScratch(scratch_bytes));

  // The output window: a free pooled region large enough for what this model returned last.
  size_t want = std::max(kMinWindow, AlignUp(output_bytes_[std::string(model)] + 16 * kAlign));
  std::shared_ptr<Lease> lease;
  uint32_t window_id = 0;
  {
    std::lock_guard<std::mutex> plock(pool_->mu);
    auto& slots = pool_->slots;
    size_t pick = slots.size();
    for (size_t s = 0; s < slots.size(); ++s) {
      if (!slots[s].busy && slots[s].region && slots[s].region->size() >= want) {
        pick = s;
        break;
      }
    }
    if (pick == slots.size()) {
      for (size_t s = 0; s < slots.size(); ++s) {
        if (!slots[s].busy) pick = s;  // too small: replace it
      }
      if (pick == slots.size() && slots.size() < kMaxPoolSlots) slots.emplace_back();
      if (pick == slots.size()) pick = slots.size() - 1;
      if (!slots[pick].busy) {
        if (slots[pick].region) {
          std::string p;
          proto::Writer w(&p);
          w.U32(slots[pick].id);
          (void)CallLocked(proto::Op::kShmUnregister, p, -1);
          slots[pick].region.reset();
        }
        auto created = ShmRegion::Create("mlos-ipc-outputs", want + want / 4);
        if (created.ok()) {
          auto id = RegisterRegionLocked(*created, "outputs");
          if (id.ok()) {
            slots[pick].region = std::move(created).value();
            slots[pick].id = *id;
          }
        }
      }
    }
    if (pick < slots.size() && !slots[pick].busy && slots[pick].region) {
      slots[pick].busy = true;
      lease = std::make_shared<Lease>();
      lease->region = slots[pick].region;
      lease->pool = pool_;
      lease->slot = pick;
      window_id = slots[pick].id;
    }
  }

  request_.clear();
  proto::Writer w(&request_);
  w.Str(model);
  w.U32(static_cast<uint32_t>(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& [name, t] = inputs[i];
    proto::WriteTensorHead(&w, name, t.dtype(), t.shape());
    const Place& pl = places[i];
    if (pl.shm) {
      proto::WriteTensorShm(&w, pl.region, pl.offset, t.nbytes());
      continue;
    }
    Tensor src = t;
    if (!t.is_contiguous()) {
      MLOS_ASSIGN_OR_RETURN(src, t.Contiguous());
    }
    if (pl.scratch) {
      std::memcpy(static_cast<uint8_t*>(scratch_->data()) + pl.offset, src.raw_data(),
                  src.nbytes());
      proto::WriteTensorShm(&w, scratch_id_, pl.offset, src.nbytes());
    } else {
      proto::WriteTensorInline(&w, 0, src.raw_data(), src.nbytes());
    }
  }
  if (lease) {
    w.U8(1);
    w.U32(window_id);
    w.U64(0);
    w.U64(lease->region->size());
  } else {
    w.U8(0);
  }
  MLOS_RETURN_IF_ERROR(CallLocked(proto::Op::kInfer, request_, -1));

  proto::Reader r(reply_, reply_size_);
  RemoteTiming tm;
  uint32_t n = 0;
  r.I64(&tm.plugin_us);
  r.I64(&tm.server_us);
  r.U32(&n);
  MLOS_RETURN_IF_ERROR(r.Check("infer reply"));
  if (n > proto::kMaxTensors) return Internal("infer reply: ", n, " outputs");
  std::vector<NamedTensor> outputs;
  outputs.reserve(n);
  uint64_t total = 0;
  proto::TensorDesc d;
  for (uint32_t i = 0; i < n; ++i) {
    MLOS_RETURN_IF_ERROR(proto::ReadTensorDesc(&r, &d));
    total += d.nbytes;
    std::shared_ptr<Storage> storage;
    if (d.location == proto::Location::kShm) {
      if (!lease || d.region != window_id)
        return Internal("infer reply: output in an unknown region");
      MLOS_RETURN_IF_ERROR(lease->region->CheckRange(d.offset, d.nbytes));
      storage =
          Storage::Wrap(static_cast<uint8_t*>(lease->region->data()) + d.offset, d.nbytes, lease);
    } else {
      MLOS_ASSIGN_OR_RETURN(storage,
                            Storage::Allocate(d.nbytes, DType::kUInt8, DefaultAllocator(), false));
      if (d.nbytes) std::memcpy(storage->data(), d.data, d.nbytes);
    }
    MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::FromStorage(std::move(storage), d.dtype, d.shape));
    outputs.emplace_back(std::string(d.name), std::move(t));
  }
  output_bytes_[std::string(model)] = total;
  if (timing) *timing = tm;
  return outputs;
}

}  // namespace mlos::api
