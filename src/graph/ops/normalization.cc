// Softmax / LogSoftmax / Hardmax, BatchNormalization (inference), LayerNormalization,
// InstanceNormalization, LpNormalization, MeanVarianceNormalization, LRN, Dropout (inference).
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/op_util.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/layer_norm.h"
#include "kernels/cpu/nn.h"

namespace mlos::graph::ops {
namespace {

// Views x as [outer, n, inner] around `axis` (the reduced dimension).
struct Split3 {
  int64_t outer = 1, n = 1, inner = 1;
};
Split3 SplitAt(const Shape& s, int axis) {
  Split3 r;
  for (int i = 0; i < axis; ++i) r.outer *= s[i];
  r.n = s.empty() ? 1 : s[axis];
  for (size_t i = axis + 1; i < s.size(); ++i) r.inner *= s[i];
  return r;
}

enum class SoftKind { kSoftmax, kLogSoftmax, kHardmax };

template <SoftKind kind>
Status SoftmaxCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  const int rank = x.rank();
  const int64_t dflt = ctx.opset() >= 13 ? -1 : 1;
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", dflt), rank));
  Split3 sp;
  if (ctx.opset() >= 13) {
    sp = SplitAt(x.shape(), axis);
  } else {  // older opsets flatten to [prod(:axis), prod(axis:)]
    for (int i = 0; i < axis; ++i) sp.outer *= x.shape()[i];
    sp.n = 1;
    for (int i = axis; i < rank; ++i) sp.n *= x.shape()[i];
    sp.inner = 1;
  }
  if (kind != SoftKind::kHardmax && x.dtype() == DType::kFloat32 &&
      (ctx.opset() >= 13 || axis == rank - 1)) {
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x.dtype(), x.shape()));
    if (kernels::Softmax(x, axis, out, ctx.pool(), kind == SoftKind::kLogSoftmax).ok()) {
      return Status::OK();
    }
  }
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x.dtype(), x.shape()));
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    const int64_t n = sp.n, inner = sp.inner;
    ctx.pool().ParallelFor(
        sp.outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)),
        [&](int64_t b, int64_t e) {
          std::vector<double> tmp(static_cast<size_t>(n));
          for (int64_t r = b; r < e; ++r) {
            int64_t o = r / inner, in = r % inner;
            const T* xr = px + o * n * inner + in;
            T* yr = po + o * n * inner + in;
            double mx = -std::numeric_limits<double>::infinity();
            int64_t arg = 0;
            for (int64_t i = 0; i < n; ++i) {
              double v = static_cast<double>(ToF(xr[i * inner]));
              if (v > mx) {
                mx = v;
                arg = i;
              }
            }
            if constexpr (kind == SoftKind::kHardmax) {
              for (int64_t i = 0; i < n; ++i) yr[i * inner] = T(i == arg ? 1.f : 0.f);
            } else {
              double sum = 0;
              for (int64_t i = 0; i < n; ++i) {
                tmp[i] = std::exp(static_cast<double>(ToF(xr[i * inner])) - mx);
                sum += tmp[i];
              }
              if constexpr (kind == SoftKind::kSoftmax) {
                for (int64_t i = 0; i < n; ++i)
                  yr[i * inner] = T(static_cast<CalcT<T>>(tmp[i] / sum));
              } else {
                double ls = std::log(sum);
                for (int64_t i = 0; i < n; ++i) {
                  yr[i * inner] =
                      T(static_cast<CalcT<T>>(static_cast<double>(ToF(xr[i * inner])) - mx - ls));
                }
              }
            }
          }
        });
    return Status::OK();
  });
}

