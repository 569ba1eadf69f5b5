// mlos::Attention, made by the attention fusion pass: O = softmax(scale * Q K^T + mask) V per
// batch entry, where Q is [B..., T, d], K^T is [B..., d, S], V is [B..., S, dv] after the optional
// q_perm/k_perm/v_perm (read as strided views, never copied), and the result is written through
// out_perm. Work is split over (batch, row block); each task keeps its score rows in a small
// thread-local buffer, so the T x S score matrix is never materialised.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph/ops/op_util.h"
#include "kernels/cpu/gemm.h"

namespace mlos::graph::ops {
namespace {

// A 2-D operand of the GEMM: row-major with leading dimension, or transposed.
struct Mat {
  const float* p = nullptr;
  bool trans = false;
  int64_t ld = 0;
};

bool Describe(int64_t rs, int64_t cs, int64_t rows, int64_t cols, Mat* m) {
  if (cs == 1 || cols == 1) {
    m->trans = false;
    m->ld = rows > 1 ? rs : cols;
    return rows <= 1 || rs >= cols;
  }
  if (rs == 1 || rows == 1) {
    m->trans = true;
    m->ld = cols > 1 ? cs : rows;
    return cols <= 1 || cs >= rows;
  }
  return false;
}

Result<Tensor> PermuteIf(const Tensor& t, const Node& n, const char* attr) {
  std::vector<int64_t> perm = n.GetInts(attr);
  if (perm.empty()) return t;
  if (static_cast<int>(perm.size()) != t.rank())
    return InvalidArgument(attr, " does not match the rank");
  return t.Permute(perm);
}

Status AttentionCompute(OpContext& ctx) {
  const Node& n = ctx.node();
  MLOS_ASSIGN_OR_RETURN(const Tensor* q_in, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* k_in, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(const Tensor* v_in, ctx.RequireTensor(2));
  if (q_in->dtype() != DType::kFloat32 || k_in->dtype() != DType::kFloat32 ||
      v_in->dtype() != DType::kFloat32) {
    return ctx.Error("fused attention needs float32");
  }
  auto qr = PermuteIf(*q_in, n, "q_perm");
  auto kr = PermuteIf(*k_in, n, "k_perm");
  auto vr = PermuteIf(*v_in, n, "v_perm");
  if (!qr.ok() || !kr.ok() || !vr.ok()) return ctx.Error("bad permutation");
  Tensor q = *qr, k = *kr, v = *vr;
  const int rank = q.rank();
  if (rank < 2 || k.rank() != rank || v.rank() != rank)
    return ctx.Error("Q, K^T and V must have equal rank >= 2");
  const int64_t t_len = q.shape()[rank - 2], d = q.shape()[rank - 1];
  const int64_t s_len = k.shape()[rank - 1], dv = v.shape()[rank - 1];
  if (k.shape()[rank - 2] != d || v.shape()[rank - 2] != s_len) {
    return ctx.Error("shapes " + ShapeToString(q.shape()) + " x " + ShapeToString(k.shape()) +
                     " x " + ShapeToString(v.shape()) + " do not chain");
  }
  int64_t sm_axis = n.GetInt("softmax_axis", -1);
  if (sm_axis != -1 && sm_axis != rank - 1) return ctx.Error("softmax is not over the last axis");
  Shape batch(q.shape().begin(), q.shape().end() - 2);
  for (const Tensor* t : {&k, &v}) {
    auto bs = BroadcastShapes(batch, Shape(t->shape().begin(), t->shape().end() - 2));
    if (!bs.ok()) return ctx.Error(bs.status().message());
    batch = *bs;
  }
  auto full = [&](const Tensor& t, int64_t r, int64_t c) -> Result<Tensor> {
    Shape s = batch;
    s.push_back(r);
    s.push_back(c);
    return t.BroadcastTo(s);
  };
  MLOS_ASSIGN_OR_RETURN(q, full(q, t_len, d));
  MLOS_ASSIGN_OR_RETURN(k, full(k, d, s_len));
  MLOS_ASSIGN_OR_RETURN(v, full(v, s_len, dv));
  // Operands whose inner matrices are not unit-stride in some direction are copied once.
  auto ensure = [&](Tensor& t) -> Status {
    const int r = t.rank();
    Mat m;
    if (!Describe(t.strides()[r - 2], t.strides()[r - 1], t.shape()[r - 2], t.shape()[r - 1], &m)) {
      MLOS_ASSIGN_OR_RETURN(t, t.Contiguous());
    }
    return Status::OK();
  };
  MLOS_RETURN_IF_ERROR(ensure(q));
  MLOS_RETURN_IF_ERROR(ensure(k));
  MLOS_RETURN_IF_ERROR(ensure(v));
  Tensor mask;
  if (ctx.has_input(3)) {
    MLOS_ASSIGN_OR_RETURN(const Tensor* m_in, ctx.RequireTensor(3));
    Tensor mf = *m_in;
    if (mf.dtype() != DType::kFloat32) return ctx.Error("mask must be float32");
    auto mb = full(mf, t_len, s_len);
    if (!mb.ok())
      return ctx.Error("mask " + ShapeToString(m_in->shape()) +
                       " does not broadcast to the scores");
    mask = *mb;
  }
  // The output: logical [batch..., T, dv], stored through out_perm.
  Shape logical = batch;
  logical.push_back(t_len);
  logical.push_back(dv);
  std::vector<int64_t> out_perm = n.GetInts("out_perm");
  Shape phys = logical;
  std::vector<int64_t> inv(logical.size());
  if (!out_perm.empty()) {
    if (out_perm.size() != logical.size()) return ctx.Error("out_perm does not match the rank");
    for (size_t i = 0; i < out_perm.size(); ++i) {
      if (out_perm[i] < 0 || out_perm[i] >= static_cast<int64_t>(logical.size()))
        return ctx.Error("bad out_perm");
      phys[i] = logical[out_perm[i]];
      inv[out_perm[i]] = static_cast<int64_t>(i);
    }
  }
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, DType::kFloat32, phys));
  Tensor ov = out;
  if (!out_perm.empty()) {
    auto p = out.Permute(inv);
    if (!p.ok()) return ctx.Error(p.status().message());
    ov = *p;
  }
  const int br = static_cast<int>(batch.size());
  MLOS_ASSIGN_OR_RETURN(int64_t nb, NumElements(batch));
  if (ov.strides()[br + 1] != 1 && dv > 1) return ctx.Error("output layout not supported");
  const float scale = n.GetFloat("scale", 1.f);
  const float* qp = static_cast<const float*>(q.raw_data());
  const float* kp = static_cast<const float*>(k.raw_data());
  const float* vp = static_cast<const float*>(v.raw_data());
  const float* mp = mask.defined() ? static_cast<const float*>(mask.raw_data()) : nullptr;
  float* op = static_cast<float*>(ov.raw_data());
  auto offset = [&](const Tensor& t, int64_t b) {
    int64_t off = 0;
    for (int dd = br - 1; dd >= 0; --dd) {
      off += (b % batch[dd]) * t.strides()[dd];
      b /= batch[dd];
    }
    return off;
  };
  const int64_t block = std::max<int64_t>(1, std::min<int64_t>(t_len, 32));
  const int64_t nblocks = (t_len + block - 1) / block;
  ThreadPool& pool = ctx.pool();
  pool.ParallelFor(nb * nblocks, 1, [&](int64_t b0, int64_t b1) {
    thread_local std::vector<float> scores;
    for (int64_t task = b0; task < b1; ++task) {
      const int64_t b = task / nblocks, r0 = (task % nblocks) * block;
      const int64_t rows = std::min(block, t_len - r0);
      if (static_cast<int64_t>(scores.size()) < rows * s_len)
        scores.resize(static_cast<size_t>(rows * s_len));
      const int qr2 = q.rank();
      Mat qa, ka, va;
      Describe(q.strides()[qr2 - 2], q.strides()[qr2 - 1], t_len, d, &qa);
      Describe(k.strides()[qr2 - 2], k.strides()[qr2 - 1], d, s_len, &ka);
      Describe(v.strides()[qr2 - 2], v.strides()[qr2 - 1], s_len, dv, &va);
      const float* qb = qp + offset(q, b) + r0 * q.strides()[qr2 - 2];
      kernels::GemmArgs g1;
      g1.m = rows;
      g1.n = s_len;
      g1.k = d;
      g1.a = qb;
      g1.trans_a = qa.trans;
      g1.lda = qa.ld;
      g1.b = kp + offset(k, b);
      g1.trans_b = ka.trans;
      g1.ldb = ka.ld;
      g1.c = scores.data();
      g1.ldc = s_len;
      g1.alpha = scale;
      kernels::Sgemm(g1, pool);
      for (int64_t r = 0; r < rows; ++r) {
        float* sr = scores.data() + r * s_len;
        if (mp) {
          const float* mr = mp + offset(mask, b) + (r0 + r) * mask.strides()[qr2 - 2];
          const int64_t ms = mask.strides()[qr2 - 1];
          for (int64_t j = 0; j < s_len; ++j) sr[j] += mr[j * ms];
        }
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < s_len; ++j) mx = std::max(mx, sr[j]);
        if (mx == -std::numeric_limits<float>::infinity()) mx = 0.f;
        float sum = 0.f;
        for (int64_t j = 0; j < s_len; ++j) {
          sr[j] = std::exp(sr[j] - mx);
          sum += sr[j];
        }
        const float inv_sum = 1.f / sum;
        for (int64_t j = 0; j < s_len; ++j) sr[j] *= inv_sum;
      }
      kernels::GemmArgs g2;
      g2.m = rows;
      g2.n = dv;
      g2.k = s_len;
      g2.a = scores.data();
      g2.lda = s_len;
      g2.b = vp + offset(v, b);
      g2.trans_b = va.trans;
      g2.ldb = va.ld;
      g2.c = op + offset(ov, b) + r0 * ov.strides()[br];
      g2.ldc = ov.strides()[br];
      if (rows == 1) g2.ldc = std::max<int64_t>(g2.ldc, dv);
      kernels::Sgemm(g2, pool);
    }
  });
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(attention) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Attention", AttentionCompute, 1, "mlos");
}
