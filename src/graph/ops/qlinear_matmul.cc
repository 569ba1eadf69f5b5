// Quantized matrix products: MatMulInteger (opset 10, int32 result) and QLinearMatMul (opset 10,
// requantized uint8/int8 result), numpy.matmul batching and 1-D promotion. Integer arithmetic
// with int32 accumulation through int_gemm.h; a constant B (weights) with a constant zero point
// is packed once when the node is loaded. Zero points / scales: per tensor, per row of A /
// column of B, or per (batch, row / column).
#include <algorithm>
#include <cmath>
#include <memory>

#include "graph/ops/int_gemm.h"
#include "graph/ops/op_util.h"
#include "kernels/cpu/gemm.h"

namespace mlos::graph::ops {
namespace {

struct MatGeom {
  Shape out_shape;
  int64_t m = 1, k = 1, n = 1;
  Shape a_batch, b_batch, out_batch;
  int64_t a_batches = 1, b_batches = 1, out_batches = 1;
};

Result<MatGeom> MatMulGeometry(const OpContext& ctx, const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) return ctx.Error("MatMul operands must have rank >= 1");
  auto os = kernels::MatMulShape(a, b);
  if (!os.ok()) return ctx.Error(os.status().message());
  MatGeom g;
  g.out_shape = *os;
  g.m = a.size() >= 2 ? a[a.size() - 2] : 1;
  g.k = a.back();
  g.n = b.size() >= 2 ? b.back() : 1;
  if (a.size() > 2) g.a_batch.assign(a.begin(), a.end() - 2);
  if (b.size() > 2) g.b_batch.assign(b.begin(), b.end() - 2);
  for (int64_t d : g.a_batch) g.a_batches *= d;
  for (int64_t d : g.b_batch) g.b_batches *= d;
  auto ob = BroadcastShapes(g.a_batch, g.b_batch);
  if (!ob.ok()) return ctx.Error(ob.status().message());
  g.out_batch = *ob;
  for (int64_t d : g.out_batch) g.out_batches *= d;
  return g;
}

// Flat batch index of an operand with batch shape `sub` for output batch index `ob`.
int64_t BatchIndex(const Shape& out_batch, const Shape& sub, int64_t ob) {
  int64_t idx = 0, mul = 1;
  const size_t off = out_batch.size() - sub.size();
  for (size_t d = out_batch.size(); d-- > 0;) {
    const int64_t coord = ob % out_batch[d];
    ob /= out_batch[d];
    if (d >= off) {
      const int64_t s = sub[d - off];
      idx += (s == 1 ? 0 : coord) * mul;
      mul *= s;
    }
  }
  return idx;
}

// A zero point or scale tensor with `per` values per batch: returns the stride between batches
// (0 = same for all) and whether it varies along rows/columns, or an error.
struct ParamLayout {
  bool per_item = false;  // varies along the row (A) / column (B)
  int64_t batch_stride = 0;
};
Result<ParamLayout> ParamOf(const OpContext& ctx, const Tensor* t, int64_t per, int64_t batches,
                            const char* what) {
  ParamLayout l;
  if (t == nullptr || t->numel() == 1) return l;
  if (t->numel() == per) {
    l.per_item = true;
    return l;
  }
  if (t->numel() == per * batches) {
    l.per_item = true;
    l.batch_stride = per;
    return l;
  }
  return ctx.Error(std::string(what) + " of shape " + ShapeToString(t->shape()) +
                   " is neither a scalar nor per row/column");
}

std::vector<int32_t> ZeroPoints(const Tensor* t) {
  std::vector<int32_t> v(t == nullptr ? 1 : static_cast<size_t>(t->numel()), 0);
  if (t != nullptr) {
    for (int64_t i = 0; i < t->numel(); ++i) v[i] = static_cast<int32_t>(t->GetAsDouble(i));
  }
  return v;
}

bool IsInt8Like(DType t) { return t == DType::kUInt8 || t == DType::kInt8; }

template <typename Fn>
void VisitInt8(DType t, Fn&& fn) {
  if (t == DType::kUInt8)
    fn(uint8_t{});
  else
    fn(int8_t{});
}

Status PackAllB(const OpContext& ctx, const Tensor& b_in, const Tensor* bzp, const MatGeom& g,
                std::vector<PackedB>* packs) {
  MLOS_ASSIGN_OR_RETURN(Tensor b, b_in.Contiguous());
  MLOS_ASSIGN_OR_RETURN(ParamLayout zl, ParamOf(ctx, bzp, g.n, g.b_batches, "b_zero_point"));
  std::vector<int32_t> zp = ZeroPoints(bzp);
  packs->resize(static_cast<size_t>(g.b_batches));
  VisitInt8(b.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pb = static_cast<const T*>(b.raw_data());
    for (int64_t i = 0; i < g.b_batches; ++i) {
      PackIntB<T>(pb + i * g.k * g.n, g.n, 1, g.k, g.n, zp.data() + i * zl.batch_stride,
                  zl.per_item, &(*packs)[i]);
    }
  });
  return Status::OK();
}

