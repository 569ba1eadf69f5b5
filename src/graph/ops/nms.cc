// NonMaxSuppression (opsets 10, 11): greedy per-(batch, class) selection by descending score
// (ties keep the lower box index first), dropping boxes whose IoU with a selected box exceeds
// iou_threshold, stopping at max_output_boxes_per_class. Boxes are corners [y1, x1, y2, x2] in
// either order (center_point_box 0) or [x_c, y_c, w, h] (1). Output: int64 [n, 3] rows of
// (batch, class, box), batch-major then class then selection order. (batch, class) pairs run in
// parallel into per-pair lists that are concatenated in order afterwards.
#include <algorithm>
#include <numeric>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

struct Box {
  float y1, x1, y2, x2, area;
};

Box MakeBox(const float* b, bool center) {
  Box r;
  if (center) {
    const float hw = b[2] / 2.f, hh = b[3] / 2.f;
    r.x1 = b[0] - hw;
    r.x2 = b[0] + hw;
    r.y1 = b[1] - hh;
    r.y2 = b[1] + hh;
  } else {
    r.y1 = std::min(b[0], b[2]);
    r.y2 = std::max(b[0], b[2]);
    r.x1 = std::min(b[1], b[3]);
    r.x2 = std::max(b[1], b[3]);
  }
  r.area = (r.y2 - r.y1) * (r.x2 - r.x1);
  return r;
}

float IoU(const Box& a, const Box& b) {
  const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (ih <= 0.f || iw <= 0.f) return 0.f;
  const float inter = ih * iw;
  const float uni = a.area + b.area - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

// Reads an optional scalar input as double (float or int dtypes), or `dflt` when omitted.
Result<double> OptionalScalar(const OpContext& ctx, int i, double dflt, const char* what) {
  if (!ctx.has_input(i)) return dflt;
  MLOS_ASSIGN_OR_RETURN(const Tensor* t, ctx.RequireTensor(i));
  if (t->numel() == 0) return dflt;
  if (t->numel() != 1 || t->dtype() == DType::kString) {
    return ctx.Error(std::string(what) + " must be a scalar");
  }
  return t->GetAsDouble(0);
}

Result<Tensor> AsFloat32(const Tensor& t) {
  if (t.dtype() == DType::kFloat32) return t.Contiguous();
  MLOS_ASSIGN_OR_RETURN(Tensor out, Tensor::Empty(DType::kFloat32, t.shape()));
  float* p = static_cast<float*>(out.raw_data());
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(t.GetAsDouble(i));
  return out;
}

Status NmsCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* boxes_in, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* scores_in, ctx.RequireTensor(1));
  if (!IsFloating(boxes_in->dtype()) || !IsFloating(scores_in->dtype())) {
    return ctx.Error("boxes and scores must be float tensors");
  }
  const Shape& bs = boxes_in->shape();
  const Shape& ss = scores_in->shape();
  if (bs.size() != 3 || bs[2] != 4 || ss.size() != 3 || ss[0] != bs[0] || ss[2] != bs[1]) {
    return ctx.Error("boxes " + ShapeToString(bs) + " and scores " + ShapeToString(ss) +
                     " must be [B, N, 4] and [B, C, N]");
  }
  MLOS_ASSIGN_OR_RETURN(double max_out_d,
                        OptionalScalar(ctx, 2, 0.0, "max_output_boxes_per_class"));
  MLOS_ASSIGN_OR_RETURN(double iou_thr_d, OptionalScalar(ctx, 3, 0.0, "iou_threshold"));
  const bool has_score_thr = ctx.has_input(4) && ctx.input(4).numel() > 0;
  MLOS_ASSIGN_OR_RETURN(double score_thr_d, OptionalScalar(ctx, 4, 0.0, "score_threshold"));
  const int64_t center = ctx.node().GetInt("center_point_box", 0);
  if (center != 0 && center != 1) return ctx.Error("center_point_box must be 0 or 1");
  const int64_t nb = bs[0], nbox = bs[1], nc = ss[1];
  // Non-positive (or NaN) means no output; more than the boxes there are means all of them.
  const int64_t max_out =
      max_out_d > 0.0 ? static_cast<int64_t>(std::min(max_out_d, static_cast<double>(nbox))) : 0;
  const float iou_thr = static_cast<float>(iou_thr_d);
  const float score_thr = static_cast<float>(score_thr_d);
  MLOS_ASSIGN_OR_RETURN(Tensor boxes, AsFloat32(*boxes_in));
  MLOS_ASSIGN_OR_RETURN(Tensor scores, AsFloat32(*scores_in));
  const float* bp = static_cast<const float*>(boxes.raw_data());
  const float* sp = static_cast<const float*>(scores.raw_data());
  std::vector<std::vector<int64_t>> picked(static_cast<size_t>(nb * nc));
  if (max_out > 0) {
    std::vector<Box> bx(static_cast<size_t>(nb * nbox));
    for (int64_t i = 0; i < nb * nbox; ++i)
      bx[static_cast<size_t>(i)] = MakeBox(bp + i * 4, center == 1);
    ctx.pool().ParallelFor(nb * nc, 1, [&](int64_t lo, int64_t hi) {
      std::vector<int64_t> order;
      std::vector<int64_t> sel;
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t b = t / nc;
        const float* sc = sp + t * nbox;
        order.clear();
        for (int64_t i = 0; i < nbox; ++i) {
          if (!has_score_thr || sc[i] > score_thr) order.push_back(i);
        }
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t a, int64_t c) { return sc[a] > sc[c]; });
        const Box* bb = bx.data() + b * nbox;
        sel.clear();
        for (int64_t cand : order) {
          bool keep = true;
          for (int64_t s : sel) {
            if (IoU(bb[cand], bb[s]) > iou_thr) {
              keep = false;
              break;
            }
          }
          if (!keep) continue;
          sel.push_back(cand);
          if (static_cast<int64_t>(sel.size()) >= max_out) break;
        }
        picked[static_cast<size_t>(t)] = sel;
      }
    });
  }
  int64_t total = 0;
  for (const auto& p : picked) total += static_cast<int64_t>(p.size());
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, DType::kInt64, {total, 3}));
  int64_t* o = static_cast<int64_t*>(out.raw_data());
  for (int64_t t = 0; t < nb * nc; ++t) {
    for (int64_t i : picked[static_cast<size_t>(t)]) {
      *o++ = t / nc;
      *o++ = t % nc;
      *o++ = i;
    }
  }
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(nms) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("NonMaxSuppression", NmsCompute, 10);
}
