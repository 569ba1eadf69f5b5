// Max and average pooling over H x W (NCHW, float32) with pads, dilation, ceil mode and
// count_include_pad, and global pooling. One output plane per task; windows are clipped to the
// image so the inner loops never test bounds.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/conv_internal.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/nn_util.h"
#include "kernels/cpu/pool2d_global.h"
#include "kernels/cpu/pool2d_max.h"
#include "kernels/cpu/vector_math.h"

namespace mlos::kernels {
namespace {

Status CheckInput(const char* name, const Tensor& x, const Tensor& y) {
  if (!x.defined() || !y.defined()) return InvalidArgument(name, ": undefined tensor");
  if (x.dtype() != DType::kFloat32 || y.dtype() != DType::kFloat32) {
    return InvalidArgument(name, ": input ", DTypeName(x.dtype()), " and output ",
                           DTypeName(y.dtype()), " must be float32");
  }
  if (x.rank() != 4) {
    return InvalidArgument(name, ": input ", ShapeToString(x.shape()), " is not 4-D (NCHW)");
  }
  return Status::OK();
}

// First and one-past-last kernel tap whose position start + t*dil lies in [lo, hi).
inline void TapRange(int64_t start, int64_t k, int64_t dil, int64_t lo, int64_t hi, int64_t& t0,
                     int64_t& t1) {
  t0 = start >= lo ? 0 : (lo - start + dil - 1) / dil;
  t1 = start >= hi ? 0 : std::min<int64_t>(k, (hi - 1 - start) / dil + 1);
  if (t1 < t0) t1 = t0;
}

void PoolPlane(const float* x, int64_t h, int64_t w, const Pool2dParams& p, int64_t oh, int64_t ow,
               float* y) {
  const bool is_max = p.kind == PoolKind::kMax;
  for (int64_t oy = 0; oy < oh; ++oy) {
    const int64_t sy = oy * p.stride_h - p.pad_top;
    int64_t i0, i1;
    TapRange(sy, p.kernel_h, p.dilation_h, 0, h, i0, i1);
    int64_t pi0 = 0, pi1 = 0;
    if (!is_max && p.count_include_pad) {
      TapRange(sy, p.kernel_h, p.dilation_h, -p.pad_top, h + p.pad_bottom, pi0, pi1);
    }
    for (int64_t ox = 0; ox < ow; ++ox) {
      const int64_t sx = ox * p.stride_w - p.pad_left;
      int64_t j0, j1;
      TapRange(sx, p.kernel_w, p.dilation_w, 0, w, j0, j1);
      float acc = is_max ? -INFINITY : 0.f;
      bool nan = false;
      for (int64_t i = i0; i < i1; ++i) {
        const float* row = x + (sy + i * p.dilation_h) * w + sx;
        for (int64_t j = j0; j < j1; ++j) {
          const float v = row[j * p.dilation_w];
          if (is_max) {
            nan |= std::isnan(v);
            acc = v > acc ? v : acc;
          } else {
            acc += v;
          }
        }
      }
      if (is_max) {
        y[oy * ow + ox] = nan ? NAN : acc;
        continue;
      }
      int64_t count = (i1 - i0) * (j1 - j0);
      if (p.count_include_pad) {
        int64_t pj0, pj1;
        TapRange(sx, p.kernel_w, p.dilation_w, -p.pad_left, w + p.pad_right, pj0, pj1);
        count = (pi1 - pi0) * (pj1 - pj0);
      }
      y[oy * ow + ox] = count > 0 ? acc / static_cast<float>(count) : 0.f;
    }
  }
}

}  // namespace

Result<Shape> Pool2dShape(const Shape& x, const Pool2dParams& p) {
  if (x.size() != 4) return InvalidArgument("Pool2d: input ", ShapeToString(x), " is not 4-D");
  if (p.kernel_h < 1 || p.kernel_w < 1 || p.stride_h < 1 || p.stride_w < 1 || p.dilation_h < 1 ||
      p.dilation_w < 1) {
    return InvalidArgument("Pool2d: kernel (", p.kernel_h, ", ", p.kernel_w, "), strides (",
                           p.stride_h, ", ", p.stride_w, ") and dilations (", p.dilation_h, ", ",
                           p.dilation_w, ") must be >= 1");
  }
  if (p.pad_top < 0 || p.pad_left < 0 || p.pad_bottom < 0 || p.pad_right < 0) {
    return InvalidArgument("Pool2d: negative padding");
  }
  for (int64_t d : x) {
    if (d < 0) return InvalidArgument("Pool2d: negative dimension in ", ShapeToString(x));
  }
  const int64_t oh = internal::PooledSize(x[2], p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom,
                                          p.dilation_h, p.ceil_mode);
  const int64_t ow = internal::PooledSize(x[3], p.kernel_w, p.stride_w, p.pad_left, p.pad_right,
                                          p.dilation_w, p.ceil_mode);
  if (oh <= 0 || ow <= 0) {
    return InvalidArgument("Pool2d: kernel (", p.kernel_h, ", ", p.kernel_w,
                           ") with dilation does not fit the padded input ", ShapeToString(x));
  }
  return Shape{x[0], x[1], oh, ow};
}

Status Pool2d(const Tensor& x, const Pool2dParams& p, Tensor& y, ThreadPool& pool) {
  MLOS_RETURN_IF_ERROR(CheckInput("Pool2d", x, y));
  MLOS_ASSIGN_OR_RETURN(Shape shape, Pool2dShape(x.shape(), p));
  if (y.shape() != shape) {
    return InvalidArgument("Pool2d: output ", ShapeToString(y.shape()), " for input ",
                           ShapeToString(x.shape()), " (expected ", ShapeToString(shape), ")");
  }
  if (y.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor xc, x.Contiguous());
  const int64_t h = x.dim(2), w = x.dim(3), oh = shape[2], ow = shape[3];
  return internal::WithContiguousOutput(y, [&](Tensor& out) -> Status {
    const float* xp = static_cast<const float*>(xc.raw_data());
    float* yp = static_cast<float*>(out.raw_data());
    // Max pooling: with AVX-512 the direct kernel (pool2d_max.h, input rows read in place); with
    // AVX2 the vector body shared with the depthwise convolution (padded planes); average pooling
    // and the portable path use PoolPlane.
    const bool simd = p.kind == PoolKind::kMax && KernelsUseAvx2();
    const bool avx512 = simd && GetCpuFeatures().avx512f;
    const internal::DepthwiseGeom g{x.dim(1),     h,         w,          p.kernel_h, p.kernel_w,
                                    oh,           ow,        p.stride_h, p.stride_w, p.dilation_h,
                                    p.dilation_w, p.pad_top, p.pad_left, {}};
    auto body = [&](int64_t b, int64_t e) {
      if (simd && (avx512 ? internal::MaxPoolDirectAvx512(g, xp, yp, b, e)
                          : internal::MaxPoolPlanesAvx2(g, xp, yp, b, e))) {
        return;
      }
      for (int64_t pl = b; pl < e; ++pl)
        PoolPlane(xp + pl * h * w, h, w, p, oh, ow, yp + pl * oh * ow);
    };
    const int64_t cost = oh * ow * p.kernel_h * p.kernel_w;
    pool.ParallelFor(x.dim(0) * x.dim(1), std::max<int64_t>(1, 16384 / std::max<int64_t>(cost, 1)),
                     body);
    return Status::OK();
  });
}

Status GlobalPool2d(PoolKind kind, const Tensor& x, Tensor& y, ThreadPool& pool) {
  MLOS_RETURN_IF_ERROR(CheckInput("GlobalPool2d", x, y));
  const Shape shape{x.dim(0), x.dim(1), 1, 1};
  if (y.shape() != shape) {
    return InvalidArgument("GlobalPool2d: output ", ShapeToString(y.shape()), " for input ",
                           ShapeToString(x.shape()), " (expected ", ShapeToString(shape), ")");
  }
  if (y.numel() == 0) return Status::OK();
  const int64_t hw = x.dim(2) * x.dim(3);
  if (hw == 0) {
    return InvalidArgument("GlobalPool2d: input ", ShapeToString(x.shape()),
                           " has an empty spatial extent");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor xc, x.Contiguous());
  const bool avx2 = KernelsUseAvx2();
  return internal::WithContiguousOutput(y, [&](Tensor& out) -> Status {
    const float* xp = static_cast<const float*>(xc.raw_data());
    float* yp = static_cast<float*>(out.raw_data());
    auto body = [&](int64_t b, int64_t e) {
      if (avx2 && kind == PoolKind::kAverage) {
        internal::GlobalAveragePlanesAvx2(xp + b * hw, e - b, hw, yp + b);
        return;
      }
      for (int64_t pl = b; pl < e; ++pl) {
        const float* v = xp + pl * hw;
        if (avx2) {
          yp[pl] = kind == PoolKind::kMax ? internal::MaxF32Avx2(v, hw)
                                          : internal::SumF32Avx2(v, hw) / static_cast<float>(hw);
          continue;
        }
        if (kind == PoolKind::kMax) {
          float m = v[0];
          bool nan = false;
          for (int64_t i = 0; i < hw; ++i) {
            nan |= std::isnan(v[i]);
            m = v[i] > m ? v[i] : m;
          }
          yp[pl] = nan ? NAN : m;
        } else {
          double s = 0;
          for (int64_t i = 0; i < hw; ++i) s += v[i];
          yp[pl] = static_cast<float>(s / static_cast<double>(hw));
        }
      }
    };
    // ~64K elements per chunk: a read-only pass over planes that the producing op spread over
    // both cores only gains from a second thread when each share is large (SE blocks' GAPs over
    // 7x7 and 14x14 planes got slower at 2 threads with half that grain).
    pool.ParallelFor(x.dim(0) * x.dim(1), std::max<int64_t>(1, 65536 / hw), body);
    return Status::OK();
  });
}

}  // namespace mlos::kernels
