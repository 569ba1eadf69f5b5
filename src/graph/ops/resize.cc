// Resize (opsets 10, 11, 13) and Upsample (7, 9): nearest, (bi/tri)linear and cubic interpolation
// over any number of axes, every coordinate_transformation_mode of opset 13 (tf_crop_and_resize
// with roi and extrapolation_value included), output size from scales or sizes.
//
// Interpolation is separable, so each axis gets a table built once per call: for every output
// index, K taps (input offset pre-multiplied by the input stride, weight). Axes whose taps reduce
// to a single weight-1 tap (scale-1 batch/channel axes) collapse to K = 1. The output is walked
// row by row (all axes but the last), rows split over the pool; a row combines the taps of the
// outer axes (2 for bilinear NCHW, 1 for nearest) with the last axis' taps. Nearest moves bytes
// only (any fixed-size dtype); linear/cubic accumulate in float (double for 64-bit types).
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

enum class Mode { kNearest, kLinear, kCubic };
enum class Coord {
  kHalfPixel,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize
};
// kSimple is the pre-opset-11 rule: floor when upsampling, ceil when downsampling.
enum class NearestRule { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };

struct Params {
  Mode mode = Mode::kNearest;
  Coord coord = Coord::kHalfPixel;
  NearestRule nearest = NearestRule::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
  std::vector<double> scales;  // per axis, > 0
  std::vector<double> roi;     // 2 * rank (starts then ends), or empty
  Shape out_shape;
};

// The taps of one axis. off/w hold out_len * k entries; outside[o] marks an output coordinate
// that maps outside the input (tf_crop_and_resize only).
struct AxisTable {
  int k = 1;
  std::vector<int64_t> off;
  std::vector<double> w;
  std::vector<uint8_t> outside;
};

// Maps output index `o` of an axis to a (fractional) input coordinate. `out_len` is the scaled
// length scale * in_len as a real number, as the ONNX reference computes it.
double SourceCoord(const Params& p, int axis, double o, double scale, int64_t in_len,
                   double out_len) {
  switch (p.coord) {
    case Coord::kHalfPixel:
      return (o + 0.5) / scale - 0.5;
    case Coord::kPytorchHalfPixel:
      return out_len > 1.0 ? (o + 0.5) / scale - 0.5 : -0.5;
    case Coord::kAlignCorners:
      return out_len == 1.0 ? 0.0 : o * static_cast<double>(in_len - 1) / (out_len - 1.0);
    case Coord::kAsymmetric:
      return o / scale;
    case Coord::kTfHalfPixelForNn:
      return (o + 0.5) / scale;
    case Coord::kTfCropAndResize: {
      const size_t rank = p.roi.size() / 2;
      const double start = p.roi[static_cast<size_t>(axis)];
      const double end = p.roi[rank + static_cast<size_t>(axis)];
      const double span = static_cast<double>(in_len - 1);
      if (out_len == 1.0) return (end - start) * span / 2.0 + start * span;
      return o * (end - start) * span / (out_len - 1.0) + start * span;
    }
  }
  return 0.0;
}

int64_t NearestIndex(NearestRule rule, double x, double scale) {
  switch (rule) {
    case NearestRule::kRoundPreferFloor:
      return static_cast<int64_t>(std::ceil(x - 0.5));
    case NearestRule::kRoundPreferCeil:
      return static_cast<int64_t>(std::floor(x + 0.5));
    case NearestRule::kFloor:
      return static_cast<int64_t>(std::floor(x));
    case NearestRule::kCeil:
      return static_cast<int64_t>(std::ceil(x));
    case NearestRule::kSimple:
      return static_cast<int64_t>(scale < 1.0 ? std::ceil(x) : std::floor(x));
  }
  return 0;
}

// Keys cubic convolution weights for fractional offset t in [0, 1) with parameter a.
void CubicCoeffs(double t, double a, double c[4]) {
  const double x0 = t + 1.0, x1 = t, x2 = 1.0 - t, x3 = 2.0 - t;
  c[0] = ((a * x0 - 5.0 * a) * x0 + 8.0 * a) * x0 - 4.0 * a;
  c[1] = ((a + 2.0) * x1 - (a + 3.0)) * x1 * x1 + 1.0;
  c[2] = ((a + 2.0) * x2 - (a + 3.0)) * x2 * x2 + 1.0;
  c[3] = ((a * x3 - 5.0 * a) * x3 + 8.0 * a) * x3 - 4.0 * a;
}

