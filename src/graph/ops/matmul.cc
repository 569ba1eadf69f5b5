// MatMul, Gemm and mlos::FusedMatMul. Float32 goes to the shared GEMM kernel (bias and
// activation fused in its epilogue); a constant float32 B (a weight) is packed once at load and
// multiplied with PackedSgemm. Other dtypes use a plain loop (they only appear in conformance
// tests).
#include "graph/ops/fused_activation.h"
#include "graph/ops/op_util.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/prepacked_gemm.h"

namespace mlos::graph::ops {
namespace {

template <typename T>
void NaiveMatMul(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k, int64_t lda_r,
                 int64_t lda_c, int64_t ldb_r, int64_t ldb_c) {
  using C = CalcT<T>;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      C acc = C(0);
      for (int64_t p = 0; p < k; ++p) {
        acc += static_cast<C>(a[i * lda_r + p * lda_c]) * static_cast<C>(b[p * ldb_r + j * ldb_c]);
      }
      c[i * n + j] = T(acc);
    }
  }
}

Status MatMulCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequireTensor(1));
  if (a->dtype() != b->dtype()) return ctx.Error("operands have different dtypes");
  auto shape = kernels::MatMulShape(a->shape(), b->shape());
  if (!shape.ok()) return ctx.Error(shape.status().message());
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, a->dtype(), *shape));
  if (out.numel() == 0) return Status::OK();
  if (a->dtype() == DType::kFloat32) {
    if (a->shape().back() == 0) {
      std::fill_n(static_cast<float*>(out.raw_data()), out.numel(), 0.f);
      return Status::OK();
    }
    return kernels::MatMul(*a, *b, out, ctx.pool());
  }
  // Generic: promote to >= 2-D, broadcast batch dims, loop.
  Shape as = a->shape(), bs = b->shape();
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  Shape batch_a(as.begin(), as.end() - 2), batch_b(bs.begin(), bs.end() - 2);
  auto batch = BroadcastShapes(batch_a, batch_b);
  if (!batch.ok()) return ctx.Error(batch.status().message());
  Shape fa = *batch, fb = *batch;
  fa.push_back(m);
  fa.push_back(k);
  fb.push_back(k);
  fb.push_back(n);
  MLOS_ASSIGN_OR_RETURN(Tensor a2, a->Reshape(as));
  MLOS_ASSIGN_OR_RETURN(Tensor b2, b->Reshape(bs));
  MLOS_ASSIGN_OR_RETURN(Tensor av, a2.BroadcastTo(fa));
  MLOS_ASSIGN_OR_RETURN(Tensor bv, b2.BroadcastTo(fb));
  MLOS_ASSIGN_OR_RETURN(Tensor ac, av.Contiguous());
  MLOS_ASSIGN_OR_RETURN(Tensor bc, bv.Contiguous());
  MLOS_ASSIGN_OR_RETURN(int64_t nb, NumElements(*batch));
  return DispatchNumeric(a->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* pa = static_cast<const T*>(ac.raw_data());
    const T* pb = static_cast<const T*>(bc.raw_data());
    T* pc = static_cast<T*>(out.raw_data());
    for (int64_t i = 0; i < nb; ++i) {
      NaiveMatMul<T>(pa + i * m * k, pb + i * k * n, pc + i * m * n, m, n, k, k, 1, n, 1);
    }
    return Status::OK();
  });
}

// Rows from which a packed constant B pays off: up to 16 rows the GEMM's small-m paths, which
// stream B unpacked, are as fast or faster, at 2 threads clearly (measured on the MLP's GEMMs;
// the 12-row tile wastes a third of its work at 16 rows).
constexpr int64_t kPackedMinRows = 20;

// A constant float32 B, packed for the micro-kernel at load (nullptr when not packed).
std::shared_ptr<const kernels::PackedMatrix> PackConstant(const Tensor* b, bool trans,
                                                          float alpha) {
  if (b == nullptr || b->dtype() != DType::kFloat32 || b->rank() != 2 || b->numel() == 0)
    return nullptr;
  auto bc = b->Contiguous();
  if (!bc.ok()) return nullptr;
  const int64_t rows = b->dim(0), cols = b->dim(1);
  const float* p = static_cast<const float*>(bc->raw_data());
  // B(p, j): k x n, from [k, n] or from [n, k] when transposed.
  auto packed = trans ? kernels::PackedMatrix::Pack(p, 1, cols, cols, rows, alpha)
                      : kernels::PackedMatrix::Pack(p, cols, 1, rows, cols, alpha);
  return packed.ok() ? *packed : nullptr;
}

