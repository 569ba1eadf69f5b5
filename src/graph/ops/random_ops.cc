// Random generators: RandomUniformLike (opset 1) and Bernoulli (opset 15). With the `seed`
// attribute every run of the node draws the same sequence (a fresh mt19937_64 seeded from it,
// so runs are reproducible and concurrent runs share no state); without it each run seeds from
// std::random_device. Output dtype: the `dtype` attribute, else the input's.
// Note: the ONNX suite's expected outputs for these ops come from numpy's global generator and
// cannot be matched by any independent implementation; they are checked here by shape/dtype and
// by statistics in tests/unit/graph/ops_quantized_test.cc.
#include <cmath>
#include <random>

#include "graph/ops/op_util.h"

namespace mlos::graph::ops {
namespace {

std::mt19937_64 MakeGenerator(const OpContext& ctx) {
  const Attribute* seed = ctx.node().attr("seed");
  if (seed != nullptr) {
    // The seed is a float attribute; its value (not its bits) picks the sequence.
    const double s = seed->type == Attribute::Type::kInt ? static_cast<double>(seed->i) : seed->f;
    return std::mt19937_64(static_cast<uint64_t>(static_cast<int64_t>(std::isfinite(s) ? s : 0)));
  }
  std::random_device rd;
  return std::mt19937_64((static_cast<uint64_t>(rd()) << 32) ^ rd());
}

// Uniform double in [0, 1) from 53 random bits.
inline double Uniform01(std::mt19937_64& g) {
  return static_cast<double>(g() >> 11) * (1.0 / 9007199254740992.0);
}

Status RandomUniformLikeCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequireTensor(0));
  DType dt = x->dtype();
  if (const Attribute* a = ctx.node().attr("dtype")) {
    MLOS_ASSIGN_OR_RETURN(dt, NumericDTypeAttr(ctx, a->i, "dtype"));
  }
  if (!IsFloating(dt)) return ctx.Error("output dtype must be a float type");
  const double lo = ctx.node().GetFloat("low", 0.f), hi = ctx.node().GetFloat("high", 1.f);
  std::mt19937_64 gen = MakeGenerator(ctx);
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, dt, x->shape()));
  return DispatchFloat(dt, ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    T* p = static_cast<T*>(y.raw_data());
    for (int64_t i = 0; i < y.numel(); ++i) {
      p[i] = T(static_cast<CalcT<T>>(lo + (hi - lo) * Uniform01(gen)));
    }
    return Status::OK();
  });
}

Status BernoulliCompute(OpContext& ctx) {
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  if (!IsFloating(xin->dtype())) return ctx.Error("input must be a float tensor of probabilities");
  DType dt = xin->dtype();
  if (const Attribute* a = ctx.node().attr("dtype")) {
    MLOS_ASSIGN_OR_RETURN(dt, NumericDTypeAttr(ctx, a->i, "dtype"));
  }
  MLOS_ASSIGN_OR_RETURN(Tensor x, xin->Contiguous());
  std::mt19937_64 gen = MakeGenerator(ctx);
  MLOS_ASSIGN_OR_RETURN(Tensor y, ctx.Output(0, dt, x.shape()));
  auto draw = [&](int64_t i) { return Uniform01(gen) < x.GetAsDouble(i); };
  if (dt == DType::kBool) {
    bool* p = static_cast<bool*>(y.raw_data());
    for (int64_t i = 0; i < y.numel(); ++i) p[i] = draw(i);
    return Status::OK();
  }
  return DispatchNumeric(dt, ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    T* p = static_cast<T*>(y.raw_data());
    for (int64_t i = 0; i < y.numel(); ++i) p[i] = T(static_cast<CalcT<T>>(draw(i) ? 1 : 0));
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(random_ops) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("RandomUniformLike", RandomUniformLikeCompute, 1);
  r.Add("Bernoulli", BernoulliCompute, 15);
}
