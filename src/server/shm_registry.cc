#include "server/shm_registry.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mlos::server {

ShmRegistry::Region::~Region() {
  if (map_ != nullptr) munmap(map_, map_len_);
  if (fd_ >= 0) close(fd_);
}

Status ShmRegistry::Region::CheckRange(uint64_t offset, uint64_t nbytes,
                                       std::string_view what) const {
  if (offset > byte_size_ || nbytes > byte_size_ - offset) {
    return InvalidArgument(what, ": shared_memory_offset ", offset, " + shared_memory_byte_size ",
                           nbytes, " lies outside shared memory region '", name_, "' of ",
                           byte_size_, " bytes");
  }
  return Status::OK();
}

Status ShmRegistry::Region::StillBacked() const {
  struct stat st;
  if (fstat(fd_, &st) != 0) {
    return InvalidArgument("shared memory region '", name_, "' (key '", key_,
                           "') cannot be inspected: ", std::strerror(errno));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset_ > size || byte_size_ > size - offset_) {
    return InvalidArgument("shared memory region '", name_, "': its object '", key_, "' shrank to ",
                           size, " bytes, below the registered window [", offset_, ", ",
                           offset_ + byte_size_, "); unregister and register it again");
  }
  return Status::OK();
}

Status ShmRegistry::ValidateKey(std::string_view key) {
  if (key.size() < 2 || key.size() > 255 || key[0] != '/') {
    return InvalidArgument("shared memory key '", key,
                           "' must be '/' followed by 1 to 254 characters (a name in /dev/shm)");
  }
  for (char c : key.substr(1)) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return InvalidArgument("shared memory key '", key,
                             "' may only hold [A-Za-z0-9._-] after its leading '/'");
    }
  }
  if (key == "/." || key == "/..") {
    return InvalidArgument("shared memory key '", key, "' does not name an object");
  }
  return Status::OK();
}

Status ShmRegistry::ValidateName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return InvalidArgument("shared memory region names must be 1 to ", kMaxNameBytes, " bytes");
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument("shared memory region names may not hold control characters");
    }
  }
  return Status::OK();
}

Status ShmRegistry::Register(std::string_view name, std::string_view key, uint64_t offset,
                             uint64_t byte_size) {
  MLOS_RETURN_IF_ERROR(ValidateName(name));
  MLOS_RETURN_IF_ERROR(ValidateKey(key));
  if (byte_size == 0) {
    return InvalidArgument("shared memory region '", name, "': byte_size must be positive");
  }
  if (offset > UINT64_MAX - byte_size) {
    return InvalidArgument("shared memory region '", name, "': offset ", offset, " + byte_size ",
                           byte_size, " overflows");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (regions_.count(name)) {
      return AlreadyExists("shared memory region '", name, "' is already registered");
    }
  }
  // shm_open adds O_NOFOLLOW | O_CLOEXEC: a symlink in /dev/shm cannot redirect us.
  std::string key_str(key);
  bool writable = true;
  int fd = shm_open(key_str.c_str(), O_RDWR, 0);
  if (fd < 0 && (errno == EACCES || errno == EROFS)) {
    writable = false;  // outputs cannot go there, inputs still can
    fd = shm_open(key_str.c_str(), O_RDONLY, 0);
  }
  if (fd < 0) {
    return InvalidArgument("unable to open shared memory key '", key, "' for region '", name,
                           "': ", std::strerror(errno));
  }
  std::shared_ptr<Region> r(new Region());
  r->fd_ = fd;  // closed by ~Region on every path below
  r->name_ = std::string(name);
  r->key_ = std::move(key_str);
  r->offset_ = offset;
  r->byte_size_ = byte_size;
  r->writable_ = writable;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return InvalidArgument("shared memory key '", key,
                           "' cannot be inspected: ", std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument("shared memory key '", key, "' is not a shared memory object");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size || byte_size > size - offset) {
    return InvalidArgument("shared memory region '", name, "': offset ", offset, " + byte_size ",
                           byte_size, " runs past the end of '", key, "' (", size, " bytes)");
  }
  // mmap wants a page-aligned file offset; map from the page holding `offset`.
  uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  uint64_t aligned = offset - offset % page;
  uint64_t len = offset - aligned + byte_size;  // <= size, which fits off_t
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* m =
      mmap(nullptr, static_cast<size_t>(len), prot, MAP_SHARED, fd, static_cast<off_t>(aligned));
  if (m == MAP_FAILED) {
    return InvalidArgument("cannot map ", byte_size, " bytes of shared memory key '", key,
                           "': ", std::strerror(errno));
  }
  r->map_ = m;
  r->map_len_ = static_cast<size_t>(len);
  r->base_ = static_cast<uint8_t*>(m) + (offset - aligned);

  std::lock_guard<std::mutex> lock(mu_);
  if (regions_.size() >= max_regions_) {
    return ResourceExhausted("cannot register shared memory region '", name, "': ", regions_.size(),
                             " regions are registered (the limit)");
  }
  auto [it, inserted] = regions_.emplace(r->name_, r);
  if (!inserted) return AlreadyExists("shared memory region '", name, "' is already registered");
  return Status::OK();
}

ShmRegistry::RegionPtr ShmRegistry::Find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = regions_.find(name);
  return it == regions_.end() ? nullptr : it->second;
}

Status ShmRegistry::Unregister(std::string_view name) {
  RegionPtr dropped;  // released after the lock: munmap outside the critical section
  std::lock_guard<std::mutex> lock(mu_);
  auto it = regions_.find(name);
  if (it == regions_.end()) {
    return NotFound("shared memory region '", name, "' is not registered");
  }
  dropped = std::move(it->second);
  regions_.erase(it);
  return Status::OK();
}

void ShmRegistry::UnregisterAll() {
  std::map<std::string, RegionPtr, std::less<>> dropped;
  std::lock_guard<std::mutex> lock(mu_);
  dropped.swap(regions_);
}

std::vector<ShmRegistry::RegionPtr> ShmRegistry::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RegionPtr> out;
  out.reserve(regions_.size());
  for (const auto& [n, r] : regions_) out.push_back(r);
  return out;
}

size_t ShmRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return regions_.size();
}

}  // namespace mlos::server
