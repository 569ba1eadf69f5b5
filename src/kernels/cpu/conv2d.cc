// 2-D convolution, NCHW, float32: shape/parameter validation and the three paths --
// depthwise (direct loops), 1x1 stride-1 unpadded (a GEMM on the input as is), and everything
// else (im2col + Sgemm per image and group). Bias (per output channel, GemmArgs::row_bias) and
// the activation are applied by the GEMM's epilogue while each tile is in registers/L1.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/conv2d_pointwise.h"
#include "kernels/cpu/conv2d_smallc.h"
#include "kernels/cpu/conv_internal.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/nn.h"

namespace mlos::kernels {
namespace {

struct ConvGeom {
  int64_t n, c, h, w, m, kh, kw, oh, ow, cg, mg;
};

// col[(c * kh + i) * kw + j][oh * ow + o] = x[c][oh*sh - pt + i*dh][o*sw - pl + j*dw] or 0.
// The input is first copied into zero-padded, stride-phase-split planes (`padded`, laid out
// by internal::PaddedLayoutFor), so every output row of every col row is one contiguous copy.
void Im2Col(const float* x, const ConvGeom& g, const Conv2dParams& p, float* col, float* padded,
            ThreadPool& pool) {
  const internal::DepthwiseGeom dg{g.cg,         g.h,       g.w,        g.kh,       g.kw,
                                   g.oh,         g.ow,      p.stride_h, p.stride_w, p.dilation_h,
                                   p.dilation_w, p.pad_top, p.pad_left, {}};
  const internal::PaddedLayout l = internal::PaddedLayoutFor(dg);
  pool.ParallelFor(g.cg, std::max<int64_t>(1, 16384 / std::max<int64_t>(l.floats, 1)),
                   [&](int64_t b, int64_t e) { internal::FillPaddedPlanes(dg, x, b, e, padded); });
  const int64_t rows = g.cg * g.kh * g.kw, plane = g.oh * g.ow;
  auto body = [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t j = r % g.kw, i = (r / g.kw) % g.kh, c = r / (g.kw * g.kh);
      const int64_t phase = (j * p.dilation_w) % p.stride_w;
      const int64_t shift = (j * p.dilation_w) / p.stride_w;
      const float* src =
          padded + c * l.floats + (phase * l.rows + i * p.dilation_h) * l.row_len + shift;
      float* out = col + r * plane;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        std::memcpy(out + oy * g.ow, src + oy * p.stride_h * l.row_len,
                    static_cast<size_t>(g.ow) * sizeof(float));
      }
    }
  };
  pool.ParallelFor(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(plane, 1)), body);
}

Status CheckParams(const Conv2dParams& p) {
  if (p.stride_h < 1 || p.stride_w < 1 || p.dilation_h < 1 || p.dilation_w < 1) {
    return InvalidArgument("Conv2d: strides (", p.stride_h, ", ", p.stride_w, ") and dilations (",
                           p.dilation_h, ", ", p.dilation_w, ") must be >= 1");
  }
  if (p.pad_top < 0 || p.pad_left < 0 || p.pad_bottom < 0 || p.pad_right < 0) {
    return InvalidArgument("Conv2d: negative padding");
  }
  if (p.groups < 1) return InvalidArgument("Conv2d: groups ", p.groups, " must be >= 1");
  return Status::OK();
}

}  // namespace

Result<Shape> Conv2dShape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  MLOS_RETURN_IF_ERROR(CheckParams(p));
  if (x.size() != 4 || w.size() != 4) {
    return InvalidArgument("Conv2d: input ", ShapeToString(x), " and weight ", ShapeToString(w),
                           " must both be 4-D (NCHW, MCkHkW)");
  }
  for (int64_t d : x) {
    if (d < 0) return InvalidArgument("Conv2d: negative dimension in input ", ShapeToString(x));
  }
  if (w[0] < 1 || w[1] < 1 || w[2] < 1 || w[3] < 1) {
    return InvalidArgument("Conv2d: weight ", ShapeToString(w), " has an empty dimension");
  }
  if (x[1] % p.groups != 0 || w[0] % p.groups != 0 || w[1] * p.groups != x[1]) {
    return InvalidArgument("Conv2d: input ", ShapeToString(x), " and weight ", ShapeToString(w),
                           " do not agree with groups = ", p.groups);
  }
  const int64_t oh =
      internal::PooledSize(x[2], w[2], p.stride_h, p.pad_top, p.pad_bottom, p.dilation_h, false);
  const int64_t ow =
      internal::PooledSize(x[3], w[3], p.stride_w, p.pad_left, p.pad_right, p.dilation_w, false);
  if (oh <= 0 || ow <= 0) {
    return InvalidArgument("Conv2d: kernel of weight ", ShapeToString(w),
                           " (with dilation) is larger than the padded input ", ShapeToString(x));
  }
  return Shape{x[0], w[0], oh, ow};
}

