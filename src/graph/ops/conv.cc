// Conv (1-D to 3-D and beyond, groups, dilations, auto_pad) and ConvTranspose. Float32 runs
// im2col + the shared GEMM (1x1 stride-1 convolutions skip im2col; depthwise 2-D convolutions
// have a direct loop); other float dtypes convert through float32. A fused activation may be
// attached by the fusion pass through the internal attributes in fused_activation.h.
#include <algorithm>
#include <cstring>

#include "graph/ops/conv_op.h"
#include "graph/ops/fused_activation.h"
#include "graph/ops/op_util.h"
#include "kernels/cpu/conv_internal.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/prepacked_gemm.h"

namespace mlos::graph::ops {
namespace {

struct ConvGeom {
  int nsp = 0;  // spatial rank
  std::vector<int64_t> in, k, out, stride, dil, pad_b, pad_e;
  int64_t in_size = 1, out_size = 1, k_size = 1;
};

// Resolves pads (explicit or auto_pad) and output sizes; `transposed` uses ConvTranspose rules.
Status Geometry(const OpContext& ctx, const Shape& x, const Shape& w, bool transposed,
                ConvGeom* g) {
  const Node& n = ctx.node();
  g->nsp = static_cast<int>(x.size()) - 2;
  if (g->nsp < 1 || w.size() != x.size()) return ctx.Error("X and W must have the same rank >= 3");
  std::vector<int64_t> ks = n.GetInts("kernel_shape");
  for (int i = 0; i < g->nsp; ++i) {
    g->in.push_back(x[i + 2]);
    g->k.push_back(ks.empty() ? w[i + 2] : ks[i]);
  }
  g->stride = n.GetInts("strides", std::vector<int64_t>(g->nsp, 1));
  g->dil = n.GetInts("dilations", std::vector<int64_t>(g->nsp, 1));
  std::vector<int64_t> pads = n.GetInts("pads", std::vector<int64_t>(2 * g->nsp, 0));
  if (static_cast<int>(g->stride.size()) != g->nsp || static_cast<int>(g->dil.size()) != g->nsp ||
      static_cast<int>(pads.size()) != 2 * g->nsp) {
    return ctx.Error("strides/dilations/pads lengths do not match the spatial rank");
  }
  std::string auto_pad = n.GetString("auto_pad", "NOTSET");
  std::vector<int64_t> out_pad = n.GetInts("output_padding", std::vector<int64_t>(g->nsp, 0));
  std::vector<int64_t> out_shape = n.GetInts("output_shape");
  if (static_cast<int>(out_pad.size()) != g->nsp) out_pad.assign(g->nsp, 0);
  for (int i = 0; i < g->nsp; ++i) {
    if (g->stride[i] < 1 || g->dil[i] < 1 || g->k[i] < 1)
      return ctx.Error("strides, dilations and kernel must be >= 1");
    int64_t ek = (g->k[i] - 1) * g->dil[i] + 1;
    int64_t pb = pads[i], pe = pads[i + g->nsp], o;
    if (!transposed) {
      if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        o = (g->in[i] + g->stride[i] - 1) / g->stride[i];
        int64_t total = std::max<int64_t>(0, (o - 1) * g->stride[i] + ek - g->in[i]);
        pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        pe = total - pb;
      } else if (auto_pad == "VALID") {
        pb = pe = 0;
        o = (g->in[i] - ek) / g->stride[i] + 1;
      } else {
        o = (g->in[i] + pb + pe - ek) / g->stride[i] + 1;
      }
    } else {
      if (!out_shape.empty()) {
        int64_t target = out_shape[out_shape.size() - g->nsp + i];
        int64_t total = g->stride[i] * (g->in[i] - 1) + out_pad[i] + ek - target;
        total = std::max<int64_t>(total, 0);
        pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") pb = total / 2;
        pe = total - pb;
        o = target;
      } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        o = g->in[i] * g->stride[i];
        int64_t total = std::max<int64_t>(0, g->stride[i] * (g->in[i] - 1) + out_pad[i] + ek - o);
        pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        pe = total - pb;
      } else {
        if (auto_pad == "VALID") pb = pe = 0;
        o = g->stride[i] * (g->in[i] - 1) + out_pad[i] + ek - pb - pe;
      }
    }
    if (o <= 0) return ctx.Error("output spatial size is not positive");
    g->out.push_back(o);
    g->pad_b.push_back(pb);
    g->pad_e.push_back(pe);
    g->in_size *= g->in[i];
    g->out_size *= o;
    g->k_size *= g->k[i];
  }
  return Status::OK();
}