// Softmax fast path for float32 over the last axis: the attention hot path.
Status SoftmaxF32(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  if (x->dtype() != DType::kFloat32 || !x->is_contiguous() || x->rank() == 0 ||
      (ctx.opset() >= 13
           ? (ctx.node().GetInt("axis", -1) != -1 && ctx.node().GetInt("axis", -1) != x->rank() - 1)
           : ctx.node().GetInt("axis", 1) != x->rank() - 1 &&
                 !(ctx.node().GetInt("axis", 1) == -1))) {
    return SoftmaxCompute<SoftKind::kSoftmax>(ctx);
  }
  const int64_t n = x->shape().back();
  const int64_t rows = n == 0 ? 0 : x->numel() / n;
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, DType::kFloat32, x->shape()));
  const float* px = static_cast<const float*>(x->raw_data());
  float* po = static_cast<float*>(out.raw_data());
  ctx.pool().ParallelFor(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1)),
                         [&](int64_t b, int64_t e) {
                           for (int64_t r = b; r < e; ++r) {
                             const float* xr = px + r * n;
                             float* yr = po + r * n;
                             float mx = -std::numeric_limits<float>::infinity();
                             for (int64_t i = 0; i < n; ++i) mx = std::max(mx, xr[i]);
                             if (mx == -std::numeric_limits<float>::infinity()) mx = 0.f;
                             float sum = 0.f;
                             for (int64_t i = 0; i < n; ++i) {
                               yr[i] = std::exp(xr[i] - mx);
                               sum += yr[i];
                             }
                             float inv = 1.f / sum;
                             for (int64_t i = 0; i < n; ++i) yr[i] *= inv;
                           }
                         });
  return Status::OK();
}

Status BatchNormCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  for (int i = 1; i < 5; ++i) MLOS_RETURN_IF_ERROR(ctx.RequireTensor(i).status());
  const float eps = ctx.node().GetFloat("epsilon", 1e-5f);
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  if (x.rank() < 1) return ctx.Error("input must have rank >= 1");
  const int64_t n = x.shape()[0], c = x.rank() > 1 ? x.shape()[1] : 1;
  int64_t inner = 1;
  for (int i = 2; i < x.rank(); ++i) inner *= x.shape()[i];
  for (int i = 1; i < 5; ++i) {
    if (ctx.input(i).numel() != c)
      return ctx.Error("parameter " + std::to_string(i) + " must have C elements");
  }
  auto param = [&](int i) {
    std::vector<double> v(static_cast<size_t>(c));
    for (int64_t k = 0; k < c; ++k) v[k] = ctx.input(i).GetAsDouble(k);
    return v;
  };
  auto scale = param(1), bias = param(2), mean = param(3), var = param(4);
  if (ctx.node().GetInt("training_mode", 0) != 0) {
    // Batch statistics (population variance); running statistics go to outputs 1 and 2.
    const double momentum = ctx.node().GetFloat("momentum", 0.9f);
    std::vector<double> bm(static_cast<size_t>(c), 0.0), bv(static_cast<size_t>(c), 0.0);
    const double cnt = static_cast<double>(n * inner);
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t ch = 0; ch < c; ++ch) {
        for (int64_t i = 0; i < inner; ++i) bm[ch] += x.GetAsDouble((b * c + ch) * inner + i);
      }
    }
    for (auto& m : bm) m /= cnt;
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t ch = 0; ch < c; ++ch) {
        for (int64_t i = 0; i < inner; ++i) {
          double d = x.GetAsDouble((b * c + ch) * inner + i) - bm[ch];
          bv[ch] += d * d;
        }
      }
    }
    for (auto& v : bv) v /= cnt;
    for (int o = 1; o <= 2; ++o) {
      if (!ctx.has_output(o)) continue;
      MLOS_ASSIGN_OR_RETURN(Tensor rs, ctx.Output(o, ctx.input(o + 2).dtype(), {c}));
      for (int64_t ch = 0; ch < c; ++ch) {
        double run =
            (o == 1 ? mean[ch] : var[ch]) * momentum + (o == 1 ? bm[ch] : bv[ch]) * (1 - momentum);
        if (rs.dtype() == DType::kFloat32)
          static_cast<float*>(rs.raw_data())[ch] = static_cast<float>(run);
        else if (rs.dtype() == DType::kFloat64)
          static_cast<double*>(rs.raw_data())[ch] = run;
      }
    }
    mean = bm;
    var = bv;
  }
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x.dtype(), x.shape()));
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    ctx.pool().ParallelFor(
        n * c, std::max<int64_t>(1, 8192 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
          for (int64_t r = b; r < e; ++r) {
            int64_t ch = r % c;
            float s = static_cast<float>(scale[ch] / std::sqrt(var[ch] + eps));
            float t =
                static_cast<float>(bias[ch] - mean[ch] * scale[ch] / std::sqrt(var[ch] + eps));
            for (int64_t i = 0; i < inner; ++i) {
              po[r * inner + i] = T(static_cast<CalcT<T>>(ToF(px[r * inner + i]) * s + t));
            }
          }
        });
    return Status::OK();
  });
}

