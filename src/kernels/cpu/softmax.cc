// Softmax / LogSoftmax along any axis, numerically stable (the row maximum is subtracted before
// exponentiating). Float32 uses the AVX2 exp and reductions when available; float64 is supported
// on the portable path.
#include <cmath>
#include <vector>

#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/nn_util.h"
#include "kernels/cpu/vector_math.h"

namespace mlos::kernels {
namespace {

// One contiguous row of n values (inner == 1).
template <typename T>
void SoftmaxRow(const T* x, T* y, int64_t n, bool log, bool avx2) {
  if constexpr (std::is_same_v<T, float>) {
    if (avx2) {
      const float m = internal::MaxF32Avx2(x, n);
      const float sum = internal::ExpShiftSumF32Avx2(x, m, y, n);
      if (log) {
        // (x - m) - log(sum): x - m is exact near the maximum, so outputs near 0 keep their
        // precision.
        internal::AffineF32Avx2(x, 1.f, -m, y, n);
        internal::AffineF32Avx2(y, 1.f, -std::log(sum), y, n);
      } else {
        internal::AffineF32Avx2(y, 1.f / sum, 0.f, y, n);
      }
      return;
    }
  }
  T m = x[0];
  for (int64_t i = 1; i < n; ++i) m = (x[i] > m || std::isnan(x[i])) ? x[i] : m;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - m);
    sum += y[i];
  }
  if (log) {
    const T ls = static_cast<T>(std::log(sum));
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - ls;
  } else {
    const T inv = static_cast<T>(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

// A block of n rows by `inner` columns reduced along the rows (axis not last): the work stays
// vectorised across the columns. `scratch` holds 2 * inner values.
template <typename T>
void SoftmaxColumns(const T* x, T* y, int64_t n, int64_t inner, bool log, bool avx2,
                    std::vector<T>& scratch) {
  scratch.assign(static_cast<size_t>(2 * inner), T(0));
  T* m = scratch.data();
  T* sum = m + inner;
  for (int64_t j = 0; j < inner; ++j) m[j] = x[j];
  for (int64_t i = 1; i < n; ++i) {
    const T* row = x + i * inner;
    for (int64_t j = 0; j < inner; ++j)
      m[j] = (row[j] > m[j] || std::isnan(row[j])) ? row[j] : m[j];
  }
  for (int64_t i = 0; i < n; ++i) {
    const T* row = x + i * inner;
    T* out = y + i * inner;
    for (int64_t j = 0; j < inner; ++j) out[j] = row[j] - m[j];
    bool done = false;
    if constexpr (std::is_same_v<T, float>) {
      if (avx2) {
        internal::UnaryF32Avx2(UnaryOp::kExp, out, out, inner);
        internal::AccumulateF32Avx2(out, sum, inner);
        done = true;
      }
    }
    if (!done) {
      for (int64_t j = 0; j < inner; ++j) {
        out[j] = std::exp(out[j]);
        sum[j] += out[j];
      }
    }
  }
  for (int64_t j = 0; j < inner; ++j) sum[j] = log ? std::log(sum[j]) : T(1) / sum[j];
  for (int64_t i = 0; i < n; ++i) {
    const T* row = x + i * inner;
    T* out = y + i * inner;
    if (log) {
      for (int64_t j = 0; j < inner; ++j) out[j] = (row[j] - m[j]) - sum[j];
    } else {
      for (int64_t j = 0; j < inner; ++j) out[j] *= sum[j];
    }
  }
}

template <typename T>
void RunSoftmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log,
                ThreadPool& pool) {
  const bool avx2 = KernelsUseAvx2();
  if (inner == 1) {
    auto body = [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) SoftmaxRow(x + r * n, y + r * n, n, log, avx2);
    };
    pool.ParallelFor(outer, std::max<int64_t>(1, 8192 / n), body);
    return;
  }
  auto body = [&](int64_t b, int64_t e) {
    std::vector<T> scratch;
    for (int64_t r = b; r < e; ++r) {
      SoftmaxColumns(x + r * n * inner, y + r * n * inner, n, inner, log, avx2, scratch);
    }
  };
  pool.ParallelFor(outer, std::max<int64_t>(1, 8192 / (n * inner)), body);
}

}  // namespace

Status Softmax(const Tensor& x, int64_t axis, Tensor& y, ThreadPool& pool, bool log) {
  const char* name = log ? "LogSoftmax" : "Softmax";
  if (!x.defined() || !y.defined()) return InvalidArgument(name, ": undefined tensor");
  if (x.dtype() != DType::kFloat32 && x.dtype() != DType::kFloat64) {
    return InvalidArgument(name, ": dtype ", DTypeName(x.dtype()), " is not float32/float64");
  }
  if (y.dtype() != x.dtype() || y.shape() != x.shape()) {
    return InvalidArgument(name, ": output ", DTypeName(y.dtype()), ShapeToString(y.shape()),
                           " does not match input ", DTypeName(x.dtype()),
                           ShapeToString(x.shape()));
  }
  const int rank = std::max(x.rank(), 1);
  Result<int> ax = NormalizeAxis(axis, rank);
  if (!ax.ok()) {
    return InvalidArgument(name, ": axis ", axis, " out of range for shape ",
                           ShapeToString(x.shape()));
  }
  if (x.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor xc, x.Contiguous());
  const Shape& s = x.shape();
  const int64_t outer = internal::DimProduct(s, 0, *ax);
  const int64_t n = x.rank() == 0 ? 1 : s[static_cast<size_t>(*ax)];
  const int64_t inner = internal::DimProduct(s, *ax + 1, x.rank());
  return internal::WithContiguousOutput(y, [&](Tensor& out) -> Status {
    if (x.dtype() == DType::kFloat32) {
      RunSoftmax(static_cast<const float*>(xc.raw_data()), static_cast<float*>(out.raw_data()),
                 outer, n, inner, log, pool);
    } else {
      RunSoftmax(static_cast<const double*>(xc.raw_data()), static_cast<double*>(out.raw_data()),
                 outer, n, inner, log, pool);
    }
    return Status::OK();
  });
}

}  // namespace mlos::kernels