int64_t Conv2dPackedWeightFloats(const Shape& w, int64_t groups) {
  if (w.size() != 4 || groups < 1 || w[0] % groups != 0) return 0;
  return groups *
         gemm_internal::PackedASize(w[0] / groups, w[1] * w[2] * w[3], gemm_internal::Isa::kAuto);
}

void PackConv2dWeight(const float* w, const Shape& w_shape, int64_t groups, float* out) {
  if (w_shape.size() != 4 || groups < 1 || w_shape[0] % groups != 0) return;
  const int64_t mg = w_shape[0] / groups, k = w_shape[1] * w_shape[2] * w_shape[3];
  const int64_t floats = gemm_internal::PackedASize(mg, k, gemm_internal::Isa::kAuto);
  for (int64_t grp = 0; grp < groups; ++grp) {
    gemm_internal::PackA(w + grp * mg * k, k, 1, mg, k, 1.f, gemm_internal::Isa::kAuto,
                         out + grp * floats);
  }
}

Status Conv2d(const Tensor& x, const Tensor& w, const Tensor* bias, const Conv2dParams& p,
              Tensor& y, ThreadPool& pool) {
  if (!x.defined() || !w.defined() || !y.defined() || (bias && !bias->defined())) {
    return InvalidArgument("Conv2d: undefined tensor");
  }
  if (x.dtype() != DType::kFloat32 || w.dtype() != DType::kFloat32 ||
      y.dtype() != DType::kFloat32 || (bias && bias->dtype() != DType::kFloat32)) {
    return InvalidArgument("Conv2d: all tensors must be float32 (input ", DTypeName(x.dtype()),
                           ", weight ", DTypeName(w.dtype()), ", output ", DTypeName(y.dtype()),
                           ")");
  }
  MLOS_ASSIGN_OR_RETURN(Shape shape, Conv2dShape(x.shape(), w.shape(), p));
  if (bias && bias->shape() != Shape{w.dim(0)}) {
    return InvalidArgument("Conv2d: bias ", ShapeToString(bias->shape()), " for weight ",
                           ShapeToString(w.shape()), " (expected [", w.dim(0), "])");
  }
  if (y.shape() != shape) {
    return InvalidArgument("Conv2d: output ", ShapeToString(y.shape()), " for input ",
                           ShapeToString(x.shape()), " and weight ", ShapeToString(w.shape()),
                           " (expected ", ShapeToString(shape), ")");
  }
  if (y.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor xc, x.Contiguous());
  MLOS_ASSIGN_OR_RETURN(Tensor wc, w.Contiguous());
  Tensor bc;
  if (bias) {
    MLOS_ASSIGN_OR_RETURN(bc, bias->Contiguous());
  }
  ConvGeom g{x.dim(0),           x.dim(1), x.dim(2), x.dim(3), w.dim(0),
             w.dim(2),           w.dim(3), shape[2], shape[3], x.dim(1) / p.groups,
             w.dim(0) / p.groups};
  const float* xp = static_cast<const float*>(xc.raw_data());
  const float* wp = static_cast<const float*>(wc.raw_data());
  const float* bp = bias ? static_cast<const float*>(bc.raw_data()) : nullptr;
  const int64_t plane = g.oh * g.ow;

  // With an addend, paths that cannot add it in their epilogue run without the activation and
  // add it (then activate) in one pass over y afterwards.
  const ActivationParams act = p.sum != nullptr ? ActivationParams{} : p.activation;
  auto add_sum = [&](float* yp) {
    if (p.sum == nullptr) return;
    const int64_t total = g.n * g.m * plane;
    pool.ParallelFor(total, 16384, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) yp[i] += p.sum[i];
      ApplyActivation(p.activation, yp + b, e - b);
    });
  };
  auto run = [&](Tensor& out) -> Status {
    float* yp = static_cast<float*>(out.raw_data());
    if (g.cg == 1 && g.mg == 1) {  // depthwise
      const internal::DepthwiseGeom dg{
          g.c,        g.h,        g.w,          g.kh,         g.kw,      g.oh,       g.ow,
          p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left, act};
      internal::DepthwiseConv2d(xp, wp, bp, g.n, dg, yp, pool);
      add_sum(yp);
      return Status::OK();
    }
    const bool pointwise = g.kh == 1 && g.kw == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                           p.pad_top == 0 && p.pad_left == 0 && p.pad_bottom == 0 &&
                           p.pad_right == 0;
    if (!pointwise && p.groups == 1 && g.c <= internal::kSmallConvMaxChannels) {
      // Few input channels (stem convs): direct kernel, im2col's K would be tiny.
      const internal::DepthwiseGeom sg{
          g.c,        g.h,        g.w,          g.kh,         g.kw,      g.oh,       g.ow,
          p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left, act};
      if (internal::SmallChannelConv2d(xp, wp, bp, g.n, g.m, sg, yp, pool)) {
        add_sum(yp);
        return Status::OK();
      }
    }
    const int64_t k = g.cg * g.kh * g.kw;
    const internal::ImplicitConvGeom ig{
        g.cg, g.h,        g.w,        g.mg,         g.kh,         g.kw,      g.oh,
        g.ow, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left};
    // 1x1 strided, unpadded (ResNet downsample): gather the strided positions once and run the
    // direct pointwise kernel (conv2d_pointwise.h) instead of phase copy + B packing.
    if (g.kh == 1 && g.kw == 1 && !pointwise && p.pad_top == 0 && p.pad_left == 0 &&
        p.pad_bottom == 0 && p.pad_right == 0 && PointwiseDirectPreferred(g.mg, k, plane)) {
      bool done = true;
      for (int64_t n = 0; n < g.n && done; ++n) {
        for (int64_t grp = 0; grp < p.groups && done; ++grp) {
          done = StridedPointwiseConvDirect(
              wp + grp * g.mg * k, g.mg, k, xp + (n * g.c + grp * g.cg) * g.h * g.w, g.h, g.w,
              p.stride_h, p.stride_w, g.oh, g.ow, bp != nullptr ? bp + grp * g.mg : nullptr, act,
              yp + (n * g.m + grp * g.mg) * plane, pool);
        }
      }
      if (done) {
        add_sum(yp);
        return Status::OK();
      }
    }
    if (!pointwise && internal::ImplicitConvSupported(ig)) {
      // Implicit GEMM: B packed straight from padded (stride-phase) planes, no im2col.
      float* scratch = internal::ConvScratch(internal::ImplicitConvScratchFloats(ig));
      if (scratch == nullptr) return ResourceExhausted("Conv2d: no memory for padded planes");
      const int64_t packed_floats = gemm_internal::PackedASize(g.mg, k, gemm_internal::Isa::kAuto);
      for (int64_t n = 0; n < g.n; ++n) {
        for (int64_t grp = 0; grp < p.groups; ++grp) {
          internal::ImplicitGemmConv(
              ig, xp + (n * g.c + grp * g.cg) * g.h * g.w, wp + grp * g.mg * k,
              bp != nullptr ? bp + grp * g.mg : nullptr, p.activation,
              yp + (n * g.m + grp * g.mg) * plane, scratch, pool,
              p.packed_weight != nullptr ? p.packed_weight + grp * packed_floats : nullptr,
              p.sum != nullptr ? p.sum + (n * g.m + grp * g.mg) * plane : nullptr);
        }
      }
      return Status::OK();
    }
    // Pointwise on planes larger than the weight: the direct kernel reads the NCHW rows and
    // the weight unpacked (conv2d_pointwise.h), where the GEMM would pack both per call.
    if (pointwise && g.mg * k < plane * (g.mg + k) && PointwiseDirectAvailable() &&
        PointwiseDirectPreferred(g.mg, k, plane)) {
      for (int64_t n = 0; n < g.n; ++n) {
        for (int64_t grp = 0; grp < p.groups; ++grp) {
          PointwiseConvDirect(wp + grp * g.mg * k, g.mg, k, xp + (n * g.c + grp * g.cg) * plane,
                              plane, bp != nullptr ? bp + grp * g.mg : nullptr, act,
                              yp + (n * g.m + grp * g.mg) * plane, pool);
        }
      }
      add_sum(yp);
      return Status::OK();
    }
    float* col = nullptr;
    float* padded = nullptr;
    if (!pointwise) {
      const internal::DepthwiseGeom dg{
          g.cg,       g.h,        g.w,          g.kh,         g.kw,      g.oh,       g.ow,
          p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left, {}};
      const int64_t col_floats = (k * plane + 15) / 16 * 16;
      col = internal::ConvScratch(col_floats + g.cg * internal::PaddedLayoutFor(dg).floats);
      if (col == nullptr)
        return ResourceExhausted("Conv2d: no memory for a ", k, " x ", plane, " im2col buffer");
      padded = col + col_floats;
    }
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t grp = 0; grp < p.groups; ++grp) {
        const float* xg = xp + (n * g.c + grp * g.cg) * g.h * g.w;
        const float* b = xg;
        if (!pointwise) {
          Im2Col(xg, g, p, col, padded, pool);
          b = col;
        }
        GemmArgs args;
        args.m = g.mg;
        args.n = plane;
        args.k = k;
        args.a = wp + grp * g.mg * k;
        args.lda = k;
        args.b = b;
        args.ldb = plane;
        args.c = yp + (n * g.m + grp * g.mg) * plane;
        args.ldc = plane;
        args.row_bias = bp != nullptr ? bp + grp * g.mg : nullptr;  // per output channel
        args.activation = act;  // bias and activation: the GEMM's last-k-block epilogue
        Sgemm(args, pool);
      }
    }
    add_sum(yp);
    return Status::OK();
  };
  if (y.is_contiguous()) return run(y);
  MLOS_ASSIGN_OR_RETURN(Tensor tmp, Tensor::Empty(DType::kFloat32, y.shape()));
  MLOS_RETURN_IF_ERROR(run(tmp));
  return y.CopyFrom(tmp);
}

}  // namespace mlos::kernels
