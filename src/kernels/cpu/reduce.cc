// Reductions over any set of axes (Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp,
// SumSquare). Each output reduces the runs of its reduced block; float32 runs that are contiguous
// use the AVX2 sum/max/min bodies. Floating types accumulate in double on the generic path.
#include "kernels/cpu/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/elementwise_scalar.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/reduce_geometry.h"
#include "kernels/cpu/vector_math.h"

namespace mlos::kernels {
namespace {

using internal::ReduceGeometry;

const char* ReduceOpName(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "ReduceSum";
    case ReduceOp::kMean:
      return "ReduceMean";
    case ReduceOp::kMax:
      return "ReduceMax";
    case ReduceOp::kMin:
      return "ReduceMin";
    case ReduceOp::kProd:
      return "ReduceProd";
    case ReduceOp::kL1:
      return "ReduceL1";
    case ReduceOp::kL2:
      return "ReduceL2";
    case ReduceOp::kLogSum:
      return "ReduceLogSum";
    case ReduceOp::kLogSumExp:
      return "ReduceLogSumExp";
    case ReduceOp::kSumSquare:
      return "ReduceSumSquare";
  }
  return "Reduce";
}

// Accumulator type: double for floating types, the type itself for integers (wrapping).
template <typename T>
using AccT = std::conditional_t<std::is_integral_v<internal::ComputeT<T>>, T, double>;

template <ReduceOp Op, typename T>
T ReduceOne(const T* x, const ReduceGeometry& g, int64_t base) {
  using A = AccT<T>;
  constexpr bool kInt = std::is_integral_v<A>;
  auto load = [](const T& v) { return static_cast<A>(internal::LoadC(v)); };
  if constexpr (Op == ReduceOp::kMax || Op == ReduceOp::kMin) {
    constexpr bool kMax = Op == ReduceOp::kMax;
    A best;
    if constexpr (kInt) {
      best = kMax ? std::numeric_limits<A>::lowest() : std::numeric_limits<A>::max();
    } else {
      best = kMax ? -INFINITY : INFINITY;
    }
    bool nan = false;
    internal::ForEachReducedRun(g, base, [&](int64_t off, int64_t n, int64_t s) {
      for (int64_t i = 0; i < n; ++i) {
        const A v = load(x[off + i * s]);
        if constexpr (!kInt) nan |= std::isnan(v);
        best = kMax ? (v > best ? v : best) : (v < best ? v : best);
      }
    });
    if constexpr (!kInt) {
      if (nan) return internal::StoreC<T>(NAN);
    }
    return internal::StoreC<T>(best);
  } else if constexpr (Op == ReduceOp::kLogSumExp) {
    double m = -INFINITY;
    internal::ForEachReducedRun(g, base, [&](int64_t off, int64_t n, int64_t s) {
      for (int64_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(load(x[off + i * s])));
    });
    if (std::isinf(m)) return internal::ConvertValue<T>(m);  // empty, all -inf, or +inf
    double sum = 0;
    internal::ForEachReducedRun(g, base, [&](int64_t off, int64_t n, int64_t s) {
      for (int64_t i = 0; i < n; ++i)
        sum += std::exp(static_cast<double>(load(x[off + i * s])) - m);
    });
    return internal::ConvertValue<T>(m + std::log(sum));
  } else {
    A acc = Op == ReduceOp::kProd ? A(1) : A(0);
    double dacc = 0;  // integer Mean/L2/LogSum accumulate exactly enough in double
    internal::ForEachReducedRun(g, base, [&](int64_t off, int64_t n, int64_t s) {
      for (int64_t i = 0; i < n; ++i) {
        const A v = load(x[off + i * s]);
        if constexpr (Op == ReduceOp::kProd) {
          acc = internal::WrapMul(acc, v);
        } else if constexpr (Op == ReduceOp::kL1) {
          acc = internal::WrapAdd(acc, internal::UnaryScalar<UnaryOp::kAbs>(v));
        } else if constexpr (Op == ReduceOp::kSumSquare) {
          acc = internal::WrapAdd(acc, internal::WrapMul(v, v));
        } else if constexpr (kInt && (Op == ReduceOp::kMean || Op == ReduceOp::kLogSum)) {
          dacc += static_cast<double>(v);
        } else if constexpr (kInt && Op == ReduceOp::kL2) {
          dacc += static_cast<double>(v) * static_cast<double>(v);
        } else if constexpr (Op == ReduceOp::kL2) {
          acc += v * v;
        } else {
          acc = internal::WrapAdd(acc, v);  // Sum, Mean, LogSum
        }
      }
    });
    if constexpr (kInt) {
      if constexpr (Op == ReduceOp::kMean) {
        return g.red_n == 0 ? T(0) : internal::ConvertValue<T>(dacc / static_cast<double>(g.red_n));
      } else if constexpr (Op == ReduceOp::kL2) {
        return internal::ConvertValue<T>(std::sqrt(dacc));
      } else if constexpr (Op == ReduceOp::kLogSum) {
        return internal::ConvertValue<T>(std::log(dacc));
      } else {
        return acc;
      }
    } else {
      if constexpr (Op == ReduceOp::kMean) acc /= static_cast<double>(g.red_n);
      if constexpr (Op == ReduceOp::kL2) acc = std::sqrt(acc);
      if constexpr (Op == ReduceOp::kLogSum) acc = std::log(acc);
      return internal::StoreC<T>(acc);
    }
  }
}

// Float32 with one contiguous reduced run per output: vector bodies.
bool ReduceF32Contiguous(ReduceOp op, const float* x, const ReduceGeometry& g, float* y,
                         ThreadPool& pool) {
  if (g.red_shape.size() != 1 || g.red_strides[0] != 1) return false;
  if (op != ReduceOp::kSum && op != ReduceOp::kMean && op != ReduceOp::kMax &&
      op != ReduceOp::kMin) {
    return false;
  }
  const int64_t n = g.red_n;
  auto body = [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const float* p = x + g.OuterOffset(o);
      switch (op) {
        case ReduceOp::kSum:
          y[o] = internal::SumF32Avx2(p, n);
          break;
        case ReduceOp::kMean:
          y[o] = internal::SumF32Avx2(p, n) / static_cast<float>(n);
          break;
        case ReduceOp::kMax:
          y[o] = internal::MaxF32Avx2(p, n);
          break;
        default:
          y[o] = internal::MinF32Avx2(p, n);
          break;
      }
    }
  };
  pool.ParallelFor(g.out_n, std::max<int64_t>(1, 32768 / std::max<int64_t>(n, 1)), body);
  return true;
}

