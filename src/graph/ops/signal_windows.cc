// Signal-processing generators (opset 17): HannWindow, HammingWindow, BlackmanWindow (periodic
// or symmetric, output_datatype) and MelWeightMatrix. Values are computed in double and cast to
// the requested numeric type; sizes come from scalar inputs and are checked.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

Result<int64_t> ScalarInt(const OpContext& ctx, int i, const char* what) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* t, ctx.RequireTensor(i));
  if (!IsInteger(t->dtype()) || t->numel() != 1) {
    return ctx.Error(std::string(what) + " must be an integer scalar");
  }
  return static_cast<int64_t>(t->GetAsDouble(0));
}

Result<double> ScalarFloat(const OpContext& ctx, int i, const char* what) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* t, ctx.RequireTensor(i));
  if (!IsNumeric(t->dtype()) || t->numel() != 1) {
    return ctx.Error(std::string(what) + " must be a numeric scalar");
  }
  return t->GetAsDouble(0);
}

// Writes `values` (double) into a new output 0 of `dtype` and `shape`.
Status WriteDoubles(OpContext& ctx, DType dtype, Shape shape, const std::vector<double>& values) {
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, dtype, std::move(shape)));
  return DispatchNumeric(dtype, ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    T* p = static_cast<T*>(y.raw_data());
    for (size_t i = 0; i < values.size(); ++i) p[i] = T(static_cast<CalcT<T>>(values[i]));
    return Status::OK();
  });
}

// Generalised cosine window: sum_k (-1)^k a_k cos(2 pi k n / N).
template <int kTerms>
Status CosineWindow(OpContext& ctx, const double (&a)[kTerms]) {
  MLOS_ASSIGN_OR_RETURN(int64_t size, ScalarInt(ctx, 0, "size"));
  if (size < 0 || size > (int64_t{1} << 31)) {
    return ctx.Error("size " + std::to_string(size) + " out of range");
  }
  MLOS_ASSIGN_OR_RETURN(
      DType dt, NumericDTypeAttr(ctx, ctx.node().GetInt("output_datatype", 1), "output_datatype"));
  const bool periodic = ctx.node().GetInt("periodic", 1) != 0;
  const double denom = static_cast<double>(std::max<int64_t>(periodic ? size : size - 1, 1));
  std::vector<double> w(static_cast<size_t>(size));
  for (int64_t n = 0; n < size; ++n) {
    double v = 0, sign = 1;
    for (int k = 0; k < kTerms; ++k) {
      v += sign * a[k] * std::cos(2.0 * std::numbers::pi * k * static_cast<double>(n) / denom);
      sign = -sign;
    }
    w[n] = v;
  }
  return WriteDoubles(ctx, dt, {size}, w);
}

constexpr double kHann[2] = {0.5, 0.5};
constexpr double kHamming[2] = {25.0 / 46.0, 21.0 / 46.0};
constexpr double kBlackman[3] = {0.42, 0.5, 0.08};

Status HannCompute(OpContext& ctx) { return CosineWindow<2>(ctx, kHann); }
Status HammingCompute(OpContext& ctx) { return CosineWindow<2>(ctx, kHamming); }
Status BlackmanCompute(OpContext& ctx) { return CosineWindow<3>(ctx, kBlackman); }

// Triangular filters equally spaced on the mel scale, as the ONNX reference builds them.
Status MelWeightMatrixCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(int64_t bins, ScalarInt(ctx, 0, "num_mel_bins"));
  MLOS_ASSIGN_OR_RETURN(int64_t dft_length, ScalarInt(ctx, 1, "dft_length"));
  MLOS_ASSIGN_OR_RETURN(int64_t rate, ScalarInt(ctx, 2, "sample_rate"));
  MLOS_ASSIGN_OR_RETURN(double lo_hz, ScalarFloat(ctx, 3, "lower_edge_hertz"));
  MLOS_ASSIGN_OR_RETURN(double hi_hz, ScalarFloat(ctx, 4, "upper_edge_hertz"));
  MLOS_ASSIGN_OR_RETURN(
      DType dt, NumericDTypeAttr(ctx, ctx.node().GetInt("output_datatype", 1), "output_datatype"));
  if (bins <= 0 || dft_length <= 0 || rate <= 0 || bins > (1 << 20) || dft_length > (1 << 24)) {
    return ctx.Error("num_mel_bins, dft_length and sample_rate must be positive (and bounded)");
  }
  if (!(lo_hz >= 0) || !(hi_hz >= lo_hz)) {
    return ctx.Error("need 0 <= lower_edge_hertz <= upper_edge_hertz");
  }
  const int64_t spec_bins = dft_length / 2 + 1;
  if (spec_bins * bins > (int64_t{1} << 31)) return ctx.Error("output too large");
  auto to_mel = [](double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); };
  const double lo_mel = to_mel(lo_hz), hi_mel = to_mel(hi_hz);
  const double step = (hi_mel - lo_mel) / static_cast<double>(bins + 2);
  std::vector<int64_t> fb(static_cast<size_t>(bins + 2));
  for (int64_t i = 0; i < bins + 2; ++i) {
    const double mel = static_cast<double>(i) * step + lo_mel;
    const double hz = 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
    const double f =
        std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(rate));
    fb[i] = static_cast<int64_t>(std::clamp(f, -1e15, 1e15));  // NaN-free: inputs checked
  }
  std::vector<double> out(static_cast<size_t>(spec_bins * bins), 0.0);
  auto set = [&](int64_t j, int64_t i, double v) {
    if (j >= 0 && j < spec_bins) out[j * bins + i] = v;
  };
  for (int64_t i = 0; i < bins; ++i) {
    const int64_t left = fb[i], center = fb[i + 1], right = fb[i + 2];
    const int64_t up = center - left;
    if (up == 0) {
      set(center, i, 1.0);
    } else {
      for (int64_t j = std::max<int64_t>(left, 0); j <= std::min(center, spec_bins - 1); ++j) {
        set(j, i, static_cast<double>(j - left) / static_cast<double>(up));
      }
    }
    const int64_t down = right - center;
    if (down > 0) {
      for (int64_t j = std::max<int64_t>(center, 0); j < std::min(right, spec_bins); ++j) {
        set(j, i, static_cast<double>(right - j) / static_cast<double>(down));
      }
    }
  }
  return WriteDoubles(ctx, dt, {spec_bins, bins}, out);
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(signal_windows) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("HannWindow", HannCompute, 17);
  r.Add("HammingWindow", HammingCompute, 17);
  r.Add("BlackmanWindow", BlackmanCompute, 17);
  r.Add("MelWeightMatrix", MelWeightMatrixCompute, 17);
}
