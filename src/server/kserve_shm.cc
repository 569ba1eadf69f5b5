#include "server/kserve_shm.h"

#include <cstring>
#include <string>

#include "server/tensor_json.h"

namespace mlos::server {

Status ParseShmRef(const rapidjson::Value& tensor, std::string_view what, bool output,
                   const ShmRegistry* registry, ShmTensorRef* out) {
  *out = ShmTensorRef{};
  auto pm = tensor.FindMember("parameters");
  if (pm == tensor.MemberEnd() || !pm->value.IsObject()) return Status::OK();
  const rapidjson::Value& p = pm->value;
  auto rm = p.FindMember("shared_memory_region");
  auto bm = p.FindMember("shared_memory_byte_size");
  auto om = p.FindMember("shared_memory_offset");
  bool has_region = rm != p.MemberEnd(), has_size = bm != p.MemberEnd();
  bool has_offset = om != p.MemberEnd();
  if (!has_region && !has_size && !has_offset) return Status::OK();
  if (!has_region || !has_size) {
    return InvalidArgument(what,
                           ": shared_memory_region and shared_memory_byte_size must be given "
                           "together");
  }
  if (!rm->value.IsString()) {
    return InvalidArgument(what, ": shared_memory_region must be a string");
  }
  std::string_view region(rm->value.GetString(), rm->value.GetStringLength());
  if (!bm->value.IsUint64()) {
    return InvalidArgument(what, ": shared_memory_byte_size must be a non-negative integer");
  }
  if (has_offset && !om->value.IsUint64()) {
    return InvalidArgument(what, ": shared_memory_offset must be a non-negative integer");
  }
  if (registry == nullptr) {
    return InvalidArgument(what, " names shared_memory_region '", region,
                           "' but system shared memory is disabled; start mlos_core with "
                           "--http-shm (config http_shm: true) to enable it");
  }
  if (!output && tensor.HasMember("data")) {
    return InvalidArgument(what, " has both 'data' and shared_memory_region '", region,
                           "'; its data must come from one place");
  }
  out->region = registry->Find(region);
  if (!out->region) {
    return InvalidArgument(what, ": shared memory region '", region, "' is not registered");
  }
  out->byte_size = bm->value.GetUint64();
  out->offset = has_offset ? om->value.GetUint64() : 0;
  MLOS_RETURN_IF_ERROR(out->region->CheckRange(out->offset, out->byte_size, what));
  if (output && !out->region->writable()) {
    return InvalidArgument(what, ": shared memory region '", region,
                           "' is read-only to the server (its key could not be opened for "
                           "writing)");
  }
  return out->region->StillBacked();
}

Result<Tensor> ShmInputTensor(const ShmTensorRef& ref, DType dtype, const Shape& shape,
                              std::string_view name) {
  const ShmRegistry::Region& r = *ref.region;
  uint8_t* p = r.data() + ref.offset;  // [offset, offset + byte_size) checked by ParseShmRef
  if (dtype != DType::kString) {
    MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
    uint64_t elem = DTypeSize(dtype);
    if (static_cast<uint64_t>(n) > UINT64_MAX / elem ||
        static_cast<uint64_t>(n) * elem != ref.byte_size) {
      return InvalidArgument("input '", name, "': shared_memory_byte_size is ", ref.byte_size,
                             " bytes (region '", r.name(), "') but shape ", ShapeToString(shape),
                             " of ", KServeDatatype(dtype), " needs ",
                             static_cast<uint64_t>(n) * elem, " bytes");
    }
    if (IsFloating(dtype) && reinterpret_cast<uintptr_t>(p) % elem == 0) {
      // Zero-copy: the storage keeps the region (and so the mapping) alive.
      std::shared_ptr<Storage> s =
          Storage::Wrap(p, static_cast<size_t>(ref.byte_size),
                        std::const_pointer_cast<ShmRegistry::Region>(ref.region));
      Result<Tensor> t = Tensor::FromStorage(std::move(s), dtype, shape);
      if (!t.ok()) return InvalidArgument("input '", name, "': ", t.status().message());
      return t;
    }
  }
  Result<Tensor> t = TensorFromBinary(
      std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(ref.byte_size)), dtype,
      shape, name);
  if (!t.ok()) {
    return InvalidArgument(t.status().message(), " (shared memory region '", r.name(), "')");
  }
  return t;
}

void AddShmOutputBinding(const std::vector<TensorInfo>& declared, std::string_view name,
                         const ShmTensorRef& ref, std::vector<runtime::OutputBinding>* bindings) {
  if (!ref.region || ref.byte_size == 0) return;
  for (size_t i = 0; i < declared.size(); ++i) {
    if (declared[i].name != name) continue;
    if (bindings->empty()) bindings->resize(declared.size());
    runtime::OutputBinding& b = (*bindings)[i];
    if (b.data != nullptr) return;
    // [offset, offset + byte_size) was checked against the region by ParseShmRef.
    b.data = ref.region->data() + ref.offset;
    b.capacity = static_cast<size_t>(ref.byte_size);
    b.owner = std::const_pointer_cast<ShmRegistry::Region>(ref.region);
    return;
  }
}

Result<uint64_t> WriteShmOutput(const Tensor& t, const ShmTensorRef& ref, std::string_view name) {
  const ShmRegistry::Region& r = *ref.region;
  MLOS_RETURN_IF_ERROR(r.StillBacked());
  uint8_t* dst = r.data() + ref.offset;
  auto too_small = [&](uint64_t need) {
    return InvalidArgument("output '", name, "' (shape ", ShapeToString(t.shape()), " of ",
                           KServeDatatype(t.dtype()), ") needs ", need,
                           " bytes but shared_memory_byte_size is ", ref.byte_size, " in region '",
                           r.name(), "'");
  };
  if (t.dtype() == DType::kString) {
    std::string buf;
    AppendBinary(t, &buf);
    if (buf.size() > ref.byte_size) return too_small(buf.size());
    if (!buf.empty()) std::memcpy(dst, buf.data(), buf.size());
    return static_cast<uint64_t>(buf.size());
  }
  uint64_t n = t.nbytes();
  if (n > ref.byte_size) return too_small(n);
  if (t.is_contiguous()) {
    // Computed in place (the output binding): nothing to copy. Otherwise memmove: a model may
    // hand back a view of an input that lives in the same region.
    if (n && t.raw_data() != dst) std::memmove(dst, t.raw_data(), static_cast<size_t>(n));
    return n;
  }
  Result<Tensor> view = Tensor::FromStorage(Storage::Wrap(dst, static_cast<size_t>(n), nullptr),
                                            t.dtype(), t.shape());
  if (!view.ok()) return view.status();
  MLOS_RETURN_IF_ERROR(view->CopyFrom(t));
  return n;
}

}  // namespace mlos::server