// Float32 Sum/Mean where the kept axes form one contiguous run (e.g. reducing the leading axes
// of [R, K]): whole input rows are added onto a block of outputs, so reads stay sequential
// instead of striding through memory once per output.
bool ReduceF32Rows(ReduceOp op, const float* x, const ReduceGeometry& g, float* y,
                   ThreadPool& pool) {
  if (op != ReduceOp::kSum && op != ReduceOp::kMean) return false;
  if (g.kept_shape.size() != 1 || g.kept_strides[0] != 1 || g.out_n < 16) return false;
  const float scale = op == ReduceOp::kMean ? 1.f / static_cast<float>(g.red_n) : 1.f;
  auto body = [&](int64_t begin, int64_t end) {
    float* acc = y + begin;
    const int64_t len = end - begin;
    std::fill(acc, acc + len, 0.f);
    internal::ForEachReducedRun(g, 0, [&](int64_t off, int64_t n, int64_t s) {
      for (int64_t i = 0; i < n; ++i)
        internal::AccumulateF32Avx2(x + off + i * s + begin, acc, len);
    });
    if (scale != 1.f) {
      for (int64_t i = 0; i < len; ++i) acc[i] *= scale;
    }
  };
  // Blocks of at least 1024 outputs keep each row segment a useful length.
  pool.ParallelFor(g.out_n, std::max<int64_t>(1024, 32768 / std::max<int64_t>(g.red_n, 1)), body);
  return true;
}

template <ReduceOp Op, typename T>
void RunReduce(const Tensor& x, const ReduceGeometry& g, Tensor& y, ThreadPool& pool) {
  const T* xp = static_cast<const T*>(x.raw_data());
  T* yp = static_cast<T*>(y.raw_data());
  auto body = [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) yp[o] = ReduceOne<Op, T>(xp, g, g.OuterOffset(o));
  };
  const int64_t cost = Op == ReduceOp::kLogSumExp ? 8 : 1;
  pool.ParallelFor(g.out_n, std::max<int64_t>(1, 32768 / std::max<int64_t>(g.red_n * cost, 1)),
                   body);
}

template <ReduceOp Op>
void RunOp(const Tensor& x, const ReduceGeometry& g, Tensor& y, ThreadPool& pool) {
  VisitDType(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, std::string> && !std::is_same_v<T, bool>) {
      RunReduce<Op, T>(x, g, y, pool);
    }
  });
}

}  // namespace