// col[c * K + kk][p] = x[c][spatial(p, kk)] or 0 in the padding.
void Im2Col(const float* x, int64_t channels, const ConvGeom& g, float* col, ThreadPool& pool) {
  const int64_t rows = channels * g.k_size;
  pool.ParallelFor(rows, 4, [&](int64_t b, int64_t e) {
    std::vector<int64_t> kidx(static_cast<size_t>(g.nsp)), oidx(static_cast<size_t>(g.nsp));
    for (int64_t r = b; r < e; ++r) {
      const int64_t c = r / g.k_size;
      int64_t rem = r % g.k_size;
      for (int d = g.nsp - 1; d >= 0; --d) {
        kidx[d] = rem % g.k[d];
        rem /= g.k[d];
      }
      const float* xc = x + c * g.in_size;
      float* dst = col + r * g.out_size;
      if (g.nsp == 2) {
        const int64_t kh = kidx[0], kw = kidx[1];
        for (int64_t oh = 0; oh < g.out[0]; ++oh) {
          const int64_t ih = oh * g.stride[0] - g.pad_b[0] + kh * g.dil[0];
          float* drow = dst + oh * g.out[1];
          if (ih < 0 || ih >= g.in[0]) {
            std::fill_n(drow, g.out[1], 0.f);
            continue;
          }
          const float* xrow = xc + ih * g.in[1];
          const int64_t off = kw * g.dil[1] - g.pad_b[1];
          if (g.stride[1] == 1) {
            // Contiguous run: valid ow range is [lo, hi).
            int64_t lo = std::clamp<int64_t>(-off, 0, g.out[1]);
            int64_t hi = std::clamp<int64_t>(g.in[1] - off, lo, g.out[1]);
            std::fill_n(drow, lo, 0.f);
            std::memcpy(drow + lo, xrow + lo + off, static_cast<size_t>(hi - lo) * sizeof(float));
            std::fill_n(drow + hi, g.out[1] - hi, 0.f);
          } else {
            for (int64_t ow = 0; ow < g.out[1]; ++ow) {
              const int64_t iw = ow * g.stride[1] + off;
              drow[ow] = (iw >= 0 && iw < g.in[1]) ? xrow[iw] : 0.f;
            }
          }
        }
        continue;
      }
      std::fill(oidx.begin(), oidx.end(), 0);
      for (int64_t p = 0; p < g.out_size; ++p) {
        int64_t src = 0;
        bool inside = true;
        for (int d = 0; d < g.nsp; ++d) {
          int64_t i = oidx[d] * g.stride[d] - g.pad_b[d] + kidx[d] * g.dil[d];
          if (i < 0 || i >= g.in[d]) {
            inside = false;
            break;
          }
          src = src * g.in[d] + i;
        }
        dst[p] = inside ? xc[src] : 0.f;
        for (int d = g.nsp - 1; d >= 0; --d) {
          if (++oidx[d] < g.out[d]) break;
          oidx[d] = 0;
        }
      }
    }
  });
}

