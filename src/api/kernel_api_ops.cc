// KernelAPI's compute operations: matrix_multiply and tensor_operations (see kernel_api.h).
// Each validates its inputs, allocates the output with the kernel's shape rule, and runs the
// CPU kernel on the API's thread pool; failures become mlos::KernelError.
#include <array>
#include <string_view>

#include "api/kernel_api_impl.h"
#include "kernel_api.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/reduce.h"

namespace mlos {
namespace {

struct ReductionName {
  std::string_view name;
  kernels::ReduceOp op;
};
constexpr std::array<ReductionName, 4> kReductions = {{
    {"sum", kernels::ReduceOp::kSum},
    {"mean", kernels::ReduceOp::kMean},
    {"max", kernels::ReduceOp::kMax},
    {"min", kernels::ReduceOp::kMin},
}};

Status CheckDefined(const Tensor& t, std::string_view what) {
  if (!t.defined()) return InvalidArgument(what, ": tensor is empty (default-constructed)");
  return Status::OK();
}

}  // namespace

Tensor KernelAPI::matrix_multiply(const Tensor& a, const Tensor& b) {
  ThrowIfError(CheckDefined(a, "matrix_multiply"));
  ThrowIfError(CheckDefined(b, "matrix_multiply"));
  if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32) {
    ThrowIfError(InvalidArgument("matrix_multiply needs float32 tensors, got ",
                                 DTypeName(a.dtype()), " and ", DTypeName(b.dtype())));
  }
  Shape shape = ValueOrThrow(kernels::MatMulShape(a.shape(), b.shape()));
  Tensor out = ValueOrThrow(Tensor::Empty(DType::kFloat32, std::move(shape), impl_->allocator));
  ThrowIfError(kernels::MatMul(a, b, out, impl_->pool));
  return out;
}

Tensor KernelAPI::tensor_operations(const Tensor& tensor, const std::string& operation) {
  ThrowIfError(CheckDefined(tensor, operation));
  for (const auto& r : kReductions) {
    if (operation == r.name) {
      Shape shape = ValueOrThrow(kernels::ReduceShape(tensor.shape(), {}, false));
      Tensor out = ValueOrThrow(Tensor::Empty(tensor.dtype(), std::move(shape), impl_->allocator));
      ThrowIfError(kernels::Reduce(r.op, tensor, {}, false, out, impl_->pool));
      return out;
    }
  }
  if (operation == "softmax") {
    Tensor out = ValueOrThrow(Tensor::Empty(tensor.dtype(), tensor.shape(), impl_->allocator));
    ThrowIfError(kernels::Softmax(tensor, -1, out, impl_->pool));
    return out;
  }
  if (operation == "transpose") {
    if (tensor.rank() < 2) {
      ThrowIfError(InvalidArgument("transpose needs a tensor of rank >= 2, got shape ",
                                   ShapeToString(tensor.shape())));
    }
    std::vector<int64_t> perm(static_cast<size_t>(tensor.rank()));
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
    std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
    Shape shape = tensor.shape();
    std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
    Tensor out = ValueOrThrow(Tensor::Empty(tensor.dtype(), std::move(shape), impl_->allocator));
    ThrowIfError(kernels::Transpose(tensor, perm, out, impl_->pool));
    return out;
  }
  Result<kernels::UnaryOp> op = kernels::ParseUnaryOp(operation);
  if (!op.ok()) {
    ThrowIfError(InvalidArgument("unknown tensor operation '", operation,
                                 "' (with one operand: neg, abs, exp, log, sqrt, relu, sigmoid, "
                                 "tanh, gelu, sum, mean, max, min, softmax, transpose, ...)"));
  }
  DType out_type = ValueOrThrow(kernels::UnaryResultType(*op, tensor.dtype()));
  Tensor out = ValueOrThrow(Tensor::Empty(out_type, tensor.shape(), impl_->allocator));
  ThrowIfError(kernels::Unary(*op, tensor, out, impl_->pool));
  return out;
}

Tensor KernelAPI::tensor_operations(const Tensor& tensor, const std::string& operation,
                                    const Tensor& other) {
  ThrowIfError(CheckDefined(tensor, operation));
  ThrowIfError(CheckDefined(other, operation));
  Result<kernels::BinaryOp> op = kernels::ParseBinaryOp(operation);
  if (!op.ok()) {
    ThrowIfError(InvalidArgument("unknown tensor operation '", operation,
                                 "' (with two operands: add, subtract, multiply, divide, power, "
                                 "maximum, minimum, mod, equal, less, greater, ...)"));
  }
  DType out_type = ValueOrThrow(kernels::BinaryResultType(*op, tensor.dtype(), other.dtype()));
  Shape shape = ValueOrThrow(BroadcastShapes(tensor.shape(), other.shape()));
  Tensor out = ValueOrThrow(Tensor::Empty(out_type, std::move(shape), impl_->allocator));
  ThrowIfError(kernels::Binary(*op, tensor, other, out, impl_->pool));
  return out;
}

Tensor KernelAPI::tensor_operations(const Tensor& tensor, const std::string& operation,
                                    double scalar) {
  ThrowIfError(CheckDefined(tensor, operation));
  Tensor value = Tensor::Scalar<double>(scalar);
  if (tensor.dtype() != DType::kFloat64) {
    Tensor cast = ValueOrThrow(Tensor::Empty(tensor.dtype(), {}, impl_->allocator));
    ThrowIfError(kernels::Cast(value, cast, impl_->pool));
    value = cast;
  }
  return tensor_operations(tensor, operation, value);
}

}  // namespace mlos
