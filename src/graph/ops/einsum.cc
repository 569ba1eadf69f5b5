// Einsum (opset 12): explicit ("ij,jk->ik") and implicit equations, ellipsis with broadcasting,
// repeated letters (diagonals), any number of operands.
// Float32 with two operands whose letters each appear in at least two of {A, B, output} (the
// matmul-shaped cases) runs as permute + kernels::SgemmBatched over [batch, m, k] x [batch, k, n];
// everything else runs a generic loop: each output element sums, over the contracted letters,
// the product of the operands (strides per letter, diagonals by summed strides, broadcast by 0).
#include <algorithm>
#include <array>
#include <cctype>

#include "graph/ops/op_util.h"
#include "kernels/cpu/gemm.h"

namespace mlos::graph::ops {
namespace {

constexpr int kEllipsisBase = 52;  // letter ids 0..51 are a-z, A-Z; ellipsis dims follow
constexpr int kMaxLetters = 64;

struct Equation {
  std::vector<std::vector<int>> in;  // letter id per input dim
  std::vector<int> out;
};

Result<Equation> ParseEquation(const OpContext& ctx, const std::string& eq_in,
                               const std::vector<const Tensor*>& xs) {
  std::string eq;
  for (char c : eq_in)
    if (c != ' ') eq += c;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(
        lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != xs.size()) {
    return ctx.Error("equation has " + std::to_string(terms.size()) + " operands, node has " +
                     std::to_string(xs.size()));
  }
  int ell_rank = 0;
  Equation e;
  auto parse = [&](const std::string& t, int rank, std::vector<int>* ids) -> Status {
    int letters = 0;
    bool ell = false;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t.compare(i, 3, "...") == 0) {
        if (ell) return ctx.Error("more than one ellipsis in '" + t + "'");
        ell = true;
        i += 2;
      } else if (std::isalpha(static_cast<unsigned char>(t[i]))) {
        ++letters;
      } else {
        return ctx.Error("bad character in equation term '" + t + "'");
      }
    }
    const int er = rank < 0 ? ell_rank : rank - letters;
    if (rank >= 0 && (er < 0 || (!ell && er != 0))) {
      return ctx.Error("term '" + t + "' does not match operand rank " + std::to_string(rank));
    }
    if (ell && rank >= 0) ell_rank = std::max(ell_rank, er);
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '.') {
        for (int k = 0; k < er; ++k) ids->push_back(kEllipsisBase + (ell_rank - er) + k);
        i += 2;
      } else {
        const char c = t[i];
        ids->push_back(c >= 'a' && c <= 'z' ? c - 'a' : c - 'A' + 26);
      }
    }
    return Status::OK();
  };
  // Ellipsis ids are right-aligned: compute the widest ellipsis first.
  for (size_t i = 0; i < terms.size(); ++i) {
    int letters = 0;
    bool ell = terms[i].find("...") != std::string::npos;
    for (char c : terms[i])
      if (std::isalpha(static_cast<unsigned char>(c))) ++letters;
    if (ell) ell_rank = std::max(ell_rank, xs[i]->rank() - letters);
  }
  if (ell_rank + kEllipsisBase > kMaxLetters) return ctx.Error("ellipsis covers too many dims");
  e.in.resize(terms.size());
  for (size_t i = 0; i < terms.size(); ++i) {
    MLOS_RETURN_IF_ERROR(parse(terms[i], xs[i]->rank(), &e.in[i]));
  }
  if (arrow != std::string::npos) {
    MLOS_RETURN_IF_ERROR(parse(eq.substr(arrow + 2), -1, &e.out));
    std::array<int, kMaxLetters> seen{};
    for (int id : e.out) {
      if (seen[static_cast<size_t>(id)]++) return ctx.Error("output repeats a letter");
    }
  } else {
    std::array<int, kMaxLetters> count{};
    for (const auto& t : e.in)
      for (int id : t) ++count[static_cast<size_t>(id)];
    for (int k = 0; k < ell_rank; ++k) e.out.push_back(kEllipsisBase + k);
    for (int id = 0; id < kEllipsisBase; ++id)
      if (count[static_cast<size_t>(id)] == 1) e.out.push_back(id);
  }
  return e;
}

struct Plan {
  std::array<int64_t, kMaxLetters> size{};
  std::vector<std::array<int64_t, kMaxLetters>> stride;  // per operand, per letter
  std::vector<int> out, red;                             // output letters, contracted letters
};