// Adds col back into x (the adjoint of Im2Col), for ConvTranspose.
void Col2Im(const float* col, int64_t channels, const ConvGeom& g, float* x) {
  // Here g.in is the *output* image and g.out the input grid (roles swapped by the caller).
  std::vector<int64_t> kidx(static_cast<size_t>(g.nsp)), oidx(static_cast<size_t>(g.nsp));
  for (int64_t r = 0; r < channels * g.k_size; ++r) {
    const int64_t c = r / g.k_size;
    int64_t rem = r % g.k_size;
    for (int d = g.nsp - 1; d >= 0; --d) {
      kidx[d] = rem % g.k[d];
      rem /= g.k[d];
    }
    float* xc = x + c * g.in_size;
    const float* src = col + r * g.out_size;
    std::fill(oidx.begin(), oidx.end(), 0);
    for (int64_t p = 0; p < g.out_size; ++p) {
      int64_t dst = 0;
      bool inside = true;
      for (int d = 0; d < g.nsp; ++d) {
        int64_t i = oidx[d] * g.stride[d] - g.pad_b[d] + kidx[d] * g.dil[d];
        if (i < 0 || i >= g.in[d]) {
          inside = false;
          break;
        }
        dst = dst * g.in[d] + i;
      }
      if (inside) xc[dst] += src[p];
      for (int d = g.nsp - 1; d >= 0; --d) {
        if (++oidx[d] < g.out[d]) break;
        oidx[d] = 0;
      }
    }
  }
}

// Direct depthwise 2-D convolution (one filter per channel).
void Depthwise2d(const float* x, const float* w, const float* bias, const ConvGeom& g,
                 int64_t channels, float* y, const kernels::ActivationParams& act,
                 ThreadPool& pool) {
  const int64_t kh = g.k[0], kw = g.k[1], oh_n = g.out[0], ow_n = g.out[1];
  pool.ParallelFor(channels, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const float* xc = x + c * g.in_size;
      const float* wc = w + c * kh * kw;
      float* yc = y + c * g.out_size;
      const float bv = bias ? bias[c] : 0.f;
      for (int64_t oh = 0; oh < oh_n; ++oh) {
        float* yrow = yc + oh * ow_n;
        for (int64_t ow = 0; ow < ow_n; ++ow) yrow[ow] = bv;
        for (int64_t i = 0; i < kh; ++i) {
          const int64_t ih = oh * g.stride[0] - g.pad_b[0] + i * g.dil[0];
          if (ih < 0 || ih >= g.in[0]) continue;
          const float* xrow = xc + ih * g.in[1];
          for (int64_t j = 0; j < kw; ++j) {
            const float wv = wc[i * kw + j];
            const int64_t off = j * g.dil[1] - g.pad_b[1];
            int64_t lo = 0, hi = ow_n;
            // Valid ow: 0 <= ow*stride + off < in_w.
            if (off < 0) lo = (-off + g.stride[1] - 1) / g.stride[1];
            if (g.in[1] - off <= 0) {
              hi = 0;
            } else {
              hi = std::min<int64_t>(ow_n, (g.in[1] - off - 1) / g.stride[1] + 1);
            }
            if (g.stride[1] == 1) {
              const float* xs = xrow + off;
              for (int64_t ow = lo; ow < hi; ++ow) yrow[ow] += wv * xs[ow];
            } else {
              for (int64_t ow = lo; ow < hi; ++ow) yrow[ow] += wv * xrow[ow * g.stride[1] + off];
            }
          }
        }
      }
      kernels::ApplyActivation(act, yc, g.out_size);
    }
  });
}

