// Recurrent layers: RNN, GRU, LSTM (forward, reverse, bidirectional; layout 0 and 1; sequence
// lengths; clip; custom activations; LSTM peepholes and input_forget; GRU linear_before_reset).
// Float32 (other float types convert). The input projection for all steps is one GEMM; each
// step then multiplies the hidden state by R.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "graph/ops/op_util.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/gemm.h"

namespace mlos::graph::ops {
namespace {

enum class Cell { kRnn, kGru, kLstm };

struct Act {
  std::string name;
  float alpha = 0.f, beta = 0.f;
  float operator()(float x) const {
    if (name == "Sigmoid") return 1.f / (1.f + std::exp(-x));
    if (name == "Tanh") return std::tanh(x);
    if (name == "Relu") return std::max(x, 0.f);
    if (name == "Affine") return alpha * x + beta;
    if (name == "LeakyRelu") return x >= 0 ? x : alpha * x;
    if (name == "ThresholdedRelu") return x > alpha ? x : 0.f;
    if (name == "ScaledTanh") return alpha * std::tanh(beta * x);
    if (name == "HardSigmoid") return std::max(0.f, std::min(1.f, alpha * x + beta));
    if (name == "Elu") return x >= 0 ? x : alpha * (std::exp(x) - 1.f);
    if (name == "Softsign") return x / (1.f + std::fabs(x));
    if (name == "Softplus") return std::log1p(std::exp(x));
    return x;
  }
};

bool KnownAct(const std::string& n) {
  static const char* kNames[] = {
      "Sigmoid",    "Tanh",        "Relu", "Affine",   "LeakyRelu", "ThresholdedRelu",
      "ScaledTanh", "HardSigmoid", "Elu",  "Softsign", "Softplus"};
  for (const char* k : kNames) {
    if (n == k) return true;
  }
  return false;
}

float DefaultAlpha(const std::string& n) {
  if (n == "LeakyRelu") return 0.01f;
  if (n == "ThresholdedRelu" || n == "Elu" || n == "ScaledTanh") return 1.f;
  if (n == "HardSigmoid") return 0.2f;
  return 0.f;
}
float DefaultBeta(const std::string& n) {
  if (n == "HardSigmoid") return 0.5f;
  if (n == "ScaledTanh") return 1.f;
  return 0.f;
}

Result<Tensor> F32(const Tensor& t) {
  if (t.dtype() == DType::kFloat32) return t.Contiguous();
  MLOS_ASSIGN_OR_RETURN(Tensor out, Tensor::Empty(DType::kFloat32, t.shape()));
  float* o = static_cast<float*>(out.raw_data());
  for (int64_t i = 0; i < t.numel(); ++i) o[i] = static_cast<float>(t.GetAsDouble(i));
  return out;
}

template <Cell kCell>
Status RecurrentCompute(OpContext& ctx) {
  const Node& node = ctx.node();
  constexpr int gates = kCell == Cell::kRnn ? 1 : (kCell == Cell::kGru ? 3 : 4);
  MLOS_ASSIGN_OR_RETURN(const Tensor* xin, ctx.RequireTensor(0));
  MLOS_ASSIGN_OR_RETURN(const Tensor* win, ctx.RequireTensor(1));
  MLOS_ASSIGN_OR_RETURN(const Tensor* rin, ctx.RequireTensor(2));
  if (xin->rank() != 3 || win->rank() != 3 || rin->rank() != 3)
    return ctx.Error("X, W and R must be 3-D");
  const int64_t layout = node.GetInt("layout", 0);
  MLOS_ASSIGN_OR_RETURN(Tensor x, F32(*xin));
  if (layout == 1) {  // [batch, seq, in] -> [seq, batch, in]
    MLOS_ASSIGN_OR_RETURN(Tensor p, x.Permute(std::vector<int64_t>{1, 0, 2}));
    MLOS_ASSIGN_OR_RETURN(x, p.Contiguous());
  }
  MLOS_ASSIGN_OR_RETURN(Tensor w, F32(*win));
  MLOS_ASSIGN_OR_RETURN(Tensor r, F32(*rin));
  const int64_t seq = x.shape()[0], batch = x.shape()[1], in = x.shape()[2];
  const std::string direction = node.GetString("direction", "forward");
  const int64_t dirs = direction == "bidirectional" ? 2 : 1;
  const int64_t hs = node.GetInt("hidden_size", r.shape()[2]);
  if (w.shape()[0] != dirs || w.shape()[1] != gates * hs || w.shape()[2] != in) {
    return ctx.Error("W has shape " + ShapeToString(w.shape()) + ", expected [" +
                     std::to_string(dirs) + ", " + std::to_string(gates * hs) + ", " +
                     std::to_string(in) + "]");
  }
  if (r.shape()[0] != dirs || r.shape()[1] != gates * hs || r.shape()[2] != hs)
    return ctx.Error("R has the wrong shape");
  const int nb = kCell == Cell::kGru ? 6 : (kCell == Cell::kLstm ? 8 : 2);
  std::vector<float> bias(static_cast<size_t>(dirs * nb * hs), 0.f);
  if (ctx.has_input(3)) {
    MLOS_ASSIGN_OR_RETURN(Tensor b, F32(ctx.input(3)));
    if (b.numel() != static_cast<int64_t>(bias.size())) return ctx.Error("B has the wrong size");
    std::memcpy(bias.data(), b.raw_data(), bias.size() * sizeof(float));
  }
  std::vector<int64_t> lens(static_cast<size_t>(batch), seq);
  if (ctx.has_input(4)) {
    auto l = ToInt64s(ctx.input(4));
    if (!l.ok() || static_cast<int64_t>(l->size()) != batch)
      return ctx.Error("sequence_lens must have batch elements");
    for (int64_t b = 0; b < batch; ++b) lens[b] = std::clamp<int64_t>((*l)[b], 0, seq);
  }
  std::vector<float> h0(static_cast<size_t>(dirs * batch * hs), 0.f), c0(h0.size(), 0.f);
  auto load_state = [&](int idx, std::vector<float>* dst) -> Status {
    if (!ctx.has_input(idx)) return Status::OK();
    MLOS_ASSIGN_OR_RETURN(Tensor t, F32(ctx.input(idx)));
    if (layout == 1) {
      MLOS_ASSIGN_OR_RETURN(Tensor p, t.Permute(std::vector<int64_t>{1, 0, 2}));
      MLOS_ASSIGN_OR_RETURN(t, p.Contiguous());
    }
    if (t.numel() != static_cast<int64_t>(dst->size()))
      return ctx.Error("initial state has the wrong size");
    std::memcpy(dst->data(), t.raw_data(), dst->size() * sizeof(float));
    return Status::OK();
  };
  MLOS_RETURN_IF_ERROR(load_state(5, &h0));
  std::vector<float> peep(static_cast<size_t>(dirs * 3 * hs), 0.f);
  if constexpr (kCell == Cell::kLstm) {
    MLOS_RETURN_IF_ERROR(load_state(6, &c0));
    if (ctx.has_input(7)) {
      MLOS_ASSIGN_OR_RETURN(Tensor p, F32(ctx.input(7)));
      if (p.numel() != static_cast<int64_t>(peep.size())) return ctx.Error("P has the wrong size");
      std::memcpy(peep.data(), p.raw_data(), peep.size() * sizeof(float));
    }
  }
  // Activations: per direction, f/g(/h).
  const int nact = kCell == Cell::kRnn ? 1 : (kCell == Cell::kGru ? 2 : 3);
  std::vector<std::string> names = node.GetAttrStrings("activations");
  std::vector<float> alphas = node.GetFloats("activation_alpha"),
                     betas = node.GetFloats("activation_beta");
  std::vector<Act> acts;
  for (int64_t d = 0; d < dirs; ++d) {
    for (int k = 0; k < nact; ++k) {
      size_t i = static_cast<size_t>(d * nact + k);
      Act a;
      if (i < names.size()) {
        a.name = names[i];
      } else {
        a.name = kCell == Cell::kRnn ? "Tanh" : (k == 0 ? "Sigmoid" : "Tanh");
      }
      if (!KnownAct(a.name)) return ctx.Error("unknown activation '" + a.name + "'");
      a.alpha = i < alphas.size() ? alphas[i] : DefaultAlpha(a.name);
      a.beta = i < betas.size() ? betas[i] : DefaultBeta(a.name);
      acts.push_back(a);
    }
  }
  const float clip = node.GetFloat("clip", 0.f);
  const bool input_forget = node.GetInt("input_forget", 0) != 0;
  const bool lbr = node.GetInt("linear_before_reset", 0) != 0;
  auto clipf = [clip](float v) { return clip > 0.f ? std::clamp(v, -clip, clip) : v; };

  std::vector<float> y(static_cast<size_t>(seq * dirs * batch * hs), 0.f);
  std::vector<float> yh(static_cast<size_t>(dirs * batch * hs), 0.f), yc(yh.size(), 0.f);
  std::vector<float> xw(static_cast<size_t>(seq * batch * gates * hs));
  std::vector<float> hr(static_cast<size_t>(batch * gates * hs));
  const float* px = static_cast<const float*>(x.raw_data());
  for (int64_t d = 0; d < dirs; ++d) {
    const float* wd = static_cast<const float*>(w.raw_data()) + d * gates * hs * in;
    const float* rd = static_cast<const float*>(r.raw_data()) + d * gates * hs * hs;
    const float* wb = bias.data() + d * nb * hs;
    const float* rb = wb + gates * hs;
    // xw = X * W^T + Wb for every step at once.
    kernels::GemmArgs g;
    g.m = seq * batch;
    g.n = gates * hs;
    g.k = in;
    g.a = px;
    g.lda = in;
    g.b = wd;
    g.ldb = in;
    g.trans_b = true;
    g.c = xw.data();
    g.ldc = gates * hs;
    g.bias = wb;
    if (g.m > 0 && g.k > 0)
      kernels::Sgemm(g, ctx.pool());
    else
      std::fill(xw.begin(), xw.end(), 0.f);
    std::vector<float> h(h0.begin() + d * batch * hs, h0.begin() + (d + 1) * batch * hs);
    std::vector<float> c(c0.begin() + d * batch * hs, c0.begin() + (d + 1) * batch * hs);
    const bool reverse = direction == "reverse" || d == 1;
    const Act* a = &acts[static_cast<size_t>(d * nact)];
    const float* pd = peep.data() + d * 3 * hs;
    const bool fast_gru =
        kCell == Cell::kGru && lbr && clip <= 0.f && a[0].name == "Sigmoid" && a[1].name == "Tanh";
    std::vector<float> gate_buf(static_cast<size_t>(3 * hs));
    kernels::ActivationParams sigmoid_act, tanh_act;
    sigmoid_act.kind = kernels::Activation::kSigmoid;
    tanh_act.kind = kernels::Activation::kTanh;
    for (int64_t step = 0; step < seq; ++step) {
      // hr = H * R^T (+ Rb for GRU's linear_before_reset handling below).
      kernels::GemmArgs gr;
      gr.m = batch;
      gr.n = gates * hs;
      gr.k = hs;
      gr.a = h.data();
      gr.lda = hs;
      gr.b = rd;
      gr.ldb = hs;
      gr.trans_b = true;
      gr.c = hr.data();
      gr.ldc = gates * hs;
      if (kCell == Cell::kGru) {
        // The h gate needs H*Rh^T separately (reset applies before or after it).
        kernels::Sgemm(gr, ctx.pool());
      } else {
        gr.bias = rb;
        kernels::Sgemm(gr, ctx.pool());
      }
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t t = reverse ? lens[b] - 1 - step : step;
        if (step >= lens[b]) continue;
        const float* xt = xw.data() + (t * batch + b) * gates * hs;
        float* ht = h.data() + b * hs;
        float* ct = c.data() + b * hs;
        const float* hrt = hr.data() + b * gates * hs;
        if constexpr (kCell == Cell::kRnn) {
          for (int64_t j = 0; j < hs; ++j) ht[j] = a[0](clipf(xt[j] + hrt[j]));
        } else if constexpr (kCell == Cell::kGru) {
          // Gate order z, r, h.
          if (fast_gru) {
            // Default activations, no clip, linear_before_reset: vectorised gate math.
            float* zb = gate_buf.data();
            float* rbuf = zb + hs;
            float* hb = rbuf + hs;
            for (int64_t j = 0; j < hs; ++j) {
              zb[j] = xt[j] + hrt[j] + rb[j];
              rbuf[j] = xt[hs + j] + hrt[hs + j] + rb[hs + j];
            }
            kernels::ApplyActivation(sigmoid_act, zb, 2 * hs);
            for (int64_t j = 0; j < hs; ++j)
              hb[j] = xt[2 * hs + j] + rbuf[j] * (hrt[2 * hs + j] + rb[2 * hs + j]);
            kernels::ApplyActivation(tanh_act, hb, hs);
            for (int64_t j = 0; j < hs; ++j) ht[j] = (1.f - zb[j]) * hb[j] + zb[j] * ht[j];
            float* yt = y.data() + ((t * dirs + d) * batch + b) * hs;
            std::memcpy(yt, ht, static_cast<size_t>(hs) * sizeof(float));
            continue;
          }
          std::vector<float> hprev(ht, ht + hs);
          for (int64_t j = 0; j < hs; ++j) {
            float z = a[0](clipf(xt[j] + hrt[j] + rb[j]));
            float rr = a[0](clipf(xt[hs + j] + hrt[hs + j] + rb[hs + j]));
            float hh;
            if (lbr) {
              hh = a[1](clipf(xt[2 * hs + j] + rr * (hrt[2 * hs + j] + rb[2 * hs + j])));
            } else {
              // (r . H) * Rh^T: recompute the row with the reset-gated state.
              hh = 0.f;  // filled below
            }
            if (lbr)
              ht[j] = (1.f - z) * hh + z * hprev[j];
            else
              ht[j] = z;  // stash z; finished after the gated product
          }
          if (!lbr) {
            std::vector<float> rh(static_cast<size_t>(hs));
            for (int64_t j = 0; j < hs; ++j) {
              float rr = a[0](clipf(xt[hs + j] + hrt[hs + j] + rb[hs + j]));
              rh[j] = rr * hprev[j];
            }
            const float* rh_w = rd + 2 * hs * hs;
            for (int64_t j = 0; j < hs; ++j) {
              float acc = 0.f;
              for (int64_t k = 0; k < hs; ++k) acc += rh[k] * rh_w[j * hs + k];
              float hh = a[1](clipf(xt[2 * hs + j] + acc + rb[2 * hs + j]));
              float z = ht[j];
              ht[j] = (1.f - z) * hh + z * hprev[j];
            }
          }
        } else {
          // Gate order i, o, f, c.
          for (int64_t j = 0; j < hs; ++j) {
            float gi = xt[j] + hrt[j] + pd[j] * ct[j];
            float gf = xt[2 * hs + j] + hrt[2 * hs + j] + pd[2 * hs + j] * ct[j];
            float gc = xt[3 * hs + j] + hrt[3 * hs + j];
            float i_ = a[0](clipf(gi));
            float f_ = input_forget ? 1.f - i_ : a[0](clipf(gf));
            float c_ = a[1](clipf(gc));
            float cn = f_ * ct[j] + i_ * c_;
            float go = xt[hs + j] + hrt[hs + j] + pd[hs + j] * cn;
            float o_ = a[0](clipf(go));
            ct[j] = cn;
            ht[j] = o_ * a[2](cn);
          }
        }
        float* yt = y.data() + ((t * dirs + d) * batch + b) * hs;
        std::memcpy(yt, ht, static_cast<size_t>(hs) * sizeof(float));
      }
    }
    std::memcpy(yh.data() + d * batch * hs, h.data(),
                static_cast<size_t>(batch * hs) * sizeof(float));
    std::memcpy(yc.data() + d * batch * hs, c.data(),
                static_cast<size_t>(batch * hs) * sizeof(float));
  }
  auto emit = [&](int i, const std::vector<float>& v, Shape shape, bool is_y) -> Status {
    if (!ctx.has_output(i)) return Status::OK();
    MLOS_ASSIGN_OR_RETURN(Tensor t, Tensor::FromVector<float>(shape, v));
    if (layout == 1) {
      // Y: [seq, dirs, batch, h] -> [batch, seq, dirs, h]; states: [dirs, batch, h] -> [batch,
      // dirs, h].
      std::vector<int64_t> perm =
          is_y ? std::vector<int64_t>{2, 0, 1, 3} : std::vector<int64_t>{1, 0, 2};
      MLOS_ASSIGN_OR_RETURN(Tensor p, t.Permute(perm));
      MLOS_ASSIGN_OR_RETURN(t, p.Contiguous());
    }
    MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(i, xin->dtype(), t.shape()));
    if (xin->dtype() == DType::kFloat32) return out.CopyFrom(t);
    for (int64_t k = 0; k < t.numel(); ++k) {
      float v2 = static_cast<const float*>(t.raw_data())[k];
      if (xin->dtype() == DType::kFloat64)
        static_cast<double*>(out.raw_data())[k] = v2;
      else if (xin->dtype() == DType::kFloat16)
        static_cast<Float16*>(out.raw_data())[k] = Float16(v2);
      else
        return ctx.Error("unsupported dtype");
    }
    return Status::OK();
  };
  MLOS_RETURN_IF_ERROR(emit(0, y, {seq, dirs, batch, hs}, true));
  MLOS_RETURN_IF_ERROR(emit(1, yh, {dirs, batch, hs}, false));
  if (kCell == Cell::kLstm) MLOS_RETURN_IF_ERROR(emit(2, yc, {dirs, batch, hs}, false));
  return Status::OK();
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(rnn) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("RNN", RecurrentCompute<Cell::kRnn>);
  r.Add("GRU", RecurrentCompute<Cell::kGru>);
  r.Add("LSTM", RecurrentCompute<Cell::kLstm>);
}