class GemmKernel final : public OpKernel {
 public:
  explicit GemmKernel(std::shared_ptr<const kernels::PackedMatrix> packed)
      : packed_(std::move(packed)) {}

  Status Compute(OpContext& ctx) const override {
    MLOS_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequireTensor(0));
    MLOS_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequireTensor(1));
    const Node& n = ctx.node();
    const bool ta = n.GetInt("transA", 0) != 0, tb = n.GetInt("transB", 0) != 0;
    const float alpha = n.GetFloat("alpha", 1.f), beta = n.GetFloat("beta", 1.f);
    if (a->rank() != 2 || b->rank() != 2) return ctx.Error("A and B must be 2-D");
    const int64_t m = ta ? a->dim(1) : a->dim(0), k = ta ? a->dim(0) : a->dim(1);
    const int64_t kb = tb ? b->dim(1) : b->dim(0), nn = tb ? b->dim(0) : b->dim(1);
    if (k != kb)
      return ctx.Error("inner dimensions differ: " + ShapeToString(a->shape()) + " x " +
                       ShapeToString(b->shape()));
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, a->dtype(), {m, nn}));
    const Tensor* c = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    Tensor cview;
    if (c != nullptr && beta != 0.f) {
      auto v = c->BroadcastTo({m, nn});
      if (!v.ok())
        return ctx.Error("C of shape " + ShapeToString(c->shape()) + " does not broadcast");
      cview = *v;
    }
    if (a->dtype() == DType::kFloat32)
      return Float(ctx, *a, *b, cview, ta, tb, alpha, beta, m, k, nn, out);
    return DispatchNumeric(a->dtype(), ctx, [&](auto tag) -> Status {
      using T = decltype(tag);
      using C = CalcT<T>;
      MLOS_ASSIGN_OR_RETURN(Tensor ac, a->Contiguous());
      MLOS_ASSIGN_OR_RETURN(Tensor bc, b->Contiguous());
      const T* pa = static_cast<const T*>(ac.raw_data());
      const T* pb = static_cast<const T*>(bc.raw_data());
      T* po = static_cast<T*>(out.raw_data());
      NaiveMatMul<T>(pa, pb, po, m, nn, k, ta ? 1 : k, ta ? m : 1, tb ? 1 : nn, tb ? k : 1);
      for (int64_t i = 0; i < m * nn; ++i) {
        C v = static_cast<C>(alpha) * static_cast<C>(po[i]);
        if (cview.defined()) {
          int64_t r = i / nn, col = i % nn;
          const T* pc = static_cast<const T*>(cview.raw_data());
          v += static_cast<C>(beta) *
               static_cast<C>(pc[r * cview.strides()[0] + col * cview.strides()[1]]);
        }
        po[i] = T(v);
      }
      return Status::OK();
    });
  }

 private:
  Status Float(OpContext& ctx, const Tensor& a, const Tensor& b, const Tensor& cview, bool ta,
               bool tb, float alpha, float beta, int64_t m, int64_t k, int64_t nn,
               Tensor& out) const {
    MLOS_ASSIGN_OR_RETURN(Tensor ac, a.Contiguous());
    kernels::GemmArgs g;
    g.m = m;
    g.n = nn;
    g.k = k;
    g.a = static_cast<const float*>(ac.raw_data());
    g.lda = ac.dim(1);
    g.trans_a = ta;
    g.trans_b = tb;
    g.c = static_cast<float*>(out.raw_data());
    g.ldc = nn;
    g.alpha = alpha;
    g.activation = FusedActivation(ctx.node());
    if (cview.defined()) {
      // A per-column bias rides in the epilogue; anything else is copied in first.
      if (cview.strides()[0] == 0 && (cview.strides()[1] == 1 || nn == 1) && beta == 1.f) {
        g.bias = static_cast<const float*>(cview.raw_data());
        if (nn == 1 && cview.strides()[1] == 0) g.bias = nullptr;
      }
      if (g.bias == nullptr) {
        MLOS_RETURN_IF_ERROR(out.CopyFrom(cview));
        g.beta = beta;
      }
    }
    if (m == 0 || nn == 0) return Status::OK();
    if (k == 0) {
      float* o = static_cast<float*>(out.raw_data());
      for (int64_t i = 0; i < m * nn; ++i)
        o[i] = g.beta == 0.f ? (g.bias ? g.bias[i % nn] : 0.f) : o[i] * g.beta;
      kernels::ApplyActivation(g.activation, o, m * nn);
      return Status::OK();
    }
    // The packed copy holds alpha * B of the constant input; the shapes were checked above.
    if (packed_ != nullptr && m >= kPackedMinRows && packed_->k() == k && packed_->n() == nn) {
      kernels::PackedGemmArgs p;
      p.m = m;
      p.a = g.a;
      p.a_rs = ta ? 1 : g.lda;
      p.a_cs = ta ? g.lda : 1;
      p.c = g.c;
      p.ldc = nn;
      p.beta = g.beta;
      p.bias = g.bias;
      p.activation = g.activation;
      kernels::PackedSgemm(p, *packed_, ctx.pool());
      return Status::OK();
    }
    MLOS_ASSIGN_OR_RETURN(Tensor bc, b.Contiguous());
    g.b = static_cast<const float*>(bc.raw_data());
    g.ldb = bc.dim(1);
    kernels::Sgemm(g, ctx.pool());
    return Status::OK();
  }

  std::shared_ptr<const kernels::PackedMatrix> packed_;
};