Status ConvF32(OpContext& ctx, const Tensor& x, const Tensor& w, const Tensor* b, Tensor& y,
               const ConvGeom& g, int64_t groups, const kernels::ActivationParams& act) {
  const int64_t n = x.shape()[0], c = x.shape()[1], m = w.shape()[0];
  const int64_t cg = c / groups, mg = m / groups, kdim = cg * g.k_size;
  const float* px = static_cast<const float*>(x.raw_data());
  const float* pw = static_cast<const float*>(w.raw_data());
  const float* pb = b ? static_cast<const float*>(b->raw_data()) : nullptr;
  float* py = static_cast<float*>(y.raw_data());
  if (g.nsp == 2 && groups == c && m == c && cg == 1) {
    for (int64_t i = 0; i < n; ++i) {
      Depthwise2d(px + i * c * g.in_size, pw, pb, g, c, py + i * m * g.out_size, act, ctx.pool());
    }
    return Status::OK();
  }
  bool direct = true;  // 1x1, stride 1, no padding: the input is already the column matrix
  for (int d = 0; d < g.nsp; ++d) {
    if (g.k[d] != 1 || g.stride[d] != 1 || g.pad_b[d] != 0 || g.pad_e[d] != 0) direct = false;
  }
  Tensor col;
  if (!direct) {
    MLOS_ASSIGN_OR_RETURN(col, Tensor::Empty(DType::kFloat32, {kdim, g.out_size}));
  }
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t gi = 0; gi < groups; ++gi) {
      const float* xg = px + (i * c + gi * cg) * g.in_size;
      const float* cm = xg;
      if (!direct) {
        Im2Col(xg, cg, g, static_cast<float*>(col.raw_data()), ctx.pool());
        cm = static_cast<const float*>(col.raw_data());
      }
      float* yg = py + (i * m + gi * mg) * g.out_size;
      kernels::GemmArgs a;
      a.m = mg;
      a.n = g.out_size;
      a.k = kdim;
      a.a = pw + gi * mg * kdim;
      a.lda = kdim;
      a.b = cm;
      a.ldb = g.out_size;
      a.c = yg;
      a.ldc = g.out_size;
      kernels::Sgemm(a, ctx.pool());
      // Per-output-channel bias and the activation.
      ctx.pool().ParallelFor(mg, 4, [&](int64_t s, int64_t e) {
        for (int64_t r = s; r < e; ++r) {
          float* row = yg + r * g.out_size;
          if (pb) {
            const float bv = pb[gi * mg + r];
            for (int64_t p = 0; p < g.out_size; ++p) row[p] += bv;
          }
          kernels::ApplyActivation(act, row, g.out_size);
        }
      });
    }
  }
  return Status::OK();
}

Result<Tensor> ToF32(const Tensor& t) {
  if (t.dtype() == DType::kFloat32) return t.Contiguous();
  MLOS_ASSIGN_OR_RETURN(Tensor out, Tensor::Empty(DType::kFloat32, t.shape()));
  float* o = static_cast<float*>(out.raw_data());
  MLOS_ASSIGN_OR_RETURN(Tensor c, t.Contiguous());
  for (int64_t i = 0; i < c.numel(); ++i) o[i] = static_cast<float>(c.GetAsDouble(i));
  return out;
}

Status StoreFrom(const Tensor& f32, Tensor& dst) {
  if (dst.dtype() == DType::kFloat32) return dst.CopyFrom(f32);
  const float* p = static_cast<const float*>(f32.raw_data());
  return VisitDType(dst.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, Float16> ||
                  std::is_same_v<T, BFloat16>) {
      T* o = static_cast<T*>(dst.raw_data());
      for (int64_t i = 0; i < dst.numel(); ++i) o[i] = T(p[i]);
      return Status::OK();
    } else {
      return InvalidArgument("unsupported dtype");
    }
  });
}

}  // namespace

