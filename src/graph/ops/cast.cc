// Cast and CastLike between every ONNX dtype, strings included (numbers print and parse as ONNX
// specifies). Float to integer conversions saturate instead of invoking undefined behaviour.
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

#include "graph/ops/op_util.h"
#include "graph/tensor_proto.h"

namespace mlos::graph::ops {
namespace {

template <typename D, typename S>
D ConvertOne(S s) {
  if constexpr (std::is_same_v<D, bool>) {
    return static_cast<double>(ToF(s)) != 0.0;
  } else if constexpr (std::is_same_v<D, Float16> || std::is_same_v<D, BFloat16>) {
    if constexpr (std::is_same_v<S, bool>)
      return D(s ? 1.f : 0.f);
    else
      return D(static_cast<float>(s));
  } else if constexpr (std::is_integral_v<D>) {
    if constexpr (std::is_integral_v<S>) {
      return static_cast<D>(s);
    } else {
      double v = static_cast<double>(static_cast<float>(s));
      if constexpr (std::is_same_v<S, double>) v = static_cast<double>(s);
      if (std::isnan(v)) return D(0);
      if (v <= static_cast<double>(std::numeric_limits<D>::lowest()))
        return std::numeric_limits<D>::lowest();
      if (v >= static_cast<double>(std::numeric_limits<D>::max()))
        return std::numeric_limits<D>::max();
      return static_cast<D>(v);
    }
  } else {
    if constexpr (std::is_same_v<S, Float16> || std::is_same_v<S, BFloat16>) {
      return static_cast<D>(static_cast<float>(s));
    } else {
      return static_cast<D>(s);
    }
  }
}

// Shortest round-trip text, as numpy prints (float32 values round-trip as float32).
std::string NumberToString(double v, bool is_float) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
  char buf[64];
  auto r = is_float ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                    : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

Status CastTensor(OpContext& ctx, const Tensor& x, DType to) {
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, to, x.shape()));
  MLOS_ASSIGN_OR_RETURN(Tensor src, x.Contiguous());
  const int64_t n = x.numel();
  if (x.dtype() == DType::kString && to == DType::kString) return out.CopyFrom(src);
  if (x.dtype() == DType::kString) {
    const auto* s = static_cast<const std::string*>(src.raw_data());
    auto run = [&](auto tag) -> Status {
      using D = decltype(tag);
      D* o = static_cast<D*>(out.raw_data());
      for (int64_t i = 0; i < n; ++i) {
        double v = 0;
        std::string t = s[i];
        if (t == "NaN" || t == "nan")
          v = std::numeric_limits<double>::quiet_NaN();
        else if (t == "INF" || t == "inf" || t == "+INF")
          v = std::numeric_limits<double>::infinity();
        else if (t == "-INF" || t == "-inf")
          v = -std::numeric_limits<double>::infinity();
        else {
          try {
            v = std::stod(t);
          } catch (...) {
            return ctx.Error("cannot parse '" + t + "' as a number");
          }
        }
        o[i] = ConvertOne<D, double>(v);
      }
      return Status::OK();
    };
    if (to == DType::kBool) return run(bool{});
    return DispatchNumeric(to, ctx, run);
  }
  if (to == DType::kString) {
    auto* o = static_cast<std::string*>(out.raw_data());
    bool is_float = x.dtype() == DType::kFloat32 || x.dtype() == DType::kFloat16 ||
                    x.dtype() == DType::kBFloat16;
    for (int64_t i = 0; i < n; ++i) {
      double v = src.GetAsDouble(i);
      if (IsInteger(x.dtype()) || x.dtype() == DType::kBool) {
        o[i] = x.dtype() == DType::kInt64
                   ? std::to_string(static_cast<const int64_t*>(src.raw_data())[i])
               : x.dtype() == DType::kUInt64
                   ? std::to_string(static_cast<const uint64_t*>(src.raw_data())[i])
                   : std::to_string(static_cast<int64_t>(v));
      } else {
        o[i] = NumberToString(v, is_float);
      }
    }
    return Status::OK();
  }
  auto outer = [&](auto stag) -> Status {
    using S = decltype(stag);
    const S* s = static_cast<const S*>(src.raw_data());
    auto inner = [&](auto dtag) -> Status {
      using D = decltype(dtag);
      D* o = static_cast<D*>(out.raw_data());
      ctx.pool().ParallelFor(n, 16384, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) o[i] = ConvertOne<D, S>(s[i]);
      });
      return Status::OK();
    };
    if (to == DType::kBool) return inner(bool{});
    return DispatchNumeric(to, ctx, inner);
  };
  if (x.dtype() == DType::kBool) return outer(bool{});
  return DispatchNumeric(x.dtype(), ctx, outer);
}

namespace {

Status CastCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  auto to = DTypeFromOnnx(static_cast<int>(ctx.node().GetInt("to", 1)));
  if (!to.ok()) return ctx.Error(to.status().message());
  if (*to == x->dtype()) {
    ctx.SetOutput(0, *x);
    return Status::OK();
  }
  return CastTensor(ctx, *x, *to);
}

Status CastLikeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* like, ctx.RequireTensor(1));
  if (like->dtype() == x->dtype()) {
    ctx.SetOutput(0, *x);
    return Status::OK();
  }
  return CastTensor(ctx, *x, like->dtype());
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(cast) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Cast", CastCompute);
  r.Add("CastLike", CastLikeCompute);
}
