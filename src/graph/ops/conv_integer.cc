// Quantized convolutions: ConvInteger (opset 10, int32 result) and QLinearConv (opset 10,
// requantized uint8/int8 result, optional int32 bias), any number of spatial dims, groups,
// strides, dilations, explicit pads or auto_pad. Integer arithmetic: im2col of (x - x_zp) into
// int16 (padding contributes 0, i.e. pads hold the zero point) and the int16 GEMM of int_gemm.h
// with int32 accumulation; weight zero points per tensor or per output channel.
#include <algorithm>
#include <cmath>

#include "graph/ops/int_gemm.h"
#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

struct ConvGeom {
  int64_t n = 0, c = 0, m = 0, group = 1;
  Shape in_sp, k_sp, out_sp;
  std::vector<int64_t> strides, dil, pad_begin;
  int64_t kprod = 1, in_prod = 1, out_prod = 1;
};

Result<ConvGeom> ConvGeometry(const OpContext& ctx, const Tensor& x, const Tensor& w) {
  ConvGeom g;
  if (x.rank() < 3 || w.rank() != x.rank()) {
    return ctx.Error("x " + ShapeToString(x.shape()) + " and w " + ShapeToString(w.shape()) +
                     " must both have rank >= 3 and equal ranks");
  }
  const int sd = x.rank() - 2;
  g.n = x.dim(0);
  g.c = x.dim(1);
  g.m = w.dim(0);
  g.group = ctx.node().GetInt("group", 1);
  if (g.group <= 0 || g.c % g.group != 0 || g.m % g.group != 0 || w.dim(1) * g.group != g.c) {
    return ctx.Error("channels do not match: x " + ShapeToString(x.shape()) + ", w " +
                     ShapeToString(w.shape()) + ", group " + std::to_string(g.group));
  }
  g.in_sp.assign(x.shape().begin() + 2, x.shape().end());
  g.k_sp.assign(w.shape().begin() + 2, w.shape().end());
  std::vector<int64_t> ks = ctx.node().GetInts("kernel_shape");
  if (!ks.empty() && ks != g.k_sp) return ctx.Error("kernel_shape does not match the weights");
  g.strides = ctx.node().GetInts("strides", std::vector<int64_t>(sd, 1));
  g.dil = ctx.node().GetInts("dilations", std::vector<int64_t>(sd, 1));
  std::vector<int64_t> pads = ctx.node().GetInts("pads", std::vector<int64_t>(2 * sd, 0));
  if (static_cast<int>(g.strides.size()) != sd || static_cast<int>(g.dil.size()) != sd ||
      static_cast<int>(pads.size()) != 2 * sd) {
    return ctx.Error("strides, dilations and pads must have one value per spatial dim");
  }
  const std::string auto_pad = ctx.node().GetString("auto_pad", "NOTSET");
  g.pad_begin.assign(sd, 0);
  for (int i = 0; i < sd; ++i) {
    if (g.strides[i] <= 0 || g.dil[i] <= 0 || pads[i] < 0 || pads[i + sd] < 0 || g.k_sp[i] <= 0) {
      return ctx.Error("strides, dilations and kernel dims must be positive, pads >= 0");
    }
    const int64_t ext = g.dil[i] * (g.k_sp[i] - 1) + 1;
    int64_t out;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out = (g.in_sp[i] + g.strides[i] - 1) / g.strides[i];
      const int64_t total = std::max<int64_t>(0, (out - 1) * g.strides[i] + ext - g.in_sp[i]);
      g.pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else if (auto_pad == "VALID") {
      out = g.in_sp[i] >= ext ? (g.in_sp[i] - ext) / g.strides[i] + 1 : 0;
    } else if (auto_pad == "NOTSET") {
      g.pad_begin[i] = pads[i];
      const int64_t span = g.in_sp[i] + pads[i] + pads[i + sd];
      out = span >= ext ? (span - ext) / g.strides[i] + 1 : 0;
    } else {
      return ctx.Error("unknown auto_pad '" + auto_pad + "'");
    }
    g.out_sp.push_back(out);
    g.kprod *= g.k_sp[i];
    g.in_prod *= g.in_sp[i];
    g.out_prod *= out;
  }
  return g;
}

