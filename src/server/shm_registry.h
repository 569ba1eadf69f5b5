// ShmRegistry: the system-shared-memory regions registered over HTTP (Triton's extension,
// /v2/systemsharedmemory), by name.
//
// A region is a window [offset, offset + byte_size) of a POSIX shared-memory object the client
// created (shm_open key "/name", i.e. /dev/shm/name). Register() opens the object, checks the
// window against the object's size (fstat; overflow-safe) and maps just that window. Each
// region is an immutable ShmRegistry::Region held by std::shared_ptr: an inference takes its
// own reference for the request's lifetime and tensors viewing the mapping hold one through
// their Storage, so unregistering while a request uses a region is safe -- the mapping goes
// when the last user drops it.
//
// Hazard: POSIX shm objects cannot be sealed, so a client can shrink its object after
// registering it and turn the daemon's accesses into SIGBUS. StillBacked() re-checks the size
// before each use, which narrows but cannot close that window; that is why the extension is
// off by default (as in Triton) and should only be enabled for trusted local clients.
//
// Thread-safety: every method may be called concurrently (one mutex around the name map;
// lookups copy a shared_ptr and return).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mlos/status.h"

namespace mlos::server {

class ShmRegistry {
 public:
  class Region {
   public:
    ~Region();
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;

    const std::string& name() const { return name_; }
    const std::string& key() const { return key_; }
    uint64_t offset() const { return offset_; }  // in the shm object
    uint64_t byte_size() const { return byte_size_; }
    bool writable() const { return writable_; }
    // The region's first byte (object offset `offset()`).
    uint8_t* data() const { return base_; }

    // [offset, offset + nbytes) relative to the region lies inside it (overflow-safe);
    // `what` names the tensor for the message.
    Status CheckRange(uint64_t offset, uint64_t nbytes, std::string_view what) const;
    // The object still holds the whole window (a client may have truncated it since).
    Status StillBacked() const;

   private:
    friend class ShmRegistry;
    Region() = default;
    std::string name_, key_;
    uint64_t offset_ = 0, byte_size_ = 0;
    bool writable_ = false;
    int fd_ = -1;
    void* map_ = nullptr;  // page-aligned mapping start
    size_t map_len_ = 0;
    uint8_t* base_ = nullptr;
  };
  using RegionPtr = std::shared_ptr<const Region>;

  static constexpr size_t kDefaultMaxRegions = 1024;
  static constexpr size_t kMaxNameBytes = 256;

  explicit ShmRegistry(size_t max_regions = kDefaultMaxRegions) : max_regions_(max_regions) {}

  // Opens `key` (read-write, else read-only), maps the window and registers it as `name`.
  // InvalidArgument for a bad name or key, a window outside the object or a missing object;
  // AlreadyExists for a taken name; ResourceExhausted past the region limit.
  Status Register(std::string_view name, std::string_view key, uint64_t offset, uint64_t byte_size);
  // The region named `name`, or null.
  RegionPtr Find(std::string_view name) const;
  // Removes `name`; NotFound if it is not registered. In-flight users keep their mapping.
  Status Unregister(std::string_view name);
  void UnregisterAll();
  // Every region, ordered by name.
  std::vector<RegionPtr> List() const;
  size_t size() const;

  // "/" followed by 1..254 of [A-Za-z0-9._-], not "/." or "/..": a name directly in /dev/shm.
  static Status ValidateKey(std::string_view key);
  // 1..256 bytes, no control characters.
  static Status ValidateName(std::string_view name);

 private:
  const size_t max_regions_;
  mutable std::mutex mu_;
  std::map<std::string, RegionPtr, std::less<>> regions_;
};

}  // namespace mlos::server