namespace {

// The transposed implicit GEMM (kernels::internal::ImplicitGemmConvT) for a float32 2-D conv
// whose small output plane it computes with clearly fewer multiply-adds, when the weight's W^T
// is prepacked; sets *done when it ran.
Status ConvTransposedInto(OpContext& ctx, const Tensor& x, const Tensor& w, const Tensor* b,
                          const ConvGeom& g, int64_t groups, const kernels::ActivationParams& act,
                          const float* sum, Tensor& y, const DenseConvWeights& weights,
                          bool* done) {
  if (groups != 1 || x.rank() != 4 || w.rank() != 4 || y.rank() != 4 ||
      y.dtype() != DType::kFloat32 || (b != nullptr && b->dtype() != DType::kFloat32)) {
    return Status::OK();
  }
  const int64_t n = x.dim(0), c = x.dim(1), m = w.dim(0);
  const kernels::internal::ImplicitConvGeom ig{
      c,        x.dim(2),    x.dim(3),    m,        w.dim(2), w.dim(3),   g.out[0],
      g.out[1], g.stride[0], g.stride[1], g.dil[0], g.dil[1], g.pad_b[0], g.pad_b[1]};
  if (y.shape() != Shape{n, m, g.out[0], g.out[1]} || w.dim(1) != c ||
      !kernels::internal::ImplicitConvTransposedPreferred(ig)) {
    return Status::OK();
  }
  const kernels::PackedMatrix* wt = weights.PackedT();
  if (wt == nullptr || wt->k() != c * w.dim(2) * w.dim(3) || wt->n() != m) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor xc, x.Contiguous());
  Tensor bc;
  if (b != nullptr) {
    MLOS_ASSIGN_OR_RETURN(bc, b->Contiguous());
  }
  float* scratch =
      kernels::internal::ConvScratch(kernels::internal::ImplicitConvTScratchFloats(ig));
  if (scratch == nullptr) return ctx.Error("no memory for the conv's padded planes");
  const int64_t plane = g.out[0] * g.out[1];
  const float* xp = static_cast<const float*>(xc.raw_data());
  float* yp = static_cast<float*>(y.raw_data());
  for (int64_t i = 0; i < n; ++i) {
    kernels::internal::ImplicitGemmConvT(
        ig, xp + i * c * x.dim(2) * x.dim(3), *wt,
        b != nullptr ? static_cast<const float*>(bc.raw_data()) : nullptr, act, yp + i * m * plane,
        scratch, ctx.pool(), sum != nullptr ? sum + i * m * plane : nullptr);
  }
  *done = true;
  return Status::OK();
}

// Conv into a preallocated y of the conv's own shape and x's dtype: the shared 2-D kernel when
// it applies, else im2col + GEMM. sum: optional float32 addend of y's shape (contiguous), added
// before the activation (only for a float32 y).
Status ConvInto(OpContext& ctx, const Tensor& x, const Tensor& w, const Tensor* b,
                const ConvGeom& g, int64_t groups, const kernels::ActivationParams& act,
                const float* packed_weight, const float* sum, Tensor& y,
                const DenseConvWeights* weights = nullptr) {
  if (x.dtype() == DType::kFloat32 && g.nsp == 2 && weights != nullptr) {
    bool done = false;
    MLOS_RETURN_IF_ERROR(ConvTransposedInto(ctx, x, w, b, g, groups, act, sum, y, *weights, &done));
    if (done) return Status::OK();
    packed_weight = weights->PackedA();
  }
  if (x.dtype() == DType::kFloat32 && g.nsp == 2) {
    // The shared 2-D kernel (direct depthwise, pointwise GEMM, im2col + GEMM).
    kernels::Conv2dParams p;
    p.stride_h = g.stride[0];
    p.stride_w = g.stride[1];
    p.pad_top = g.pad_b[0];
    p.pad_left = g.pad_b[1];
    p.pad_bottom = g.pad_e[0];
    p.pad_right = g.pad_e[1];
    p.dilation_h = g.dil[0];
    p.dilation_w = g.dil[1];
    p.groups = groups;
    p.activation = act;
    p.packed_weight = packed_weight;
    p.sum = sum;
    auto ks = kernels::Conv2dShape(x.shape(), w.shape(), p);
    if (ks.ok() && *ks == y.shape()) {
      Status st = kernels::Conv2d(x, w, b, p, y, ctx.pool());
      if (st.ok()) return st;
    }
  }
  if (x.dtype() == DType::kFloat32) {
    MLOS_ASSIGN_OR_RETURN(Tensor xc, x.Contiguous());
    MLOS_ASSIGN_OR_RETURN(Tensor wc, w.Contiguous());
    Tensor bc;
    if (b) {
      MLOS_ASSIGN_OR_RETURN(bc, b->Contiguous());
    }
    if (sum == nullptr) return ConvF32(ctx, xc, wc, b ? &bc : nullptr, y, g, groups, act);
    MLOS_RETURN_IF_ERROR(ConvF32(ctx, xc, wc, b ? &bc : nullptr, y, g, groups, {}));
    float* py = static_cast<float*>(y.raw_data());
    for (int64_t i = 0; i < y.numel(); ++i) py[i] += sum[i];
    kernels::ApplyActivation(act, py, y.numel());
    return Status::OK();
  }
  MLOS_ASSIGN_OR_RETURN(Tensor xf, ToF32(x));
  MLOS_ASSIGN_OR_RETURN(Tensor wf, ToF32(w));
  Tensor bf;
  if (b) {
    MLOS_ASSIGN_OR_RETURN(bf, ToF32(*b));
  }
  MLOS_ASSIGN_OR_RETURN(Tensor yf, Tensor::Empty(DType::kFloat32, y.shape()));
  MLOS_RETURN_IF_ERROR(ConvF32(ctx, xf, wf, b ? &bf : nullptr, yf, g, groups, act));
  return StoreFrom(yf, y);
}

