#include "mlos/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "core/strided_copy.h"

namespace mlos {

Result<int64_t> NumElements(std::span<const int64_t> shape) {
  constexpr int64_t kLimit = int64_t{1} << 62;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument("negative dimension ", d, " in shape ", ShapeToString(shape));
    if (d != 0 && n > kLimit / d) {
      return ResourceExhausted("shape ", ShapeToString(shape), " has too many elements");
    }
    n *= d;
  }
  return n;
}

std::vector<int64_t> ContiguousStrides(std::span<const int64_t> shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

std::string ShapeToString(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Result<Shape> BroadcastShapes(std::span<const int64_t> a, std::span<const int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      return InvalidArgument("shapes ", ShapeToString(a), " and ", ShapeToString(b),
                             " cannot be broadcast together");
    }
  }
  return out;
}

Result<int> NormalizeAxis(int64_t axis, int rank) {
  if (axis < -rank || axis >= std::max(rank, 1)) {
    return InvalidArgument("axis ", axis, " is out of range for rank ", rank);
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

Result<Tensor> Tensor::Empty(DType dtype, Shape shape, Allocator& alloc) {
  MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  size_t elem = DTypeSize(dtype);
  if (static_cast<uint64_t>(n) > std::numeric_limits<size_t>::max() / elem) {
    return ResourceExhausted("tensor of shape ", ShapeToString(shape), " is too large");
  }
  MLOS_ASSIGN_OR_RETURN(auto storage,
                        Storage::Allocate(static_cast<size_t>(n) * elem, dtype, alloc, false));
  Tensor t;
  t.storage_ = std::move(storage);
  t.dtype_ = dtype;
  t.strides_ = ContiguousStrides(shape);
  t.shape_ = std::move(shape);
  t.numel_ = n;
  return t;
}

Result<Tensor> Tensor::Zeros(DType dtype, Shape shape, Allocator& alloc) {
  MLOS_ASSIGN_OR_RETURN(Tensor t, Empty(dtype, std::move(shape), alloc));
  if (dtype != DType::kString) std::memset(t.raw_data(), 0, t.nbytes());
  return t;
}

Result<Tensor> Tensor::FromStorage(std::shared_ptr<Storage> storage, DType dtype, Shape shape,
                                   std::vector<int64_t> strides, int64_t offset) {
  if (!storage) return InvalidArgument("null storage");
  if (strides.empty() && !shape.empty()) strides = ContiguousStrides(shape);
  if (strides.size() != shape.size()) {
    return InvalidArgument("strides of rank ", strides.size(), " for shape ", ShapeToString(shape));
  }
  MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  if (offset < 0) return OutOfRange("negative storage offset ", offset);
  // Every reachable element must lie in the storage: find the lowest and highest offsets.
  int64_t lo = offset, hi = offset;
  if (n > 0) {
    for (size_t i = 0; i < shape.size(); ++i) {
      if (strides[i] < 0)
        lo += strides[i] * (shape[i] - 1);
      else
        hi += strides[i] * (shape[i] - 1);
    }
    size_t elem = DTypeSize(dtype);
    if (lo < 0 || static_cast<uint64_t>(hi + 1) > storage->nbytes() / elem) {
      return OutOfRange("tensor of shape ", ShapeToString(shape), " and dtype ", DTypeName(dtype),
                        " reaches past its storage of ", storage->nbytes(), " bytes");
    }
  }
  Tensor t;
  t.storage_ = std::move(storage);
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.strides_ = std::move(strides);
  t.offset_ = offset;
  t.numel_ = n;
  return t;
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  if (!storage_) return nullptr;
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(DTypeSize(dtype_));
}

Result<Tensor> Tensor::Reshape(Shape shape) const {
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) return InvalidArgument("reshape: more than one -1 in ", ShapeToString(shape));
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      return InvalidArgument("reshape: negative dimension in ", ShapeToString(shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel_ % known != 0) {
      return InvalidArgument("reshape: cannot infer -1 in ", ShapeToString(shape), " for ", numel_,
                             " elements");
    }
    shape[static_cast<size_t>(infer)] = numel_ / known;
  }
  MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  if (n != numel_) {
    return InvalidArgument("reshape: cannot view ", ShapeToString(shape_), " (", numel_,
                           " elements) as ", ShapeToString(shape), " (", n, " elements)");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor src, Contiguous());
  Tensor t = src;
  t.strides_ = ContiguousStrides(shape);
  t.shape_ = std::move(shape);
  return t;
}

Result<Tensor> Tensor::Permute(std::span<const int64_t> perm) const {
  if (perm.size() != shape_.size()) {
    return InvalidArgument("permute: ", perm.size(), " axes given for rank ", rank());
  }
  std::vector<bool> seen(perm.size(), false);
  Tensor t = *this;
  for (size_t i = 0; i < perm.size(); ++i) {
    MLOS_ASSIGN_OR_RETURN(int axis, NormalizeAxis(perm[i], rank()));
    if (seen[static_cast<size_t>(axis)])
      return InvalidArgument("permute: axis ", axis, " repeated");
    seen[static_cast<size_t>(axis)] = true;
    t.shape_[i] = shape_[static_cast<size_t>(axis)];
    t.strides_[i] = strides_[static_cast<size_t>(axis)];
  }
  return t;
}

Result<Tensor> Tensor::Slice(int64_t axis_in, int64_t start, int64_t stop, int64_t step) const {
  MLOS_ASSIGN_OR_RETURN(int axis, NormalizeAxis(axis_in, rank()));
  if (step <= 0) return InvalidArgument("slice: step must be positive, got ", step);
  auto a = static_cast<size_t>(axis);
  int64_t d = shape_[a];
  auto clamp = [d](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + d : v, 0, d); };
  start = clamp(start);
  stop = clamp(stop);
  int64_t len = stop > start ? (stop - start + step - 1) / step : 0;
  Tensor t = *this;
  t.offset_ += start * strides_[a];
  t.shape_[a] = len;
  t.strides_[a] = strides_[a] * step;
  t.numel_ = d == 0 ? 0 : numel_ / d * len;
  return t;
}