// mlos::AddLayerNormalization(x, skip, scale[, bias]) with LayerNormalization's axis/epsilon:
// LayerNorm(x + skip), from the fusion of a residual Add into the LayerNormalization reading it.
// The pass fuses without knowing shapes, so operands that would broadcast or are not float32
// take the unfused route (Add then LayerNorm) here.
Status AddLayerNormCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* skip, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(const Tensor* scale_in, ctx.RequireTensor(2));
  const int rank = x->rank();
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", -1), rank));
  const float eps = ctx.node().GetFloat("epsilon", 1e-5f);
  const Tensor* bias = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  Tensor sum;
  if (x->dtype() != DType::kFloat32 || skip->dtype() != DType::kFloat32 ||
      x->shape() != skip->shape()) {
    MLOS_ASSIGN_OR_RETURN(Shape s, BroadcastShapes(x->shape(), skip->shape()));
    MLOS_ASSIGN_OR_RETURN(
        DType dt, kernels::BinaryResultType(kernels::BinaryOp::kAdd, x->dtype(), skip->dtype()));
    MLOS_ASSIGN_OR_RETURN(sum, Tensor::Empty(dt, s));
    MLOS_RETURN_IF_ERROR(kernels::Binary(kernels::BinaryOp::kAdd, *x, *skip, sum, ctx.pool()));
    if (sum.dtype() != DType::kFloat32 || sum.rank() != rank) {
      return ctx.Error("operands " + ShapeToString(x->shape()) + " + " +
                       ShapeToString(skip->shape()) + " need float32 of the input's rank");
    }
  }
  const Tensor& in = sum.defined() ? sum : *x;
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, DType::kFloat32, in.shape()));
  Status st = sum.defined()
                  ? kernels::LayerNorm(in, *scale_in, bias, axis, eps, out, ctx.pool())
                  : kernels::AddLayerNorm(in, *skip, *scale_in, bias, axis, eps, out, ctx.pool());
  if (!st.ok()) return ctx.Error(st.message());
  return Status::OK();
}

Status LayerNormCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* scale_in, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  const int rank = x.rank();
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", -1), rank));
  const float eps = ctx.node().GetFloat("epsilon", 1e-5f);
  int64_t outer = 1, n = 1;
  for (int i = 0; i < axis; ++i) outer *= x.shape()[i];
  for (int i = axis; i < rank; ++i) n *= x.shape()[i];
  Shape norm_shape(x.shape().begin() + axis, x.shape().end());
  auto sb = scale_in->BroadcastTo(norm_shape);
  if (!sb.ok()) return ctx.Error("scale does not broadcast to the normalised shape");
  MLOS_ASSIGN_OR_RETURN(Tensor scale, sb->Contiguous());
  Tensor bias;
  if (ctx.has_input(2)) {
    auto bb = ctx.input(2).BroadcastTo(norm_shape);
    if (!bb.ok()) return ctx.Error("bias does not broadcast to the normalised shape");
    MLOS_ASSIGN_OR_RETURN(bias, bb->Contiguous());
  }
  Shape stat_shape = x.shape();
  for (int i = axis; i < rank; ++i) stat_shape[i] = 1;
  if (x.dtype() == DType::kFloat32 && scale.dtype() == DType::kFloat32 && !ctx.has_output(1) &&
      !ctx.has_output(2) && (!bias.defined() || bias.dtype() == DType::kFloat32)) {
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x.dtype(), x.shape()));
    if (kernels::LayerNorm(x, scale, bias.defined() ? &bias : nullptr, axis, eps, out, ctx.pool())
            .ok()) {
      return Status::OK();
    }
  }
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x.dtype(), x.shape()));
    float* pmean = nullptr;
    float* pinv = nullptr;
    Tensor mean_t, inv_t;
    if (ctx.has_output(1)) {
      MLOS_ASSIGN_OR_RETURN(mean_t, ctx.Output(1, DType::kFloat32, stat_shape));
      pmean = static_cast<float*>(mean_t.raw_data());
    }
    if (ctx.has_output(2)) {
      MLOS_ASSIGN_OR_RETURN(inv_t, ctx.Output(2, DType::kFloat32, stat_shape));
      pinv = static_cast<float*>(inv_t.raw_data());
    }
    const T* px = static_cast<const T*>(x.raw_data());
    const T* ps = static_cast<const T*>(scale.raw_data());
    const T* pb = bias.defined() ? static_cast<const T*>(bias.raw_data()) : nullptr;
    T* po = static_cast<T*>(out.raw_data());
    ctx.pool().ParallelFor(outer, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)),
                           [&](int64_t b, int64_t e) {
                             for (int64_t r = b; r < e; ++r) {
                               const T* xr = px + r * n;
                               T* yr = po + r * n;
                               float sum = 0.f;
                               for (int64_t i = 0; i < n; ++i) sum += ToF(xr[i]);
                               float mean = sum / static_cast<float>(n);
                               float sq = 0.f;
                               for (int64_t i = 0; i < n; ++i) {
                                 float d = ToF(xr[i]) - mean;
                                 sq += d * d;
                               }
                               float inv = 1.f / std::sqrt(sq / static_cast<float>(n) + eps);
                               for (int64_t i = 0; i < n; ++i) {
                                 float v = (ToF(xr[i]) - mean) * inv * ToF(ps[i]);
                                 if (pb) v += ToF(pb[i]);
                                 yr[i] = T(v);
                               }
                               if (pmean) pmean[r] = mean;
                               if (pinv) pinv[r] = inv;
                             }
                           });
    return Status::OK();
  });
}

