// GridSample (opset 16), 2-D: X [N, C, H, W] sampled at grid [N, Ho, Wo, 2] (x, y in [-1, 1]).
// Modes bilinear / nearest / bicubic (a = -0.75), padding zeros / border / reflection,
// align_corners; the semantics are PyTorch's grid_sample (which the ONNX test data comes from):
// bilinear and nearest clip or reflect the source coordinate first; bicubic applies the padding
// to each tap. Taps and weights are computed once per output pixel and reused for all channels;
// (n, output row) pairs run in parallel.
#include <algorithm>
#include <cmath>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

enum class GsMode { kBilinear, kNearest, kBicubic };
enum class GsPad { kZeros, kBorder, kReflection };

struct GsParams {
  GsMode mode;
  GsPad pad;
  bool align;
};

double Unnormalize(double g, int64_t size, bool align) {
  return align ? (g + 1.0) / 2.0 * static_cast<double>(size - 1)
               : ((g + 1.0) * static_cast<double>(size) - 1.0) / 2.0;
}

// Reflects x into [twice_low / 2, twice_high / 2] (bounds given doubled to stay integral).
double Reflect(double x, double twice_low, double twice_high) {
  if (twice_low == twice_high) return 0.0;
  const double lo = twice_low / 2.0, span = (twice_high - twice_low) / 2.0;
  x = std::fabs(x - lo);
  const double extra = std::fmod(x, span);
  const double flips = std::floor(x / span);
  return std::fmod(flips, 2.0) == 0.0 ? extra + lo : span - extra + lo;
}

// Applies border clipping or reflection to a source coordinate.
double PadCoord(double x, int64_t size, const GsParams& p) {
  const double hi = static_cast<double>(size - 1);
  if (p.pad == GsPad::kBorder) return std::clamp(x, 0.0, hi);
  if (p.pad == GsPad::kReflection) {
    x = p.align ? Reflect(x, 0.0, 2.0 * hi)
                : Reflect(x, -1.0, 2.0 * static_cast<double>(size) - 1.0);
    return std::clamp(x, 0.0, hi);
  }
  return x;
}

// Keeps a coordinate in a range where the integer casts below are defined.
double Tame(double x, int64_t size) {
  if (!std::isfinite(x)) return -10.0;
  return std::clamp(x, -10.0, static_cast<double>(size) + 10.0);
}

void CubicWeights(double t, double w[4]) {
  constexpr double a = -0.75;
  const double x0 = t + 1.0, x1 = t, x2 = 1.0 - t, x3 = 2.0 - t;
  w[0] = ((a * x0 - 5.0 * a) * x0 + 8.0 * a) * x0 - 4.0 * a;
  w[1] = ((a + 2.0) * x1 - (a + 3.0)) * x1 * x1 + 1.0;
  w[2] = ((a + 2.0) * x2 - (a + 3.0)) * x2 * x2 + 1.0;
  w[3] = ((a * x3 - 5.0 * a) * x3 + 8.0 * a) * x3 - 4.0 * a;
}

// Up to 16 taps of one output pixel: plane offsets (-1 = zero padding) and weights.
struct Taps {
  int n = 0;
  int64_t off[16];
  double w[16];
};

void ComputeTaps(double gx, double gy, int64_t h, int64_t w, const GsParams& p, Taps* t) {
  double x = Unnormalize(gx, w, p.align);
  double y = Unnormalize(gy, h, p.align);
  t->n = 0;
  auto add = [&](int64_t yi, int64_t xi, double wt) {
    const bool in = yi >= 0 && yi < h && xi >= 0 && xi < w;
    t->off[t->n] = in ? yi * w + xi : -1;
    t->w[t->n] = wt;
    ++t->n;
  };
  if (p.mode == GsMode::kBicubic) {
    if (!std::isfinite(x) || !std::isfinite(y)) x = y = -10.0;
    const double fx = std::floor(x), fy = std::floor(y);
    double wx[4], wy[4];
    CubicWeights(x - fx, wx);
    CubicWeights(y - fy, wy);
    for (int j = 0; j < 4; ++j) {
      // Padding applies per tap: an integer coordinate clipped or reflected, then bounds-checked.
      const double yc =
          Tame(p.pad != GsPad::kZeros ? PadCoord(fy - 1.0 + j, h, p) : fy - 1.0 + j, h);
      for (int i = 0; i < 4; ++i) {
        const double xc =
            Tame(p.pad != GsPad::kZeros ? PadCoord(fx - 1.0 + i, w, p) : fx - 1.0 + i, w);
        add(static_cast<int64_t>(yc), static_cast<int64_t>(xc), wy[j] * wx[i]);
      }
    }
    return;
  }
  x = Tame(PadCoord(x, w, p), w);
  y = Tame(PadCoord(y, h, p), h);
  if (p.mode == GsMode::kNearest) {
    add(static_cast<int64_t>(std::nearbyint(y)), static_cast<int64_t>(std::nearbyint(x)), 1.0);
    return;
  }
  const double fx = std::floor(x), fy = std::floor(y);
  const double tx = x - fx, ty = y - fy;
  const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
  add(y0, x0, (1.0 - ty) * (1.0 - tx));
  add(y0, x0 + 1, (1.0 - ty) * tx);
  add(y0 + 1, x0, ty * (1.0 - tx));
  add(y0 + 1, x0 + 1, ty * tx);
}

