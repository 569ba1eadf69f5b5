// Loss operators: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12+), over inputs
// [N, C] or [N, C, d1, ..., dk] with targets [N] or [N, d1, ..., dk], optional per-class weights,
// ignore_index (any value, negative included) and reduction none/sum/mean. Out-of-range targets
// that are not ignore_index are errors, never reads out of bounds.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

enum class Reduction { kNone, kSum, kMean };

struct LossGeometry {
  int64_t n = 0, c = 0, d = 1;  // input viewed as [N, C, D]
  Shape target_shape;
};

Result<LossGeometry> CheckLossShapes(const OpContext& ctx, const Tensor& x, const Tensor& target) {
  if (x.rank() < 2) {
    return ctx.Error("input must have rank >= 2 ([N, C, ...]), got " + ShapeToString(x.shape()));
  }
  if (target.dtype() != DType::kInt32 && target.dtype() != DType::kInt64) {
    return ctx.Error("target must be int32 or int64, got " +
                     std::string(DTypeName(target.dtype())));
  }
  LossGeometry g;
  g.n = x.dim(0);
  g.c = x.dim(1);
  Shape want{x.dim(0)};
  for (int i = 2; i < x.rank(); ++i) {
    want.push_back(x.dim(i));
    g.d *= x.dim(i);
  }
  if (target.shape() != want) {
    return ctx.Error("target shape " + ShapeToString(target.shape()) + " does not match input " +
                     ShapeToString(x.shape()) + " (expected " + ShapeToString(want) + ")");
  }
  g.target_shape = want;
  return g;
}

Result<Reduction> GetReduction(const OpContext& ctx) {
  std::string r = ctx.node().GetString("reduction", "mean");
  if (r == "none") return Reduction::kNone;
  if (r == "sum") return Reduction::kSum;
  if (r == "mean") return Reduction::kMean;
  return ctx.Error("unknown reduction '" + r + "'");
}

// Gathers -logp[n, t, d] * w[t] and reduces. `logp` is contiguous [N, C, D] of element type T.
template <typename T>
Status NllFromLogProb(OpContext& ctx, const T* logp, const LossGeometry& g, const Tensor& target,
                      const Tensor* weight, DType dtype) {
  using C = CalcT<T>;
  MLOS_ASSIGN_OR_RETURN(Reduction red, GetReduction(ctx));
  const Attribute* ii_attr = ctx.node().attr("ignore_index");
  const bool has_ii = ii_attr != nullptr;
  const int64_t ii = has_ii ? ii_attr->i : 0;
  MLOS_ASSIGN_OR_RETURN(Tensor tc, target.Contiguous());
  const T* pw = nullptr;
  Tensor wc;
  if (weight != nullptr) {
    if (weight->dtype() != dtype || weight->rank() != 1 || weight->dim(0) != g.c) {
      return ctx.Error("weight must be a 1-D " + std::string(DTypeName(dtype)) + " tensor of " +
                       std::to_string(g.c) + " classes, got " +
                       std::string(DTypeName(weight->dtype())) + " " +
                       ShapeToString(weight->shape()));
    }
    MLOS_ASSIGN_OR_RETURN(wc, weight->Contiguous());
    pw = static_cast<const T*>(wc.raw_data());
  }
  const int64_t total = g.n * g.d;
  auto target_at = [&](int64_t i) -> int64_t {
    return tc.dtype() == DType::kInt64 ? static_cast<const int64_t*>(tc.raw_data())[i]
                                       : static_cast<const int32_t*>(tc.raw_data())[i];
  };
  T* out = nullptr;
  if (red == Reduction::kNone) {
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, dtype, g.target_shape));
    out = static_cast<T*>(y.raw_data());
  }
  double sum = 0, wsum = 0;
  for (int64_t i = 0; i < total; ++i) {
    const int64_t t = target_at(i);
    double loss = 0, w = 0;
    if (!(has_ii && t == ii)) {
      if (t < 0 || t >= g.c) {
        return ctx.Error("target value " + std::to_string(t) + " out of range [0, " +
                         std::to_string(g.c) + ")");
      }
      const int64_t n = i / g.d, d = i % g.d;
      w = pw != nullptr ? static_cast<double>(static_cast<C>(pw[t])) : 1.0;
      loss = -static_cast<double>(static_cast<C>(logp[(n * g.c + t) * g.d + d])) * w;
    }
    if (out != nullptr) out[i] = T(static_cast<C>(loss));
    sum += loss;
    wsum += w;
  }
  if (red == Reduction::kNone) return Status::OK();
  double r = sum;
  if (red == Reduction::kMean) {
    r = wsum != 0 ? sum / wsum : std::numeric_limits<double>::quiet_NaN();
  }
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, dtype, {}));
  *static_cast<T*>(y.raw_data()) = T(static_cast<C>(r));
  return Status::OK();
}

