// Shared helpers for the CPU kernel tests: random tensors of any dtype, non-contiguous views of
// them, element access by multi-index as double, and a fixture parameter that runs a test on the
// AVX2 path and on the portable path.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/kernel_dispatch.h"
#include "mlos/tensor.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels::testing {

inline ThreadPool& Pool() {
  static ThreadPool pool(2);
  return pool;
}

// Fills every element of a contiguous tensor with a value from gen() (double), converted.
template <typename Gen>
inline void Fill(Tensor& t, Gen&& gen) {
  VisitDType(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, std::string>) {
      T* p = static_cast<T*>(t.raw_data());
      for (int64_t i = 0; i < t.numel(); ++i) {
        const double v = gen();
        if constexpr (std::is_same_v<T, bool>) {
          p[i] = v != 0;
        } else if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
          p[i] = T(static_cast<float>(v));
        } else {
          p[i] = static_cast<T>(v);
        }
      }
    }
  });
}

inline Tensor RandomTensor(DType dt, const Shape& shape, std::mt19937& rng, double lo, double hi) {
  Tensor t = Tensor::Empty(dt, shape).value();
  std::uniform_real_distribution<double> u(lo, hi);
  if (IsInteger(dt) || dt == DType::kBool) {
    std::uniform_int_distribution<int64_t> ui(static_cast<int64_t>(std::ceil(lo)),
                                              static_cast<int64_t>(std::floor(hi)));
    Fill(t, [&] { return static_cast<double>(ui(rng)); });
  } else {
    Fill(t, [&] { return u(rng); });
  }
  return t;
}

// A bool tensor from 0/1 values (std::vector<bool> has no span).
inline Tensor BoolTensor(const Shape& shape, std::initializer_list<int> v) {
  Tensor t = Tensor::Empty(DType::kBool, shape).value();
  bool* p = static_cast<bool*>(t.raw_data());
  int64_t i = 0;
  for (int x : v) p[i++] = x != 0;
  return t;
}

enum class ViewKind { kContiguous, kPermuted, kSliced, kBroadcast };

// A tensor of `shape` whose memory layout is `kind`: permuted (a transposed buffer viewed back),
// sliced (every other element of a larger buffer), or broadcast (a stride-0 view of a smaller
// tensor along the first axis of size > 1).
inline Tensor RandomView(DType dt, const Shape& shape, ViewKind kind, std::mt19937& rng, double lo,
                         double hi) {
  const int r = static_cast<int>(shape.size());
  if (kind == ViewKind::kPermuted && r >= 2) {
    std::vector<int64_t> perm(static_cast<size_t>(r));
    for (int i = 0; i < r; ++i) perm[static_cast<size_t>(i)] = r - 1 - i;
    Shape rev(shape.rbegin(), shape.rend());
    Tensor base = RandomTensor(dt, rev, rng, lo, hi);
    return base.Permute(perm).value();
  }
  if (kind == ViewKind::kSliced && r >= 1) {
    Shape big = shape;
    big.back() = shape.back() * 2;
    Tensor base = RandomTensor(dt, big, rng, lo, hi);
    return base.Slice(r - 1, 1, big.back(), 2).value();
  }
  if (kind == ViewKind::kBroadcast && r >= 1) {
    for (int i = 0; i < r; ++i) {
      if (shape[static_cast<size_t>(i)] > 1) {
        Shape small = shape;
        small[static_cast<size_t>(i)] = 1;
        Tensor base = RandomTensor(dt, small, rng, lo, hi);
        return base.BroadcastTo(shape).value();
      }
    }
  }
  return RandomTensor(dt, shape, rng, lo, hi);
}

inline Shape RandomShape(std::mt19937& rng, int max_rank, int64_t max_dim) {
  std::uniform_int_distribution<int> rr(0, max_rank);
  std::uniform_int_distribution<int64_t> dd(1, max_dim);
  Shape s(static_cast<size_t>(rr(rng)));
  for (auto& d : s) d = dd(rng);
  return s;
}

// Row-major multi-index of flat index i in shape.
inline std::vector<int64_t> Unflatten(int64_t i, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = i % shape[d];
    i /= shape[d];
  }
  return idx;
}

// Element of t at a multi-index aligned to the right of `idx` (numpy broadcasting).
inline double AtBroadcast(const Tensor& t, const std::vector<int64_t>& idx) {
  int64_t flat = 0;
  const size_t off = idx.size() - t.shape().size();
  for (size_t d = 0; d < t.shape().size(); ++d) {
    const int64_t i = t.shape()[d] == 1 ? 0 : idx[off + d];
    flat = flat * t.shape()[d] + i;
  }
  return t.GetAsDouble(flat);
}

inline double Tolerance(DType dt, double rel_f32) {
  switch (dt) {
    case DType::kFloat32:
      return rel_f32;
    case DType::kFloat16:
      return 2e-3;
    case DType::kBFloat16:
      return 1.6e-2;
    case DType::kFloat64:
      return 1e-12;
    default:
      return 0;
  }
}

inline bool Close(double got, double want, double rtol, double atol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= atol + rtol * std::fabs(want);
}

// An exact integer result wrapped to dt's width (the kernels wrap instead of overflowing).
inline double WrapToDType(DType dt, double v) {
  const auto i = static_cast<int64_t>(v);
  return VisitDType(dt, [&](auto tag) -> double {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      return static_cast<double>(static_cast<T>(static_cast<uint64_t>(i)));
    } else {
      return v;
    }
  });
}

// Runs a test body once per dispatch path; restores the default afterwards.
class BothPaths : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { SetKernelsForcePortableForTesting(GetParam()); }
  void TearDown() override { SetKernelsForcePortableForTesting(false); }
};

inline std::string PathName(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "Portable" : "Avx2";
}

}  // namespace mlos::kernels::testing