// The fusion pass's residual addend (cnn_fusion.cc: Conv -> Add [-> Relu]): input 3 when the
// node carries "_mlos_sum", else nullptr.
const Tensor* FusedSum(const OpContext& ctx) {
  if (ctx.node().GetInt("_mlos_sum", 0) == 0 || !ctx.has_input(3)) return nullptr;
  auto t = ctx.RequireTensor(3);
  return t.ok() ? *t : nullptr;
}

}  // namespace

namespace {

Status ConvComputeImpl(OpContext& ctx, const float* packed_weight,
                       const DenseConvWeights* weights) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* w, ctx.RequireTensor(1));
  if (!IsFloating(x->dtype())) return ctx.Error("needs a floating-point input");
  ConvGeom g;
  MLOS_RETURN_IF_ERROR(Geometry(ctx, x->shape(), w->shape(), false, &g));
  const int64_t groups = ctx.node().GetInt("group", 1);
  const int64_t c = x->shape()[1], m = w->shape()[0];
  if (groups < 1 || c % groups != 0 || m % groups != 0 || w->shape()[1] * groups != c) {
    return ctx.Error("channels " + std::to_string(c) + " / weights " + ShapeToString(w->shape()) +
                     " do not match group " + std::to_string(groups));
  }
  for (int d = 0; d < g.nsp; ++d) {
    if (w->shape()[d + 2] != g.k[d]) return ctx.Error("kernel_shape does not match W");
  }
  const Tensor* b = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (b && b->numel() != m) return ctx.Error("bias must have M elements");
  Shape out_shape{x->shape()[0], m};
  out_shape.insert(out_shape.end(), g.out.begin(), g.out.end());
  kernels::ActivationParams act = FusedActivation(ctx.node());
  const Tensor* sum = FusedSum(ctx);
  if (ctx.node().GetInt("_mlos_sum", 0) != 0 && sum == nullptr) {
    return ctx.Error("fused residual input is missing or not a tensor");
  }
  if (sum == nullptr) {
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x->dtype(), out_shape));
    return ConvInto(ctx, *x, *w, b, g, groups, act, packed_weight, nullptr, y, weights);
  }
  if (x->dtype() == DType::kFloat32 && sum->dtype() == DType::kFloat32 &&
      sum->shape() == out_shape) {
    // The fused case: the addend enters the conv's epilogue.
    MLOS_ASSIGN_OR_RETURN(Tensor sc, sum->Contiguous());
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, DType::kFloat32, out_shape));
    return ConvInto(ctx, *x, *w, b, g, groups, act, packed_weight,
                    static_cast<const float*>(sc.raw_data()), y, weights);
  }
  // Anything else (broadcasting, other dtypes) keeps the unfused semantics exactly: the conv,
  // then ONNX Add, then the activation.
  MLOS_ASSIGN_OR_RETURN(Tensor conv, Tensor::Empty(x->dtype(), out_shape));
  MLOS_RETURN_IF_ERROR(
      ConvInto(ctx, *x, *w, b, g, groups, {}, packed_weight, nullptr, conv, weights));
  MLOS_ASSIGN_OR_RETURN(
      DType dt, kernels::BinaryResultType(kernels::BinaryOp::kAdd, conv.dtype(), sum->dtype()));
  MLOS_ASSIGN_OR_RETURN(Shape bs, BroadcastShapes(conv.shape(), sum->shape()));
  if (act.kind == kernels::Activation::kNone) {
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, dt, bs));
    return kernels::Binary(kernels::BinaryOp::kAdd, conv, *sum, y, ctx.pool());
  }
  if (act.kind != kernels::Activation::kRelu) {
    return ctx.Error("fused residual supports only Relu");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor added, Tensor::Empty(dt, bs));
  MLOS_RETURN_IF_ERROR(kernels::Binary(kernels::BinaryOp::kAdd, conv, *sum, added, ctx.pool()));
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, dt, bs));
  return kernels::Unary(kernels::UnaryOp::kRelu, added, y, ctx.pool());
}

}  // namespace