Result<Plan> MakePlan(const OpContext& ctx, const Equation& e, const std::vector<Tensor>& xs) {
  Plan p;
  std::array<bool, kMaxLetters> used{};
  for (size_t i = 0; i < xs.size(); ++i) {
    for (size_t d = 0; d < e.in[i].size(); ++d) {
      const int id = e.in[i][d];
      const int64_t n = xs[i].shape()[d];
      int64_t& s = p.size[static_cast<size_t>(id)];
      if (!used[static_cast<size_t>(id)] || s == 1) {
        s = n;
      } else if (n != s && n != 1) {
        return ctx.Error("letter sizes " + std::to_string(s) + " and " + std::to_string(n) +
                         " differ");
      }
      used[static_cast<size_t>(id)] = true;
    }
  }
  p.stride.resize(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    p.stride[i].fill(0);
    const auto st = ContiguousStrides(xs[i].shape());
    for (size_t d = 0; d < e.in[i].size(); ++d) {
      if (xs[i].shape()[d] == 1) continue;  // broadcast
      p.stride[i][static_cast<size_t>(e.in[i][d])] += st[d];
    }
  }
  std::array<bool, kMaxLetters> is_out{};
  for (int id : e.out) {
    if (!used[static_cast<size_t>(id)]) return ctx.Error("output letter not in any input");
    is_out[static_cast<size_t>(id)] = true;
  }
  p.out = e.out;
  for (int id = 0; id < kMaxLetters; ++id)
    if (used[static_cast<size_t>(id)] && !is_out[static_cast<size_t>(id)]) p.red.push_back(id);
  return p;
}

template <typename T>
void GenericEinsum(const Plan& p, const std::vector<Tensor>& xs, T* out, int64_t out_n,
                   ThreadPool& pool) {
  using A = std::conditional_t<std::is_floating_point_v<CalcT<T>>, double, CalcT<T>>;
  const size_t nx = xs.size();
  std::vector<const T*> ptr(nx);
  for (size_t i = 0; i < nx; ++i) ptr[i] = static_cast<const T*>(xs[i].raw_data());
  int64_t red_n = 1;
  for (int id : p.red) red_n *= p.size[static_cast<size_t>(id)];
  pool.ParallelFor(out_n, std::max<int64_t>(1, 4096 / std::max<int64_t>(red_n, 1)),
                   [&](int64_t b, int64_t e) {
                     std::vector<int64_t> base(nx), off(nx), ridx(p.red.size());
                     for (int64_t o = b; o < e; ++o) {
                       std::fill(base.begin(), base.end(), 0);
                       int64_t rem = o;
                       for (size_t k = p.out.size(); k-- > 0;) {
                         const size_t id = static_cast<size_t>(p.out[k]);
                         const int64_t c = rem % p.size[id];
                         rem /= p.size[id];
                         for (size_t i = 0; i < nx; ++i) base[i] += c * p.stride[i][id];
                       }
                       A acc = A(0);
                       off = base;
                       std::fill(ridx.begin(), ridx.end(), 0);
                       for (int64_t r = 0; r < red_n; ++r) {
                         A prod = A(1);
                         for (size_t i = 0; i < nx; ++i) prod *= static_cast<A>(ptr[i][off[i]]);
                         acc += prod;
                         for (size_t k = p.red.size(); k-- > 0;) {
                           const size_t id = static_cast<size_t>(p.red[k]);
                           for (size_t i = 0; i < nx; ++i) off[i] += p.stride[i][id];
                           if (++ridx[k] < p.size[id]) break;
                           for (size_t i = 0; i < nx; ++i) off[i] -= p.stride[i][id] * p.size[id];
                           ridx[k] = 0;
                         }
                       }
                       out[o] = T(static_cast<CalcT<T>>(acc));
                     }
                   });
}