// Input indices of the operands of either op.
struct IntMatMulIo {
  int a, a_zp, b, b_zp;
};

class IntMatMulKernel : public OpKernel {
 public:
  IntMatMulKernel(bool qlinear) : qlinear_(qlinear) {
    io_ = qlinear ? IntMatMulIo{0, 2, 3, 5} : IntMatMulIo{0, 2, 1, 3};
  }
  // Packs a constant B (and its constant zero point) once.
  void Prepack(const Tensor* b, const Tensor* bzp, bool bzp_given) {
    if (b == nullptr || !IsInt8Like(b->dtype()) || (bzp_given && bzp == nullptr)) return;
    if (bzp != nullptr && bzp->dtype() != b->dtype()) return;
    const Shape& bs = b->shape();
    if (bs.empty()) return;
    MatGeom g;
    g.k = bs.size() >= 2 ? bs[bs.size() - 2] : bs[0];
    g.n = bs.size() >= 2 ? bs.back() : 1;
    for (size_t d = 0; d + 2 < bs.size(); ++d) g.b_batches *= bs[d];
    ParamLayout zl;
    if (bzp != nullptr) {
      if (bzp->numel() == 1) {
      } else if (bzp->numel() == g.n) {
        zl.per_item = true;
      } else if (bzp->numel() == g.n * g.b_batches) {
        zl.per_item = true;
        zl.batch_stride = g.n;
      } else {
        return;  // the run reports the error
      }
    }
    auto bc = b->Contiguous();
    if (!bc.ok()) return;
    std::vector<int32_t> zp = ZeroPoints(bzp);
    auto packs = std::make_shared<std::vector<PackedB>>(static_cast<size_t>(g.b_batches));
    VisitInt8(b->dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* pb = static_cast<const T*>(bc->raw_data());
      for (int64_t i = 0; i < g.b_batches; ++i) {
        PackIntB<T>(pb + i * g.k * g.n, g.n, 1, g.k, g.n, zp.data() + i * zl.batch_stride,
                    zl.per_item, &(*packs)[i]);
      }
    });
    prepacked_ = std::move(packs);
  }

  Status Compute(OpContext& ctx) const override;

 private:
  bool qlinear_;
  IntMatMulIo io_;
  std::shared_ptr<const std::vector<PackedB>> prepacked_;
};

