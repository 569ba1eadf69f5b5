// The Conv kernel object: convolutions with a constant float weight skip the per-call weight
// packing of the generic path (conv.cc).
// 1x1 stride-1 convolutions:
//  - small planes (the 7x7 layers of MobileNet / EfficientNet, whose weights are several times
//    their activations) run as the transposed product Y^T (HW x M) = X^T (HW x C) W^T with W^T
//    packed for the micro-kernel once, on first use, then Y^T is transposed into NCHW; that
//    tiles the short spatial side by 12 rows and streams the weight as the kernel's B;
//  - larger planes run Y = W X straight into NCHW: on AVX-512 by register tiles fed from the
//    unpacked input rows and weight (nothing packed), otherwise with W packed once into the
//    micro-kernel's A panels and the input planes packed per call in L2-sized column chunks
//    (conv2d_pointwise.h).
// Other constant weights (k x k, strided 1x1; not depthwise) are packed once into the GEMM
// micro-kernel's A layout (kernels::PackConv2dWeight) and handed to ConvCompute as
// Conv2dParams::packed_weight, so the implicit-GEMM conv does not repack the weight (up to
// 9.4 MB for a 512-channel 3x3 layer) on every call; for the small output planes that run the
// transposed implicit GEMM (ResNet's 7x7 layers) W^T is packed as the micro-kernel's B
// instead. Each form is built on first use, so a layer holds only the one it runs. Everything else
// goes to ConvCompute as is. Thread-safety: the packed weights are built under std::call_once and
// immutable afterwards; Compute is safe from concurrent runs.
#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "graph/ops/conv_op.h"
#include "graph/ops/fused_activation.h"
#include "graph/ops/op_util.h"
#include "kernels/cpu/conv2d_pointwise.h"
#include "kernels/cpu/conv_internal.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/prepacked_gemm.h"

namespace mlos::graph::ops {
namespace {

// True when the node is a plain 1x1, stride-1, unpadded, ungrouped 2-D convolution whatever
// the input size (auto_pad of a 1x1 stride-1 kernel pads nothing).
bool PointwiseNode(const Node& n) {
  if (n.GetInt("group", 1) != 1) return false;
  for (int64_t s : n.GetInts("strides", {1, 1})) {
    if (s != 1) return false;
  }
  for (int64_t p : n.GetInts("pads", {0, 0, 0, 0})) {
    if (p != 0) return false;
  }
  const auto ks = n.GetInts("kernel_shape", {1, 1});
  return ks.size() == 2 && ks[0] == 1 && ks[1] == 1;
}

class ConvKernel final : public OpKernel, public DenseConvWeights {
 public:
  ConvKernel(const Tensor* w, bool pointwise, int64_t groups) {
    if (w == nullptr || w->dtype() != DType::kFloat32 || w->rank() != 4 || w->numel() == 0) return;
    if (pointwise && w->dim(2) == 1 && w->dim(3) == 1) {
      weight_ = *w;
    } else if (!pointwise && groups >= 1 && w->dim(0) % groups == 0 &&
               !(w->dim(1) == 1 && w->dim(0) == groups) &&  // depthwise never reads it packed
               w->dim(2) * w->dim(3) <= 121) {  // nor does im2col (ImplicitConvSupported)
      dense_weight_ = *w;
      groups_ = groups;
    }
  }

  Status Compute(OpContext& ctx) const override {
    if (weight_.defined()) {
      bool done = false;
      MLOS_RETURN_IF_ERROR(Pointwise(ctx, &done));
      if (done) return Status::OK();
    }
    if (dense_weight_.defined()) {
      MLOS_ASSIGN_OR_RETURN(const Tensor* w, ctx.RequireTensor(1));
      // Only for the very weight it was packed from.
      if (w->raw_data() == dense_weight_.raw_data() && w->shape() == dense_weight_.shape() &&
          w->is_contiguous()) {
        return ConvCompute(ctx, static_cast<const DenseConvWeights&>(*this));
      }
    }
    return ConvCompute(ctx);
  }

 private:
  // --- dense (k x k) section ---
  struct FreeDeleter {
    void operator()(float* p) const { std::free(p); }
  };

