// Unary elementwise kernel: validation, strided iteration, float32 AVX2 fast path, and the
// typed portable loops.
#include <type_traits>
#include <utility>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/elementwise_scalar.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/strided_iter.h"
#include "kernels/cpu/vector_math.h"

namespace mlos::kernels {
namespace {

using internal::ComputeT;
using internal::LoadC;
using internal::StoreC;

template <UnaryOp Op, typename T>
using UnaryOutT = std::conditional_t<
    std::is_same_v<decltype(internal::UnaryScalar<Op>(std::declval<ComputeT<T>>())), bool> &&
        !std::is_same_v<T, bool>,
    bool, T>;

template <UnaryOp Op, typename T>
void UnaryLoop(const T* x, int64_t sx, UnaryOutT<Op, T>* y, int64_t sy, int64_t n) {
  using Out = UnaryOutT<Op, T>;
  if (sx == 1 && sy == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] = StoreC<Out>(internal::UnaryScalar<Op>(LoadC(x[i])));
  } else {
    for (int64_t i = 0; i < n; ++i) {
      y[i * sy] = StoreC<Out>(internal::UnaryScalar<Op>(LoadC(x[i * sx])));
    }
  }
}

bool IsExpensive(UnaryOp op) {
  switch (op) {
    case UnaryOp::kIdentity:
    case UnaryOp::kNeg:
    case UnaryOp::kAbs:
    case UnaryOp::kSign:
    case UnaryOp::kRelu:
    case UnaryOp::kNot:
    case UnaryOp::kIsNaN:
    case UnaryOp::kIsInf:
    case UnaryOp::kFloor:
    case UnaryOp::kCeil:
    case UnaryOp::kRound:
      return false;
    default:
      return true;
  }
}

template <UnaryOp Op, typename T>
void RunTyped(const internal::StridedLayout<2>& L, const Tensor& x, Tensor& y, bool avx2,
              ThreadPool& pool) {
  using Out = UnaryOutT<Op, T>;
  const T* xp = static_cast<const T*>(x.raw_data());
  Out* yp = static_cast<Out*>(y.raw_data());
  const int64_t sy = L.inner_stride(0), sx = L.inner_stride(1);
  auto body = [&](int64_t begin, int64_t end) {
    internal::ForEachSegment(L, begin, end, [&](const int64_t* off, int64_t cnt) {
      if constexpr (std::is_same_v<T, float> && std::is_same_v<Out, float>) {
        if (avx2 && sx == 1 && sy == 1 &&
            internal::UnaryF32Avx2(Op, xp + off[1], yp + off[0], cnt)) {
          return;
        }
      }
      UnaryLoop<Op, T>(xp + off[1], sx, yp + off[0], sy, cnt);
    });
  };
  pool.ParallelFor(L.numel, internal::ElementwiseGrain(IsExpensive(Op)), body);
}

template <UnaryOp Op>
void RunOp(const internal::StridedLayout<2>& L, const Tensor& x, Tensor& y, bool avx2,
           ThreadPool& pool) {
  VisitDType(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, std::string>) RunTyped<Op, T>(L, x, y, avx2, pool);
  });
}

using RunFn = void (*)(const internal::StridedLayout<2>&, const Tensor&, Tensor&, bool,
                       ThreadPool&);

template <size_t... I>
constexpr auto MakeTable(std::index_sequence<I...>) {
  return std::array<RunFn, sizeof...(I)>{&RunOp<static_cast<UnaryOp>(I)>...};
}
constexpr size_t kNumUnaryOps = static_cast<size_t>(UnaryOp::kIsInf) + 1;
constexpr auto kTable = MakeTable(std::make_index_sequence<kNumUnaryOps>{});

}  // namespace

Status Unary(UnaryOp op, const Tensor& x, Tensor& y, ThreadPool& pool) {
  if (static_cast<size_t>(op) >= kNumUnaryOps) {
    return InvalidArgument("unary: unknown op ", static_cast<int>(op));
  }
  if (!x.defined() || !y.defined())
    return InvalidArgument("unary ", UnaryOpName(op), ": undefined tensor");
  MLOS_ASSIGN_OR_RETURN(DType out_type, UnaryResultType(op, x.dtype()));
  if (y.dtype() != out_type || y.shape() != x.shape()) {
    return InvalidArgument("unary ", UnaryOpName(op), ": output ", DTypeName(y.dtype()),
                           ShapeToString(y.shape()), " does not match input ", DTypeName(x.dtype()),
                           ShapeToString(x.shape()), " (expected ", DTypeName(out_type),
                           ShapeToString(x.shape()), ")");
  }
  if (x.numel() == 0) return Status::OK();
  MLOS_RETURN_IF_ERROR(internal::CheckWritable(y, "unary"));
  internal::StridedLayout<2> L;
  MLOS_RETURN_IF_ERROR(internal::BuildLayout<2>(
      y.shape(),
      {internal::BroadcastStrides(y, y.shape()), internal::BroadcastStrides(x, y.shape())}, L));
  kTable[static_cast<size_t>(op)](L, x, y, KernelsUseAvx2(), pool);
  return Status::OK();
}

}  // namespace mlos::kernels