AxisTable BuildTable(const Params& p, int axis, int64_t in_len, int64_t out_len, int64_t stride) {
  AxisTable t;
  const double scale = p.scales[static_cast<size_t>(axis)];
  const double out_real = scale * static_cast<double>(in_len);
  t.k = p.mode == Mode::kNearest ? 1 : p.mode == Mode::kLinear ? 2 : 4;
  const size_t k = static_cast<size_t>(t.k);
  t.off.assign(static_cast<size_t>(out_len) * k, 0);
  t.w.assign(static_cast<size_t>(out_len) * k, 0.0);
  t.outside.assign(static_cast<size_t>(out_len), 0);
  const int64_t last = in_len - 1;
  for (int64_t o = 0; o < out_len; ++o) {
    const size_t base = static_cast<size_t>(o) * k;
    double x = SourceCoord(p, axis, static_cast<double>(o), scale, in_len, out_real);
    if (p.coord == Coord::kTfCropAndResize && (x < 0.0 || x > static_cast<double>(last))) {
      t.outside[static_cast<size_t>(o)] = 1;
      t.w[base] = 1.0;
      continue;
    }
    if (!std::isfinite(x)) x = 0.0;
    x = std::clamp(x, -4.0, static_cast<double>(in_len) + 4.0);  // keeps int casts defined
    if (p.mode == Mode::kNearest) {
      int64_t i = std::clamp<int64_t>(NearestIndex(p.nearest, x, scale), 0, last);
      t.off[base] = i * stride;
      t.w[base] = 1.0;
      continue;
    }
    const double fl = std::floor(x);
    const double frac = x - fl;
    const int64_t i0 = static_cast<int64_t>(fl);
    if (p.mode == Mode::kLinear) {
      t.off[base] = std::clamp<int64_t>(i0, 0, last) * stride;
      t.off[base + 1] = std::clamp<int64_t>(i0 + 1, 0, last) * stride;
      t.w[base] = 1.0 - frac;
      t.w[base + 1] = frac;
      continue;
    }
    double c[4];
    CubicCoeffs(frac, p.cubic_a, c);
    double sum = 0.0;
    for (int j = 0; j < 4; ++j) {
      const int64_t i = i0 - 1 + j;
      if (p.exclude_outside && (i < 0 || i > last)) c[j] = 0.0;
      sum += c[j];
      t.off[base + static_cast<size_t>(j)] = std::clamp<int64_t>(i, 0, last) * stride;
    }
    for (int j = 0; j < 4; ++j) {
      t.w[base + static_cast<size_t>(j)] = p.exclude_outside && sum != 0.0 ? c[j] / sum : c[j];
    }
  }
  // Collapse to one tap when every output index has exactly one non-zero tap of weight 1.
  if (t.k > 1) {
    bool single = true;
    std::vector<int64_t> off1(static_cast<size_t>(out_len));
    for (int64_t o = 0; o < out_len && single; ++o) {
      int nz = 0;
      for (size_t j = 0; j < k; ++j) {
        const double w = t.w[static_cast<size_t>(o) * k + j];
        if (w == 0.0) continue;
        if (w != 1.0 || ++nz > 1) single = false;
        off1[static_cast<size_t>(o)] = t.off[static_cast<size_t>(o) * k + j];
      }
      if (nz == 0 && !t.outside[static_cast<size_t>(o)]) single = false;
    }
    if (single) {
      t.k = 1;
      t.off = std::move(off1);
      t.w.assign(static_cast<size_t>(out_len), 1.0);
    }
  }
  return t;
}

