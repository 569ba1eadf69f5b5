// MaxUnpool (opsets 9, 11): scatters X into a zero tensor at the flat per-(N, C) plane positions
// given by I (MaxPool's indices). The output spatial shape is output_shape (input 2) when given,
// else (in - 1) * stride - pad_begin - pad_end + kernel per axis. Indices are bounds-checked.
#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

Status MaxUnpoolCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* iin, ctx.RequireTensor(1));
  const int rank = xin->rank();
  if (rank < 3 || iin->shape() != xin->shape()) {
    return ctx.Error("X must be [N, C, ...] and I the same shape");
  }
  const int sp = rank - 2;
  const auto ks = ctx.node().GetInts("kernel_shape");
  if (static_cast<int>(ks.size()) != sp)
    return ctx.Error("kernel_shape must have one entry per spatial axis");
  auto strides = ctx.node().GetInts("strides", std::vector<int64_t>(static_cast<size_t>(sp), 1));
  auto pads = ctx.node().GetInts("pads", std::vector<int64_t>(2 * static_cast<size_t>(sp), 0));
  if (static_cast<int>(strides.size()) != sp || static_cast<int>(pads.size()) != 2 * sp) {
    return ctx.Error("strides/pads lengths do not match the spatial rank");
  }
  // The geometry MaxPool's indices refer to; output_shape may differ (indices are re-based).
  Shape dshape = xin->shape();
  for (int d = 0; d < sp; ++d) {
    dshape[2 + d] = (xin->shape()[2 + d] - 1) * strides[d] - pads[d] - pads[sp + d] + ks[d];
    if (dshape[2 + d] < 0) return ctx.Error("negative output size");
  }
  Shape oshape = dshape;
  if (ctx.has_input(2)) {
    auto r = ToInt64s(ctx.input(2));
    if (!r.ok() || static_cast<int>(r->size()) != rank)
      return ctx.Error("output_shape must have one entry per axis");
    for (int d = 0; d < rank; ++d) {
      if ((*r)[d] < 0 || (d < 2 && (*r)[d] != xin->shape()[d]))
        return ctx.Error("bad output_shape");
    }
    oshape = *r;
  }
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, xin->dtype(), oshape));
  if (out.numel() == 0) return Status::OK();
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  auto idx = ToInt64s(*iin);
  if (!idx.ok()) return ctx.Error("I: " + idx.status().message());
  const int64_t planes = oshape[0] * oshape[1];
  const int64_t oplane = out.numel() / planes, iplane = x.numel() / std::max<int64_t>(planes, 1);
  int64_t dplane = 1;
  for (int d = 2; d < rank; ++d) dplane *= dshape[d];
  if (dplane == 0) return ctx.Error("empty pooling geometry");
  return DispatchBySize(x.dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* src = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    std::fill(o, o + out.numel(), T{});
    for (int64_t p = 0; p < planes; ++p) {
      for (int64_t i = 0; i < iplane; ++i) {
        const int64_t raw = (*idx)[static_cast<size_t>(p * iplane + i)];
        // MaxPool indices are flat over the whole tensor; reduce to the plane, then re-encode
        // the coordinates in the output's plane.
        const int64_t k = raw >= dplane ? raw - p * dplane : raw;
        if (k < 0 || k >= dplane)
          return ctx.Error("index " + std::to_string(raw) + " out of range");
        int64_t rem = k, ok = 0, mul = 1;
        for (int d = rank - 1; d >= 2; --d) {
          const int64_t c = rem % dshape[d];
          rem /= dshape[d];
          if (c >= oshape[d])
            return ctx.Error("index " + std::to_string(raw) + " falls outside output_shape");
          ok += c * mul;
          mul *= oshape[d];
        }
        o[p * oplane + ok] = src[p * iplane + i];
      }
    }
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(max_unpool) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("MaxUnpool", MaxUnpoolCompute, 9);
}
