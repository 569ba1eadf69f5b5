// Det (opset 11): determinants of square matrices [..., M, M] by LU decomposition with partial
// pivoting, in double; batch entries run in parallel.
#include <cmath>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

double Determinant(std::vector<double>& a, int64_t m) {
  double det = 1.0;
  for (int64_t c = 0; c < m; ++c) {
    int64_t piv = c;
    for (int64_t r = c + 1; r < m; ++r) {
      if (std::fabs(a[r * m + c]) > std::fabs(a[piv * m + c])) piv = r;
    }
    if (a[piv * m + c] == 0.0) return 0.0;
    if (piv != c) {
      for (int64_t k = 0; k < m; ++k) std::swap(a[c * m + k], a[piv * m + k]);
      det = -det;
    }
    const double d = a[c * m + c];
    det *= d;
    for (int64_t r = c + 1; r < m; ++r) {
      const double f = a[r * m + c] / d;
      if (f == 0.0) continue;
      for (int64_t k = c; k < m; ++k) a[r * m + k] -= f * a[c * m + k];
    }
  }
  return det;
}

Status DetCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  const int rank = xin->rank();
  if (rank < 2 || xin->shape()[rank - 1] != xin->shape()[rank - 2]) {
    return ctx.Error("input must be [..., M, M], got " + ShapeToString(xin->shape()));
  }
  const int64_t m = xin->shape()[rank - 1];
  Shape oshape(xin->shape().begin(), xin->shape().end() - 2);
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, xin->dtype(), oshape));
  if (out.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* src = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    ctx.pool().ParallelFor(out.numel(), 1, [&](int64_t b, int64_t e) {
      std::vector<double> a(static_cast<size_t>(m * m));
      for (int64_t i = b; i < e; ++i) {
        for (int64_t k = 0; k < m * m; ++k) a[k] = static_cast<double>(src[i * m * m + k]);
        o[i] = T(static_cast<CalcT<T>>(Determinant(a, m)));
      }
    });
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(det) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Det", DetCompute, 11);
}
