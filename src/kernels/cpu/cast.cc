// Cast between every pair of dtypes (ONNX Cast semantics). Numeric casts run in parallel over
// strided views; casts to and from strings print and parse numbers on the calling thread, since
// a parse can fail and must return a Status.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/elementwise_scalar.h"
#include "kernels/cpu/strided_iter.h"

namespace mlos::kernels {
namespace {

template <typename T>
std::string ToText(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "1" : "0";
  } else if constexpr (internal::kIsHalf<T> || std::is_floating_point_v<T>) {
    using F = std::conditional_t<internal::kIsHalf<T>, float, T>;
    const F f = static_cast<F>(v);
    if (std::isnan(f)) return "NaN";
    if (std::isinf(f)) return f > 0 ? "INF" : "-INF";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, f);  // shortest round-trip form
    return std::string(buf, r.ptr);
  } else {
    return std::to_string(v);
  }
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

template <typename T>
Status FromText(const std::string& s, T& out) {
  const char* begin = s.c_str();
  char* end = nullptr;
  if constexpr (std::is_same_v<T, bool>) {
    if (IEquals(s, "true")) {
      out = true;
      return Status::OK();
    }
    if (IEquals(s, "false")) {
      out = false;
      return Status::OK();
    }
  }
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    errno = 0;
    if constexpr (std::is_signed_v<T>) {
      const long long v = std::strtoll(begin, &end, 10);
      if (end != begin && *end == '\0' && errno == 0) {
        out = internal::ConvertValue<T>(static_cast<int64_t>(v));
        return Status::OK();
      }
    } else {
      const unsigned long long v = std::strtoull(begin, &end, 10);
      if (end != begin && *end == '\0' && errno == 0 && s.find('-') == std::string::npos) {
        out = internal::ConvertValue<T>(static_cast<uint64_t>(v));
        return Status::OK();
      }
    }
  }
  // Floating forms ("3.5", "1e-5", "INF", "NaN"), also accepted for integer targets.
  const double d = std::strtod(begin, &end);
  if (end == begin || *end != '\0') {
    return InvalidArgument("cast: cannot parse '", s, "' as ", DTypeName(kDTypeOf<T>));
  }
  out = internal::ConvertValue<T>(d);
  return Status::OK();
}

// Visits the element offsets of x (in) and y (out) in row-major order on this thread.
template <typename Fn>
Status ForEachPair(const Tensor& x, const Tensor& y, Fn&& fn) {
  internal::StridedLayout<2> L;
  MLOS_RETURN_IF_ERROR(internal::BuildLayout<2>(
      y.shape(),
      {internal::BroadcastStrides(y, y.shape()), internal::BroadcastStrides(x, y.shape())}, L));
  Status status;
  internal::ForEachSegment(L, 0, L.numel, [&](const int64_t* off, int64_t cnt) {
    for (int64_t i = 0; i < cnt && status.ok(); ++i) {
      status = fn(off[1] + i * L.inner_stride(1), off[0] + i * L.inner_stride(0));
    }
  });
  return status;
}

template <typename From, typename To>
void NumericCast(const internal::StridedLayout<2>& L, const Tensor& x, Tensor& y,
                 ThreadPool& pool) {
  const From* xp = static_cast<const From*>(x.raw_data());
  To* yp = static_cast<To*>(y.raw_data());
  const int64_t sy = L.inner_stride(0), sx = L.inner_stride(1);
  auto body = [&](int64_t begin, int64_t end) {
    internal::ForEachSegment(L, begin, end, [&](const int64_t* off, int64_t cnt) {
      const From* src = xp + off[1];
      To* dst = yp + off[0];
      if (sx == 1 && sy == 1) {
        for (int64_t i = 0; i < cnt; ++i) dst[i] = internal::ConvertValue<To>(src[i]);
      } else {
        for (int64_t i = 0; i < cnt; ++i) dst[i * sy] = internal::ConvertValue<To>(src[i * sx]);
      }
    });
  };
  pool.ParallelFor(L.numel, internal::ElementwiseGrain(false), body);
}

}  // namespace

Status Cast(const Tensor& x, Tensor& y, ThreadPool& pool) {
  if (!x.defined() || !y.defined()) return InvalidArgument("cast: undefined tensor");
  if (x.shape() != y.shape()) {
    return InvalidArgument("cast: output shape ", ShapeToString(y.shape()),
                           " does not match input shape ", ShapeToString(x.shape()));
  }
  if (x.numel() == 0) return Status::OK();
  MLOS_RETURN_IF_ERROR(internal::CheckWritable(y, "cast"));
  const bool from_str = x.dtype() == DType::kString, to_str = y.dtype() == DType::kString;
  if (from_str || to_str) {
    return VisitDType(from_str ? y.dtype() : x.dtype(), [&](auto tag) -> Status {
      using T = decltype(tag);
      const auto* xs = static_cast<const char*>(x.raw_data());
      auto* ys = static_cast<char*>(y.raw_data());
      const size_t xsz = DTypeSize(x.dtype()), ysz = DTypeSize(y.dtype());
      return ForEachPair(x, y, [&](int64_t xo, int64_t yo) -> Status {
        const void* src = xs + xo * static_cast<int64_t>(xsz);
        void* dst = ys + yo * static_cast<int64_t>(ysz);
        if constexpr (std::is_same_v<T, std::string>) {
          *static_cast<std::string*>(dst) = *static_cast<const std::string*>(src);
          return Status::OK();
        } else if (from_str) {
          return FromText<T>(*static_cast<const std::string*>(src), *static_cast<T*>(dst));
        } else {
          *static_cast<std::string*>(dst) = ToText(*static_cast<const T*>(src));
          return Status::OK();
        }
      });
    });
  }
  internal::StridedLayout<2> L;
  MLOS_RETURN_IF_ERROR(internal::BuildLayout<2>(
      y.shape(),
      {internal::BroadcastStrides(y, y.shape()), internal::BroadcastStrides(x, y.shape())}, L));
  VisitDType(x.dtype(), [&](auto from_tag) {
    using From = decltype(from_tag);
    if constexpr (!std::is_same_v<From, std::string>) {
      VisitDType(y.dtype(), [&](auto to_tag) {
        using To = decltype(to_tag);
        if constexpr (!std::is_same_v<To, std::string>) NumericCast<From, To>(L, x, y, pool);
      });
    }
  });
  return Status::OK();
}

}  // namespace mlos::kernels
