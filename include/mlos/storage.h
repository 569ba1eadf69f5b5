// Storage: a reference-counted block of bytes that one or more tensors view.
//
// Ownership: a Storage owns its bytes when it came from an Allocator, or keeps an owner alive
// (a shared-memory region, a caller's buffer) when it wraps memory it did not allocate. Tensors
// hold std::shared_ptr<Storage>, so the last view to go releases the bytes. String tensors keep
// std::string objects in their storage; the storage constructs and destroys them.
// Thread-safety: the reference count is atomic; the bytes themselves are not synchronised.
#pragma once

#include <cstddef>
#include <memory>

#include "mlos/allocator.h"
#include "mlos/dtype.h"
#include "mlos/shm.h"
#include "mlos/status.h"

namespace mlos {

class Storage {
 public:
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // `nbytes` bytes for elements of `dtype` from `allocator`, zero-filled when `zero` (string
  // storage always holds valid empty strings).
  static Result<std::shared_ptr<Storage>> Allocate(size_t nbytes, DType dtype,
                                                   Allocator& allocator = DefaultAllocator(),
                                                   bool zero = true);
  // Wraps memory owned elsewhere; `owner` (may be null) is kept alive as long as the storage.
  static std::shared_ptr<Storage> Wrap(void* data, size_t nbytes, std::shared_ptr<void> owner);
  // Views `nbytes` at `offset` of a shared-memory region; checked against the region's bounds.
  static Result<std::shared_ptr<Storage>> FromShm(std::shared_ptr<ShmRegion> region, size_t offset,
                                                  size_t nbytes);

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  // The region and offset when this storage lives in shared memory, for zero-copy transport.
  const std::shared_ptr<ShmRegion>& shm_region() const { return shm_; }
  size_t shm_offset() const { return shm_offset_; }

 private:
  Storage() = default;
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Allocator* allocator_ = nullptr;  // set when we own the bytes
  size_t num_strings_ = 0;          // std::string objects to destroy
  std::shared_ptr<void> owner_;
  std::shared_ptr<ShmRegion> shm_;
  size_t shm_offset_ = 0;
};

}  // namespace mlos
