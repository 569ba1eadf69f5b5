// The blocked GEMM driver: picks the kernel set for the ISA, partitions C over the pool's
// threads, and runs the packed loop nest (NC columns > KC depth > MC rows > NR x MR tiles) on
// each part with thread-local 64-byte-aligned packing scratch.
#include <algorithm>
#include <cstdlib>
#include <memory>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/scratch_buffer.h"

namespace mlos::kernels::gemm_internal {

namespace {

// Per-thread packing buffer; nullptr if the allocation fails.
float* Scratch(size_t floats) {
  thread_local internal::ScratchBuffer buffer;
  return buffer.Get(static_cast<int64_t>(floats));
}

// Bytes of L2 (1 MB on the target) that a narrowed B panel and its C columns may take.
constexpr int64_t kPanelL2Bytes = 384 * 1024;

int64_t RoundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// Splits `total` into near-equal blocks of at most `block`, each a multiple of `align`.
int64_t BalancedBlock(int64_t total, int64_t block, int64_t align) {
  const int64_t count = (total + block - 1) / block;
  return std::min(block, RoundUp((total + count - 1) / count, align));
}

// The depth block KC the packed path uses for depth k (PackA's layout depends on it).
int64_t DepthBlock(int64_t k, const KernelSet& ks) { return BalancedBlock(k, ks.kc, 8); }

// A(i, p), from the prepacked layout (see PackA) or the strided matrix (times alpha).
float ElementA(const StridedGemm& g, const KernelSet& ks, int64_t i, int64_t p) {
  if (g.packed_a == nullptr) return g.alpha * g.a[i * g.a_rs + p * g.a_cs];
  const int64_t kc_max = DepthBlock(g.k, ks);
  const int64_t pc = p / kc_max * kc_max, kc = std::min(kc_max, g.k - pc);
  return g
      .packed_a[pc * RoundUp(g.m, ks.mr) + (i / ks.mr) * ks.mr * kc + (p - pc) * ks.mr + i % ks.mr];
}

// Unpacked reference loop for when scratch cannot be had (allocation failure): slow, correct.
void NaiveBlock(const StridedGemm& g, const KernelSet& ks, int64_t i0, int64_t i1, int64_t j0,
                int64_t j1) {
  for (int64_t i = i0; i < i1; ++i) {
    float* row = g.c + i * g.ldc;
    for (int64_t j = j0; j < j1; ++j) {
      float acc = 0.f;
      for (int64_t p = 0; p < g.k; ++p) {
        float bv = 0.f;
        if (g.pack_b_fn != nullptr) {
          g.pack_b_fn(g.pack_b_ctx, p, 1, j, 1, 1, &bv);  // one element: a 1 x 1 sliver
        } else {
          bv = g.b[p * g.b_rs + j * g.b_cs];
        }
        acc += ElementA(g, ks, i, p) * bv;
      }
      float v = acc;
      if (g.beta != 0.f) v += g.beta * row[j];
      if (g.bias != nullptr) v += g.bias[j];
      if (g.row_bias != nullptr) v += g.row_bias[i];
      if (g.sum != nullptr) v += g.sum[i * g.sum_ld + j];
      row[j] = v;
    }
    ApplyActivation(g.act, row + j0, j1 - j0);
  }
}

void RunBlock(const StridedGemm& g, const KernelSet& ks, int64_t i0, int64_t i1, int64_t j0,
              int64_t j1) {
  if (i0 >= i1 || j0 >= j1) return;
  const int64_t kc_max = DepthBlock(g.k, ks);
  const int64_t mc_max = BalancedBlock(i1 - i0, ks.mc, ks.mr);
  // One row block of a prepacked A (a conv's weight with few output channels): every B panel
  // is used once, right after packing, and C's columns are re-read once per depth block.
  // Narrow the panel so that it and its C columns stay in L2 together instead of round-tripping
  // through L3 (64ch 56x56 3x3 conv, 1 thread: ~1.52-1.62 -> 1.41-1.51 ms). Only with a
  // prepacked A, which a narrower panel does not make the driver repack.
  int64_t nc_cap = ks.nc;
  if (g.packed_a != nullptr && i1 - i0 <= mc_max && g.k > kc_max) {
    const int64_t per_col =
        (kc_max + RoundUp(i1 - i0, ks.mr)) * static_cast<int64_t>(sizeof(float));
    nc_cap = std::clamp<int64_t>(kPanelL2Bytes / per_col / ks.nr * ks.nr, 4 * ks.nr, ks.nc);
  }
  const int64_t nc_max = BalancedBlock(j1 - j0, nc_cap, ks.nr);
  const int64_t m_padded = RoundUp(g.m, ks.mr);
  const size_t a_floats =
      g.packed_a != nullptr ? 0 : static_cast<size_t>(RoundUp(mc_max, ks.mr) * kc_max);
  const size_t b_floats = static_cast<size_t>(RoundUp(nc_max, ks.nr) * kc_max);
  float* scratch = Scratch(a_floats + b_floats + 16);
  if (scratch == nullptr) {
    NaiveBlock(g, ks, i0, i1, j0, j1);
    return;
  }
  float* abuf = scratch;
  float* bbuf = scratch + RoundUp(static_cast<int64_t>(a_floats), 16);

  TileEpilogue ep;
  ep.beta = g.beta;
  ep.act = g.act.kind == Activation::kNone ? nullptr : &g.act;
  for (int64_t jc = j0; jc < j1; jc += nc_max) {
    const int64_t nc = std::min(nc_max, j1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += kc_max) {
      const int64_t kc = std::min(kc_max, g.k - pc);
      if (g.pack_b_fn != nullptr) {
        g.pack_b_fn(g.pack_b_ctx, pc, kc, jc, nc, ks.nr, bbuf);
      } else {
        ks.pack_b(g.b + pc * g.b_rs + jc * g.b_cs, g.b_rs, g.b_cs, kc, nc, bbuf);
      }
      ep.first = pc == 0;
      ep.last = pc + kc >= g.k;
      for (int64_t ic = i0; ic < i1; ic += mc_max) {
        const int64_t mc = std::min(mc_max, i1 - ic);
        const float* ap = abuf;
        if (g.packed_a != nullptr) {
          ap = g.packed_a + pc * m_padded + ic * kc;  // ic is a multiple of MR
        } else {
          ks.pack_a(g.a + ic * g.a_rs + pc * g.a_cs, g.a_rs, g.a_cs, mc, kc, g.alpha, abuf);
        }
        for (int64_t jr = 0; jr < nc; jr += ks.nr) {
          const int nr = static_cast<int>(std::min<int64_t>(ks.nr, nc - jr));
          ep.bias = g.bias != nullptr ? g.bias + jc + jr : nullptr;
          float* c_col = g.c + ic * g.ldc + jc + jr;
          const float* b_sliver = bbuf + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += ks.mr) {
            const int mr = static_cast<int>(std::min<int64_t>(ks.mr, mc - ir));
            ep.row_bias = g.row_bias != nullptr ? g.row_bias + ic + ir : nullptr;
            if (g.sum != nullptr) {
              ep.addend = g.sum + (ic + ir) * g.sum_ld + jc + jr;
              ep.addend_ld = g.sum_ld;
            }
            // A prepacked weight streams from L3 or memory on the first column sliver: have
            // the kernel pull the next A slivers toward L2 (its hint walks 128 bytes per depth
            // step, about 2.7 A slivers of 48; a prefetch past the buffer does not fault).
            if (g.packed_a != nullptr) ep.prefetch_b = ap + (ir + ks.mr) * kc;
            ks.kernel(kc, ap + ir * kc, b_sliver, c_col + ir * g.ldc, g.ldc, mr, nr, ep);
          }
        }
      }
    }
  }
}

// Few rows: packing B would cost about as much as the arithmetic, so B is read in place and
// the columns are split over the tasks. Up to small_m rows: one pass with all of k in
// registers, B streamed from memory once. Up to kSmallMGroups row groups: a KB x CW block of B
// (in L2) is reused by every row group before moving on.
constexpr int kSmallMGroups = 8;         // measured: beats packing up to m = 32 (AVX-512)
constexpr int64_t kSmallMDepth = 256;    // KB
constexpr int64_t kSmallMColumns = 512;  // CW; 512 KB of B per block

bool UseSmallM(const StridedGemm& g, const KernelSet& ks) {
  return ks.small_m_kernel != nullptr && g.b_cs == 1 && g.m <= ks.small_m * kSmallMGroups;
}

void RunSmallM(const StridedGemm& g, const KernelSet& ks, int tasks, ThreadPool& pool) {
  const int64_t blocks = (g.n + ks.small_m_nr - 1) / ks.small_m_nr;
  tasks = static_cast<int>(std::min<int64_t>(tasks, blocks));
  const bool one_pass = g.m <= ks.small_m;
  const int64_t kb = one_pass ? g.k : BalancedBlock(g.k, kSmallMDepth, 8);
  const int64_t cw = one_pass ? g.n : RoundUp(kSmallMColumns, ks.small_m_nr);
  auto body = [&](int64_t t, int64_t) {
    const int64_t j0 = std::min(g.n, blocks * t / tasks * ks.small_m_nr);
    const int64_t j1 = std::min(g.n, blocks * (t + 1) / tasks * ks.small_m_nr);
    TileEpilogue ep;
    ep.beta = g.beta;
    ep.act = g.act.kind == Activation::kNone ? nullptr : &g.act;
    for (int64_t jc = j0; jc < j1; jc += cw) {
      const int64_t cols = std::min(cw, j1 - jc);
      ep.bias = g.bias != nullptr ? g.bias + jc : nullptr;
      for (int64_t pc = 0; pc < g.k; pc += kb) {
        const int64_t depth = std::min(kb, g.k - pc);
        ep.first = pc == 0;
        ep.last = pc + depth >= g.k;
        for (int64_t r0 = 0; r0 < g.m; r0 += ks.small_m) {
          const int rows = static_cast<int>(std::min<int64_t>(ks.small_m, g.m - r0));
          ep.row_bias = g.row_bias != nullptr ? g.row_bias + r0 : nullptr;
          ks.small_m_kernel(rows, cols, depth, g.a + r0 * g.a_rs + pc * g.a_cs, g.a_rs, g.a_cs,
                            g.b + pc * g.b_rs + jc, g.b_rs, g.c + r0 * g.ldc + jc, g.ldc, g.alpha,
                            ep);
        }
      }
    }
  };
  pool.ParallelTasks(tasks, body);
}

// Few rows with a transposed B (each B column contiguous along k): dot products straight from
// A and B. Blocked like RunSmallM: a block of kSmallMDotColumns B columns x kSmallMDotDepth is
// reused from L2 by every row group.
constexpr int64_t kSmallMDotDepth = 1024;
constexpr int64_t kSmallMDotColumns = 64;  // 256 KB of B per block

bool UseSmallMDot(const StridedGemm& g, const KernelSet& ks) {
  return ks.small_m_dot_kernel != nullptr && g.row_bias == nullptr && g.b_rs == 1 && g.a_cs == 1 &&
         g.m <= ks.small_m_dot * kSmallMGroups;
}

void RunSmallMDot(const StridedGemm& g, const KernelSet& ks, int tasks, ThreadPool& pool) {
  constexpr int64_t kAlign = 16;  // column split granularity
  const int64_t blocks = (g.n + kAlign - 1) / kAlign;
  tasks = static_cast<int>(std::min<int64_t>(tasks, blocks));
  const bool one_pass = g.m <= ks.small_m_dot;
  const int64_t kb = one_pass ? g.k : BalancedBlock(g.k, kSmallMDotDepth, 16);
  const int64_t cw = one_pass ? g.n : kSmallMDotColumns;
  auto body = [&](int64_t t, int64_t) {
    const int64_t j0 = std::min(g.n, blocks * t / tasks * kAlign);
    const int64_t j1 = std::min(g.n, blocks * (t + 1) / tasks * kAlign);
    TileEpilogue ep;
    ep.beta = g.beta;
    ep.act = g.act.kind == Activation::kNone ? nullptr : &g.act;
    for (int64_t jc = j0; jc < j1; jc += cw) {
      const int64_t cols = std::min(cw, j1 - jc);
      ep.bias = g.bias != nullptr ? g.bias + jc : nullptr;
      for (int64_t pc = 0; pc < g.k; pc += kb) {
        const int64_t depth = std::min(kb, g.k - pc);
        ep.first = pc == 0;
        ep.last = pc + depth >= g.k;
        for (int64_t r0 = 0; r0 < g.m; r0 += ks.small_m_dot) {
          const int rows = static_cast<int>(std::min<int64_t>(ks.small_m_dot, g.m - r0));
          ks.small_m_dot_kernel(rows, cols, depth, g.a + r0 * g.a_rs + pc, g.a_rs, 1,
                                g.b + jc * g.b_cs + pc, g.b_cs, g.c + r0 * g.ldc + jc, g.ldc,
                                g.alpha, ep);
        }
      }
    }
  };
  pool.ParallelTasks(tasks, body);
}

const KernelSet& KernelsFor(Isa isa) {
  if (isa == Isa::kAuto) isa = BestIsa();
  if (isa == Isa::kAvx512 && UseAvx512()) return Avx512Kernels();
  if ((isa == Isa::kAvx2 || isa == Isa::kAvx512) && UseAvx2()) return Avx2Kernels();
  return PortableKernels();
}

}  // namespace

