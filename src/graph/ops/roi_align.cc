// RoiAlign (opsets 10, 16): average (or max) of bilinearly sampled points per output bin of each
// region of interest. Regions are [x1, y1, x2, y2] scaled by spatial_scale; half_pixel (the
// opset-16 default) shifts them by -0.5, output_half_pixel (opset 10) does not and forces a
// minimum size of 1. sampling_ratio 0 means ceil(roi_size / output_size) samples per bin. Max
// mode takes the maximum weighted corner, as ONNX Runtime does. Rois run in parallel.
#include <algorithm>
#include <cmath>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

template <typename T>
void AlignOne(const T* img, int64_t h, int64_t w, const double* roi, double scale, bool half,
              bool is_max, int64_t oh, int64_t ow, int64_t ratio, T* out) {
  const double off = half ? 0.5 : 0.0;
  const double sw = roi[0] * scale - off, sh = roi[1] * scale - off;
  double rw = roi[2] * scale - off - sw, rh = roi[3] * scale - off - sh;
  if (!half) {
    rw = std::max(rw, 1.0);
    rh = std::max(rh, 1.0);
  }
  const double bh = rh / static_cast<double>(oh), bw = rw / static_cast<double>(ow);
  const int64_t gh = ratio > 0 ? ratio : static_cast<int64_t>(std::ceil(std::min(rh / oh, 1e6)));
  const int64_t gw = ratio > 0 ? ratio : static_cast<int64_t>(std::ceil(std::min(rw / ow, 1e6)));
  const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
  for (int64_t ph = 0; ph < oh; ++ph) {
    for (int64_t pw = 0; pw < ow; ++pw) {
      double acc = 0.0;
      bool first = true;
      for (int64_t iy = 0; iy < gh; ++iy) {
        double y = sh + ph * bh + (iy + 0.5) * bh / static_cast<double>(gh);
        for (int64_t ix = 0; ix < gw; ++ix) {
          double x = sw + pw * bw + (ix + 0.5) * bw / static_cast<double>(gw);
          double v = 0.0;
          if (!(y < -1.0 || y > static_cast<double>(h) || x < -1.0 || x > static_cast<double>(w))) {
            double yy = std::max(y, 0.0), xx = std::max(x, 0.0);
            int64_t y0 = static_cast<int64_t>(yy), x0 = static_cast<int64_t>(xx), y1, x1;
            if (y0 >= h - 1) {
              y0 = y1 = h - 1;
              yy = static_cast<double>(y0);
            } else {
              y1 = y0 + 1;
            }
            if (x0 >= w - 1) {
              x0 = x1 = w - 1;
              xx = static_cast<double>(x0);
            } else {
              x1 = x0 + 1;
            }
            const double ly = yy - y0, lx = xx - x0, hy = 1.0 - ly, hx = 1.0 - lx;
            const double c[4] = {hy * hx * static_cast<double>(img[y0 * w + x0]),
                                 hy * lx * static_cast<double>(img[y0 * w + x1]),
                                 ly * hx * static_cast<double>(img[y1 * w + x0]),
                                 ly * lx * static_cast<double>(img[y1 * w + x1])};
            v = is_max ? std::max(std::max(c[0], c[1]), std::max(c[2], c[3]))
                       : c[0] + c[1] + c[2] + c[3];
          }
          if (is_max) {
            acc = first ? v : std::max(acc, v);
            first = false;
          } else {
            acc += v;
          }
        }
      }
      out[ph * ow + pw] = T(static_cast<CalcT<T>>(is_max ? acc : acc / count));
    }
  }
}

Status RoiAlignCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* rin, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(const Tensor* bin, ctx.RequireTensor(2));
  if (xin->rank() != 4 || rin->rank() != 2 || rin->shape()[1] != 4 || bin->rank() != 1 ||
      bin->shape()[0] != rin->shape()[0]) {
    return ctx.Error("expects X [N, C, H, W], rois [R, 4], batch_indices [R]");
  }
  const std::string mode = ctx.node().GetString("mode", "avg");
  if (mode != "avg" && mode != "max") return ctx.Error("unknown mode '" + mode + "'");
  const std::string ct = ctx.node().GetString(
      "coordinate_transformation_mode", ctx.opset() >= 16 ? "half_pixel" : "output_half_pixel");
  if (ct != "half_pixel" && ct != "output_half_pixel") {
    return ctx.Error("unknown coordinate_transformation_mode '" + ct + "'");
  }
  const int64_t oh = ctx.node().GetInt("output_height", 1),
                ow = ctx.node().GetInt("output_width", 1);
  const int64_t ratio = ctx.node().GetInt("sampling_ratio", 0);
  const double scale = ctx.node().GetFloat("spatial_scale", 1.f);
  if (oh < 1 || ow < 1 || ratio < 0 || ratio > 1024)
    return ctx.Error("bad output size or sampling_ratio");
  auto bidx = ToInt64s(*bin);
  if (!bidx.ok()) return ctx.Error("batch_indices: " + bidx.status().message());
  const int64_t n = xin->shape()[0], c = xin->shape()[1], h = xin->shape()[2], w = xin->shape()[3];
  const int64_t nr = rin->shape()[0];
  for (int64_t b : *bidx) {
    if (b < 0 || b >= n) return ctx.Error("batch index " + std::to_string(b) + " out of range");
  }
  std::vector<double> rois(static_cast<size_t>(nr * 4));
  for (int64_t i = 0; i < nr * 4; ++i) {
    rois[static_cast<size_t>(i)] = rin->GetAsDouble(i);
    if (!std::isfinite(rois[static_cast<size_t>(i)])) return ctx.Error("rois must be finite");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, xin->dtype(), {nr, c, oh, ow}));
  if (out.numel() == 0) return Status::OK();
  if (h == 0 || w == 0) return ctx.Error("empty feature map");
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* src = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    ctx.pool().ParallelFor(nr * c, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        const int64_t r = t / c, ch = t % c;
        const int64_t bi = (*bidx)[static_cast<size_t>(r)];
        AlignOne<T>(src + (bi * c + ch) * h * w, h, w, rois.data() + r * 4, scale,
                    ct == "half_pixel", mode == "max", oh, ow, ratio, o + t * oh * ow);
      }
    });
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(roi_align) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("RoiAlign", RoiAlignCompute, 10);
}
