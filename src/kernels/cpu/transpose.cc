// Transpose / permute into a contiguous output, any dtype. When the permutation moves the
// input's contiguous axis away from the innermost output axis, the copy runs in square tiles so
// both the strided reads and the writes stay in cache; otherwise it is a strided row copy.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cpu/nn.h"
#include "kernels/cpu/strided_iter.h"

namespace mlos::kernels {
namespace {

constexpr int64_t kTile = 32;

template <typename T>
void CopyRuns(const internal::StridedLayout<2>& L, const T* x, T* y, ThreadPool& pool) {
  const int64_t sy = L.inner_stride(0), sx = L.inner_stride(1);
  auto body = [&](int64_t begin, int64_t end) {
    internal::ForEachSegment(L, begin, end, [&](const int64_t* off, int64_t cnt) {
      const T* src = x + off[1];
      T* dst = y + off[0];
      if constexpr (std::is_trivially_copyable_v<T>) {
        if (sx == 1 && sy == 1) {
          std::memcpy(static_cast<void*>(dst), src, static_cast<size_t>(cnt) * sizeof(T));
          return;
        }
      }
      for (int64_t i = 0; i < cnt; ++i) dst[i * sy] = src[i * sx];
    });
  };
  pool.ParallelFor(L.numel, std::is_trivially_copyable_v<T> ? 65536 : 4096, body);
}

// Tiled copy when dimension `d` (not the last) is the one the input walks contiguously.
template <typename T>
void CopyTiled(const internal::StridedLayout<2>& L, int d, const T* x, T* y, ThreadPool& pool) {
  const int last = L.rank - 1;
  const int64_t nd = L.shape[d], nl = L.shape[last];
  const int64_t syd = L.strides[0][d], syl = L.strides[0][last];
  const int64_t sxd = L.strides[1][d], sxl = L.strides[1][last];
  // The other dimensions form a batch; its offsets come from an odometer over them.
  int64_t batch = 1;
  for (int k = 0; k < last; ++k) {
    if (k != d) batch *= L.shape[k];
  }
  const int64_t tiles_d = (nd + kTile - 1) / kTile, tiles_l = (nl + kTile - 1) / kTile;
  auto body = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      int64_t bi = t / (tiles_d * tiles_l);
      const int64_t td = (t / tiles_l) % tiles_d, tl = t % tiles_l;
      int64_t offx = 0, offy = 0;
      for (int k = last - 1; k >= 0; --k) {
        if (k == d) continue;
        const int64_t i = bi % L.shape[k];
        bi /= L.shape[k];
        offx += i * L.strides[1][k];
        offy += i * L.strides[0][k];
      }
      const int64_t d0 = td * kTile, d1 = std::min(nd, d0 + kTile);
      const int64_t l0 = tl * kTile, l1 = std::min(nl, l0 + kTile);
      for (int64_t i = d0; i < d1; ++i) {
        const T* src = x + offx + i * sxd;
        T* dst = y + offy + i * syd;
        for (int64_t j = l0; j < l1; ++j) dst[j * syl] = src[j * sxl];
      }
    }
  };
  const int64_t tiles = batch * tiles_d * tiles_l;
  pool.ParallelFor(tiles, std::max<int64_t>(1, 65536 / (kTile * kTile)), body);
}

template <typename T>
void RunCopy(const internal::StridedLayout<2>& L, const void* x, void* y, ThreadPool& pool) {
  const T* xp = static_cast<const T*>(x);
  T* yp = static_cast<T*>(y);
  if (L.rank >= 2 && L.inner_stride(1) != 1 && L.inner() >= 4) {
    for (int d = 0; d < L.rank - 1; ++d) {
      if (L.strides[1][d] == 1 && L.shape[d] >= 4) {
        CopyTiled(L, d, xp, yp, pool);
        return;
      }
    }
  }
  CopyRuns(L, xp, yp, pool);
}

}  // namespace

Status Transpose(const Tensor& x, std::span<const int64_t> perm, Tensor& y, ThreadPool& pool) {
  if (!x.defined() || !y.defined()) return InvalidArgument("Transpose: undefined tensor");
  const int r = x.rank();
  std::vector<int64_t> p(perm.begin(), perm.end());
  if (p.empty()) {  // ONNX default: reverse the axes
    for (int i = r - 1; i >= 0; --i) p.push_back(i);
  }
  std::vector<bool> seen(static_cast<size_t>(r), false);
  bool valid = static_cast<int>(p.size()) == r;
  for (size_t i = 0; valid && i < p.size(); ++i) {
    const int64_t a = p[i] < 0 ? p[i] + r : p[i];
    valid = a >= 0 && a < r && !seen[static_cast<size_t>(a)];
    if (valid) {
      seen[static_cast<size_t>(a)] = true;
      p[i] = a;
    }
  }
  if (!valid) {
    return InvalidArgument("Transpose: perm ", ShapeToString(perm), " is not a permutation of ", r,
                           " axes (input shape ", ShapeToString(x.shape()), ")");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor xv, x.Permute(p));
  if (y.dtype() != x.dtype() || y.shape() != xv.shape()) {
    return InvalidArgument("Transpose: output ", DTypeName(y.dtype()), ShapeToString(y.shape()),
                           " for input ", DTypeName(x.dtype()), ShapeToString(x.shape()),
                           " and perm ", ShapeToString(p), " (expected ", ShapeToString(xv.shape()),
                           ")");
  }
  if (y.numel() == 0) return Status::OK();
  MLOS_RETURN_IF_ERROR(internal::CheckWritable(y, "Transpose"));
  internal::StridedLayout<2> L;
  MLOS_RETURN_IF_ERROR(internal::BuildLayout<2>(
      y.shape(),
      {internal::BroadcastStrides(y, y.shape()), internal::BroadcastStrides(xv, y.shape())}, L));
  if (x.dtype() == DType::kString) {
    RunCopy<std::string>(L, xv.raw_data(), y.raw_data(), pool);
    return Status::OK();
  }
  switch (DTypeSize(x.dtype())) {
    case 1:
      RunCopy<uint8_t>(L, xv.raw_data(), y.raw_data(), pool);
      break;
    case 2:
      RunCopy<uint16_t>(L, xv.raw_data(), y.raw_data(), pool);
      break;
    case 4:
      RunCopy<uint32_t>(L, xv.raw_data(), y.raw_data(), pool);
      break;
    case 8:
      RunCopy<uint64_t>(L, xv.raw_data(), y.raw_data(), pool);
      break;
    default:
      return Internal("Transpose: unexpected element size ", DTypeSize(x.dtype()));
  }
  return Status::OK();
}

}  // namespace mlos::kernels