Result<std::unique_ptr<OpKernel>> MakeGemm(const KernelInit& init) {
  const Node& n = init.node;
  return std::unique_ptr<OpKernel>(new GemmKernel(
      PackConstant(init.constant_input(1), n.GetInt("transB", 0) != 0, n.GetFloat("alpha", 1.f))));
}

// mlos::FusedMatMul(A [..., K], W [K, N] constant, bias [N] optional) with an activation
// epilogue: MatMul + Add (+ activation) from the fusion pass, one GEMM over all rows of A.
class FusedMatMulKernel final : public OpKernel {
 public:
  explicit FusedMatMulKernel(std::shared_ptr<const kernels::PackedMatrix> packed)
      : packed_(std::move(packed)) {}
  Status Compute(OpContext& ctx) const override;

 private:
  std::shared_ptr<const kernels::PackedMatrix> packed_;
};

Status FusedMatMulKernel::Compute(OpContext& ctx) const {
  MLOS_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* w, ctx.RequireTensor(1));
  if (a->dtype() != DType::kFloat32 || w->dtype() != DType::kFloat32 || w->rank() != 2 ||
      a->rank() < 1) {
    return ctx.Error("needs float32 A of rank >= 1 and a 2-D W");
  }
  const int64_t k = w->shape()[0], n = w->shape()[1];
  if (a->shape().back() != k) {
    return ctx.Error("inner dimensions differ: " + ShapeToString(a->shape()) + " x " +
                     ShapeToString(w->shape()));
  }
  Shape out_shape = a->shape();
  out_shape.back() = n;
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, DType::kFloat32, out_shape));
  MLOS_ASSIGN_OR_RETURN(Tensor ac, a->Contiguous());
  int64_t m = 1;
  for (int i = 0; i + 1 < a->rank(); ++i) m *= a->shape()[i];
  kernels::GemmArgs g;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = static_cast<const float*>(ac.raw_data());
  g.lda = k;
  g.c = static_cast<float*>(out.raw_data());
  g.ldc = n;
  Tensor bc;
  if (ctx.has_input(2)) {
    MLOS_ASSIGN_OR_RETURN(bc, ctx.input(2).Contiguous());
    if (bc.numel() != n) return ctx.Error("bias must have N elements");
    g.bias = static_cast<const float*>(bc.raw_data());
  }
  g.activation = FusedActivation(ctx.node());
  if (m == 0 || n == 0) return Status::OK();
  if (k == 0) {
    float* o = static_cast<float*>(out.raw_data());
    for (int64_t i = 0; i < m * n; ++i) o[i] = g.bias ? g.bias[i % n] : 0.f;
    kernels::ApplyActivation(g.activation, o, m * n);
    return Status::OK();
  }
  if (packed_ != nullptr && m >= kPackedMinRows && packed_->k() == k && packed_->n() == n) {
    kernels::PackedGemmArgs p;
    p.m = m;
    p.a = g.a;
    p.a_rs = k;
    p.c = g.c;
    p.ldc = n;
    p.bias = g.bias;
    p.activation = g.activation;
    kernels::PackedSgemm(p, *packed_, ctx.pool());
    return Status::OK();
  }
  MLOS_ASSIGN_OR_RETURN(Tensor wc, w->Contiguous());
  g.b = static_cast<const float*>(wc.raw_data());
  g.ldb = n;
  kernels::Sgemm(g, ctx.pool());
  return Status::OK();
}

Result<std::unique_ptr<OpKernel>> MakeFusedMatMul(const KernelInit& init) {
  return std::unique_ptr<OpKernel>(
      new FusedMatMulKernel(PackConstant(init.constant_input(1), false, 1.f)));
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(matmul) {
  using namespace mlos::graph::ops;  // NOLINT
  r.AddKernel("FusedMatMul", MakeFusedMatMul, 1, "mlos");
  r.Add("MatMul", MatMulCompute);
  r.AddKernel("Gemm", MakeGemm);
}