Status ConvCompute(OpContext& ctx, const float* packed_weight) {
  return ConvComputeImpl(ctx, packed_weight, nullptr);
}

Status ConvCompute(OpContext& ctx, const DenseConvWeights& weights) {
  return ConvComputeImpl(ctx, nullptr, &weights);
}

namespace {

Status ConvTransposeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* w, ctx.RequireTensor(1));
  if (!IsFloating(x->dtype())) return ctx.Error("needs a floating-point input");
  ConvGeom g;
  MLOS_RETURN_IF_ERROR(Geometry(ctx, x->shape(), w->shape(), true, &g));
  const int64_t groups = ctx.node().GetInt("group", 1);
  const int64_t n = x->shape()[0], c = x->shape()[1];
  if (groups < 1 || c % groups != 0 || w->shape()[0] != c)
    return ctx.Error("W must be C x M/group x k...");
  const int64_t mg = w->shape()[1], m = mg * groups, cg = c / groups;
  const Tensor* b = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (b && b->numel() != m) return ctx.Error("bias must have M elements");
  Shape out_shape{n, m};
  out_shape.insert(out_shape.end(), g.out.begin(), g.out.end());
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x->dtype(), out_shape));
  MLOS_ASSIGN_OR_RETURN(Tensor xf, ToF32(*x));
  MLOS_ASSIGN_OR_RETURN(Tensor wf, ToF32(*w));
  MLOS_ASSIGN_OR_RETURN(Tensor yf, Tensor::Zeros(DType::kFloat32, out_shape));
  // The adjoint geometry: the "image" is the output, the grid is the input.
  ConvGeom adj = g;
  adj.in = g.out;
  adj.out = g.in;
  adj.in_size = g.out_size;
  adj.out_size = g.in_size;
  const int64_t kdim = mg * g.k_size;
  MLOS_ASSIGN_OR_RETURN(Tensor col, Tensor::Empty(DType::kFloat32, {kdim, g.in_size}));
  const float* px = static_cast<const float*>(xf.raw_data());
  const float* pw = static_cast<const float*>(wf.raw_data());
  float* py = static_cast<float*>(yf.raw_data());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t gi = 0; gi < groups; ++gi) {
      kernels::GemmArgs a;
      a.m = kdim;
      a.n = g.in_size;
      a.k = cg;
      a.a = pw + gi * cg * kdim;
      a.lda = kdim;
      a.trans_a = true;
      a.b = px + (i * c + gi * cg) * g.in_size;
      a.ldb = g.in_size;
      a.c = static_cast<float*>(col.raw_data());
      a.ldc = g.in_size;
      kernels::Sgemm(a, ctx.pool());
      Col2Im(static_cast<const float*>(col.raw_data()), mg, adj,
             py + (i * m + gi * mg) * g.out_size);
    }
    if (b) {
      for (int64_t ch = 0; ch < m; ++ch) {
        float bv = static_cast<float>(b->GetAsDouble(ch));
        float* row = py + (i * m + ch) * g.out_size;
        for (int64_t p = 0; p < g.out_size; ++p) row[p] += bv;
      }
    }
  }
  return StoreFrom(yf, y);
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(conv) {
  using namespace mlos::graph::ops;     // NOLINT
  r.AddKernel("Conv", MakeConvKernel);  // conv_packed.cc; falls back to ConvCompute
  r.Add("ConvTranspose", ConvTransposeCompute);
}