  // The dense k x k weight packed for the implicit-GEMM conv's micro-kernel, built on first use;
  // nullptr if packing failed (the per-call packing path then runs).
  const float* PackedDenseWeight() const {
    std::call_once(dense_once_, [&] {
      if (!dense_weight_.is_contiguous()) return;
      const int64_t floats = kernels::Conv2dPackedWeightFloats(dense_weight_.shape(), groups_);
      if (floats <= 0) return;
      const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
      dense_packed_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      if (dense_packed_ == nullptr) return;
      kernels::PackConv2dWeight(static_cast<const float*>(dense_weight_.raw_data()),
                                dense_weight_.shape(), groups_, dense_packed_.get());
    });
    return dense_packed_.get();
  }

  const float* PackedA() const override { return PackedDenseWeight(); }

  // W^T (C*kH*kW x M) in the micro-kernel's B slivers for the transposed form of small output
  // planes, built on first use (only for the layers that run it); nullptr on failure.
  const kernels::PackedMatrix* PackedT() const override {
    std::call_once(dense_t_once_, [&] {
      if (groups_ != 1 || !dense_weight_.is_contiguous()) return;
      const int64_t m = dense_weight_.dim(0);
      const int64_t k = dense_weight_.dim(1) * dense_weight_.dim(2) * dense_weight_.dim(3);
      // B(p, j) = W[j][p].
      auto packed = kernels::PackedMatrix::Pack(static_cast<const float*>(dense_weight_.raw_data()),
                                                1, k, k, m);
      if (packed.ok()) dense_t_ = *packed;
    });
    return dense_t_.get();
  }

  // --- pointwise (1x1) section ---
  // The packed W^T (C x M) of the small-plane path, built on first use; nullptr on failure.
  const kernels::PackedMatrix* PackedWeightT() const {
    std::call_once(once_t_, [&] {
      auto wc = weight_.Contiguous();
      if (!wc.ok()) return;
      const int64_t m = weight_.dim(0), c = weight_.dim(1);
      // B(p = c, j = m) = W[m][c].
      auto packed =
          kernels::PackedMatrix::Pack(static_cast<const float*>(wc->raw_data()), 1, c, c, m);
      if (packed.ok()) packed_t_ = *packed;
    });
    return packed_t_.get();
  }

  // W (M x C) in A panels for the larger planes, built on first use; nullptr on failure.
  const kernels::PackedPointwiseWeight* PackedWeightA() const {
    std::call_once(once_a_, [&] {
      auto wc = weight_.Contiguous();
      if (!wc.ok()) return;
      auto packed = kernels::PackedPointwiseWeight::Pack(static_cast<const float*>(wc->raw_data()),
                                                         weight_.dim(0), weight_.dim(1));
      if (packed.ok()) packed_a_ = *packed;
    });
    return packed_a_.get();
  }

