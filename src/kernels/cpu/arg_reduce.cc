// ArgMax / ArgMin along one axis into int64 indices.
#include <cmath>
#include <type_traits>

#include "kernels/cpu/elementwise_scalar.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/reduce_geometry.h"

namespace mlos::kernels {
namespace {

template <typename T>
void RunArg(bool is_max, bool select_last, const Tensor& x, const internal::ReduceGeometry& g,
            int64_t axis_stride, Tensor& y, ThreadPool& pool) {
  const T* xp = static_cast<const T*>(x.raw_data());
  int64_t* yp = static_cast<int64_t*>(y.raw_data());
  const int64_t n = g.red_n;
  auto body = [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const T* p = xp + g.OuterOffset(o);
      auto best = internal::LoadC(p[0]);
      int64_t best_i = 0;
      for (int64_t i = 1; i < n; ++i) {
        const auto v = internal::LoadC(p[i * axis_stride]);
        const bool better =
            is_max ? (select_last ? v >= best : v > best) : (select_last ? v <= best : v < best);
        if (better) {
          best = v;
          best_i = i;
        }
      }
      yp[o] = best_i;
    }
  };
  pool.ParallelFor(g.out_n, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), body);
}

}  // namespace

Status ArgReduce(bool is_max, const Tensor& x, int64_t axis, bool keepdims, bool select_last,
                 Tensor& y, ThreadPool& pool) {
  const char* name = is_max ? "ArgMax" : "ArgMin";
  if (!x.defined() || !y.defined()) return InvalidArgument(name, ": undefined tensor");
  if (!IsNumeric(x.dtype()) && x.dtype() != DType::kBool) {
    return InvalidArgument(name, ": dtype ", DTypeName(x.dtype()), " is not numeric");
  }
  Result<int> ax = NormalizeAxis(axis, x.rank());
  if (!ax.ok()) {
    return InvalidArgument(name, ": axis ", axis, " out of range for shape ",
                           ShapeToString(x.shape()));
  }
  const int64_t axes[1] = {*ax};
  MLOS_ASSIGN_OR_RETURN(Shape shape, ReduceShape(x.shape(), axes, keepdims));
  if (y.dtype() != DType::kInt64 || y.shape() != shape) {
    return InvalidArgument(name, ": output ", DTypeName(y.dtype()), ShapeToString(y.shape()),
                           " for input ", ShapeToString(x.shape()), " (expected int64",
                           ShapeToString(shape), ")");
  }
  if (x.dim(*ax) == 0 && y.numel() > 0) {
    return InvalidArgument(name, ": axis ", axis, " of shape ", ShapeToString(x.shape()),
                           " is empty");
  }
  if (!y.is_contiguous()) {
    MLOS_ASSIGN_OR_RETURN(Tensor tmp, Tensor::Empty(DType::kInt64, y.shape()));
    MLOS_RETURN_IF_ERROR(ArgReduce(is_max, x, axis, keepdims, select_last, tmp, pool));
    return y.CopyFrom(tmp);
  }
  if (y.numel() == 0) return Status::OK();
  std::vector<bool> reduced(static_cast<size_t>(x.rank()), false);
  reduced[static_cast<size_t>(*ax)] = true;
  const internal::ReduceGeometry g = internal::MakeReduceGeometry(x, reduced);
  const int64_t axis_stride = x.strides()[static_cast<size_t>(*ax)];
  VisitDType(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, std::string>) {
      RunArg<T>(is_max, select_last, x, g, axis_stride, y, pool);
    }
  });
  return Status::OK();
}

}  // namespace mlos::kernels