template <typename T, typename G>
void Sample(const T* x, const G* grid, T* y, int64_t n_batch, int64_t c, int64_t h, int64_t w,
            int64_t ho, int64_t wo, const GsParams& p, ThreadPool& pool) {
  using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
  const int64_t plane = h * w, oplane = ho * wo;
  pool.ParallelFor(n_batch * ho, std::max<int64_t>(1, 4096 / std::max<int64_t>(wo * c, 1)),
                   [&](int64_t lo, int64_t hi) {
                     Taps t;
                     for (int64_t r = lo; r < hi; ++r) {
                       const int64_t n = r / ho, oy = r % ho;
                       const T* xn = x + n * c * plane;
                       T* yn = y + n * c * oplane + oy * wo;
                       const G* g = grid + r * wo * 2;
                       for (int64_t ox = 0; ox < wo; ++ox) {
                         ComputeTaps(static_cast<double>(g[2 * ox]),
                                     static_cast<double>(g[2 * ox + 1]), h, w, p, &t);
                         A wt[16];
                         for (int k = 0; k < t.n; ++k) wt[k] = static_cast<A>(t.w[k]);
                         for (int64_t ch = 0; ch < c; ++ch) {
                           const T* src = xn + ch * plane;
                           A acc = A(0);
                           for (int k = 0; k < t.n; ++k) {
                             if (t.off[k] >= 0) acc += wt[k] * static_cast<A>(src[t.off[k]]);
                           }
                           yn[ch * oplane + ox] = T(acc);
                         }
                       }
                     }
                   });
}

Status GridSampleCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* gin, ctx.RequireTensor(1));
  if (xin->rank() != 4 || gin->rank() != 4 || gin->shape()[3] != 2 ||
      gin->shape()[0] != xin->shape()[0]) {
    return ctx.Error("X " + ShapeToString(xin->shape()) + " and grid " +
                     ShapeToString(gin->shape()) + " must be [N, C, H, W] and [N, Ho, Wo, 2]");
  }
  GsParams p;
  const std::string mode = ctx.node().GetString("mode", "bilinear");
  if (mode == "bilinear" || mode == "linear") {
    p.mode = GsMode::kBilinear;
  } else if (mode == "nearest") {
    p.mode = GsMode::kNearest;
  } else if (mode == "bicubic" || mode == "cubic") {
    p.mode = GsMode::kBicubic;
  } else {
    return ctx.Error("unknown mode '" + mode + "'");
  }
  const std::string pad = ctx.node().GetString("padding_mode", "zeros");
  if (pad == "zeros") {
    p.pad = GsPad::kZeros;
  } else if (pad == "border") {
    p.pad = GsPad::kBorder;
  } else if (pad == "reflection") {
    p.pad = GsPad::kReflection;
  } else {
    return ctx.Error("unknown padding_mode '" + pad + "'");
  }
  p.align = ctx.node().GetInt("align_corners", 0) != 0;
  const int64_t n = xin->shape()[0], c = xin->shape()[1], h = xin->shape()[2], w = xin->shape()[3],
                ho = gin->shape()[1], wo = gin->shape()[2];
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, xin->dtype(), {n, c, ho, wo}));
  if (out.numel() == 0) return Status::OK();
  if (h == 0 || w == 0) return ctx.Error("cannot sample from an empty image");
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  MLOS_ASSIGN_OR_RETURN(Tensor g, gin->Contiguous());
  return DispatchFloat(x.dtype(), ctx, [&](auto xt) -> Status {
    using T = decltype(xt);
    return DispatchFloat(g.dtype(), ctx, [&](auto gt) -> Status {
      using G = decltype(gt);
      Sample<T, G>(static_cast<const T*>(x.raw_data()), static_cast<const G*>(g.raw_data()),
                   static_cast<T*>(out.raw_data()), n, c, h, w, ho, wo, p, ctx.pool());
      return Status::OK();
    });
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(grid_sample) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("GridSample", GridSampleCompute, 16);
}