Status NllCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* target, ctx.RequireTensor(1));
  const Tensor* weight = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  MLOS_ASSIGN_OR_RETURN(LossGeometry g, CheckLossShapes(ctx, *xin, *target));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    return NllFromLogProb<T>(ctx, static_cast<const T*>(x.raw_data()), g, *target, weight,
                             x.dtype());
  });
}

// log_softmax over axis 1 of contiguous [N, C, D]; blocks of D columns keep the C walk cached.
template <typename T>
void LogSoftmaxAxis1(const T* x, T* y, const LossGeometry& g, ThreadPool& pool) {
  using C = CalcT<T>;
  using Acc = std::conditional_t<std::is_same_v<C, double>, double, float>;
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (g.d + kBlock - 1) / kBlock;
  pool.ParallelFor(
      g.n * blocks, std::max<int64_t>(1, 16384 / std::max<int64_t>(g.c * kBlock, 1)),
      [&](int64_t b, int64_t e) {
        Acc mx[kBlock], sm[kBlock];
        for (int64_t task = b; task < e; ++task) {
          const int64_t n = task / blocks;
          const int64_t d0 = (task % blocks) * kBlock;
          const int64_t bd = std::min(kBlock, g.d - d0);
          const T* xb = x + n * g.c * g.d + d0;
          T* yb = y + n * g.c * g.d + d0;
          for (int64_t j = 0; j < bd; ++j) {
            mx[j] = -std::numeric_limits<Acc>::infinity();
            sm[j] = 0;
          }
          for (int64_t c = 0; c < g.c; ++c) {
            for (int64_t j = 0; j < bd; ++j) {
              mx[j] = std::max(mx[j], static_cast<Acc>(static_cast<C>(xb[c * g.d + j])));
            }
          }
          for (int64_t c = 0; c < g.c; ++c) {
            for (int64_t j = 0; j < bd; ++j) {
              sm[j] += std::exp(static_cast<Acc>(static_cast<C>(xb[c * g.d + j])) - mx[j]);
            }
          }
          for (int64_t j = 0; j < bd; ++j) sm[j] = mx[j] + std::log(sm[j]);
          for (int64_t c = 0; c < g.c; ++c) {
            for (int64_t j = 0; j < bd; ++j) {
              yb[c * g.d + j] =
                  T(static_cast<C>(static_cast<Acc>(static_cast<C>(xb[c * g.d + j])) - sm[j]));
            }
          }
        }
      });
}

Status SoftmaxCrossEntropyCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* target, ctx.RequireTensor(1));
  const Tensor* weight = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  MLOS_ASSIGN_OR_RETURN(LossGeometry g, CheckLossShapes(ctx, *xin, *target));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    Tensor logp;
    if (ctx.has_output(1)) {
      MLOS_ASSIGN_OR_RETURN(logp, ctx.Output(1, x.dtype(), x.shape()));
    } else {
      MLOS_ASSIGN_OR_RETURN(logp, Tensor::Empty(x.dtype(), x.shape()));
    }
    const T* px = static_cast<const T*>(x.raw_data());
    T* pl = static_cast<T*>(logp.raw_data());
    LogSoftmaxAxis1<T>(px, pl, g, ctx.pool());
    return NllFromLogProb<T>(ctx, pl, g, *target, weight, x.dtype());
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(losses) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("NegativeLogLikelihoodLoss", NllCompute, 12);
  r.Add("SoftmaxCrossEntropyLoss", SoftmaxCrossEntropyCompute, 12);
}
