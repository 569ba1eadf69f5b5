// KernelAPI construction, tensor creation and memory (see kernel_api.h).
#include "kernel_api.h"

#include "api/kernel_api_impl.h"

namespace mlos {

KernelAPI::KernelAPI() : KernelAPI(KernelOptions{}) {}
KernelAPI::KernelAPI(const KernelOptions& options) : impl_(std::make_unique<Impl>(options)) {}
KernelAPI::~KernelAPI() = default;

int KernelAPI::num_threads() const { return impl_->pool.num_threads(); }
ThreadPool& KernelAPI::thread_pool() { return impl_->pool; }

Tensor KernelAPI::create_tensor(const std::vector<int64_t>& dimensions, DType dtype) {
  return ValueOrThrow(Tensor::Zeros(dtype, dimensions, impl_->allocator));
}

Tensor KernelAPI::create_tensor(const std::vector<int64_t>& dimensions,
                                const std::vector<float>& values) {
  return ValueOrThrow(Tensor::FromVector<float>(dimensions, values));
}

MemoryBuffer KernelAPI::allocate_memory(size_t size) {
  return MemoryBuffer(ValueOrThrow(Storage::Allocate(size, DType::kUInt8, impl_->allocator)));
}

SharedMemoryBuffer KernelAPI::shared_memory_buffer(size_t size) {
  return SharedMemoryBuffer(ValueOrThrow(ShmRegion::Create("mlos-tensor", size)));
}

namespace {

Tensor ViewBytes(const std::shared_ptr<Storage>& storage, DType dtype,
                 const std::vector<int64_t>& shape, size_t offset) {
  if (!storage) ThrowIfError(FailedPrecondition("as_tensor on an empty buffer"));
  size_t elem = DTypeSize(dtype);
  if (dtype == DType::kString) {
    ThrowIfError(InvalidArgument("string tensors cannot view raw buffer bytes"));
  }
  if (offset % elem != 0) {
    ThrowIfError(InvalidArgument("offset ", offset, " is not a multiple of the ", DTypeName(dtype),
                                 " element size ", elem));
  }
  return ValueOrThrow(
      Tensor::FromStorage(storage, dtype, shape, {}, static_cast<int64_t>(offset / elem)));
}

}  // namespace

Tensor MemoryBuffer::as_tensor(DType dtype, const std::vector<int64_t>& shape,
                               size_t offset) const {
  return ViewBytes(storage_, dtype, shape, offset);
}

void SharedMemoryBuffer::seal() {
  if (!region_) ThrowIfError(FailedPrecondition("seal on an empty shared-memory buffer"));
  ThrowIfError(region_->Seal());
}

Tensor SharedMemoryBuffer::as_tensor(DType dtype, const std::vector<int64_t>& shape,
                                     size_t offset) const {
  if (!region_) ThrowIfError(FailedPrecondition("as_tensor on an empty shared-memory buffer"));
  auto storage = ValueOrThrow(Storage::FromShm(region_, 0, region_->size()));
  return ViewBytes(storage, dtype, shape, offset);
}

}  // namespace mlos