// Two float32 operands shaped like a batched matmul: every letter in exactly two of
// {A, B, out} or in all three (batch), no diagonals, no broadcasting.
Status TryMatmulEinsum(const Equation& e, const Plan& p, const std::vector<Tensor>& xs, Tensor& out,
                       ThreadPool& pool, bool* done) {
  *done = false;
  std::array<int, kMaxLetters> where{};  // bit 1: A, 2: B, 4: out
  for (int k = 0; k < 2; ++k) {
    for (size_t d = 0; d < e.in[static_cast<size_t>(k)].size(); ++d) {
      const int id = e.in[static_cast<size_t>(k)][d];
      if (where[static_cast<size_t>(id)] & (1 << k)) return Status::OK();  // diagonal
      if (xs[static_cast<size_t>(k)].shape()[d] != p.size[static_cast<size_t>(id)])
        return Status::OK();  // broadcast
      where[static_cast<size_t>(id)] |= 1 << k;
    }
  }
  for (int id : e.out) where[static_cast<size_t>(id)] |= 4;
  std::vector<int64_t> batch, m, n, k;
  for (int id = 0; id < kMaxLetters; ++id) {
    switch (where[static_cast<size_t>(id)]) {
      case 0:
        break;
      case 7:
        batch.push_back(id);
        break;
      case 5:
        m.push_back(id);
        break;
      case 6:
        n.push_back(id);
        break;
      case 3:
        k.push_back(id);
        break;
      default:
        return Status::OK();
    }
  }
  auto prod = [&](const std::vector<int64_t>& ids) {
    int64_t r = 1;
    for (int64_t id : ids) r *= p.size[static_cast<size_t>(id)];
    return r;
  };
  auto permuted = [&](int which, const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                      const std::vector<int64_t>& c) -> Result<Tensor> {
    std::vector<int64_t> perm;
    const auto& ids = e.in[static_cast<size_t>(which)];
    for (const auto* grp : {&a, &b, &c}) {
      for (int64_t id : *grp) {
        perm.push_back(std::find(ids.begin(), ids.end(), id) - ids.begin());
      }
    }
    MLOS_ASSIGN_OR_RETURN(Tensor v, xs[static_cast<size_t>(which)].Permute(perm));
    return v.Contiguous();
  };
  MLOS_ASSIGN_OR_RETURN(Tensor a, permuted(0, batch, m, k));
  MLOS_ASSIGN_OR_RETURN(Tensor b, permuted(1, batch, k, n));
  const int64_t nb = prod(batch), nm = prod(m), nn = prod(n), nk = prod(k);
  // C in [batch, m, n] letter order, then permuted into the output's order.
  Shape cshape;
  std::vector<int64_t> cids;
  for (const auto* grp : {&batch, &m, &n}) {
    for (int64_t id : *grp) {
      cshape.push_back(p.size[static_cast<size_t>(id)]);
      cids.push_back(id);
    }
  }
  MLOS_ASSIGN_OR_RETURN(Tensor c, Tensor::Empty(DType::kFloat32, cshape));
  if (nk == 0) {
    std::fill_n(static_cast<float*>(c.raw_data()), c.numel(), 0.f);
  } else if (c.numel() > 0) {
    kernels::GemmArgs g;
    g.m = nm;
    g.n = nn;
    g.k = nk;
    g.a = static_cast<const float*>(a.raw_data());
    g.lda = nk;
    g.b = static_cast<const float*>(b.raw_data());
    g.ldb = nn;
    g.c = static_cast<float*>(c.raw_data());
    g.ldc = nn;
    kernels::SgemmBatched(g, nb, nm * nk, nk * nn, nm * nn, pool);
  }
  std::vector<int64_t> perm;
  for (int id : e.out) perm.push_back(std::find(cids.begin(), cids.end(), id) - cids.begin());
  MLOS_ASSIGN_OR_RETURN(Tensor cv, c.Permute(perm));
  MLOS_RETURN_IF_ERROR(out.CopyFrom(cv));
  *done = true;
  return Status::OK();
}

Status EinsumCompute(OpContext& ctx) {
  std::vector<const Tensor*> in;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    MLOS_ASSIGN_OR_RETURN(const Tensor* t, ctx.RequireTensor(i));
    if (t->dtype() != ctx.input(0).dtype()) return ctx.Error("operands differ in dtype");
    in.push_back(t);
  }
  if (in.empty()) return ctx.Error("needs at least one operand");
  MLOS_ASSIGN_OR_RETURN(Equation e, ParseEquation(ctx, ctx.node().GetString("equation", ""), in));
  std::vector<Tensor> xs;
  for (const Tensor* t : in) {
    MLOS_ASSIGN_OR_RETURN(Tensor c, t->Contiguous());
    xs.push_back(std::move(c));
  }
  MLOS_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx, e, xs));
  Shape oshape;
  for (int id : p.out) oshape.push_back(p.size[static_cast<size_t>(id)]);
  MLOS_ASSIGN_OR_RETURN(Tensor out, ctx.Output(0, in[0]->dtype(), oshape));
  if (out.numel() == 0) return Status::OK();
  if (xs.size() == 2 && xs[0].dtype() == DType::kFloat32) {
    bool done = false;
    MLOS_RETURN_IF_ERROR(TryMatmulEinsum(e, p, xs, out, ctx.pool(), &done));
    if (done) return Status::OK();
  }
  return DispatchNumeric(in[0]->dtype(), ctx, [&](auto tag) -> Status {
    using T = decltype(tag);
    GenericEinsum<T>(p, xs, static_cast<T*>(out.raw_data()), out.numel(), ctx.pool());
    return Status::OK();
  });
}

}  // namespace
}  // namespace mlos::graph::ops

MLOS_REGISTER_OPS(einsum) {
  using namespace mlos::graph::ops;  // NOLINT
  r.Add("Einsum", EinsumCompute, 12);
}
