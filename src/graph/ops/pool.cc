// MaxPool (with Indices), AveragePool, LpPool over any spatial rank, and the global pools.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/op_util.h"
#include "kernels/cpu/nn.h"

namespace mlos::graph::ops {
namespace {

enum class PoolType { kMax, kAvg, kLp };

struct PoolGeom {
  int nsp = 0;
  std::vector<int64_t> in, k, out, stride, dil, pad_b, pad_e;
  int64_t in_size = 1, out_size = 1;
};

Status PoolGeometry(const OpContext& ctx, const Shape& x, PoolGeom* g) {
  const Node& n = ctx.node();
  g->nsp = static_cast<int>(x.size()) - 2;
  if (g->nsp < 1) return ctx.Error("input must have rank >= 3");
  g->k = n.GetInts("kernel_shape");
  if (static_cast<int>(g->k.size()) != g->nsp)
    return ctx.Error("kernel_shape length must match the spatial rank");
  g->stride = n.GetInts("strides", std::vector<int64_t>(g->nsp, 1));
  g->dil = n.GetInts("dilations", std::vector<int64_t>(g->nsp, 1));
  std::vector<int64_t> pads = n.GetInts("pads", std::vector<int64_t>(2 * g->nsp, 0));
  if (static_cast<int>(g->stride.size()) != g->nsp || static_cast<int>(g->dil.size()) != g->nsp ||
      static_cast<int>(pads.size()) != 2 * g->nsp) {
    return ctx.Error("strides/dilations/pads lengths do not match the spatial rank");
  }
  const bool ceil_mode = n.GetInt("ceil_mode", 0) != 0;
  const std::string auto_pad = n.GetString("auto_pad", "NOTSET");
  for (int i = 0; i < g->nsp; ++i) {
    int64_t in = x[i + 2];
    if (g->k[i] < 1 || g->stride[i] < 1 || g->dil[i] < 1)
      return ctx.Error("kernel, strides and dilations must be >= 1");
    int64_t ek = (g->k[i] - 1) * g->dil[i] + 1;
    int64_t pb = pads[i], pe = pads[i + g->nsp], o;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      o = (in + g->stride[i] - 1) / g->stride[i];
      int64_t total = std::max<int64_t>(0, (o - 1) * g->stride[i] + ek - in);
      pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else if (auto_pad == "VALID") {
      pb = pe = 0;
      o = (in - ek) / g->stride[i] + 1;
    } else {
      int64_t span = in + pb + pe - ek;
      o = (ceil_mode ? (span + g->stride[i] - 1) / g->stride[i] : span / g->stride[i]) + 1;
      // The last window must start inside the input or the left padding.
      if (ceil_mode && (o - 1) * g->stride[i] >= in + pb) --o;
    }
    if (o <= 0) return ctx.Error("output spatial size is not positive");
    g->in.push_back(in);
    g->out.push_back(o);
    g->pad_b.push_back(pb);
    g->pad_e.push_back(pe);
    g->in_size *= in;
    g->out_size *= o;
  }
  return Status::OK();
}

template <PoolType kind>
Status PoolCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  PoolGeom g;
  MLOS_RETURN_IF_ERROR(PoolGeometry(ctx, x.shape(), &g));
  const bool include_pad = ctx.node().GetInt("count_include_pad", 0) != 0;
  const int64_t p = ctx.node().GetInt("p", 2);
  const bool col_major = ctx.node().GetInt("storage_order", 0) != 0;
  const int64_t nc = x.shape()[0] * x.shape()[1];
  Shape out_shape{x.shape()[0], x.shape()[1]};
  out_shape.insert(out_shape.end(), g.out.begin(), g.out.end());
  if (kind != PoolType::kLp && x.dtype() == DType::kFloat32 && g.nsp == 2 &&
      !(kind == PoolType::kMax && ctx.has_output(1))) {
    kernels::Pool2dParams kp;
    kp.kind = kind == PoolType::kMax ? kernels::PoolKind::kMax : kernels::PoolKind::kAverage;
    kp.kernel_h = g.k[0];
    kp.kernel_w = g.k[1];
    kp.stride_h = g.stride[0];
    kp.stride_w = g.stride[1];
    kp.pad_top = g.pad_b[0];
    kp.pad_left = g.pad_b[1];
    kp.pad_bottom = g.pad_e[0];
    kp.pad_right = g.pad_e[1];
    kp.dilation_h = g.dil[0];
    kp.dilation_w = g.dil[1];
    kp.ceil_mode = ctx.node().GetInt("ceil_mode", 0) != 0;
    kp.count_include_pad = include_pad;
    auto ks = kernels::Pool2dShape(x.shape(), kp);
    if (ks.ok() && *ks == out_shape) {
      MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x.dtype(), out_shape));
      if (kernels::Pool2d(x, kp, y, ctx.pool()).ok()) return Status::OK();
    }
  }
  auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x.dtype(), out_shape));
    int64_t* pind = nullptr;
    if (kind == PoolType::kMax && ctx.has_output(1)) {
      MLOS_ASSIGN_OR_RETURN(Tensor ind, ctx.Output(1, DType::kInt64, out_shape));
      pind = static_cast<int64_t*>(ind.raw_data());
    }
    const T* px = static_cast<const T*>(x.raw_data());
    T* py = static_cast<T*>(y.raw_data());
    ctx.pool().ParallelFor(nc, 1, [&](int64_t b, int64_t e) {
      std::vector<int64_t> o(static_cast<size_t>(g.nsp)), kk(static_cast<size_t>(g.nsp));
      for (int64_t ch = b; ch < e; ++ch) {
        const T* xc = px + ch * g.in_size;
        std::fill(o.begin(), o.end(), 0);
        for (int64_t op = 0; op < g.out_size; ++op) {
          double acc = kind == PoolType::kMax ? -std::numeric_limits<double>::infinity() : 0.0;
          int64_t arg = -1, count = 0, pad_count = 1;
          for (int d = 0; d < g.nsp; ++d) {
            // Windows clipped to the padded extent count their padding for count_include_pad.
            int64_t start = o[d] * g.stride[d] - g.pad_b[d];
            int64_t end = std::min(start + (g.k[d] - 1) * g.dil[d] + 1, g.in[d] + g.pad_e[d]);
            pad_count *= (end - start + g.dil[d] - 1) / g.dil[d];
          }
          std::fill(kk.begin(), kk.end(), 0);
          while (true) {
            int64_t src = 0;
            bool inside = true;
            for (int d = 0; d < g.nsp; ++d) {
              int64_t i = o[d] * g.stride[d] - g.pad_b[d] + kk[d] * g.dil[d];
              if (i < 0 || i >= g.in[d]) {
                inside = false;
                break;
              }
              src = src * g.in[d] + i;
            }
            if (inside) {
              double v = static_cast<double>(static_cast<C>(xc[src]));
              if constexpr (kind == PoolType::kMax) {
                if (v > acc || arg < 0) {
                  acc = v;
                  arg = src;
                }
              } else if constexpr (kind == PoolType::kAvg) {
                acc += v;
              } else {
                acc += std::pow(std::fabs(v), static_cast<double>(p));
              }
              ++count;
            }
            int d = g.nsp - 1;
            for (; d >= 0; --d) {
              if (++kk[d] < g.k[d]) break;
              kk[d] = 0;
            }
            if (d < 0) break;
          }
          double r = acc;
          if constexpr (kind == PoolType::kAvg) {
            r = acc / static_cast<double>(include_pad ? pad_count : std::max<int64_t>(count, 1));
          } else if constexpr (kind == PoolType::kLp) {
            r = std::pow(acc, 1.0 / static_cast<double>(p));
          }
          py[ch * g.out_size + op] = T(static_cast<C>(r));
          if (pind) {
            int64_t idx = arg;
            if (col_major && arg >= 0) {
              // Column-major index of the spatial position.
              int64_t rem = arg, cm = 0, mul = 1;
              std::vector<int64_t> pos(static_cast<size_t>(g.nsp));
              for (int d = g.nsp - 1; d >= 0; --d) {
                pos[d] = rem % g.in[d];
                rem /= g.in[d];
              }
              for (int d = 0; d < g.nsp; ++d) {
                cm += pos[d] * mul;
                mul *= g.in[d];
              }
              idx = cm;
            }
            pind[ch * g.out_size + op] = ch * g.in_size + idx;
          }
          for (int d = g.nsp - 1; d >= 0; --d) {
            if (++o[d] < g.out[d]) break;
            o[d] = 0;
          }
        }
      }
    });
    return Status::OK();
  };
  if (kind == PoolType::kMax && (x.dtype() == DType::kInt8 || x.dtype() == DType::kUInt8)) {
    if (x.dtype() == DType::kInt8) return run(int8_t{});
    return run(uint8_t{});
  }
  return DispatchFloat(x.dtype(), ctx, run);
}

