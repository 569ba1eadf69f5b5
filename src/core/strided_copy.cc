#include "core/strided_copy.h"

#include <cstring>
#include <string>
#include <vector>

namespace mlos {
namespace {

template <typename T>
void CopyTyped(const Tensor& src, const Tensor& dst) {
  const int rank = src.rank();
  const T* s = static_cast<const T*>(src.raw_data());
  T* d = static_cast<T*>(dst.raw_data());
  if (rank == 0) {
    *d = *s;
    return;
  }
  const auto& shape = src.shape();
  const int64_t inner = shape[static_cast<size_t>(rank - 1)];
  const int64_t ss = src.strides()[static_cast<size_t>(rank - 1)];
  const int64_t ds = dst.strides()[static_cast<size_t>(rank - 1)];
  const int64_t outer = inner == 0 ? 0 : src.numel() / inner;
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  int64_t so = 0, dof = 0;
  for (int64_t o = 0; o < outer; ++o) {
    if constexpr (std::is_trivially_copyable_v<T>) {
      if (ss == 1 && ds == 1) {
        std::memcpy(d + dof, s + so, static_cast<size_t>(inner) * sizeof(T));
      } else {
        for (int64_t i = 0; i < inner; ++i) d[dof + i * ds] = s[so + i * ss];
      }
    } else {
      for (int64_t i = 0; i < inner; ++i) d[dof + i * ds] = s[so + i * ss];
    }
    // Advance the outer multi-index (all axes but the last), odometer style.
    for (int ax = rank - 2; ax >= 0; --ax) {
      auto a = static_cast<size_t>(ax);
      so += src.strides()[a];
      dof += dst.strides()[a];
      if (++idx[a] < shape[a]) break;
      so -= src.strides()[a] * shape[a];
      dof -= dst.strides()[a] * shape[a];
      idx[a] = 0;
    }
  }
}

}  // namespace

void CopyStrided(const Tensor& src, const Tensor& dst) {
  if (src.numel() == 0) return;
  if (src.dtype() == DType::kString) return CopyTyped<std::string>(src, dst);
  switch (DTypeSize(src.dtype())) {
    case 1:
      return CopyTyped<uint8_t>(src, dst);
    case 2:
      return CopyTyped<uint16_t>(src, dst);
    case 4:
      return CopyTyped<uint32_t>(src, dst);
    case 8:
      return CopyTyped<uint64_t>(src, dst);
    default:
      break;
  }
}

}  // namespace mlos
