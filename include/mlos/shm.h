// Shared-memory regions backed by memfd: the substrate of zero-copy tensors between processes.
//
// A region owns one file descriptor and one shared mapping of it. Create() makes a new anonymous
// memfd (sealable); Map() adopts an fd received from another process and checks its size with
// fstat before mapping, so a client cannot make us map past the end of a file. Seal() forbids
// growing and shrinking (the size we validated stays true). Regions are immutable after creation
// apart from their bytes, and safe to share between threads via shared_ptr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "mlos/status.h"

namespace mlos {

class ShmRegion {
 public:
  ~ShmRegion();
  ShmRegion(const ShmRegion&) = delete;
  ShmRegion& operator=(const ShmRegion&) = delete;

  // A new memfd of `size` bytes, zero-filled, mapped read-write.
  static Result<std::shared_ptr<ShmRegion>> Create(const std::string& name, size_t size);
  // Takes ownership of `fd` (closed on failure too) and maps `size` bytes of it, which must not
  // exceed the file's size. `writable` false maps read-only.
  static Result<std::shared_ptr<ShmRegion>> Map(int fd, size_t size, bool writable = true);

  // Seals the size: F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL.
  Status Seal();
  // Whether the size is sealed against shrinking (true for sealed regions from other processes).
  bool size_sealed() const;

  int fd() const { return fd_; }
  void* data() const { return data_; }
  size_t size() const { return size_; }
  bool writable() const { return writable_; }
  // Checks that [offset, offset + nbytes) lies inside the region, without overflow.
  Status CheckRange(uint64_t offset, uint64_t nbytes) const;

 private:
  ShmRegion(int fd, void* data, size_t size, bool writable)
      : fd_(fd), data_(data), size_(size), writable_(writable) {}
  int fd_;
  void* data_;
  size_t size_;
  bool writable_;
};

}  // namespace mlos