template <typename T, typename A>
T FromAcc(A v) {
  if constexpr (std::is_integral_v<T>) {
    const A r = std::nearbyint(v);
    if (!(r >= static_cast<A>(std::numeric_limits<T>::lowest()))) {
      return std::numeric_limits<T>::lowest();
    }
    if (r >= static_cast<A>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(r);
  } else {
    return T(v);
  }
}

// One outer-axes tap: input offset of the row and its weight.
template <typename A>
struct RowTap {
  int64_t off;
  A w;
};

// Interpolates one output row of length `n` from the row taps and the last axis' taps.
// `outside` is null when no coordinate of the last axis falls outside the input.
template <int K, typename T, typename A>
void InterpRow(const T* in, const RowTap<A>* taps, size_t ntaps, const int64_t* ioff, const A* iw,
               const uint8_t* outside, int k_rt, T extrap, int64_t n, T* out) {
  const int k = K > 0 ? K : k_rt;
  if constexpr (K == 2) {
    // Bilinear over the last two axes (the common CNN case): two source rows, two taps each.
    if (ntaps == 2 && !outside) {
      const T* r0 = in + taps[0].off;
      const T* r1 = in + taps[1].off;
      const A w0 = taps[0].w, w1 = taps[1].w;
      for (int64_t x = 0; x < n; ++x) {
        const int64_t o0 = ioff[2 * x], o1 = ioff[2 * x + 1];
        const A a = iw[2 * x], b = iw[2 * x + 1];
        const A top = a * static_cast<A>(r0[o0]) + b * static_cast<A>(r0[o1]);
        const A bot = a * static_cast<A>(r1[o0]) + b * static_cast<A>(r1[o1]);
        out[x] = FromAcc<T, A>(w0 * top + w1 * bot);
      }
      return;
    }
  }
  for (int64_t x = 0; x < n; ++x) {
    if (outside && outside[x]) {
      out[x] = extrap;
      continue;
    }
    const int64_t* xo = ioff + x * k;
    const A* xw = iw + x * k;
    A acc = A(0);
    for (size_t r = 0; r < ntaps; ++r) {
      const T* row = in + taps[r].off;
      A s = A(0);
      for (int j = 0; j < k; ++j) s += xw[j] * static_cast<A>(row[xo[j]]);
      acc += taps[r].w * s;
    }
    out[x] = FromAcc<T, A>(acc);
  }
}

// Decomposes output row `row` into outer-axis coordinates and builds its taps; returns false
// when an outer coordinate lies outside the input (extrapolated row).
template <typename A>
bool RowTaps(int64_t row, const Shape& out_shape, const std::vector<AxisTable>& tabs,
             const std::vector<std::vector<A>>& weights, std::vector<RowTap<A>>* taps,
             std::vector<RowTap<A>>* scratch) {
  const int outer = static_cast<int>(out_shape.size()) - 1;
  taps->assign(1, RowTap<A>{0, A(1)});
  for (int d = outer - 1; d >= 0; --d) {
    const int64_t c = row % out_shape[static_cast<size_t>(d)];
    row /= out_shape[static_cast<size_t>(d)];
    const AxisTable& t = tabs[static_cast<size_t>(d)];
    if (t.outside[static_cast<size_t>(c)]) return false;
    const size_t base = static_cast<size_t>(c) * static_cast<size_t>(t.k);
    if (t.k == 1) {
      for (auto& tp : *taps) tp.off += t.off[base];
      continue;
    }
    scratch->clear();
    for (const auto& tp : *taps) {
      for (int j = 0; j < t.k; ++j) {
        const A w = weights[static_cast<size_t>(d)][base + static_cast<size_t>(j)];
        if (w == A(0)) continue;
        scratch->push_back({tp.off + t.off[base + static_cast<size_t>(j)], tp.w * w});
      }
    }
    taps->swap(*scratch);
  }
  return true;
}

template <typename T>
Status Interpolate(OpContext& ctx, const Params& p, const Tensor& x, Tensor& out) {
  using A = std::conditional_t<sizeof(T) >= 4 && !std::is_same_v<T, float>, double, float>;
  const int rank = x.rank();
  const Shape& in_shape = x.shape();
  std::vector<int64_t> strides = ContiguousStrides(in_shape);
  std::vector<AxisTable> tabs;
  std::vector<std::vector<A>> weights;
  for (int d = 0; d < rank; ++d) {
    tabs.push_back(BuildTable(p, d, in_shape[static_cast<size_t>(d)],
                              p.out_shape[static_cast<size_t>(d)],
                              strides[static_cast<size_t>(d)]));
    weights.emplace_back(tabs.back().w.begin(), tabs.back().w.end());
  }
  const T* in = static_cast<const T*>(x.raw_data());
  T* o = static_cast<T*>(out.raw_data());
  const int64_t width = p.out_shape.back();
  const int64_t rows = out.numel() / width;
  const AxisTable& lt = tabs.back();
  const A* lw = weights.back().data();
  const T extrap = FromAcc<T, A>(static_cast<A>(p.extrapolation));
  const uint8_t* lout =
      std::any_of(lt.outside.begin(), lt.outside.end(), [](uint8_t v) { return v != 0; })
          ? lt.outside.data()
          : nullptr;
  ctx.pool().ParallelFor(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(width, 1)),
                         [&](int64_t b, int64_t e) {
                           std::vector<RowTap<A>> taps, scratch;
                           for (int64_t r = b; r < e; ++r) {
                             T* dst = o + r * width;
                             if (!RowTaps<A>(r, p.out_shape, tabs, weights, &taps, &scratch)) {
                               std::fill(dst, dst + width, extrap);
                               continue;
                             }
                             switch (lt.k) {
                               case 1:
                                 InterpRow<1>(in, taps.data(), taps.size(), lt.off.data(), lw, lout,
                                              1, extrap, width, dst);
                                 break;
                               case 2:
                                 InterpRow<2>(in, taps.data(), taps.size(), lt.off.data(), lw, lout,
                                              2, extrap, width, dst);
                                 break;
                               case 4:
                                 InterpRow<4>(in, taps.data(), taps.size(), lt.off.data(), lw, lout,
                                              4, extrap, width, dst);
                                 break;
                               default:
                                 InterpRow<0>(in, taps.data(), taps.size(), lt.off.data(), lw, lout,
                                              lt.k, extrap, width, dst);
                             }
                           }
                         });
  return Status::OK();
}

