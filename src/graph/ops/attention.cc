// mlos::Attention, made by the attention fusion pass: O = softmax(scale * Q K^T + mask) V per
// batch entry, where Q is [B..., T, d], K^T is [B..., d, S], V is [B..., S, dv] after the optional
// q_perm/k_perm/v_perm (read as strided views, never copied), and the result is written through
// out_perm. Work is split over (batch, row block); each task keeps its score rows in a small
// thread-local buffer, so the T x S score matrix is never materialised.
#include "kernels/cpu/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

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
  if (nb == 0 || t_len == 0 || dv == 0) return Status::OK();
  if (s_len == 0) {  // the product with V sums over no keys
    for (int64_t b = 0; b < nb; ++b) {
      for (int64_t i = 0; i < t_len; ++i)
        std::fill_n(op + offset(ov, b) + i * ov.strides()[br], dv, 0.f);
    }
    return Status::OK();
  }
  // One task per (batch, head), split further by rows when there are fewer heads than
  // threads can use (each task packs K^T and V once for its rows).
  ThreadPool& pool = ctx.pool();
  const int threads = pool.num_threads();
  int64_t groups = 1;
  if (threads > 1 && nb < 2 * threads) {
    groups = std::min<int64_t>((2 * threads + nb - 1) / nb, (t_len + 11) / 12);
  }
  const int64_t rows_per = (t_len + groups - 1) / groups;
  const int r = rank;
  std::atomic<bool> failed{false};
  pool.ParallelTasks(nb * groups, [&](int64_t task, int64_t) {
    const int64_t b = task / groups, g = task % groups;
    kernels::AttentionHeadArgs a;
    a.t = t_len;
    a.s = s_len;
    a.d = d;
    a.dv = dv;
    a.q = qp + offset(q, b);
    a.q_rs = q.strides()[r - 2];
    a.q_cs = q.strides()[r - 1];
    a.k = kp + offset(k, b);  // k is K^T: K(j, c) = K^T(c, j)
    a.k_rs = k.strides()[r - 1];
    a.k_cs = k.strides()[r - 2];
    a.v = vp + offset(v, b);
    a.v_rs = v.strides()[r - 2];
    a.v_cs = v.strides()[r - 1];
    if (mp != nullptr) {
      a.mask = mp + offset(mask, b);
      a.mask_rs = mask.strides()[r - 2];
      a.mask_cs = mask.strides()[r - 1];
    }
    a.o = op + offset(ov, b);
    a.o_rs = ov.strides()[br];
    a.scale = scale;
    const int64_t r0 = std::min(t_len, g * rows_per), r1 = std::min(t_len, r0 + rows_per);
    if (!kernels::AttentionHeadRows(a, r0, r1).ok()) failed = true;
  });
  if (failed) return ctx.Error("out of memory for attention scratch");
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(attention) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Attention", AttentionCompute, 1, "mlos");
}
