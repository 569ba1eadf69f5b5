// PackedSgemm: the blocked loop nest of the GEMM driver without the B packing pass. B was packed
// by depth blocks of kc into NR-column slivers; each task packs its rows of A per depth block
// and sweeps its columns sliver by sliver (a sliver stays in L1 across the row tiles). A plain
// row-major A is not packed where the kernel set can read it in place (rows_a_kernel).
#include "kernels/cpu/prepacked_gemm.h"

#include <algorithm>
#include <cstdlib>

#include "kernels/cpu/conv2d_direct_a.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/pack_internal.h"
#include "kernels/cpu/scratch_buffer.h"

namespace mlos::kernels {
namespace {

using gemm_internal::KernelSet;
using gemm_internal::TileEpilogue;

int64_t RoundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// Per-thread A panel buffer; nullptr when it cannot be had.
float* APanel(int64_t floats) {
  thread_local internal::ScratchBuffer buf;
  return buf.Get(floats);
}

// One (row block, depth block) of PackedSgemm with A read in place: full MR-row tiles through
// the row-major direct-A kernel, a last partial tile packed (reading rows past m is not allowed).
void RowsABlock(const PackedGemmArgs& args, const KernelSet& ks, int64_t pc, int64_t kc,
                const float* bblock, int64_t ic, int64_t mc, int64_t j0, int64_t j1, float* abuf,
                TileEpilogue& ep) {
  const int64_t full = mc / ks.mr * ks.mr;
  const float* a = args.a + ic * args.a_rs + pc;
  if (full < mc) ks.pack_a(a + full * args.a_rs, args.a_rs, 1, mc - full, kc, 1.f, abuf);
  for (int64_t jr = j0; jr < j1; jr += ks.nr) {
    const int nr = static_cast<int>(std::min<int64_t>(ks.nr, j1 - jr));
    ep.bias = args.bias != nullptr ? args.bias + jr : nullptr;
    float* c_col = args.c + ic * args.ldc + jr;
    const float* sliver = bblock + jr * kc;
    const float* next = jr + ks.nr < j1 ? sliver + ks.nr * kc : nullptr;
    for (int64_t ir = 0; ir < full; ir += ks.mr) {
      ep.prefetch_b = ir == 0 ? next : nullptr;
      ks.rows_a_kernel(kc, a + ir * args.a_rs, args.a_rs, sliver, c_col + ir * args.ldc, args.ldc,
                       nr, ep);
    }
    if (full < mc) {
      ep.prefetch_b = full == 0 ? next : nullptr;
      ks.kernel(kc, abuf, sliver, c_col + full * args.ldc, args.ldc, static_cast<int>(mc - full),
                nr, ep);
    }
    ep.prefetch_b = nullptr;
  }
}

}  // namespace

const KernelSet& MicroKernels() {
  if (!KernelsUseAvx2()) return gemm_internal::PortableKernels();
  if (gemm_internal::UseAvx512()) return gemm_internal::Avx512Kernels();
  return gemm_internal::Avx2Kernels();
}

void PackA(const KernelSet& ks, const float* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc,
           float alpha, float* out) {
  if (ks.mr == 12 && cs == 1 && KernelsUseAvx2()) {
    int64_t i0 = 0;
    for (; i0 + 12 <= mc; i0 += 12)
      internal::PackA12RowMajorAvx2(a + i0 * rs, rs, kc, alpha, out + i0 * kc);
    if (i0 < mc) ks.pack_a(a + i0 * rs, rs, cs, mc - i0, kc, alpha, out + i0 * kc);
    return;
  }
  ks.pack_a(a, rs, cs, mc, kc, alpha, out);
}

void PackedMatrix::FreeDeleter::operator()(float* p) const { std::free(p); }

Result<std::shared_ptr<const PackedMatrix>> PackedMatrix::Pack(const float* b, int64_t rs,
                                                               int64_t cs, int64_t k, int64_t n,
                                                               float alpha) {
  if (k < 0 || n < 0) return InvalidArgument("PackedMatrix: negative size ", k, " x ", n);
  auto pm = std::shared_ptr<PackedMatrix>(new PackedMatrix());
  const KernelSet& ks = MicroKernels();
  pm->ks_ = &ks;
  pm->k_ = k;
  pm->n_ = n;
  pm->n_pad_ = RoundUp(n, ks.nr);
  pm->floats_ = static_cast<size_t>(pm->n_pad_) * static_cast<size_t>(k);
  if (pm->floats_ == 0) return std::shared_ptr<const PackedMatrix>(std::move(pm));
  const size_t bytes = (pm->floats_ * sizeof(float) + 63) / 64 * 64;
  pm->data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
  if (pm->data_ == nullptr) return ResourceExhausted("PackedMatrix: cannot allocate ", bytes);
  float* out = pm->data_.get();
  for (int64_t pc = 0; pc < k; pc += ks.kc) {
    const int64_t kc = std::min<int64_t>(ks.kc, k - pc);
    ks.pack_b(b + pc * rs, rs, cs, kc, n, out + pc * pm->n_pad_);
  }
  if (alpha != 1.f) {
    for (size_t i = 0; i < pm->floats_; ++i) out[i] *= alpha;
  }
  return std::shared_ptr<const PackedMatrix>(std::move(pm));
}

void PackedSgemm(const PackedGemmArgs& args, const PackedMatrix& b, ThreadPool& pool) {
  const KernelSet& ks = *b.ks_;
  const int64_t m = args.m, n = b.n_, k = b.k_;
  if (m <= 0 || n <= 0 || k <= 0) return;
  int tasks = ThreadPool::InsideParallelRegion() ? 1 : pool.num_threads();
  // At least ~256K multiply-adds per task, as the GEMM driver does.
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  tasks = static_cast<int>(std::clamp<double>(work / (1 << 18), 1, tasks));
  const int64_t mt = (m + ks.mr - 1) / ks.mr, nt = (n + ks.nr - 1) / ks.nr;
  // Grid tm x tn minimising the largest part; ties split the columns (each task then reads a
  // disjoint part of B, the larger operand for these shapes). A part costs its slivers times its
  // row tiles, a partial row tile of r rows weighted 0.35 + 0.65 r / MR: it still streams its
  // whole sliver of B (measured, 1 row of 12 costs ~0.4 of a full tile). With whole tiles
  // counted, 49 rows x 160 columns (a 7x7 layer's 1x1 conv, transposed) split its 5 column
  // slivers 3 + 2 (50 us vs 36 us at k = 960); split by rows the parts take 43 and 36 us.
  const int64_t last_rows = m - (mt - 1) * ks.mr;
  const double last_weight = 0.35 + 0.65 * static_cast<double>(last_rows) / ks.mr;
  auto rows_cost = [&](int64_t t0, int64_t t1) {  // row tiles [t0, t1)
    return static_cast<double>(t1 - t0) - (t1 == mt && t1 > t0 ? 1.0 - last_weight : 0.0);
  };
  int tm = 1, tn = 1;
  double best = -1;
  for (int cand_tn = tasks; cand_tn >= 1; --cand_tn) {
    if (tasks % cand_tn != 0) continue;
    const int cand_tm = tasks / cand_tn;
    if (cand_tn > nt || cand_tm > mt) continue;
    double rows_max = 0;
    for (int ti = 0; ti < cand_tm; ++ti) {
      rows_max = std::max(rows_max, rows_cost(mt * ti / cand_tm, mt * (ti + 1) / cand_tm));
    }
    const double part = rows_max * static_cast<double>((nt + cand_tn - 1) / cand_tn);
    if (best < 0 || part < best - 1e-9) {
      best = part;
      tm = cand_tm;
      tn = cand_tn;
    }
  }
  const int64_t mc_max = ks.mc;
  const float* packed = b.data_.get();
  // A row-major in memory: the full row tiles read it in place (no packing pass; split by
  // columns, the tasks would each pack the same A).
  const bool rows_a =
      ks.rows_a_kernel != nullptr && args.pack_a_fn == nullptr && args.a_cs == 1 && ks.mr == 12;
  auto body = [&](int64_t t, int64_t) {
    const int64_t ti = t / tn, tj = t % tn;
    const int64_t i0 = std::min(m, mt * ti / tm * ks.mr);
    const int64_t i1 = std::min(m, mt * (ti + 1) / tm * ks.mr);
    const int64_t j0 = std::min(n, nt * tj / tn * ks.nr);
    const int64_t j1 = std::min(n, nt * (tj + 1) / tn * ks.nr);
    if (i0 >= i1 || j0 >= j1) return;
    float* abuf = APanel(RoundUp(std::min(mc_max, i1 - i0), ks.mr) * std::min<int64_t>(ks.kc, k));
    if (abuf == nullptr) {
      // No scratch: an unpacked reference loop over this part (slow, correct).
      for (int64_t i = i0; i < i1; ++i) {
        float* row = args.c + i * args.ldc;
        for (int64_t j = j0; j < j1; ++j) {
          float acc = 0.f;
          for (int64_t p = 0; p < k; ++p) {
            const int64_t pc = p / ks.kc * ks.kc, kc = std::min<int64_t>(ks.kc, k - pc);
            const float bv =
                packed[pc * b.n_pad_ + (j / ks.nr) * ks.nr * kc + (p - pc) * ks.nr + j % ks.nr];
            float av = 0.f;
            if (args.pack_a_fn != nullptr) {
              args.pack_a_fn(args.pack_a_ctx, i, 1, p, 1, 1, &av);  // a 1 x 1 sliver
            } else {
              av = args.a[i * args.a_rs + p * args.a_cs];
            }
            acc += av * bv;
          }
          float v = acc + (args.beta != 0.f ? args.beta * row[j] : 0.f);
          row[j] = args.bias != nullptr ? v + args.bias[j] : v;
        }
        ApplyActivation(args.activation, row + j0, j1 - j0);
      }
      return;
    }
    TileEpilogue ep;
    ep.beta = args.beta;
    ep.act = args.activation.kind == Activation::kNone ? nullptr : &args.activation;
    for (int64_t pc = 0; pc < k; pc += ks.kc) {
      const int64_t kc = std::min<int64_t>(ks.kc, k - pc);
      ep.first = pc == 0;
      ep.last = pc + kc >= k;
      const float* bblock = packed + pc * b.n_pad_;
      for (int64_t ic = i0; ic < i1; ic += mc_max) {
        const int64_t mc = std::min(mc_max, i1 - ic);
        if (rows_a) {
          RowsABlock(args, ks, pc, kc, bblock, ic, mc, j0, j1, abuf, ep);
          continue;
        }
        if (args.pack_a_fn != nullptr) {
          args.pack_a_fn(args.pack_a_ctx, ic, mc, pc, kc, ks.mr, abuf);
        } else {
          PackA(ks, args.a + ic * args.a_rs + pc * args.a_cs, args.a_rs, args.a_cs, mc, kc, 1.f,
                abuf);
        }
        for (int64_t jr = j0; jr < j1; jr += ks.nr) {
          const int nr = static_cast<int>(std::min<int64_t>(ks.nr, j1 - jr));
          ep.bias = args.bias != nullptr ? args.bias + jr : nullptr;
          float* c_col = args.c + ic * args.ldc + jr;
          const float* sliver = bblock + jr * kc;
          // The first row tile pulls the next sliver toward L2 (weights are read once per
          // run, mostly from L3).
          const float* next = jr + ks.nr < j1 ? sliver + ks.nr * kc : nullptr;
          for (int64_t ir = 0; ir < mc; ir += ks.mr) {
            const int mr = static_cast<int>(std::min<int64_t>(ks.mr, mc - ir));
            ep.prefetch_b = ir == 0 ? next : nullptr;
            ks.kernel(kc, abuf + ir * kc, sliver, c_col + ir * args.ldc, args.ldc, mr, nr, ep);
          }
          ep.prefetch_b = nullptr;
        }
      }
    }
  };
  pool.ParallelTasks(static_cast<int64_t>(tm) * tn, body);
}

bool DirectAConvAvailable(const PackedMatrix& b) {
  return b.ks_ != nullptr && b.ks_->direct_a_kernel != nullptr && b.ks_->mr == 12 &&
         b.data_ != nullptr;
}

bool DirectAConvPlanesAvailable(const PackedMatrix& b, int64_t ow) {
  return DirectAConvAvailable(b) && b.ks_->nr == 32 && internal::DirectA14Available() && ow > 0 &&
         (ow % internal::kDirectA14Rows == 0 || 2 * ow == internal::kDirectA14Rows);
}

void PackedSgemmDirectA(const DirectAConvArgs& args, const PackedMatrix& b, ThreadPool& pool) {
  const KernelSet& ks = *b.ks_;
  const int64_t n = b.n_, k = b.k_, oh = args.oh, ow = args.ow;
  if (oh <= 0 || ow <= 0 || n <= 0 || k <= 0) return;
  constexpr int kT14 = internal::kDirectA14Rows;
  // 14-row tiles where the AVX-512 kernel runs: whole tiles for rows of 14, 28, 56 pixels, and
  // a 7-pixel-wide plane in pairs of rows (49 pixels: 14 + 14 + 14 + 7 rows computed, against
  // 12 + 12 + 12 + 12 + 1 in 12-row tiles, the 1-row one costing about 0.4 of a full tile).
  const bool t14 = ks.nr == 32 && internal::DirectA14Available();
  const bool pairs = t14 && 2 * ow == kT14;
  const int64_t unit_rows = pairs ? 2 : 1;
  const int64_t units = (oh + unit_rows - 1) / unit_rows;
  int tasks = ThreadPool::InsideParallelRegion() ? 1 : pool.num_threads();
  const double work =
      static_cast<double>(oh * ow) * static_cast<double>(n) * static_cast<double>(k);
  tasks = static_cast<int>(std::clamp<double>(work / (1 << 18), 1, tasks));
  const int64_t nt = (n + ks.nr - 1) / ks.nr;
  // Split the output channels where W^T is large (ResNet's 14x14 and 7x7 layers: 2.4 and 9.4
  // MB, read from L3): each task then streams its own part of W^T once, while the small padded
  // input is read by both from their L2. Otherwise (56 and 28 pixel rows: W^T of 0.15 and 0.6
  // MB) split the output rows: each task reads only its input rows.
  const bool split_cols = tasks > 1 && k * n >= (int64_t{1} << 18) && nt >= tasks;
  if (!split_cols) tasks = static_cast<int>(std::min<int64_t>(tasks, units));
  const float* packed = b.data_.get();
  // Blocks of output rows: each block reads W^T once per 32-column sliver while the block's
  // input rows stay in L2 across the slivers (re-reading W^T for every row tile, the
  // 128-channel 28x28 layers stream 590 KB per 12 pixels; 1 vs 4 rows measured alike). Small
  // planes (<= 196 pixels, their padded input in L2) are one block: W^T is read once.
  const int64_t block_units = oh * ow <= 196 ? units : std::max<int64_t>(1, 4 / unit_rows);
  const int64_t gap = args.row_len - ow;
  const bool planes = args.y_planes != nullptr && DirectAConvPlanesAvailable(b, ow);
  if (args.y_planes != nullptr && !planes) return;  // the caller checks; never half-done
  auto body = [&](int64_t t, int64_t) {
    int64_t u0 = 0, u1 = units, j0 = 0, j1 = n;
    if (split_cols) {
      j0 = std::min(n, nt * t / tasks * ks.nr);
      j1 = std::min(n, nt * (t + 1) / tasks * ks.nr);
    } else {
      u0 = units * t / tasks;
      u1 = units * (t + 1) / tasks;
    }
    TileEpilogue ep;
    ep.act = args.activation.kind == Activation::kNone ? nullptr : &args.activation;
    if (planes) {
      internal::DirectAPlanesOut out;
      out.y = args.y_planes;
      out.sum = args.sum;
      out.hw = oh * ow;
      out.bias = args.bias;
      out.act = ep.act;
      for (int64_t ub = u0; ub < u1; ub += block_units) {
        const int64_t ue = std::min(u1, ub + block_units);
        for (int64_t jr = j0; jr < j1; jr += ks.nr) {
          const int nr = static_cast<int>(std::min<int64_t>(ks.nr, j1 - jr));
          for (int64_t u = ub; u < ue; ++u) {
            const int64_t oy = u * unit_rows;
            const float* arow = args.a + oy * args.row_len;
            if (pairs) {
              const bool two = oy + 1 < oh;
              internal::DirectAPlanesKernel(k, ks.kc, b.n_pad_, packed, jr, arow, args.aoffs,
                                            two ? kT14 : 8, kT14 / 2, gap, oy * ow,
                                            static_cast<int>(two ? 2 * ow : ow), nr, out);
              continue;
            }
            for (int64_t x0 = 0; x0 < ow; x0 += kT14) {
              internal::DirectAPlanesKernel(k, ks.kc, b.n_pad_, packed, jr, arow + x0, args.aoffs,
                                            kT14, kT14, 0, oy * ow + x0, kT14, nr, out);
            }
          }
        }
      }
      return;
    }
    for (int64_t ub = u0; ub < u1; ub += block_units) {
      const int64_t ue = std::min(u1, ub + block_units);
      for (int64_t jr = j0; jr < j1; jr += ks.nr) {
        const int nr = static_cast<int>(std::min<int64_t>(ks.nr, j1 - jr));
        ep.bias = args.bias != nullptr ? args.bias + jr : nullptr;
        for (int64_t pc = 0; pc < k; pc += ks.kc) {
          const int64_t kc = std::min<int64_t>(ks.kc, k - pc);
          ep.first = pc == 0;
          ep.last = pc + kc >= k;
          const float* sliver = packed + pc * b.n_pad_ + jr * kc;
          // The next block of W^T, pulled toward L2 by the first tile.
          const float* next = nullptr;
          if (pc + kc < k) {
            next = packed + (pc + kc) * b.n_pad_ + jr * std::min<int64_t>(ks.kc, k - pc - kc);
          } else if (jr + ks.nr < j1) {
            next = packed + (jr + ks.nr) * std::min<int64_t>(ks.kc, k);
          }
          ep.prefetch_b = next;
          const int64_t* aoffs = args.aoffs + pc;
          for (int64_t u = ub; u < ue; ++u) {
            const int64_t oy = u * unit_rows;
            const float* arow = args.a + oy * args.row_len;
            float* crow = args.c + oy * ow * args.ldc + jr;
            if (pairs) {
              if (oy + 1 < oh) {
                internal::DirectA14Kernel(kc, arow, aoffs, kT14 / 2, gap, sliver, crow, args.ldc,
                                          kT14, nr, ep);
              } else {
                ks.direct_a_kernel(kc, arow, aoffs, sliver, crow, args.ldc, static_cast<int>(ow),
                                   nr, ep);
              }
              ep.prefetch_b = nullptr;
              continue;
            }
            // Row tiles within the output row: 14 pixels at a time with the 14-row kernel;
            // otherwise 12, a remainder of 4 after a full tile taken as 8 + 8 (28 = 12 + 8 + 8:
            // the 8-row form is the more efficient one).
            for (int64_t x0 = 0, mr = 0; x0 < ow; x0 += mr) {
              const float* a = arow + x0;
              float* ctile = crow + x0 * args.ldc;
              if (t14 && ow - x0 >= kT14 - 1 && ow - x0 != 16) {
                mr = std::min<int64_t>(ow - x0, kT14);
                internal::DirectA14Kernel(kc, a, aoffs, kT14, 0, sliver, ctile, args.ldc,
                                          static_cast<int>(mr), nr, ep);
              } else {
                mr = ow - x0 == 16 ? 8 : std::min<int64_t>(ow - x0, ks.mr);
                ks.direct_a_kernel(kc, a, aoffs, sliver, ctile, args.ldc, static_cast<int>(mr), nr,
                                   ep);
              }
              ep.prefetch_b = nullptr;
            }
          }
        }
      }
    }
  };
  pool.ParallelTasks(tasks, body);
}

}  // namespace mlos::kernels
