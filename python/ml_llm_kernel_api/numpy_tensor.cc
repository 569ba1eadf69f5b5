// numpy <-> mlos::Tensor conversions (see numpy_tensor.h).
#include "numpy_tensor.h"

#include <string>

namespace mlos::py {

DType DTypeFromNumpy(const pyb::dtype& dt) {
  char kind = dt.kind();
  auto size = dt.itemsize();
  if (kind == 'f' && size == 4) return DType::kFloat32;
  if (kind == 'f' && size == 8) return DType::kFloat64;
  if (kind == 'f' && size == 2) return DType::kFloat16;
  if (kind == 'i' && size == 1) return DType::kInt8;
  if (kind == 'i' && size == 2) return DType::kInt16;
  if (kind == 'i' && size == 4) return DType::kInt32;
  if (kind == 'i' && size == 8) return DType::kInt64;
  if (kind == 'u' && size == 1) return DType::kUInt8;
  if (kind == 'u' && size == 2) return DType::kUInt16;
  if (kind == 'u' && size == 4) return DType::kUInt32;
  if (kind == 'u' && size == 8) return DType::kUInt64;
  if (kind == 'b') return DType::kBool;
  ThrowIfError(InvalidArgument("numpy dtype '", dt.attr("name").cast<std::string>(),
                               "' has no MLOS tensor type"));
  return DType::kFloat32;
}

pyb::dtype NumpyFromDType(DType t) {
  switch (t) {
    case DType::kFloat32:
      return pyb::dtype("float32");
    case DType::kFloat64:
      return pyb::dtype("float64");
    case DType::kFloat16:
      return pyb::dtype("float16");
    case DType::kInt8:
      return pyb::dtype("int8");
    case DType::kInt16:
      return pyb::dtype("int16");
    case DType::kInt32:
      return pyb::dtype("int32");
    case DType::kInt64:
      return pyb::dtype("int64");
    case DType::kUInt8:
      return pyb::dtype("uint8");
    case DType::kUInt16:
      return pyb::dtype("uint16");
    case DType::kUInt32:
      return pyb::dtype("uint32");
    case DType::kUInt64:
      return pyb::dtype("uint64");
    case DType::kBool:
      return pyb::dtype("bool");
    case DType::kBFloat16:
    case DType::kString:
      break;
  }
  ThrowIfError(Unimplemented("tensor dtype ", DTypeName(t), " has no numpy equivalent here"));
  return pyb::dtype("float32");
}

void RegionIndex::Add(const std::shared_ptr<ShmRegion>& r) {
  std::erase_if(regions_, [](const std::weak_ptr<ShmRegion>& w) { return w.expired(); });
  regions_.push_back(r);
}

std::shared_ptr<ShmRegion> RegionIndex::Find(const void* p, size_t n) {
  auto a = reinterpret_cast<uintptr_t>(p);
  for (const auto& w : regions_) {
    auto r = w.lock();
    if (!r) continue;
    auto base = reinterpret_cast<uintptr_t>(r->data());
    if (a >= base && a - base <= r->size() && n <= r->size() - (a - base)) return r;
  }
  return nullptr;
}

namespace {

// Keeps a Python object alive from C++; takes the GIL to drop it (tensors may die anywhere).
std::shared_ptr<void> HoldPython(pyb::object o) {
  return std::shared_ptr<void>(new pyb::object(std::move(o)), [](void* p) {
    pyb::gil_scoped_acquire gil;
    delete static_cast<pyb::object*>(p);
  });
}

}  // namespace

Tensor ToTensor(const pyb::handle& obj, RegionIndex* regions, int want) {
  pyb::array arr;
  if (pyb::isinstance<pyb::array>(obj)) {
    arr = pyb::reinterpret_borrow<pyb::array>(obj);
  } else {
    arr = pyb::array(pyb::module_::import("numpy").attr("asarray")(obj));
  }
  if (want >= 0) {
    pyb::dtype dt = NumpyFromDType(static_cast<DType>(want));
    if (!arr.dtype().is(dt) && !arr.dtype().equal(dt)) arr = pyb::array(arr.attr("astype")(dt));
  }
  if (!(arr.flags() & pyb::array::c_style)) {
    arr = pyb::array(pyb::module_::import("numpy").attr("ascontiguousarray")(arr));
  }
  DType dtype = DTypeFromNumpy(arr.dtype());
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  size_t nbytes = static_cast<size_t>(arr.nbytes());
  const void* data = arr.data();
  std::shared_ptr<Storage> storage;
  if (regions && nbytes > 0) {
    if (std::shared_ptr<ShmRegion> r = regions->Find(data, nbytes)) {
      size_t off = static_cast<size_t>(static_cast<const uint8_t*>(data) -
                                       static_cast<const uint8_t*>(r->data()));
      storage = ValueOrThrow(Storage::FromShm(r, off, nbytes));
    }
  }
  if (!storage) storage = Storage::Wrap(const_cast<void*>(data), nbytes, HoldPython(arr));
  return ValueOrThrow(Tensor::FromStorage(std::move(storage), dtype, std::move(shape)));
}

pyb::array ToNumpy(const Tensor& t) {
  pyb::dtype dt = NumpyFromDType(t.dtype());
  std::vector<pyb::ssize_t> shape(t.shape().begin(), t.shape().end());
  std::vector<pyb::ssize_t> strides;
  auto elem = static_cast<pyb::ssize_t>(DTypeSize(t.dtype()));
  for (int64_t s : t.strides()) strides.push_back(static_cast<pyb::ssize_t>(s) * elem);
  auto* keep = new Tensor(t);
  pyb::capsule owner(keep, [](void* p) { delete static_cast<Tensor*>(p); });
  return pyb::array(dt, shape, strides, t.raw_data(), owner);
}

}  // namespace mlos::py