// Nearest: a gather of whole elements (any fixed-size dtype, moved as bytes).
template <typename T>
Status NearestGather(OpContext& ctx, const Params& p, const Tensor& x, Tensor& out, T extrap) {
  const int rank = x.rank();
  std::vector<int64_t> strides = ContiguousStrides(x.shape());
  std::vector<AxisTable> tabs;
  for (int d = 0; d < rank; ++d) {
    tabs.push_back(BuildTable(p, d, x.shape()[static_cast<size_t>(d)],
                              p.out_shape[static_cast<size_t>(d)],
                              strides[static_cast<size_t>(d)]));
  }
  const T* in = static_cast<const T*>(x.raw_data());
  T* o = static_cast<T*>(out.raw_data());
  const int64_t width = p.out_shape.back();
  const int64_t rows = out.numel() / width;
  const AxisTable& lt = tabs.back();
  ctx.pool().ParallelFor(
      rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(width, 1)), [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          T* dst = o + r * width;
          int64_t base = 0, rem = r;
          bool outside = false;
          for (int d = rank - 2; d >= 0; --d) {
            const int64_t c = rem % p.out_shape[static_cast<size_t>(d)];
            rem /= p.out_shape[static_cast<size_t>(d)];
            outside |= tabs[static_cast<size_t>(d)].outside[static_cast<size_t>(c)] != 0;
            base += tabs[static_cast<size_t>(d)].off[static_cast<size_t>(c)];
          }
          if (outside) {
            std::fill(dst, dst + width, extrap);
            continue;
          }
          const T* src = in + base;
          const int64_t* xo = lt.off.data();
          const uint8_t* xs = lt.outside.data();
          for (int64_t i = 0; i < width; ++i) dst[i] = xs[i] ? extrap : src[xo[i]];
        }
      });
  return Status::OK();
}

Result<std::vector<double>> ToDoubles(const OpContext& ctx, const Tensor& t, const char* what) {
  if (!IsFloating(t.dtype())) {
    return ctx.Error(std::string(what) + " must be a float tensor, got " +
                     std::string(DTypeName(t.dtype())));
  }
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = t.GetAsDouble(i);
  return v;
}

