#include "mlos/shm.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mlos {
namespace {

Status Errno(const char* what) { return Internal(what, ": ", std::strerror(errno)); }

}  // namespace

ShmRegion::~ShmRegion() {
  if (data_ != nullptr && size_ > 0) munmap(data_, size_);
  if (fd_ >= 0) close(fd_);
}

Result<std::shared_ptr<ShmRegion>> ShmRegion::Create(const std::string& name, size_t size) {
  if (size == 0) return InvalidArgument("shared-memory region '", name, "' has size 0");
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return Errno("memfd_create");
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    Status s = errno == ENOSPC || errno == EFBIG || errno == ENOMEM
                   ? ResourceExhausted("cannot size shared memory to ", size, " bytes")
                   : Errno("ftruncate");
    close(fd);
    return s;
  }
  void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    close(fd);
    return ResourceExhausted("cannot map ", size, " bytes of shared memory");
  }
  return std::shared_ptr<ShmRegion>(new ShmRegion(fd, data, size, true));
}

Result<std::shared_ptr<ShmRegion>> ShmRegion::Map(int fd, size_t size, bool writable) {
  if (fd < 0) return InvalidArgument("invalid file descriptor");
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return InvalidArgument("file descriptor cannot be inspected: ", std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return InvalidArgument("file descriptor is not a regular or memfd file");
  }
  if (size == 0 || static_cast<uint64_t>(st.st_size) < size) {
    close(fd);
    return OutOfRange("shared-memory region of ", size, " bytes exceeds its file of ", st.st_size,
                      " bytes");
  }
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* data = mmap(nullptr, size, prot, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    int err = errno;
    close(fd);
    return InvalidArgument("cannot map shared memory: ", std::strerror(err));
  }
  return std::shared_ptr<ShmRegion>(new ShmRegion(fd, data, size, writable));
}

Status ShmRegion::Seal() {
  if (fcntl(fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return Errno("fcntl(F_ADD_SEALS)");
  }
  return Status::OK();
}

bool ShmRegion::size_sealed() const {
  int seals = fcntl(fd_, F_GET_SEALS);
  return seals >= 0 && (seals & F_SEAL_SHRINK) != 0;
}

Status ShmRegion::CheckRange(uint64_t offset, uint64_t nbytes) const {
  if (offset > size_ || nbytes > size_ - offset) {
    return OutOfRange("range [", offset, ", ", offset, "+", nbytes,
                      ") lies outside the shared-memory region of ", size_, " bytes");
  }
  return Status::OK();
}

}  // namespace mlos
