// LayerNorm over the trailing axes from `axis`: y = (x - mean) / sqrt(var + eps) * scale + bias,
// with a two-pass mean/variance per row (stable for rows with a large mean). Float32. The
// residual form adds `skip` into the output row first and normalises that row in place (it is
// in L1), so Add -> LayerNorm costs one pass over memory instead of two.
#include "kernels/cpu/layer_norm.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/layer_norm_internal.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/nn_util.h"
#include "kernels/cpu/vector_math.h"

namespace mlos::kernels {
namespace {

// scale/bias broadcast to the normalised shape, materialised contiguously (d values).
Result<Tensor> ExpandParam(const Tensor& p, const Shape& norm_shape, const char* what,
                           const Shape& x_shape) {
  if (p.dtype() != DType::kFloat32) {
    return InvalidArgument("LayerNorm: ", what, " dtype ", DTypeName(p.dtype()), " is not float32");
  }
  Result<Shape> b = BroadcastShapes(p.shape(), norm_shape);
  if (!b.ok() || *b != norm_shape) {
    return InvalidArgument("LayerNorm: ", what, " shape ", ShapeToString(p.shape()),
                           " does not broadcast to the normalised shape ",
                           ShapeToString(norm_shape), " of input ", ShapeToString(x_shape));
  }
  MLOS_ASSIGN_OR_RETURN(Tensor v, p.BroadcastTo(norm_shape));
  return v.Contiguous();
}

void NormalizeRow(const float* x, const float* g, const float* b, float eps, float* y, int64_t d,
                  bool avx2) {
  if (avx2) {
    const float nf = static_cast<float>(d);
    const float mean = internal::SumF32Avx2(x, d) / nf;
    float dev_sum = 0;
    const float sq = internal::SquaredDevSumF32Avx2(x, mean, d, &dev_sum);
    const float delta = dev_sum / nf;
    const float var = std::max(0.f, sq / nf - delta * delta);
    internal::NormalizeF32Avx2(x, mean, delta, 1.f / std::sqrt(var + eps), g, b, y, d);
    return;
  }
  double sum = 0;
  for (int64_t i = 0; i < d; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(d);
  double sq = 0;
  for (int64_t i = 0; i < d; ++i) sq += (x[i] - mean) * (x[i] - mean);
  const double inv_std = 1.0 / std::sqrt(sq / static_cast<double>(d) + eps);
  for (int64_t i = 0; i < d; ++i) {
    const float v = static_cast<float>((x[i] - mean) * inv_std) * g[i];
    y[i] = b ? v + b[i] : v;
  }
}

// x + skip (d values) into y.
void AddRow(const float* x, const float* skip, float* y, int64_t d, bool avx2) {
  if (avx2 && internal::BinaryF32Avx2(BinaryOp::kAdd, x, 1, skip, 1, y, d)) return;
  for (int64_t i = 0; i < d; ++i) y[i] = x[i] + skip[i];
}

Status LayerNormImpl(const Tensor& x, const Tensor* skip, const Tensor& scale, const Tensor* bias,
                     int64_t axis, float epsilon, Tensor& y, ThreadPool& pool) {
  if (!x.defined() || !y.defined() || !scale.defined() || (bias && !bias->defined()) ||
      (skip && !skip->defined())) {
    return InvalidArgument("LayerNorm: undefined tensor");
  }
  if (skip && (skip->dtype() != x.dtype() || skip->shape() != x.shape())) {
    return InvalidArgument("LayerNorm: skip ", DTypeName(skip->dtype()),
                           ShapeToString(skip->shape()), " does not match input ",
                           DTypeName(x.dtype()), ShapeToString(x.shape()));
  }
  if (x.dtype() != DType::kFloat32) {
    return InvalidArgument("LayerNorm: dtype ", DTypeName(x.dtype()), " is not float32");
  }
  if (y.dtype() != x.dtype() || y.shape() != x.shape()) {
    return InvalidArgument("LayerNorm: output ", DTypeName(y.dtype()), ShapeToString(y.shape()),
                           " does not match input ", DTypeName(x.dtype()),
                           ShapeToString(x.shape()));
  }
  Result<int> ax = NormalizeAxis(axis, x.rank());
  if (!ax.ok()) {
    return InvalidArgument("LayerNorm: axis ", axis, " out of range for shape ",
                           ShapeToString(x.shape()));
  }
  if (!(epsilon >= 0.f)) return InvalidArgument("LayerNorm: epsilon ", epsilon, " is negative");
  const Shape norm_shape(x.shape().begin() + *ax, x.shape().end());
  MLOS_ASSIGN_OR_RETURN(Tensor g, ExpandParam(scale, norm_shape, "scale", x.shape()));
  Tensor b;
  if (bias) {
    MLOS_ASSIGN_OR_RETURN(b, ExpandParam(*bias, norm_shape, "bias", x.shape()));
  }
  if (x.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor xc, x.Contiguous());
  Tensor sc;
  if (skip) {
    MLOS_ASSIGN_OR_RETURN(sc, skip->Contiguous());
  }
  const int64_t rows = internal::DimProduct(x.shape(), 0, *ax);
  const int64_t d = internal::DimProduct(x.shape(), *ax, x.rank());
  const float* gp = static_cast<const float*>(g.raw_data());
  const float* bp = bias ? static_cast<const float*>(b.raw_data()) : nullptr;
  const bool avx2 = KernelsUseAvx2();
  const bool avx512 = avx2 && gemm_internal::UseAvx512();
  return internal::WithContiguousOutput(y, [&](Tensor& out) -> Status {
    const float* xp = static_cast<const float*>(xc.raw_data());
    const float* sp = skip ? static_cast<const float*>(sc.raw_data()) : nullptr;
    float* yp = static_cast<float*>(out.raw_data());
    auto body = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        float* yr = yp + r * d;
        if (avx512) {
          internal::AddNormalizeRowAvx512(xp + r * d, sp != nullptr ? sp + r * d : nullptr, gp, bp,
                                          epsilon, yr, d);
          continue;
        }
        if (sp != nullptr) {
          // Element i is read before it is written, so y may share x's or skip's buffer.
          AddRow(xp + r * d, sp + r * d, yr, d, avx2);
          NormalizeRow(yr, gp, bp, epsilon, yr, d, avx2);
        } else {
          NormalizeRow(xp + r * d, gp, bp, epsilon, yr, d, avx2);
        }
      }
    };
    pool.ParallelFor(rows, std::max<int64_t>(1, 16384 / d), body);
    return Status::OK();
  });
}

}  // namespace

Status LayerNorm(const Tensor& x, const Tensor& scale, const Tensor* bias, int64_t axis,
                 float epsilon, Tensor& y, ThreadPool& pool) {
  return LayerNormImpl(x, nullptr, scale, bias, axis, epsilon, y, pool);
}

Status AddLayerNorm(const Tensor& x, const Tensor& skip, const Tensor& scale, const Tensor* bias,
                    int64_t axis, float epsilon, Tensor& y, ThreadPool& pool) {
  return LayerNormImpl(x, &skip, scale, bias, axis, epsilon, y, pool);
}

}  // namespace mlos::kernels