Status InstanceNormCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(const Tensor* bias, ctx.RequireTensor(2));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  if (x.rank() < 2) return ctx.Error("input must have rank >= 2");
  const float eps = ctx.node().GetFloat("epsilon", 1e-5f);
  const int64_t c = x.shape()[1], nc = x.shape()[0] * c;
  int64_t inner = 1;
  for (int i = 2; i < x.rank(); ++i) inner *= x.shape()[i];
  if (scale->numel() != c || bias->numel() != c) return ctx.Error("scale and bias need C elements");
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x.dtype(), x.shape()));
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    for (int64_t r = 0; r < nc; ++r) {
      double sum = 0, sq = 0;
      for (int64_t i = 0; i < inner; ++i) sum += ToF(px[r * inner + i]);
      double mean = sum / static_cast<double>(inner);
      for (int64_t i = 0; i < inner; ++i) {
        double d = ToF(px[r * inner + i]) - mean;
        sq += d * d;
      }
      double inv = 1.0 / std::sqrt(sq / static_cast<double>(inner) + eps);
      double s = scale->GetAsDouble(r % c), b = bias->GetAsDouble(r % c);
      for (int64_t i = 0; i < inner; ++i) {
        po[r * inner + i] = T(static_cast<CalcT<T>>((ToF(px[r * inner + i]) - mean) * inv * s + b));
      }
    }
    return Status::OK();
  });
}

Status DropoutCompute(OpContext& ctx) {
  const Value* v = ctx.input_value(0);
  if (!v) return ctx.Error("input 0 is missing");
  ctx.SetOutputValue(0, *v);
  if (ctx.has_output(1)) {
    MLOS_ASSIGN_OR_RETURN(Tensor mask, ctx.Output(1, DType::kBool, v->tensor.shape()));
    std::fill_n(static_cast<bool*>(mask.raw_data()), mask.numel(), true);
  }
  return Status::OK();
}

