// Linear quantization: QuantizeLinear, DequantizeLinear (per-tensor or per-axis scale and zero
// point, opset 10/13) and DynamicQuantizeLinear (opset 11, uint8). Rounding is half to even
// (std::nearbyint in the default rounding mode), results saturate to the integer type's range,
// NaN quantizes to the zero point.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

// How a scale / zero-point tensor maps onto the elements of x: channel of element i is
// (i / inner) % channels; per-tensor when channels == 1.
struct AxisMap {
  int64_t channels = 1, inner = 1;
  int64_t Channel(int64_t i) const { return channels == 1 ? 0 : (i / inner) % channels; }
};

Result<AxisMap> MapScale(const OpContext& ctx, const Tensor& x, const Tensor& scale,
                         const Tensor* zp) {
  AxisMap m;
  if (scale.numel() == 1 && scale.rank() <= 1) {
    // per tensor
  } else if (scale.rank() == 1) {
    MLOS_ASSIGN_OR_RETURN(int axis, Axis(ctx, ctx.node().GetInt("axis", 1), x.rank()));
    if (x.rank() == 0 || scale.dim(0) != x.dim(axis)) {
      return ctx.Error("scale of shape " + ShapeToString(scale.shape()) + " does not match axis " +
                       std::to_string(axis) + " of input " + ShapeToString(x.shape()));
    }
    m.channels = scale.dim(0);
    for (int d = axis + 1; d < x.rank(); ++d) m.inner *= x.dim(d);
  } else {
    return ctx.Error("scale must be a scalar or 1-D, got " + ShapeToString(scale.shape()));
  }
  if (zp != nullptr && zp->numel() != scale.numel()) {
    return ctx.Error("zero point of shape " + ShapeToString(zp->shape()) +
                     " does not match scale " + ShapeToString(scale.shape()));
  }
  return m;
}

// Values of a small tensor as doubles / int32s (scales and zero points).
std::vector<float> FloatsOf(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = static_cast<float>(t.GetAsDouble(i));
  return v;
}
std::vector<int64_t> IntsOf(const Tensor* t, int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n), 0);
  if (t != nullptr) {
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<int64_t>(t->GetAsDouble(i));
  }
  return v;
}

// round-half-even(v) + zp, saturated to [lo, hi].
inline float QuantizeValue(float v, float zp, float lo, float hi) {
  float r = std::nearbyint(v) + zp;
  if (std::isnan(r)) return std::clamp(zp, lo, hi);
  return std::clamp(r, lo, hi);
}

Status QuantizeLinearCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequireTensor(1));
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  DType out_t = zp != nullptr ? zp->dtype() : DType::kUInt8;
  if (out_t != DType::kUInt8 && out_t != DType::kInt8) {
    return ctx.Error("zero point must be uint8 or int8, got " + std::string(DTypeName(out_t)));
  }
  if (!IsFloating(scale->dtype())) return ctx.Error("scale must be a float tensor");
  if (!IsFloating(xin->dtype()) && xin->dtype() != DType::kInt32) {
    return ctx.Error("input must be float or int32, got " + std::string(DTypeName(xin->dtype())));
  }
  MLOS_ASSIGN_OR_RETURN(AxisMap m, MapScale(ctx, *xin, *scale, zp));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  std::vector<float> sc = FloatsOf(*scale);
  std::vector<int64_t> zpv = IntsOf(zp, scale->numel());
  for (float s : sc) {
    if (!(s != 0.f)) return ctx.Error("scale must be non-zero");
  }
  const float lo = out_t == DType::kUInt8 ? 0.f : -128.f;
  const float hi = out_t == DType::kUInt8 ? 255.f : 127.f;
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, out_t, x.shape()));
  auto run = [&](auto in_tag, auto out_tag) {
    using TI = decltype(in_tag);
    using TO = decltype(out_tag);
    const TI* px = static_cast<const TI*>(x.raw_data());
    TO* py = static_cast<TO*>(y.raw_data());
    ctx.pool().ParallelFor(x.numel(), 16384, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t c = m.Channel(i);
        float v;
        if constexpr (std::is_same_v<TI, double>) {
          v = static_cast<float>(static_cast<double>(px[i]) / sc[c]);
        } else if constexpr (std::is_same_v<TI, int32_t>) {
          v = static_cast<float>(static_cast<double>(px[i]) / static_cast<double>(sc[c]));
        } else {
          v = static_cast<float>(px[i]) / sc[c];
        }
        py[i] = static_cast<TO>(QuantizeValue(v, static_cast<float>(zpv[c]), lo, hi));
      }
    });
  };
  auto with_out = [&](auto in_tag) -> Status {
    if (out_t == DType::kUInt8)
      run(in_tag, uint8_t{});
    else
      run(in_tag, int8_t{});
    return Status::OK();
  };
  switch (x.dtype()) {
    case DType::kFloat32:
      return with_out(float{});
    case DType::kFloat64:
      return with_out(double{});
    case DType::kFloat16:
      return with_out(Float16{});
    case DType::kBFloat16:
      return with_out(BFloat16{});
    default:
      return with_out(int32_t{});
  }
}