// im2col of one image's group: rows (c, kernel offset), columns output positions; values
// x - x_zp, 0 outside the image.
template <typename T>
void Im2Col(const T* x, const ConvGeom& g, int64_t cg, int32_t xzp, int16_t* col) {
  const int sd = static_cast<int>(g.in_sp.size());
  std::vector<int64_t> kc(sd, 0), oc(sd, 0);
  for (int64_t c = 0; c < cg; ++c) {
    const T* xc = x + c * g.in_prod;
    std::fill(kc.begin(), kc.end(), 0);
    for (int64_t kidx = 0; kidx < g.kprod; ++kidx) {
      int16_t* row = col + (c * g.kprod + kidx) * g.out_prod;
      std::fill(oc.begin(), oc.end(), 0);
      for (int64_t p = 0; p < g.out_prod; ++p) {
        int64_t off = 0;
        bool inside = true;
        for (int d = 0; d < sd; ++d) {
          const int64_t ic = oc[d] * g.strides[d] - g.pad_begin[d] + kc[d] * g.dil[d];
          if (ic < 0 || ic >= g.in_sp[d]) {
            inside = false;
            break;
          }
          off = off * g.in_sp[d] + ic;
        }
        row[p] = inside ? static_cast<int16_t>(static_cast<int32_t>(xc[off]) - xzp) : int16_t{0};
        for (int d = sd - 1; d >= 0; --d) {
          if (++oc[d] < g.out_sp[d]) break;
          oc[d] = 0;
        }
      }
      for (int d = sd - 1; d >= 0; --d) {
        if (++kc[d] < g.k_sp[d]) break;
        kc[d] = 0;
      }
    }
  }
}

bool IsInt8Like(DType t) { return t == DType::kUInt8 || t == DType::kInt8; }

template <typename Fn>
void VisitInt8(DType t, Fn&& fn) {
  if (t == DType::kUInt8)
    fn(uint8_t{});
  else
    fn(int8_t{});
}

