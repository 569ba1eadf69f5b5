// Fourier transforms (opset 17): DFT (real or complex input, dft_length padding/truncation,
// axis, inverse, onesided) and STFT (frames of a real or complex signal, optional window and
// frame_length, onesided). Complex values are a trailing dimension of 2. Power-of-two lengths
// use an iterative radix-2 FFT; other lengths a direct O(n^2) DFT over a twiddle table. All
// arithmetic in double; lines along the transformed axis run in parallel over the pool.
#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

using Cx = std::complex<double>;

// Transforms `n` complex values in place (buf), forward or inverse (inverse scales by 1/n).
class Transform {
 public:
  Transform(int64_t n, bool inverse) : n_(n), inverse_(inverse) {
    pow2_ = n > 0 && (n & (n - 1)) == 0;
    tw_.resize(static_cast<size_t>(n));
    const double sign = inverse ? 1.0 : -1.0;
    for (int64_t k = 0; k < n; ++k) {
      const double a =
          sign * 2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
      tw_[k] = Cx(std::cos(a), std::sin(a));
    }
  }
  // `scratch` must hold n values.
  void Run(Cx* buf, Cx* scratch) const {
    if (n_ == 0) return;
    if (pow2_) {
      Fft(buf);
    } else {
      for (int64_t k = 0; k < n_; ++k) {
        Cx acc(0, 0);
        int64_t idx = 0;
        for (int64_t j = 0; j < n_; ++j) {
          acc += buf[j] * tw_[idx];
          idx += k;
          if (idx >= n_) idx -= n_;
        }
        scratch[k] = acc;
      }
      std::copy(scratch, scratch + n_, buf);
    }
    if (inverse_) {
      const double s = 1.0 / static_cast<double>(n_);
      for (int64_t k = 0; k < n_; ++k) buf[k] *= s;
    }
  }

 private:
  void Fft(Cx* a) const {
    for (int64_t i = 1, j = 0; i < n_; ++i) {
      int64_t bit = n_ >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) std::swap(a[i], a[j]);
    }
    for (int64_t len = 2; len <= n_; len <<= 1) {
      const int64_t step = n_ / len;
      for (int64_t i = 0; i < n_; i += len) {
        for (int64_t k = 0; k < len / 2; ++k) {
          const Cx u = a[i + k], v = a[i + k + len / 2] * tw_[k * step];
          a[i + k] = u + v;
          a[i + k + len / 2] = u - v;
        }
      }
    }
  }

  int64_t n_;
  bool inverse_;
  bool pow2_ = false;
  std::vector<Cx> tw_;
};

Result<int64_t> OptionalScalarInt(const OpContext& ctx, int i, int64_t dflt, const char* what) {
  if (!ctx.has_input(i)) return dflt;
  const Tensor& t = ctx.input(i);
  if (!IsInteger(t.dtype()) || t.numel() != 1) {
    return ctx.Error(std::string(what) + " must be an integer scalar");
  }
  return static_cast<int64_t>(t.GetAsDouble(0));
}

Status DftCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  const int r = xin->rank();
  if (r < 3 || (xin->shape().back() != 1 && xin->shape().back() != 2)) {
    return ctx.Error("input must be [batch, ..., 1 or 2], got " + ShapeToString(xin->shape()));
  }
  int64_t axis = ctx.node().GetInt("axis", 1);
  if (axis < 0) axis += r;
  if (axis < 1 || axis > r - 2) {
    return ctx.Error("axis " + std::to_string(ctx.node().GetInt("axis", 1)) +
                     " out of range for input rank " + std::to_string(r));
  }
  const int64_t len = xin->dim(static_cast<int>(axis));
  MLOS_ASSIGN_OR_RETURN(int64_t n, OptionalScalarInt(ctx, 1, len, "dft_length"));
  if (n <= 0 || n > (int64_t{1} << 26)) return ctx.Error("dft_length must be positive");
  const bool inverse = ctx.node().GetInt("inverse", 0) != 0;
  const bool onesided = ctx.node().GetInt("onesided", 0) != 0;
  const bool complex_in = xin->shape().back() == 2;
  const int64_t out_n = onesided ? n / 2 + 1 : n;
  Shape out_shape = xin->shape();
  out_shape[axis] = out_n;
  out_shape.back() = 2;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= xin->dim(d);
  for (int d = static_cast<int>(axis) + 1; d < r - 1; ++d) inner *= xin->dim(d);
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  const int64_t cin = complex_in ? 2 : 1;
  return DispatchFloat(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, x.dtype(), out_shape));
    const T* px = static_cast<const T*>(x.raw_data());
    T* py = static_cast<T*>(y.raw_data());
    Transform tr(n, inverse);
    const int64_t copy = std::min(n, len);
    ctx.pool().ParallelFor(
        outer * inner, std::max<int64_t>(1, 4096 / n), [&](int64_t b, int64_t e) {
          std::vector<Cx> buf(static_cast<size_t>(n)), scratch(static_cast<size_t>(n));
          for (int64_t line = b; line < e; ++line) {
            const int64_t o = line / inner, i = line % inner;
            std::fill(buf.begin(), buf.end(), Cx(0, 0));
            for (int64_t j = 0; j < copy; ++j) {
              const T* s = px + ((o * len + j) * inner + i) * cin;
              buf[j] = Cx(static_cast<C>(s[0]),
                          complex_in ? static_cast<double>(static_cast<C>(s[1])) : 0.0);
            }
            tr.Run(buf.data(), scratch.data());
            for (int64_t k = 0; k < out_n; ++k) {
              T* d = py + ((o * out_n + k) * inner + i) * 2;
              d[0] = T(static_cast<C>(buf[k].real()));
              d[1] = T(static_cast<C>(buf[k].imag()));
            }
          }
        });
    return Status::OK();
  });
}