Status LrnCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  if (x.rank() < 2 || x.dtype() != DType::kFloat32) return ctx.Error("needs float32 N x C x ...");
  const float alpha = ctx.node().GetFloat("alpha", 1e-4f),
              beta = ctx.node().GetFloat("beta", 0.75f), bias = ctx.node().GetFloat("bias", 1.f);
  const int64_t size = ctx.node().GetInt("size", 1);
  const int64_t n = x.shape()[0], c = x.shape()[1];
  int64_t inner = 1;
  for (int i = 2; i < x.rank(); ++i) inner *= x.shape()[i];
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x.dtype(), x.shape()));
  const float* px = static_cast<const float*>(x.raw_data());
  float* po = static_cast<float*>(out.raw_data());
  const int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t i = 0; i < inner; ++i) {
        double sq = 0;
        for (int64_t k = std::max<int64_t>(0, ch - lo); k <= std::min(c - 1, ch + hi); ++k) {
          double v = px[(b * c + k) * inner + i];
          sq += v * v;
        }
        double denom = std::pow(bias + alpha / static_cast<double>(size) * sq, beta);
        po[(b * c + ch) * inner + i] = static_cast<float>(px[(b * c + ch) * inner + i] / denom);
      }
    }
  }
  return Status::OK();
}

Status LpNormCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", -1), x.rank()));
  const int64_t p = ctx.node().GetInt("p", 2);
  Split3 sp = SplitAt(x.shape(), axis);
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x.dtype(), x.shape()));
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    for (int64_t o = 0; o < sp.outer; ++o) {
      for (int64_t in = 0; in < sp.inner; ++in) {
        double acc = 0;
        for (int64_t i = 0; i < sp.n; ++i) {
          double v = ToF(px[(o * sp.n + i) * sp.inner + in]);
          acc += p == 1 ? std::fabs(v) : v * v;
        }
        double norm = p == 1 ? acc : std::sqrt(acc);
        for (int64_t i = 0; i < sp.n; ++i) {
          int64_t k = (o * sp.n + i) * sp.inner + in;
          po[k] = T(static_cast<CalcT<T>>(norm == 0 ? 0.0 : ToF(px[k]) / norm));
        }
      }
    }
    return Status::OK();
  });
}

Status MvnCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  std::vector<int64_t> axes = ctx.node().GetInts("axes", {0, 2, 3});
  const int rank = x.rank();
  std::vector<bool> red(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    MLOS_ASSIGN_OR_RETURN(int ax, Axis(ctx, a, rank));
    red[ax] = true;
  }
  if (x.dtype() != DType::kFloat32) return ctx.Error("needs float32");
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x.dtype(), x.shape()));
  // Group elements by their non-reduced coordinates.
  const int64_t total = x.numel();
  std::vector<int64_t> key(static_cast<size_t>(total));
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  int64_t groups = 1;
  for (int d = 0; d < rank; ++d) {
    if (!red[d]) groups *= x.shape()[d];
  }
  for (int64_t i = 0; i < total; ++i) {
    int64_t rem = i, k = 0;
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = rem % x.shape()[d];
      rem /= x.shape()[d];
    }
    for (int d = 0; d < rank; ++d) {
      if (!red[d]) k = k * x.shape()[d] + idx[d];
    }
    key[i] = k;
  }
  std::vector<double> sum(static_cast<size_t>(groups), 0), sq(static_cast<size_t>(groups), 0),
      cnt(static_cast<size_t>(groups), 0);
  const float* px = static_cast<const float*>(x.raw_data());
  for (int64_t i = 0; i < total; ++i) {
    sum[key[i]] += px[i];
    sq[key[i]] += static_cast<double>(px[i]) * px[i];
    cnt[key[i]] += 1;
  }
  float* po = static_cast<float*>(out.raw_data());
  for (int64_t i = 0; i < total; ++i) {
    double m = sum[key[i]] / cnt[key[i]];
    double var = sq[key[i]] / cnt[key[i]] - m * m;
    po[i] = static_cast<float>((px[i] - m) / (std::sqrt(std::max(var, 0.0)) + 1e-9));
  }
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(normalization) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Softmax", SoftmaxF32);
  r.Add("LogSoftmax", SoftmaxCompute<SoftKind::kLogSoftmax>);
  r.Add("Hardmax", SoftmaxCompute<SoftKind::kHardmax>);
  r.Add("BatchNormalization", BatchNormCompute);
  r.Add("LayerNormalization", LayerNormCompute);
  r.Add("AddLayerNormalization", AddLayerNormCompute, 1, "mlos");
  r.Add("InstanceNormalization", InstanceNormCompute);
  r.Add("Dropout", DropoutCompute);
  r.Add("LRN", LrnCompute);
  r.Add("LpNormalization", LpNormCompute);
  r.Add("MeanVarianceNormalization", MvnCompute);
}