template <bool kMax>
Status GlobalPoolCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  if (x.rank() < 2) return ctx.Error("input must have rank >= 2");
  Shape out_shape = x.shape();
  int64_t inner = 1;
  for (int i = 2; i < x.rank(); ++i) {
    inner *= out_shape[i];
    out_shape[i] = 1;
  }
  const int64_t nc = x.shape()[0] * x.shape()[1];
  if (x.dtype() == DType::kFloat32 && x.rank() == 4) {
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x.dtype(), out_shape));
    if (kernels::GlobalPool2d(kMax ? kernels::PoolKind::kMax : kernels::PoolKind::kAverage, x, y,
                              ctx.pool())
            .ok()) {
      return Status::OK();
    }
  }
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x.dtype(), out_shape));
    const T* px = static_cast<const T*>(x.raw_data());
    T* py = static_cast<T*>(y.raw_data());
    ctx.pool().ParallelFor(nc, std::max<int64_t>(1, 4096 / std::max<int64_t>(inner, 1)),
                           [&](int64_t b, int64_t e) {
                             for (int64_t ch = b; ch < e; ++ch) {
                               const T* xc = px + ch * inner;
                               float acc = kMax ? -std::numeric_limits<float>::infinity() : 0.f;
                               for (int64_t i = 0; i < inner; ++i) {
                                 float v = ToF(xc[i]);
                                 acc = kMax ? std::max(acc, v) : acc + v;
                               }
                               py[ch] = T(kMax ? acc : acc / static_cast<float>(inner));
                             }
                           });
    return Status::OK();
  });
}