bool UseAvx512() { return UseAvx2() && GetCpuFeatures().avx512f; }

Isa BestIsa() {
  if (UseAvx512()) return Isa::kAvx512;
  return UseAvx2() ? Isa::kAvx2 : Isa::kPortable;
}

bool IsaSupported(Isa isa) {
  switch (isa) {
    case Isa::kAuto:
    case Isa::kPortable:
      return true;
    case Isa::kAvx2:
      return UseAvx2();
    case Isa::kAvx512:
      return UseAvx512();
  }
  return false;
}

const char* IsaName(Isa isa) { return KernelsFor(isa).name; }

int64_t PackedASize(int64_t m, int64_t k, Isa isa) {
  if (m <= 0 || k <= 0) return 0;
  return RoundUp(m, KernelsFor(isa).mr) * k;
}

void PackA(const float* a, int64_t a_rs, int64_t a_cs, int64_t m, int64_t k, float alpha, Isa isa,
           float* out) {
  if (m <= 0 || k <= 0) return;
  const KernelSet& ks = KernelsFor(isa);
  const int64_t kc_max = DepthBlock(k, ks), m_padded = RoundUp(m, ks.mr);
  for (int64_t pc = 0; pc < k; pc += kc_max) {
    const int64_t kc = std::min(kc_max, k - pc);
    // Whole MC blocks at a time (pack_a takes any multiple of MR rows).
    for (int64_t ic = 0; ic < m; ic += ks.mc) {
      const int64_t mc = std::min<int64_t>(ks.mc, m - ic);
      ks.pack_a(a + ic * a_rs + pc * a_cs, a_rs, a_cs, mc, kc, alpha,
                out + pc * m_padded + ic * kc);
    }
  }
}

