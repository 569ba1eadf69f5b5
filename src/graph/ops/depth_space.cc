// DepthToSpace (DCR and CRD modes) and SpaceToDepth: both are a reshape to 6-D, a transpose and
// a reshape back, done as one strided copy of a permuted view (no extra buffers).
#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

Result<int64_t> BlockSize(const OpContext& ctx, const Tensor& x) {
  if (x.rank() != 4)
    return ctx.Error("input must be 4-D [N, C, H, W], got " + ShapeToString(x.shape()));
  const int64_t b = ctx.node().GetInt("blocksize", 0);
  if (b < 1 || b > (int64_t{1} << 20)) return ctx.Error("blocksize must be in [1, 2^20]");
  return b;
}

Status DepthToSpaceCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(int64_t b, BlockSize(ctx, *x));
  const int64_t n = x->shape()[0], c = x->shape()[1], h = x->shape()[2], w = x->shape()[3];
  if (c % (b * b) != 0) return ctx.Error("channels must be divisible by blocksize^2");
  const int64_t oc = c / (b * b);
  const std::string mode = ctx.node().GetString("mode", "DCR");
  Shape six;
  std::vector<int64_t> perm;
  if (mode == "DCR") {
    six = {n, b, b, oc, h, w};
    perm = {0, 3, 4, 1, 5, 2};
  } else if (mode == "CRD") {
    six = {n, oc, b, b, h, w};
    perm = {0, 1, 4, 2, 5, 3};
  } else {
    return ctx.Error("unknown mode '" + mode + "'");
  }
  MLOS_ASSIGN_OR_RETURN(Tensor xc, x->Contiguous());
  MLOS_ASSIGN_OR_RETURN(Tensor v, xc.Reshape(six));
  MLOS_ASSIGN_OR_RETURN(Tensor pv, v.Permute(perm));
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x->dtype(), {n, oc, h * b, w * b}));
  MLOS_ASSIGN_OR_RETURN(Tensor ov, out.Reshape(pv.shape()));
  return ov.CopyFrom(pv);
}

Status SpaceToDepthCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(int64_t b, BlockSize(ctx, *x));
  const int64_t n = x->shape()[0], c = x->shape()[1], h = x->shape()[2], w = x->shape()[3];
  if (h % b != 0 || w % b != 0) return ctx.Error("H and W must be divisible by blocksize");
  MLOS_ASSIGN_OR_RETURN(Tensor xc, x->Contiguous());
  MLOS_ASSIGN_OR_RETURN(Tensor v, xc.Reshape({n, c, h / b, b, w / b, b}));
  const std::vector<int64_t> perm = {0, 3, 5, 1, 2, 4};
  MLOS_ASSIGN_OR_RETURN(Tensor pv, v.Permute(perm));
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, x->dtype(), {n, c * b * b, h / b, w / b}));
  MLOS_ASSIGN_OR_RETURN(Tensor ov, out.Reshape(pv.shape()));
  return ov.CopyFrom(pv);
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(depth_space) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("DepthToSpace", DepthToSpaceCompute, 1);
  r.Add("SpaceToDepth", SpaceToDepthCompute, 1);
}