Result<Shape> ReduceShape(const Shape& in, std::span<const int64_t> axes, bool keepdims) {
  const int r = static_cast<int>(in.size());
  std::vector<bool> reduced(in.size(), axes.empty());
  for (int64_t a : axes) {
    Result<int> ax = NormalizeAxis(a, r);
    if (!ax.ok()) {
      return InvalidArgument("reduce: axis ", a, " out of range for shape ", ShapeToString(in));
    }
    if (reduced[static_cast<size_t>(*ax)]) {
      return InvalidArgument("reduce: duplicate axis ", a, " for shape ", ShapeToString(in));
    }
    reduced[static_cast<size_t>(*ax)] = true;
  }
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!reduced[d]) {
      out.push_back(in[d]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

Status Reduce(ReduceOp op, const Tensor& x, std::span<const int64_t> axes, bool keepdims, Tensor& y,
              ThreadPool& pool) {
  const char* name = ReduceOpName(op);
  if (static_cast<int>(op) > static_cast<int>(ReduceOp::kSumSquare)) {
    return InvalidArgument("reduce: unknown op ", static_cast<int>(op));
  }
  if (!x.defined() || !y.defined()) return InvalidArgument(name, ": undefined tensor");
  if (!IsNumeric(x.dtype())) {
    return InvalidArgument(name, ": dtype ", DTypeName(x.dtype()), " is not numeric");
  }
  if (x.rank() > internal::kMaxIterDims) {
    return InvalidArgument(name, ": rank ", x.rank(), " exceeds ", internal::kMaxIterDims);
  }
  Result<Shape> shape = ReduceShape(x.shape(), axes, keepdims);
  if (!shape.ok()) return shape.status().WithContext(name);
  if (y.dtype() != x.dtype() || y.shape() != *shape) {
    return InvalidArgument(name, ": output ", DTypeName(y.dtype()), ShapeToString(y.shape()),
                           " for input ", DTypeName(x.dtype()), ShapeToString(x.shape()),
                           " (expected ", DTypeName(x.dtype()), ShapeToString(*shape), ")");
  }
  if (!y.is_contiguous()) {
    // Reduce into a contiguous temporary, then copy into the strided output.
    MLOS_ASSIGN_OR_RETURN(Tensor tmp, Tensor::Empty(y.dtype(), y.shape()));
    MLOS_RETURN_IF_ERROR(Reduce(op, x, axes, keepdims, tmp, pool));
    return y.CopyFrom(tmp);
  }
  if (y.numel() == 0) return Status::OK();
  std::vector<bool> reduced(static_cast<size_t>(x.rank()), axes.empty());
  for (int64_t a : axes) reduced[static_cast<size_t>(*NormalizeAxis(a, x.rank()))] = true;
  const ReduceGeometry g = internal::MakeReduceGeometry(x, reduced);
  if (x.dtype() == DType::kFloat32 && g.red_n > 0 && KernelsUseAvx2()) {
    const float* xp = static_cast<const float*>(x.raw_data());
    float* yp = static_cast<float*>(y.raw_data());
    if (ReduceF32Contiguous(op, xp, g, yp, pool) || ReduceF32Rows(op, xp, g, yp, pool)) {
      return Status::OK();
    }
  }
  switch (op) {
    case ReduceOp::kSum:
      RunOp<ReduceOp::kSum>(x, g, y, pool);
      break;
    case ReduceOp::kMean:
      RunOp<ReduceOp::kMean>(x, g, y, pool);
      break;
    case ReduceOp::kMax:
      RunOp<ReduceOp::kMax>(x, g, y, pool);
      break;
    case ReduceOp::kMin:
      RunOp<ReduceOp::kMin>(x, g, y, pool);
      break;
    case ReduceOp::kProd:
      RunOp<ReduceOp::kProd>(x, g, y, pool);
      break;
    case ReduceOp::kL1:
      RunOp<ReduceOp::kL1>(x, g, y, pool);
      break;
    case ReduceOp::kL2:
      RunOp<ReduceOp::kL2>(x, g, y, pool);
      break;
    case ReduceOp::kLogSum:
      RunOp<ReduceOp::kLogSum>(x, g, y, pool);
      break;
    case ReduceOp::kLogSumExp:
      RunOp<ReduceOp::kLogSumExp>(x, g, y, pool);
      break;
    case ReduceOp::kSumSquare:
      RunOp<ReduceOp::kSumSquare>(x, g, y, pool);
      break;
  }
  return Status::OK();
}

}  // namespace mlos::kernels
