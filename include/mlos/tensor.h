// Tensor: a typed, shaped, strided view of reference-counted Storage.
//
// Copying a Tensor is cheap and shares the bytes (like numpy views); Clone() copies them.
// Views (Reshape, Permute, Slice, BroadcastTo) never copy; Contiguous() copies only when needed.
// Strides and the offset are counted in elements. A stride may be 0 (broadcast views).
// Thread-safety: a Tensor object is a value; concurrent reads are safe, writes to shared bytes
// must be synchronised by the caller.
// Errors: factories and views return Result; only the element accessors at()/item() and data<T>()
// throw (mlos::KernelError), because they are the public C++ API's element access.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mlos/allocator.h"
#include "mlos/dtype.h"
#include "mlos/error.h"
#include "mlos/status.h"
#include "mlos/storage.h"

namespace mlos {

using Shape = std::vector<int64_t>;

// Number of elements of `shape`; fails on a negative dimension or on overflow past 2^62.
Result<int64_t> NumElements(std::span<const int64_t> shape);
// Row-major strides, in elements.
std::vector<int64_t> ContiguousStrides(std::span<const int64_t> shape);
// "[2, 3, 4]"
std::string ShapeToString(std::span<const int64_t> shape);
// Numpy broadcasting of two shapes, or InvalidArgument naming both.
Result<Shape> BroadcastShapes(std::span<const int64_t> a, std::span<const int64_t> b);
// Normalises a possibly negative axis against `rank`.
Result<int> NormalizeAxis(int64_t axis, int rank);

class Tensor {
 public:
  Tensor() = default;

  // ---- factories ----
  static Result<Tensor> Empty(DType dtype, Shape shape, Allocator& alloc = DefaultAllocator());
  static Result<Tensor> Zeros(DType dtype, Shape shape, Allocator& alloc = DefaultAllocator());
  // A view of `storage`; checks that every reachable element lies inside it.
  static Result<Tensor> FromStorage(std::shared_ptr<Storage> storage, DType dtype, Shape shape,
                                    std::vector<int64_t> strides = {}, int64_t offset = 0);
  // Copies `values` (row-major) into a new tensor of `shape`.
  template <typename T>
  static Result<Tensor> FromVector(Shape shape, std::span<const T> values);
  template <typename T>
  static Result<Tensor> FromVector(Shape shape, const std::vector<T>& values) {
    return FromVector<T>(std::move(shape), std::span<const T>(values));
  }
  template <typename T>
  static Tensor Scalar(T value);

  // ---- properties ----
  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int axis) const { return shape_[static_cast<size_t>(axis)]; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * DTypeSize(dtype_); }
  int64_t offset() const { return offset_; }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  // Pointer to the element at index [0, ..., 0].
  void* raw_data() const;
  // Typed pointer; throws KernelError if T is not this tensor's dtype.
  template <typename T>
  T* data() const {
    if (kDTypeOf<T> != dtype_) ThrowDTypeMismatch(kDTypeOf<T>);
    return static_cast<T*>(raw_data());
  }

  // ---- views (share storage) ----
  // Row-major reshape; one dimension may be -1. A view when contiguous, else a copy.
  Result<Tensor> Reshape(Shape shape) const;
  Result<Tensor> Permute(std::span<const int64_t> perm) const;
  // Elements start, start+step, ... before stop (numpy semantics for step > 0, clamped).
  Result<Tensor> Slice(int64_t axis, int64_t start, int64_t stop, int64_t step = 1) const;
  // A stride-0 view broadcast to `shape` by numpy rules.
  Result<Tensor> BroadcastTo(const Shape& shape) const;

  // ---- copies ----
  Result<Tensor> Contiguous() const;  // *this when already contiguous
  Result<Tensor> Clone() const;
  // Copies `src` (same dtype and shape, any strides) into this tensor's elements.
  Status CopyFrom(const Tensor& src);

  // ---- element access (public API; throws KernelError on a bad index or dtype) ----
  template <typename T>
  T& at(std::initializer_list<int64_t> index) const {
    return data<T>()[ElementOffset(index)];
  }
  template <typename T>
  T& at(std::span<const int64_t> index) const {
    return data<T>()[ElementOffset(index)];
  }
  // The single element of a one-element tensor, converted to T.
  template <typename T>
  T item() const;
  // Element `i` in row-major order as double (numeric dtypes); for tests and printing.
  double GetAsDouble(int64_t flat_index) const;

  // "Tensor(float32, [2, 2], [[1, 2], [3, 4]])", eliding past `max_elements`.
  std::string ToString(int64_t max_elements = 64) const;

 private:
  int64_t ElementOffset(std::span<const int64_t> index) const;  // throws on a bad index
  [[noreturn]] void ThrowDTypeMismatch(DType asked) const;

  std::shared_ptr<Storage> storage_;
  DType dtype_ = DType::kFloat32;
  Shape shape_;
  std::vector<int64_t> strides_;
  int64_t offset_ = 0;
  int64_t numel_ = 0;
};

// ---- template definitions ----

template <typename T>
Result<Tensor> Tensor::FromVector(Shape shape, std::span<const T> values) {
  MLOS_ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  if (static_cast<size_t>(n) != values.size()) {
    return InvalidArgument("shape ", ShapeToString(shape), " holds ", n, " elements but ",
                           values.size(), " values were given");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor t, Empty(kDTypeOf<T>, std::move(shape)));
  T* out = static_cast<T*>(t.raw_data());
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return t;
}

template <typename T>
Tensor Tensor::Scalar(T value) {
  Result<Tensor> t = Empty(kDTypeOf<T>, {});
  ThrowIfError(t.status());
  *static_cast<T*>(t->raw_data()) = value;
  return std::move(t).value();
}

template <typename T>
T Tensor::item() const {
  if (numel_ != 1) {
    ThrowIfError(
        InvalidArgument("item() needs a one-element tensor, got shape ", ShapeToString(shape_)));
  }
  if (kDTypeOf<T> == dtype_) return *static_cast<const T*>(raw_data());
  if constexpr (std::is_arithmetic_v<T>) {
    return static_cast<T>(GetAsDouble(0));
  } else {
    ThrowDTypeMismatch(kDTypeOf<T>);
  }
}

}  // namespace mlos