Status DequantizeLinearCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequireTensor(1));
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const DType xt = xin->dtype();
  if (xt != DType::kUInt8 && xt != DType::kInt8 && xt != DType::kInt32) {
    return ctx.Error("input must be uint8, int8 or int32, got " + std::string(DTypeName(xt)));
  }
  if (zp != nullptr && zp->dtype() != xt) {
    return ctx.Error("zero point dtype " + std::string(DTypeName(zp->dtype())) +
                     " differs from input " + std::string(DTypeName(xt)));
  }
  if (scale->dtype() != DType::kFloat32 && scale->dtype() != DType::kFloat16 &&
      scale->dtype() != DType::kFloat64 && scale->dtype() != DType::kBFloat16) {
    return ctx.Error("scale must be a float tensor");
  }
  MLOS_ASSIGN_OR_RETURN(AxisMap m, MapScale(ctx, *xin, *scale, zp));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  std::vector<float> sc = FloatsOf(*scale);
  std::vector<int64_t> zpv = IntsOf(zp, scale->numel());
  return DispatchFloat(scale->dtype(), ctx, [&](auto otag) -> Status {
    using TO = decltype(otag);
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, scale->dtype(), x.shape()));
    TO* py = static_cast<TO*>(y.raw_data());
    auto run = [&](auto in_tag) {
      using TI = decltype(in_tag);
      const TI* px = static_cast<const TI*>(x.raw_data());
      ctx.pool().ParallelFor(x.numel(), 16384, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const int64_t c = m.Channel(i);
          const float d = static_cast<float>(static_cast<int64_t>(px[i]) - zpv[c]);
          py[i] = TO(static_cast<CalcT<TO>>(d * sc[c]));
        }
      });
    };
    if (xt == DType::kUInt8)
      run(uint8_t{});
    else if (xt == DType::kInt8)
      run(int8_t{});
    else
      run(int32_t{});
    return Status::OK();
  });
}

Status DynamicQuantizeLinearCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  if (xin->dtype() != DType::kFloat32) {
    return ctx.Error("input must be float32, got " + std::string(DTypeName(xin->dtype())));
  }
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  const float* px = static_cast<const float*>(x.raw_data());
  const int64_t n = x.numel();
  // min/max include 0 so that 0 is exactly representable.
  float mn = 0.f, mx = 0.f;
  for (int64_t i = 0; i < n; ++i) {
    if (px[i] < mn) mn = px[i];
    if (px[i] > mx) mx = px[i];
  }
  const float scale = (mx - mn) / 255.f;
  float zpf = 0.f;
  if (scale != 0.f && std::isfinite(scale)) zpf = QuantizeValue(0.f - mn / scale, 0.f, 0.f, 255.f);
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, DType::kUInt8, x.shape()));
  uint8_t* py = static_cast<uint8_t*>(y.raw_data());
  ctx.pool().ParallelFor(n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      py[i] = scale != 0.f && std::isfinite(scale)
                  ? static_cast<uint8_t>(QuantizeValue(px[i] / scale, zpf, 0.f, 255.f))
                  : uint8_t{0};
    }
  });
  if (ctx.has_output(1)) {
    MLOS_ASSIGN_OR_RETURN(Tensor s, ctx.Output(1, DType::kFloat32, {}));
    *static_cast<float*>(s.raw_data()) = scale;
  }
  if (ctx.has_output(2)) {
    MLOS_ASSIGN_OR_RETURN(Tensor z, ctx.Output(2, DType::kUInt8, {}));
    *static_cast<uint8_t*>(z.raw_data()) = static_cast<uint8_t>(zpf);
  }
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(quantize) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("QuantizeLinear", QuantizeLinearCompute, 10);
  r.Add("DequantizeLinear", DequantizeLinearCompute, 10);
  r.Add("DynamicQuantizeLinear", DynamicQuantizeLinearCompute, 11);
}