Status ParseMode(const OpContext& ctx, Params* p) {
  const std::string mode = ctx.node().GetString("mode", "nearest");
  if (mode == "nearest") {
    p->mode = Mode::kNearest;
  } else if (mode == "linear" || mode == "bilinear" || mode == "trilinear") {
    p->mode = Mode::kLinear;
  } else if (mode == "cubic" || mode == "bicubic") {
    p->mode = Mode::kCubic;
  } else {
    return ctx.Error("unknown mode '" + mode + "'");
  }
  return Status::OK();
}

Status ParseOpset11Attrs(const OpContext& ctx, Params* p) {
  const std::string c = ctx.node().GetString("coordinate_transformation_mode", "half_pixel");
  if (c == "half_pixel") {
    p->coord = Coord::kHalfPixel;
  } else if (c == "pytorch_half_pixel") {
    p->coord = Coord::kPytorchHalfPixel;
  } else if (c == "align_corners") {
    p->coord = Coord::kAlignCorners;
  } else if (c == "asymmetric") {
    p->coord = Coord::kAsymmetric;
  } else if (c == "tf_half_pixel_for_nn") {
    p->coord = Coord::kTfHalfPixelForNn;
  } else if (c == "tf_crop_and_resize") {
    p->coord = Coord::kTfCropAndResize;
  } else {
    return ctx.Error("unknown coordinate_transformation_mode '" + c + "'");
  }
  const std::string n = ctx.node().GetString("nearest_mode", "round_prefer_floor");
  if (n == "round_prefer_floor") {
    p->nearest = NearestRule::kRoundPreferFloor;
  } else if (n == "round_prefer_ceil") {
    p->nearest = NearestRule::kRoundPreferCeil;
  } else if (n == "floor") {
    p->nearest = NearestRule::kFloor;
  } else if (n == "ceil") {
    p->nearest = NearestRule::kCeil;
  } else {
    return ctx.Error("unknown nearest_mode '" + n + "'");
  }
  p->cubic_a = ctx.node().GetFloat("cubic_coeff_a", -0.75f);
  p->exclude_outside = ctx.node().GetInt("exclude_outside", 0) != 0;
  p->extrapolation = ctx.node().GetFloat("extrapolation_value", 0.f);
  return Status::OK();
}

// Output shape from scales (floor(in * scale)) or from sizes (scale = size / in).
Status ResolveShape(const OpContext& ctx, const Tensor& x, const std::vector<double>* scales,
                    const std::vector<int64_t>* sizes, Params* p) {
  const int rank = x.rank();
  p->scales.assign(static_cast<size_t>(rank), 1.0);
  p->out_shape = x.shape();
  constexpr double kMaxDim = static_cast<double>(int64_t{1} << 40);
  for (int d = 0; d < rank; ++d) {
    const size_t i = static_cast<size_t>(d);
    const double in = static_cast<double>(x.shape()[i]);
    if (sizes) {
      const int64_t s = (*sizes)[i];
      if (s < 0 || static_cast<double>(s) > kMaxDim) {
        return ctx.Error("sizes[" + std::to_string(d) + "] = " + std::to_string(s) +
                         " is out of range");
      }
      p->out_shape[i] = s;
      p->scales[i] = in > 0 ? static_cast<double>(s) / in : 1.0;
    } else {
      const double s = (*scales)[i];
      if (!(s > 0.0) || !std::isfinite(s) || in * s > kMaxDim) {
        return ctx.Error("scales[" + std::to_string(d) + "] = " + std::to_string(s) +
                         " is not a usable positive scale");
      }
      p->scales[i] = s;
      p->out_shape[i] = static_cast<int64_t>(std::floor(in * s));
    }
    if (p->out_shape[i] > 0 && x.shape()[i] == 0) {
      return ctx.Error("cannot resize an empty axis " + std::to_string(d) + " to a non-empty one");
    }
  }
  auto n = NumElements(p->out_shape);
  if (!n.ok()) return ctx.Error(n.status().message());
  return Status::OK();
}

// A double converted to element type T (16-bit floats through float, integers rounded).
template <typename T>
T FromDouble(double v) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
    return T(static_cast<float>(v));
  } else {
    return FromAcc<T, double>(v);
  }
}