Status IntMatMulKernel::Compute(OpContext& ctx) const {
  MLOS_ASSIGN_OR_RETURN(const Tensor* a_in, ctx.RequireTensor(io_.a));
  MLOS_ASSIGN_OR_RETURN(const Tensor* b_in, ctx.RequireTensor(io_.b));
  const Tensor* azp = ctx.has_input(io_.a_zp) ? &ctx.input(io_.a_zp) : nullptr;
  const Tensor* bzp = ctx.has_input(io_.b_zp) ? &ctx.input(io_.b_zp) : nullptr;
  if (!IsInt8Like(a_in->dtype()) || !IsInt8Like(b_in->dtype())) {
    return ctx.Error("A and B must be uint8 or int8, got " + std::string(DTypeName(a_in->dtype())) +
                     " and " + std::string(DTypeName(b_in->dtype())));
  }
  if ((azp != nullptr && azp->dtype() != a_in->dtype()) ||
      (bzp != nullptr && bzp->dtype() != b_in->dtype())) {
    return ctx.Error("zero point dtypes must match their operands");
  }
  MLOS_ASSIGN_OR_RETURN(MatGeom g, MatMulGeometry(ctx, a_in->shape(), b_in->shape()));
  if (g.k >= (int64_t{1} << 30)) return ctx.Error("inner dimension too large");
  MLOS_ASSIGN_OR_RETURN(ParamLayout azl, ParamOf(ctx, azp, g.m, g.a_batches, "a_zero_point"));
  MLOS_ASSIGN_OR_RETURN(ParamLayout bzl, ParamOf(ctx, bzp, g.n, g.b_batches, "b_zero_point"));
  (void)bzl;
  std::vector<int32_t> a_zp = ZeroPoints(azp);

  // Requantization parameters (QLinearMatMul).
  std::vector<float> sa{1.f}, sb{1.f};
  ParamLayout sal, sbl;
  float sy = 1.f;
  int32_t yzp = 0;
  DType out_t = DType::kInt32;
  if (qlinear_) {
    MLOS_ASSIGN_OR_RETURN(const Tensor* a_s, ctx.RequireTensor(1));
    MLOS_ASSIGN_OR_RETURN(const Tensor* b_s, ctx.RequireTensor(4));
    MLOS_ASSIGN_OR_RETURN(const Tensor* y_s, ctx.RequireTensor(6));
    const Tensor* y_zp = ctx.has_input(7) ? &ctx.input(7) : nullptr;
    if (!IsFloating(a_s->dtype()) || !IsFloating(b_s->dtype()) || !IsFloating(y_s->dtype())) {
      return ctx.Error("scales must be float tensors");
    }
    if (y_s->numel() != 1) return ctx.Error("y_scale must be a scalar");
    MLOS_ASSIGN_OR_RETURN(sal, ParamOf(ctx, a_s, g.m, g.a_batches, "a_scale"));
    MLOS_ASSIGN_OR_RETURN(sbl, ParamOf(ctx, b_s, g.n, g.b_batches, "b_scale"));
    sa.assign(static_cast<size_t>(a_s->numel()), 0.f);
    sb.assign(static_cast<size_t>(b_s->numel()), 0.f);
    for (int64_t i = 0; i < a_s->numel(); ++i) sa[i] = static_cast<float>(a_s->GetAsDouble(i));
    for (int64_t i = 0; i < b_s->numel(); ++i) sb[i] = static_cast<float>(b_s->GetAsDouble(i));
    sy = static_cast<float>(y_s->GetAsDouble(0));
    if (!(sy != 0.f)) return ctx.Error("y_scale must be non-zero");
    out_t = y_zp != nullptr ? y_zp->dtype() : DType::kUInt8;
    if (!IsInt8Like(out_t)) return ctx.Error("y_zero_point must be uint8 or int8");
    if (y_zp != nullptr && y_zp->numel() != 1) return ctx.Error("y_zero_point must be a scalar");
    yzp = y_zp != nullptr ? static_cast<int32_t>(y_zp->GetAsDouble(0)) : 0;
  }

  std::vector<PackedB> local;
  const std::vector<PackedB>* packs = prepacked_.get();
  if (packs == nullptr || static_cast<int64_t>(packs->size()) != g.b_batches ||
      (*packs)[0].k != g.k || (*packs)[0].n != g.n) {
    MLOS_RETURN_IF_ERROR(PackAllB(ctx, *b_in, bzp, g, &local));
    packs = &local;
  }
  MLOS_ASSIGN_OR_RETURN(Tensor a, a_in->Contiguous());
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, out_t, g.out_shape));
  const int64_t kp = (g.k + 1) & ~int64_t{1};
  std::vector<int16_t> a16(static_cast<size_t>(g.m * kp));
  std::vector<int32_t> acc(qlinear_ ? static_cast<size_t>(g.m * g.n) : 0);
  for (int64_t ob = 0; ob < g.out_batches; ++ob) {
    const int64_t ai = BatchIndex(g.out_batch, g.a_batch, ob);
    const int64_t bi = BatchIndex(g.out_batch, g.b_batch, ob);
    VisitInt8(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      WidenIntA<T>(static_cast<const T*>(a.raw_data()) + ai * g.m * g.k, g.k, g.m, g.k, kp,
                   a_zp.data() + ai * azl.batch_stride, azl.per_item, a16.data());
    });
    int32_t* c = qlinear_ ? acc.data() : static_cast<int32_t*>(y.raw_data()) + ob * g.m * g.n;
    IntGemm(a16.data(), g.m, (*packs)[bi], c, g.n, ctx.pool());
    if (!qlinear_) continue;
    const float* psa = sa.data() + ai * sal.batch_stride;
    const float* psb = sb.data() + bi * sbl.batch_stride;
    VisitInt8(out_t, [&](auto tag) {
      using T = decltype(tag);
      constexpr double lo = std::is_same_v<T, uint8_t> ? 0 : -128;
      constexpr double hi = std::is_same_v<T, uint8_t> ? 255 : 127;
      T* py = static_cast<T*>(y.raw_data()) + ob * g.m * g.n;
      ctx.pool().ParallelFor(g.m, std::max<int64_t>(1, 16384 / std::max<int64_t>(g.n, 1)),
                             [&](int64_t b, int64_t e) {
                               for (int64_t i = b; i < e; ++i) {
                                 const float ra = psa[sal.per_item ? i : 0];
                                 for (int64_t j = 0; j < g.n; ++j) {
                                   const float mult = ra * psb[sbl.per_item ? j : 0] / sy;
                                   double v = std::nearbyint(static_cast<double>(acc[i * g.n + j]) *
                                                             static_cast<double>(mult)) +
                                              yzp;
                                   if (!(v >= lo)) v = lo;  // NaN too
                                   if (v > hi) v = hi;
                                   py[i * g.n + j] = static_cast<T>(v);
                                 }
                               }
                             });
    });
  }
  return Status::OK();
}

Result<std::unique_ptr<OpKernel>> MakeMatMulInteger(const KernelInit& init) {
  auto k = std::make_unique<IntMatMulKernel>(false);
  bool zp_given = init.node.inputs.size() > 3 && !init.node.inputs[3].empty();
  k->Prepack(init.constant_input(1), zp_given ? init.constant_input(3) : nullptr, zp_given);
  return std::unique_ptr<OpKernel>(std::move(k));
}

Result<std::unique_ptr<OpKernel>> MakeQLinearMatMul(const KernelInit& init) {
  auto k = std::make_unique<IntMatMulKernel>(true);
  bool zp_given = init.node.inputs.size() > 5 && !init.node.inputs[5].empty();
  k->Prepack(init.constant_input(3), zp_given ? init.constant_input(5) : nullptr, zp_given);
  return std::unique_ptr<OpKernel>(std::move(k));
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(qlinear_matmul) {
  using namespace mlos::graph::ops;  // NOLINT
  r.AddKernel("MatMulInteger", MakeMatMulInteger, 10);
  r.AddKernel("QLinearMatMul", MakeQLinearMatMul, 10);
}