  // Runs a packed path when one applies (sets *done); otherwise leaves *done false.
  Status Pointwise(OpContext& ctx, bool* done) const {
    MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
    MLOS_ASSIGN_OR_RETURN(const Tensor* w, ctx.RequireTensor(1));
    const int64_t m = weight_.dim(0), c = weight_.dim(1);
    if (x->dtype() != DType::kFloat32 || x->rank() != 4 || x->dim(1) != c ||
        w->shape() != weight_.shape()) {
      return Status::OK();
    }
    const int64_t n = x->dim(0), hw = x->dim(2) * x->dim(3);
    if (hw == 0) return Status::OK();
    const Tensor* b = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (b != nullptr && (b->dtype() != DType::kFloat32 || b->numel() != m)) return Status::OK();
    // A fused residual addend (cnn_fusion.cc) of exactly y's shape is added after each path's
    // kernel; any other one leaves the call to ConvCompute, which keeps the unfused semantics.
    const float* sum = nullptr;
    Tensor sum_c;
    if (ctx.node().GetInt("_mlos_sum", 0) != 0) {
      auto st = ctx.has_input(3) ? ctx.RequireTensor(3) : Result<const Tensor*>(nullptr);
      if (!st.ok() || *st == nullptr || (*st)->dtype() != DType::kFloat32 ||
          (*st)->shape() != Shape{n, m, x->dim(2), x->dim(3)}) {
        return Status::OK();
      }
      MLOS_ASSIGN_OR_RETURN(sum_c, (*st)->Contiguous());
      sum = static_cast<const float*>(sum_c.raw_data());
    }
    // The transposed form where the weight outweighs the activations read and written.
    const bool small_plane = m * c >= hw * (m + c);
    // Larger planes: the direct kernel (AVX-512) reads the NCHW rows and the weight as they
    // are; measured faster than packing the planes for every layer shape of MobileNet-V2 /
    // EfficientNet-B0 above 7x7 (e.g. 16->96 @112: 0.29 vs 0.32 ms, 96->576 @14: 0.115 vs
    // 0.136 ms). Without it, W packed once into A panels and the planes packed per call.
    if (!small_plane && kernels::PointwiseDirectAvailable() &&
        !kernels::PointwiseDirectPreferred(m, c, hw)) {
      return Status::OK();  // the generic GEMM path measured faster for this shape
    }
    const bool direct = !small_plane && kernels::PointwiseDirectAvailable();
    const kernels::PackedMatrix* wt = nullptr;
    const kernels::PackedPointwiseWeight* wa = nullptr;
    if (small_plane) {
      wt = PackedWeightT();
      if (wt == nullptr) return Status::OK();
    } else if (!direct) {
      wa = PackedWeightA();
      if (wa == nullptr) return Status::OK();
    }
    MLOS_ASSIGN_OR_RETURN(Tensor xc, x->Contiguous());
    Tensor bc;
    if (b != nullptr) {
      MLOS_ASSIGN_OR_RETURN(bc, b->Contiguous());
    }
    MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, DType::kFloat32, {n, m, x->dim(2), x->dim(3)}));
    const float* xp = static_cast<const float*>(xc.raw_data());
    float* yp = static_cast<float*>(y.raw_data());
    const float* bias = b != nullptr ? static_cast<const float*>(bc.raw_data()) : nullptr;
    const kernels::ActivationParams act = FusedActivation(ctx.node());
    // With an addend the kernels run without the activation; add_sum(i) then adds image i's
    // addend and applies it in one pass.
    const kernels::ActivationParams kact = sum != nullptr ? kernels::ActivationParams{} : act;
    auto add_sum = [&](int64_t i) {
      if (sum == nullptr) return;
      float* yi = yp + i * m * hw;
      const float* si = sum + i * m * hw;
      for (int64_t e = 0; e < m * hw; ++e) yi[e] += si[e];
      kernels::ApplyActivation(act, yi, m * hw);
    };
    if (direct) {
      MLOS_ASSIGN_OR_RETURN(Tensor wc, w->Contiguous());
      const float* wp = static_cast<const float*>(wc.raw_data());
      for (int64_t i = 0; i < n; ++i) {
        kernels::PointwiseConvDirect(wp, m, c, xp + i * c * hw, hw, bias, kact, yp + i * m * hw,
                                     ctx.pool());
        add_sum(i);
      }
      *done = true;
      return Status::OK();
    }
    if (wa != nullptr) {
      for (int64_t i = 0; i < n; ++i) {
        kernels::PointwiseConvPacked(*wa, xp + i * c * hw, hw, bias, kact, yp + i * m * hw,
                                     ctx.pool());
        add_sum(i);
      }
      *done = true;
      return Status::OK();
    }
    float* yt = kernels::internal::ConvScratch(hw * m);
    if (yt == nullptr) return ctx.Error("no memory for a " + std::to_string(hw * m) + " buffer");
    for (int64_t i = 0; i < n; ++i) {
      kernels::PackedGemmArgs a;
      a.m = hw;
      a.a = xp + i * c * hw;  // X^T(q, ch) = x[ch][q]
      a.a_rs = 1;
      a.a_cs = hw;
      a.c = yt;
      a.ldc = m;
      a.bias = bias;
      a.activation = kact;
      kernels::PackedSgemm(a, *wt, ctx.pool());
      kernels::TransposeToPlanes(yt, hw, m, yp + i * m * hw, ctx.pool());
      add_sum(i);
    }
    *done = true;
    return Status::OK();
  }

  Tensor weight_;  // the constant 1x1 weight (shares the initializer's storage)
  mutable std::once_flag once_t_, once_a_;
  mutable std::shared_ptr<const kernels::PackedMatrix> packed_t_;
  mutable std::shared_ptr<const kernels::PackedPointwiseWeight> packed_a_;
  Tensor dense_weight_;  // a constant weight of any other (non-depthwise) conv
  int64_t groups_ = 1;
  mutable std::once_flag dense_once_;
  mutable std::unique_ptr<float, FreeDeleter> dense_packed_;
  mutable std::once_flag dense_t_once_;
  mutable std::shared_ptr<const kernels::PackedMatrix> dense_t_;
};

}  // namespace

Result<std::unique_ptr<OpKernel>> MakeConvKernel(const KernelInit& init) {
  return std::unique_ptr<OpKernel>(new ConvKernel(init.constant_input(1), PointwiseNode(init.node),
                                                  init.node.GetInt("group", 1)));
}

}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(conv_packed) {}  // Conv is registered by conv.cc with MakeConvKernel