void ScaleBiasActivate(const StridedGemm& g) {
  for (int64_t i = 0; i < g.m; ++i) {
    float* row = g.c + i * g.ldc;
    for (int64_t j = 0; j < g.n; ++j) {
      float v = g.beta == 0.f ? 0.f : g.beta * row[j];
      if (g.bias != nullptr) v += g.bias[j];
      if (g.row_bias != nullptr) v += g.row_bias[i];
      if (g.sum != nullptr) v += g.sum[i * g.sum_ld + j];
      row[j] = v;
    }
    ApplyActivation(g.act, row, g.n);
  }
}

void RunGemm(const StridedGemm& g, Isa isa, ThreadPool& pool, int max_tasks) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0) {
    ScaleBiasActivate(g);
    return;
  }
  const KernelSet& ks = KernelsFor(isa);
  // Only the packed path can take an implicit B, a prepacked A or an addend.
  const bool implicit_b = g.pack_b_fn != nullptr || g.packed_a != nullptr || g.sum != nullptr;
  int tasks = max_tasks > 0 ? std::min(max_tasks, pool.num_threads()) : pool.num_threads();
  if (ThreadPool::InsideParallelRegion()) tasks = 1;
  // Keep at least ~256K multiply-adds per task so small GEMMs do not pay for a fork.
  const double work =
      static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  tasks = static_cast<int>(std::clamp<double>(work / (1 << 18), 1, tasks));
  if (!implicit_b && g.n == 1 && g.m > 1 && g.ldc == 1 && g.bias == nullptr) {
    // Matrix-vector product: C^T = B^T A^T turns it into a one-row GEMM that the small-m
    // paths stream at memory speed (a packed 12x32 tile would waste 31 of its 32 columns).
    // A per-row bias becomes the transposed problem's per-column bias.
    StridedGemm t = g;
    t.bias = g.row_bias;
    t.row_bias = nullptr;
    t.m = 1;
    t.n = g.m;
    t.a = g.b;
    t.a_rs = 0;
    t.a_cs = g.b_rs;
    t.b = g.a;
    t.b_rs = g.a_cs;
    t.b_cs = g.a_rs;
    t.ldc = g.m;
    if (UseSmallM(t, ks)) return RunSmallM(t, ks, tasks, pool);
    if (UseSmallMDot(t, ks)) return RunSmallMDot(t, ks, tasks, pool);
  }
  if (!implicit_b && UseSmallM(g, ks)) {
    RunSmallM(g, ks, tasks, pool);
    return;
  }
  if (!implicit_b && UseSmallMDot(g, ks)) {
    RunSmallMDot(g, ks, tasks, pool);
    return;
  }
  // Columns split in units of half a sliver where the kernel set runs a half-width tile at half
  // cost (AVX-512: 16 of 32): 784 columns (a 28x28 conv) split 400 / 384 (12.5 / 12 slivers)
  // instead of 416 / 368 (13 / 11.5).
  const int64_t cu = ks.nr == 32 ? 16 : ks.nr;
  const int64_t mt = (g.m + ks.mr - 1) / ks.mr, nt = (g.n + cu - 1) / cu;
  // Grid tm x tn of tasks minimising the largest part; ties split the columns. A part costs its
  // tiles' multiply-adds plus its packing: every task packs the whole depth of its rows of A
  // and its columns of B, so splitting the columns of a short, wide-k problem (a 7x7 conv
  // layer: m = 512, n = 49) would have each task pack all of A. One packed float is weighted
  // as kPackCost multiply-adds (a copy, often a transposing one, against a 16-lane FMA).
  constexpr int64_t kPackCost = 16;
  int tm = 1, tn = tasks;
  int64_t best = -1;
  for (int cand_tn = tasks; cand_tn >= 1; --cand_tn) {
    if (tasks % cand_tn != 0) continue;
    const int cand_tm = tasks / cand_tn;
    if (cand_tn > nt || cand_tm > mt) continue;
    const int64_t rows = (mt + cand_tm - 1) / cand_tm, cols = (nt + cand_tn - 1) / cand_tn;
    const int64_t part = rows * cols * ks.mr * cu + kPackCost * (rows * ks.mr + cols * cu);
    if (best < 0 || part < best) {
      best = part;
      tm = cand_tm;
      tn = cand_tn;
    }
  }
  if (best < 0) {
    tm = 1;
    tn = 1;
  }
  auto body = [&](int64_t t, int64_t) {
    const int64_t ti = t / tn, tj = t % tn;
    const int64_t i0 = std::min(g.m, mt * ti / tm * ks.mr);
    const int64_t i1 = std::min(g.m, mt * (ti + 1) / tm * ks.mr);
    const int64_t j0 = std::min(g.n, nt * tj / tn * cu);
    const int64_t j1 = std::min(g.n, nt * (tj + 1) / tn * cu);
    RunBlock(g, ks, i0, i1, j0, j1);
  };
  pool.ParallelTasks(static_cast<int64_t>(tm) * tn, body);
}

}  // namespace mlos::kernels::gemm_internal