Result<Tensor> Tensor::BroadcastTo(const Shape& shape) const {
  MLOS_ASSIGN_OR_RETURN(Shape b, BroadcastShapes(shape_, shape));
  if (b != shape) {
    return InvalidArgument("cannot broadcast ", ShapeToString(shape_), " to ",
                           ShapeToString(shape));
  }
  Tensor t = *this;
  size_t lead = shape.size() - shape_.size();
  t.shape_ = shape;
  t.strides_.assign(shape.size(), 0);
  for (size_t i = 0; i < shape_.size(); ++i) {
    t.strides_[lead + i] = shape_[i] == 1 ? 0 : strides_[i];
  }
  MLOS_ASSIGN_OR_RETURN(t.numel_, NumElements(shape));
  return t;
}

Result<Tensor> Tensor::Contiguous() const {
  if (!defined() || is_contiguous()) return *this;
  return Clone();
}

Result<Tensor> Tensor::Clone() const {
  if (!defined()) return InvalidArgument("clone of an undefined tensor");
  MLOS_ASSIGN_OR_RETURN(Tensor t, Empty(dtype_, shape_));
  MLOS_RETURN_IF_ERROR(t.CopyFrom(*this));
  return t;
}

Status Tensor::CopyFrom(const Tensor& src) {
  if (src.dtype_ != dtype_ || src.shape_ != shape_) {
    return InvalidArgument("copy: source ", DTypeName(src.dtype_), ShapeToString(src.shape_),
                           " does not match destination ", DTypeName(dtype_),
                           ShapeToString(shape_));
  }
  CopyStrided(src, *this);
  return Status::OK();
}

int64_t Tensor::ElementOffset(std::span<const int64_t> index) const {
  if (index.size() != shape_.size()) {
    ThrowIfError(InvalidArgument("index of rank ", index.size(), " for tensor of shape ",
                                 ShapeToString(shape_)));
  }
  int64_t off = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    int64_t v = index[i];
    if (v < 0 || v >= shape_[i]) {
      ThrowIfError(OutOfRange("index ", v, " is out of range for axis ", i, " of size ", shape_[i],
                              " (shape ", ShapeToString(shape_), ")"));
    }
    off += v * strides_[i];
  }
  return off;
}

void Tensor::ThrowDTypeMismatch(DType asked) const {
  throw KernelError(
      InvalidArgument("tensor has dtype ", DTypeName(dtype_), ", accessed as ", DTypeName(asked)));
}

double Tensor::GetAsDouble(int64_t flat_index) const {
  if (flat_index < 0 || flat_index >= numel_) {
    ThrowIfError(OutOfRange("flat index ", flat_index, " out of range for ", numel_, " elements"));
  }
  int64_t off = 0, rem = flat_index;
  for (size_t i = shape_.size(); i-- > 0;) {
    off += (rem % shape_[i]) * strides_[i];
    rem /= shape_[i];
  }
  return VisitDType(dtype_, [&](auto tag) -> double {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, std::string>) {
      return std::numeric_limits<double>::quiet_NaN();
    } else {
      return static_cast<double>(static_cast<const T*>(raw_data())[off]);
    }
  });
}

std::string Tensor::ToString(int64_t max_elements) const {
  std::ostringstream os;
  os << "Tensor(" << DTypeName(dtype_) << ", " << ShapeToString(shape_) << ", [";
  int64_t n = std::min(numel_, max_elements);
  for (int64_t i = 0; i < n; ++i) {
    if (i) os << ", ";
    if (dtype_ == DType::kString) {
      int64_t off = 0, rem = i;
      for (size_t k = shape_.size(); k-- > 0;) {
        off += (rem % shape_[k]) * strides_[k];
        rem /= shape_[k];
      }
      os << '"' << static_cast<const std::string*>(raw_data())[off] << '"';
    } else {
      os << GetAsDouble(i);
    }
  }
  if (n < numel_) os << ", ...";
  os << "])";
  return os.str();
}

}  // namespace mlos