template <bool kQLinear>
Status ConvIntCompute(OpContext& ctx) {
  const int xi = 0, wi = kQLinear ? 3 : 1, xzi = kQLinear ? 2 : 2, wzi = kQLinear ? 5 : 3;
  MLOS_ASSIGN_OR_RETURN(const Tensor* x_in, ctx.RequireTensor(xi));
  MLOS_ASSIGN_OR_RETURN(const Tensor* w_in, ctx.RequireTensor(wi));
  const Tensor* xzp = ctx.has_input(xzi) ? &ctx.input(xzi) : nullptr;
  const Tensor* wzp = ctx.has_input(wzi) ? &ctx.input(wzi) : nullptr;
  if (!IsInt8Like(x_in->dtype()) || !IsInt8Like(w_in->dtype())) {
    return ctx.Error("x and w must be uint8 or int8");
  }
  if ((xzp != nullptr && (xzp->dtype() != x_in->dtype() || xzp->numel() != 1)) ||
      (wzp != nullptr && wzp->dtype() != w_in->dtype())) {
    return ctx.Error("x_zero_point must be a scalar of x's dtype, w_zero_point of w's dtype");
  }
  MLOS_ASSIGN_OR_RETURN(ConvGeom g, ConvGeometry(ctx, *x_in, *w_in));
  if (wzp != nullptr && wzp->numel() != 1 && wzp->numel() != g.m) {
    return ctx.Error("w_zero_point must be a scalar or have one value per output channel");
  }
  const int32_t x_zp = xzp != nullptr ? static_cast<int32_t>(xzp->GetAsDouble(0)) : 0;
  std::vector<int32_t> w_zp(static_cast<size_t>(g.m), 0);
  for (int64_t i = 0; i < g.m && wzp != nullptr; ++i) {
    w_zp[i] = static_cast<int32_t>(wzp->GetAsDouble(wzp->numel() == 1 ? 0 : i));
  }
  // Requantization parameters.
  float xs = 1.f, ys = 1.f;
  std::vector<float> ws(static_cast<size_t>(g.m), 1.f);
  std::vector<int32_t> bias(static_cast<size_t>(g.m), 0);
  int32_t y_zp = 0;
  DType out_t = DType::kInt32;
  if constexpr (kQLinear) {
    MLOS_ASSIGN_OR_RETURN(const Tensor* xs_t, ctx.RequireTensor(1));
    MLOS_ASSIGN_OR_RETURN(const Tensor* ws_t, ctx.RequireTensor(4));
    MLOS_ASSIGN_OR_RETURN(const Tensor* ys_t, ctx.RequireTensor(6));
    const Tensor* yzp_t = ctx.has_input(7) ? &ctx.input(7) : nullptr;
    if (!IsFloating(xs_t->dtype()) || !IsFloating(ws_t->dtype()) || !IsFloating(ys_t->dtype()) ||
        xs_t->numel() != 1 || ys_t->numel() != 1 || (ws_t->numel() != 1 && ws_t->numel() != g.m)) {
      return ctx.Error("x_scale and y_scale must be float scalars, w_scale scalar or per channel");
    }
    xs = static_cast<float>(xs_t->GetAsDouble(0));
    ys = static_cast<float>(ys_t->GetAsDouble(0));
    if (!(ys != 0.f)) return ctx.Error("y_scale must be non-zero");
    for (int64_t i = 0; i < g.m; ++i) {
      ws[i] = static_cast<float>(ws_t->GetAsDouble(ws_t->numel() == 1 ? 0 : i));
    }
    out_t = yzp_t != nullptr ? yzp_t->dtype() : DType::kUInt8;
    if (!IsInt8Like(out_t) || (yzp_t != nullptr && yzp_t->numel() != 1)) {
      return ctx.Error("y_zero_point must be a uint8 or int8 scalar");
    }
    y_zp = yzp_t != nullptr ? static_cast<int32_t>(yzp_t->GetAsDouble(0)) : 0;
    if (ctx.has_input(8)) {
      const Tensor& b = ctx.input(8);
      if (b.dtype() != DType::kInt32 || b.numel() != g.m) {
        return ctx.Error("bias must be int32 with one value per output channel");
      }
      for (int64_t i = 0; i < g.m; ++i) bias[i] = static_cast<int32_t>(b.GetAsDouble(i));
    }
  }
  MLOS_ASSIGN_OR_RETURN(Tensor x, x_in->Contiguous());
  MLOS_ASSIGN_OR_RETURN(Tensor w, w_in->Contiguous());
  Shape out_shape{g.n, g.m};
  out_shape.insert(out_shape.end(), g.out_sp.begin(), g.out_sp.end());
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, out_t, out_shape));
  if (g.out_prod == 0 || g.n == 0 || g.m == 0) return Status::OK();
  const int64_t cg = g.c / g.group, mg = g.m / g.group;
  const int64_t kdim = cg * g.kprod;
  if (kdim >= (int64_t{1} << 30) || kdim * g.out_prod >= (int64_t{1} << 32)) {
    return ctx.Error("im2col buffer too large");
  }
  const int64_t kp = (kdim + 1) & ~int64_t{1};
  // Weights widened once per call: [M, kp] with the per-channel zero point subtracted.
  std::vector<int16_t> w16(static_cast<size_t>(g.m * kp));
  VisitInt8(w.dtype(), [&](auto tag) {
    using T = decltype(tag);
    WidenIntA<T>(static_cast<const T*>(w.raw_data()), kdim, g.m, kdim, kp, w_zp.data(), true,
                 w16.data());
  });
  std::vector<int16_t> col(static_cast<size_t>(kdim * g.out_prod));
  std::vector<int32_t> acc(static_cast<size_t>(mg * g.out_prod));
  PackedB packed;
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t gr = 0; gr < g.group; ++gr) {
      VisitInt8(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* xg = static_cast<const T*>(x.raw_data()) + (n * g.c + gr * cg) * g.in_prod;
        Im2Col<T>(xg, g, cg, x_zp, col.data());
      });
      PackIntB<int16_t>(col.data(), g.out_prod, 1, kdim, g.out_prod, nullptr, false, &packed);
      const int64_t m0 = gr * mg;
      const int64_t out_off = (n * g.m + m0) * g.out_prod;
      if constexpr (!kQLinear) {
        IntGemm(w16.data() + m0 * kp, mg, packed, static_cast<int32_t*>(y.raw_data()) + out_off,
                g.out_prod, ctx.pool());
      } else {
        IntGemm(w16.data() + m0 * kp, mg, packed, acc.data(), g.out_prod, ctx.pool());
        VisitInt8(out_t, [&](auto tag) {
          using T = decltype(tag);
          constexpr double lo = std::is_same_v<T, uint8_t> ? 0 : -128;
          constexpr double hi = std::is_same_v<T, uint8_t> ? 255 : 127;
          T* py = static_cast<T*>(y.raw_data()) + out_off;
          for (int64_t m = 0; m < mg; ++m) {
            const double mult = static_cast<double>(xs * ws[m0 + m] / ys);
            for (int64_t p = 0; p < g.out_prod; ++p) {
              const int64_t a = static_cast<int64_t>(acc[m * g.out_prod + p]) + bias[m0 + m];
              double v = std::nearbyint(static_cast<double>(a) * mult) + y_zp;
              if (!(v >= lo)) v = lo;
              if (v > hi) v = hi;
              py[m * g.out_prod + p] = static_cast<T>(v);
            }
          }
        });
      }
    }
  }
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(conv_integer) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("ConvInteger", ConvIntCompute<false>, 10);
  r.Add("QLinearConv", ConvIntCompute<true>, 10);
}