Status StftCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* sin, ctx.RequireTensor(0));
  if (sin->rank() != 3 || (sin->dim(2) != 1 && sin->dim(2) != 2)) {
    return ctx.Error("signal must be [batch, length, 1 or 2], got " + ShapeToString(sin->shape()));
  }
  MLOS_ASSIGN_OR_RETURN(const Tensor* step_t, ctx.RequireTensor(1));
  if (!IsInteger(step_t->dtype()) || step_t->numel() != 1) {
    return ctx.Error("frame_step must be an integer scalar");
  }
  const int64_t step = static_cast<int64_t>(step_t->GetAsDouble(0));
  const Tensor* window = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (window != nullptr && window->rank() != 1) return ctx.Error("window must be 1-D");
  const int64_t dflt_len = window != nullptr ? window->dim(0) : -1;
  MLOS_ASSIGN_OR_RETURN(int64_t flen, OptionalScalarInt(ctx, 3, dflt_len, "frame_length"));
  if (flen <= 0) return ctx.Error("frame_length or window is required and must be positive");
  if (window != nullptr && window->dim(0) != flen) {
    return ctx.Error("window length " + std::to_string(window->dim(0)) +
                     " differs from frame_length " + std::to_string(flen));
  }
  const int64_t batch = sin->dim(0), slen = sin->dim(1);
  if (step <= 0 || flen > slen || flen > (int64_t{1} << 26)) {
    return ctx.Error("need frame_step > 0 and frame_length <= signal length");
  }
  const bool onesided = ctx.node().GetInt("onesided", 1) != 0;
  const bool complex_in = sin->dim(2) == 2;
  const int64_t frames = (slen - flen) / step + 1;
  const int64_t bins = onesided ? flen / 2 + 1 : flen;
  MLOS_ASSIGN_OR_RETURN(Tensor s, sin->Contiguous());
  std::vector<double> win(static_cast<size_t>(flen), 1.0);
  if (window != nullptr) {
    if (!IsFloating(window->dtype())) return ctx.Error("window must be a float tensor");
    for (int64_t i = 0; i < flen; ++i) win[i] = window->GetAsDouble(i);
  }
  const int64_t cin = complex_in ? 2 : 1;
  return DispatchFloat(s.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    using C = CalcT<T>;
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, s.dtype(), {batch, frames, bins, 2}));
    const T* ps = static_cast<const T*>(s.raw_data());
    T* py = static_cast<T*>(y.raw_data());
    Transform tr(flen, false);
    ctx.pool().ParallelFor(
        batch * frames, std::max<int64_t>(1, 4096 / flen), [&](int64_t b, int64_t e) {
          std::vector<Cx> buf(static_cast<size_t>(flen)), scratch(static_cast<size_t>(flen));
          for (int64_t f = b; f < e; ++f) {
            const int64_t bi = f / frames, fi = f % frames;
            const T* src = ps + (bi * slen + fi * step) * cin;
            for (int64_t j = 0; j < flen; ++j) {
              const double re = static_cast<C>(src[j * cin]);
              const double im =
                  complex_in ? static_cast<double>(static_cast<C>(src[j * cin + 1])) : 0.0;
              buf[j] = Cx(re, im) * win[j];
            }
            tr.Run(buf.data(), scratch.data());
            T* d = py + f * bins * 2;
            for (int64_t k = 0; k < bins; ++k) {
              d[2 * k] = T(static_cast<C>(buf[k].real()));
              d[2 * k + 1] = T(static_cast<C>(buf[k].imag()));
            }
          }
        });
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(signal_dft) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("DFT", DftCompute, 17);
  r.Add("STFT", StftCompute, 17);
}