Status GlobalLpPoolCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  const double p = static_cast<double>(ctx.node().GetInt("p", 2));
  Shape out_shape = x.shape();
  int64_t inner = 1;
  for (int i = 2; i < x.rank(); ++i) {
    inner *= out_shape[i];
    out_shape[i] = 1;
  }
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x.dtype(), out_shape));
    const T* px = static_cast<const T*>(x.raw_data());
    T* py = static_cast<T*>(y.raw_data());
    for (int64_t ch = 0; ch < x.shape()[0] * x.shape()[1]; ++ch) {
      double acc = 0;
      for (int64_t i = 0; i < inner; ++i)
        acc += std::pow(std::fabs(static_cast<double>(ToF(px[ch * inner + i]))), p);
      py[ch] = T(static_cast<CalcT<T>>(std::pow(acc, 1.0 / p)));
    }
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(pool) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("MaxPool", PoolCompute<PoolType::kMax>);
  r.Add("AveragePool", PoolCompute<PoolType::kAvg>);
  r.Add("LpPool", PoolCompute<PoolType::kLp>);
  r.Add("GlobalMaxPool", GlobalPoolCompute<true>);
  r.Add("GlobalAveragePool", GlobalPoolCompute<false>);
  r.Add("GlobalLpPool", GlobalLpPoolCompute);
}