Status Run(OpContext& ctx, const Tensor& xin, const Params& p) {
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, xin.dtype(), p.out_shape));
  if (out.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin.Contiguous());
  if (x.rank() == 0) return out.CopyFrom(x);
  if (p.mode == Mode::kNearest) {
    if (x.dtype() == DType::kString) return NearestGather<std::string>(ctx, p, x, out, {});
    if (x.dtype() == DType::kBool) {
      return NearestGather<bool>(ctx, p, x, out, p.extrapolation != 0.0);
    }
    return DispatchNumeric(x.dtype(), ctx, [&](auto tag) -> Status {
      using T = decltype(tag);
      return NearestGather<T>(ctx, p, x, out, FromDouble<T>(p.extrapolation));
    });
  }
  return DispatchNumeric(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    return Interpolate<T>(ctx, p, x, out);
  });
}

Status ResizeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  Params p;
  MLOS_RETURN_IF_ERROR(ParseMode(ctx, &p));
  const int rank = x->rank();
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  bool use_sizes = false;
  if (ctx.opset() < 11) {
    p.coord = Coord::kAsymmetric;
    p.nearest = NearestRule::kSimple;
    MLOS_ASSIGN_OR_RETURN(const Tensor* s, ctx.RequireTensor(1));
    MLOS_ASSIGN_OR_RETURN(scales, ToDoubles(ctx, *s, "scales"));
  } else {
    MLOS_RETURN_IF_ERROR(ParseOpset11Attrs(ctx, &p));
    if (ctx.has_input(1) && ctx.input(1).numel() > 0) {
      MLOS_ASSIGN_OR_RETURN(p.roi, ToDoubles(ctx, ctx.input(1), "roi"));
    }
    if (ctx.has_input(2) && ctx.input(2).numel() > 0) {
      MLOS_ASSIGN_OR_RETURN(scales, ToDoubles(ctx, ctx.input(2), "scales"));
    }
    if (ctx.has_input(3) && ctx.input(3).numel() > 0) {
      if (!scales.empty()) return ctx.Error("only one of scales and sizes may be given");
      auto r = ToInt64s(ctx.input(3));
      if (!r.ok()) return ctx.Error("sizes: " + r.status().message());
      sizes = *r;
      use_sizes = true;
    } else if (scales.empty()) {
      return ctx.Error("one of scales and sizes must be given");
    }
  }
  if (use_sizes ? static_cast<int>(sizes.size()) != rank
                : static_cast<int>(scales.size()) != rank) {
    return ctx.Error(std::string(use_sizes ? "sizes" : "scales") +
                     " must have one entry per axis (" + std::to_string(rank) + ")");
  }
  if (p.coord == Coord::kTfCropAndResize && p.roi.size() != 2 * static_cast<size_t>(rank)) {
    return ctx.Error("tf_crop_and_resize needs roi of length 2 * rank = " +
                     std::to_string(2 * rank));
  }
  MLOS_RETURN_IF_ERROR(
      ResolveShape(ctx, *x, use_sizes ? nullptr : &scales, use_sizes ? &sizes : nullptr, &p));
  return Run(ctx, *x, p);
}

Status UpsampleCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  Params p;
  MLOS_RETURN_IF_ERROR(ParseMode(ctx, &p));
  if (p.mode == Mode::kCubic) return ctx.Error("Upsample has no cubic mode");
  p.coord = Coord::kAsymmetric;
  p.nearest = NearestRule::kSimple;
  std::vector<double> scales;
  if (ctx.opset() < 9) {
    for (float f : ctx.node().GetFloats("scales")) scales.push_back(f);
  } else {
    MLOS_ASSIGN_OR_RETURN(const Tensor* s, ctx.RequireTensor(1));
    MLOS_ASSIGN_OR_RETURN(scales, ToDoubles(ctx, *s, "scales"));
  }
  if (static_cast<int>(scales.size()) != x->rank()) {
    return ctx.Error("scales must have one entry per axis (" + std::to_string(x->rank()) + ")");
  }
  MLOS_RETURN_IF_ERROR(ResolveShape(ctx, *x, &scales, nullptr, &p));
  return Run(ctx, *x, p);
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(resize) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Resize", ResizeCompute, 10);
  r.Add("Upsample", UpsampleCompute, 7);
}
