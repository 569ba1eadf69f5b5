#include "mlos/storage.h"

#include <cstring>
#include <new>
#include <string>

namespace mlos {

Storage::~Storage() {
  if (num_strings_ > 0) {
    auto* s = static_cast<std::string*>(data_);
    for (size_t i = 0; i < num_strings_; ++i) s[i].~basic_string();
  }
  if (allocator_ != nullptr) allocator_->Deallocate(data_, nbytes_);
}

Result<std::shared_ptr<Storage>> Storage::Allocate(size_t nbytes, DType dtype, Allocator& allocator,
                                                   bool zero) {
  std::shared_ptr<Storage> s(new Storage());
  s->nbytes_ = nbytes;
  s->data_ = allocator.Allocate(nbytes == 0 ? 1 : nbytes);
  if (s->data_ == nullptr) {
    return ResourceExhausted("cannot allocate ", nbytes, " bytes for tensor storage");
  }
  s->allocator_ = &allocator;
  if (dtype == DType::kString) {
    size_t n = nbytes / sizeof(std::string);
    auto* p = static_cast<std::string*>(s->data_);
    for (size_t i = 0; i < n; ++i) new (p + i) std::string();
    s->num_strings_ = n;
  } else if (zero && nbytes > 0) {
    std::memset(s->data_, 0, nbytes);
  }
  return s;
}

std::shared_ptr<Storage> Storage::Wrap(void* data, size_t nbytes, std::shared_ptr<void> owner) {
  std::shared_ptr<Storage> s(new Storage());
  s->data_ = data;
  s->nbytes_ = nbytes;
  s->owner_ = std::move(owner);
  return s;
}

Result<std::shared_ptr<Storage>> Storage::FromShm(std::shared_ptr<ShmRegion> region, size_t offset,
                                                  size_t nbytes) {
  if (!region) return InvalidArgument("null shared-memory region");
  MLOS_RETURN_IF_ERROR(region->CheckRange(offset, nbytes));
  std::shared_ptr<Storage> s(new Storage());
  s->data_ = static_cast<char*>(region->data()) + offset;
  s->nbytes_ = nbytes;
  s->shm_offset_ = offset;
  s->shm_ = std::move(region);
  return s;
}

}  // namespace mlos
