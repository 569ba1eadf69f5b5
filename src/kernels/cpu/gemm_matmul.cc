// numpy.matmul over strided float32 tensors: shape rule, broadcast batch axes, and the reduction
// of each batch element to one strided GEMM (no copies of the operands, whatever their strides).
#include <algorithm>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_internal.h"

namespace mlos::kernels {

namespace {

Status ShapeError(const Shape& a, const Shape& b, const char* why) {
  return InvalidArgument("MatMul: ", why, ": a has shape ", ShapeToString(a), ", b has shape ",
                         ShapeToString(b));
}

// Batch axes of `full` (all but the last two of the promoted shape), right-aligned to `rank`.
// Stride 0 where the operand has size 1 (broadcast) or lacks the axis.
std::vector<int64_t> BatchStrides(const Shape& shape, const std::vector<int64_t>& strides,
                                  int matrix_rank, size_t rank) {
  std::vector<int64_t> out(rank, 0);
  const size_t own = shape.size() - static_cast<size_t>(matrix_rank);
  for (size_t d = 0; d < own; ++d) {
    const size_t o = rank - own + d;
    out[o] = shape[d] == 1 ? 0 : strides[d];
  }
  return out;
}

}  // namespace

Result<Shape> MatMulShape(const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) return ShapeError(a, b, "operands must have rank >= 1");
  for (int64_t d : a) {
    if (d < 0) return ShapeError(a, b, "negative dimension");
  }
  for (int64_t d : b) {
    if (d < 0) return ShapeError(a, b, "negative dimension");
  }
  const int64_t ka = a.back();
  const int64_t kb = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (ka != kb) return ShapeError(a, b, "inner dimensions differ");
  const Shape a_batch(a.begin(), a.end() - std::min<size_t>(a.size(), 2));
  const Shape b_batch(b.begin(), b.end() - std::min<size_t>(b.size(), 2));
  Result<Shape> batch = BroadcastShapes(a_batch, b_batch);
  if (!batch.ok()) return ShapeError(a, b, "batch dimensions do not broadcast");
  Shape out = std::move(batch).value();
  if (a.size() >= 2) out.push_back(a[a.size() - 2]);
  if (b.size() >= 2) out.push_back(b.back());
  MLOS_RETURN_IF_ERROR(NumElements(out).status());
  return out;
}

Status MatMul(const Tensor& a, const Tensor& b, Tensor& out, ThreadPool& pool) {
  if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32 ||
      out.dtype() != DType::kFloat32) {
    return InvalidArgument("MatMul: float32 operands expected, got a ", DTypeName(a.dtype()),
                           ", b ", DTypeName(b.dtype()), ", out ", DTypeName(out.dtype()));
  }
  if (!a.defined() || !b.defined() || !out.defined()) {
    return InvalidArgument("MatMul: undefined tensor");
  }
  MLOS_ASSIGN_OR_RETURN(Shape expected, MatMulShape(a.shape(), b.shape()));
  if (out.shape() != expected) {
    return InvalidArgument("MatMul: output has shape ", ShapeToString(out.shape()), ", expected ",
                           ShapeToString(expected), " for a ", ShapeToString(a.shape()), " and b ",
                           ShapeToString(b.shape()));
  }
  if (out.numel() == 0) return Status::OK();

  const bool a_vec = a.rank() == 1, b_vec = b.rank() == 1;
  const int a_mr = a_vec ? 1 : 2, b_mr = b_vec ? 1 : 2;  // matrix axes of each operand
  const int out_mr = (a_vec ? 0 : 1) + (b_vec ? 0 : 1);

  gemm_internal::StridedGemm g;
  g.m = a_vec ? 1 : a.dim(a.rank() - 2);
  g.k = a.dim(a.rank() - 1);
  g.n = b_vec ? 1 : b.dim(b.rank() - 1);
  g.a_rs = a_vec ? 0 : a.strides()[static_cast<size_t>(a.rank() - 2)];
  g.a_cs = a.strides().back();
  g.b_rs = b_vec ? b.strides()[0] : b.strides()[static_cast<size_t>(b.rank() - 2)];
  g.b_cs = b_vec ? 0 : b.strides().back();

  // The output's columns must be unit-stride for the micro-kernel; otherwise compute into a
  // contiguous temporary and copy back (rare: only for strided output views).
  const int64_t out_cs = b_vec ? 1 : out.strides().back();
  Tensor target = out;
  if (g.n > 1 && out_cs != 1) {
    MLOS_ASSIGN_OR_RETURN(target, Tensor::Empty(DType::kFloat32, out.shape()));
  }
  const int64_t out_rs =
      a_vec ? g.n : target.strides()[static_cast<size_t>(target.rank() - (b_vec ? 1 : 2))];
  g.ldc = g.m == 1 ? g.n : out_rs;

  const size_t batch_rank = expected.size() - static_cast<size_t>(out_mr);
  const Shape batch_shape(expected.begin(), expected.begin() + static_cast<int64_t>(batch_rank));
  const std::vector<int64_t> sa = BatchStrides(a.shape(), a.strides(), a_mr, batch_rank);
  const std::vector<int64_t> sb = BatchStrides(b.shape(), b.strides(), b_mr, batch_rank);
  std::vector<int64_t> sc(batch_rank);
  for (size_t d = 0; d < batch_rank; ++d) sc[d] = target.strides()[d];
  int64_t batch = 1;
  for (int64_t d : batch_shape) batch *= d;

  const float* a0 = static_cast<const float*>(a.raw_data());
  const float* b0 = static_cast<const float*>(b.raw_data());
  float* c0 = static_cast<float*>(target.raw_data());
  auto run_one = [&](int64_t index, int max_tasks) {
    int64_t oa = 0, ob = 0, oc = 0;
    for (size_t d = batch_rank; d-- > 0;) {
      const int64_t i = index % batch_shape[d];
      index /= batch_shape[d];
      oa += i * sa[d];
      ob += i * sb[d];
      oc += i * sc[d];
    }
    gemm_internal::StridedGemm gi = g;
    gi.a = a0 + oa;
    gi.b = b0 + ob;
    gi.c = c0 + oc;
    gemm_internal::RunGemm(gi, gemm_internal::Isa::kAuto, pool, max_tasks);
  };

  const int64_t work = g.m * g.n * std::max<int64_t>(g.k, 1);
  if (batch > 1 && pool.num_threads() > 1 && work < (int64_t{1} << 21)) {
    auto body = [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) run_one(i, 1);
    };
    pool.ParallelFor(batch, std::max<int64_t>(1, (int64_t{1} << 16) / work), body);
  } else {
    for (int64_t i = 0; i < batch; ++i) run_one(i, 0);
  }
  if (target.raw_data() != out.raw_data()) return out.CopyFrom(target);
  return Status::OK();
}

}  // namespace mlos::kernels
