// Binary elementwise kernel with numpy broadcasting: validation, strided iteration, float32 AVX2
// fast paths (same shape, scalar, row and column broadcast all reduce to inner strides 0 or 1),
// and the typed portable loops.
#include <array>
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

template <BinaryOp Op, typename T>
using BinaryOutT = std::conditional_t<
    std::is_same_v<decltype(internal::BinaryScalar<Op>(std::declval<ComputeT<T>>(),
                                                       std::declval<ComputeT<T>>())),
                   bool>,
    bool, T>;

template <BinaryOp Op, typename T>
void BinaryLoop(const T* a, int64_t sa, const T* b, int64_t sb, BinaryOutT<Op, T>* o, int64_t so,
                int64_t n) {
  using Out = BinaryOutT<Op, T>;
  // The common stride patterns get their own loops so the compiler can vectorise them.
  if (sa == 1 && sb == 1 && so == 1) {
    for (int64_t i = 0; i < n; ++i) {
      o[i] = StoreC<Out>(internal::BinaryScalar<Op>(LoadC(a[i]), LoadC(b[i])));
    }
  } else if (sa == 1 && sb == 0 && so == 1) {
    const auto bv = LoadC(b[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = StoreC<Out>(internal::BinaryScalar<Op>(LoadC(a[i]), bv));
  } else if (sa == 0 && sb == 1 && so == 1) {
    const auto av = LoadC(a[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = StoreC<Out>(internal::BinaryScalar<Op>(av, LoadC(b[i])));
  } else {
    for (int64_t i = 0; i < n; ++i) {
      o[i * so] = StoreC<Out>(internal::BinaryScalar<Op>(LoadC(a[i * sa]), LoadC(b[i * sb])));
    }
  }
}

constexpr bool IsExpensive(BinaryOp op) {
  return op == BinaryOp::kPow || op == BinaryOp::kMod || op == BinaryOp::kFmod;
}

template <BinaryOp Op, typename T>
void RunTyped(const internal::StridedLayout<3>& L, const Tensor& a, const Tensor& b, Tensor& out,
              bool avx2, ThreadPool& pool) {
  using Out = BinaryOutT<Op, T>;
  const T* ap = static_cast<const T*>(a.raw_data());
  const T* bp = static_cast<const T*>(b.raw_data());
  Out* op = static_cast<Out*>(out.raw_data());
  const int64_t so = L.inner_stride(0), sa = L.inner_stride(1), sb = L.inner_stride(2);
  auto body = [&](int64_t begin, int64_t end) {
    internal::ForEachSegment(L, begin, end, [&](const int64_t* off, int64_t cnt) {
      if constexpr (std::is_same_v<T, float> && std::is_same_v<Out, float>) {
        if (avx2 && so == 1 &&
            internal::BinaryF32Avx2(Op, ap + off[1], sa, bp + off[2], sb, op + off[0], cnt)) {
          return;
        }
      }
      BinaryLoop<Op, T>(ap + off[1], sa, bp + off[2], sb, op + off[0], so, cnt);
    });
  };
  pool.ParallelFor(L.numel, internal::ElementwiseGrain(IsExpensive(Op)), body);
}

template <BinaryOp Op>
void RunOp(const internal::StridedLayout<3>& L, const Tensor& a, const Tensor& b, Tensor& out,
           bool avx2, ThreadPool& pool) {
  VisitDType(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, std::string>) RunTyped<Op, T>(L, a, b, out, avx2, pool);
  });
}

using RunFn = void (*)(const internal::StridedLayout<3>&, const Tensor&, const Tensor&, Tensor&,
                       bool, ThreadPool&);

template <size_t... I>
constexpr auto MakeTable(std::index_sequence<I...>) {
  return std::array<RunFn, sizeof...(I)>{&RunOp<static_cast<BinaryOp>(I)>...};
}
constexpr size_t kNumBinaryOps = static_cast<size_t>(BinaryOp::kShiftRight) + 1;
constexpr auto kTable = MakeTable(std::make_index_sequence<kNumBinaryOps>{});

}  // namespace

Status Binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out, ThreadPool& pool) {
  if (static_cast<size_t>(op) >= kNumBinaryOps) {
    return InvalidArgument("binary: unknown op ", static_cast<int>(op));
  }
  const std::string_view name = BinaryOpName(op);
  if (!a.defined() || !b.defined() || !out.defined()) {
    return InvalidArgument("binary ", name, ": undefined tensor");
  }
  MLOS_ASSIGN_OR_RETURN(DType out_type, BinaryResultType(op, a.dtype(), b.dtype()));
  Result<Shape> shape = BroadcastShapes(a.shape(), b.shape());
  if (!shape.ok()) {
    return InvalidArgument("binary ", name, ": shapes ", ShapeToString(a.shape()), " and ",
                           ShapeToString(b.shape()), " do not broadcast");
  }
  if (out.dtype() != out_type || out.shape() != *shape) {
    return InvalidArgument("binary ", name, ": output ", DTypeName(out.dtype()),
                           ShapeToString(out.shape()), " for inputs ", ShapeToString(a.shape()),
                           " and ", ShapeToString(b.shape()), " (expected ", DTypeName(out_type),
                           ShapeToString(*shape), ")");
  }
  if (out.numel() == 0) return Status::OK();
  MLOS_RETURN_IF_ERROR(internal::CheckWritable(out, "binary"));
  internal::StridedLayout<3> L;
  MLOS_RETURN_IF_ERROR(internal::BuildLayout<3>(
      out.shape(),
      {internal::BroadcastStrides(out, out.shape()), internal::BroadcastStrides(a, out.shape()),
       internal::BroadcastStrides(b, out.shape())},
      L));
  kTable[static_cast<size_t>(op)](L, a, b, out, KernelsUseAvx2(), pool);
  return Status::OK();
}

}  // namespace mlos::kernels
