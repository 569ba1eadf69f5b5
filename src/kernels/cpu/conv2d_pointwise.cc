// PointwiseConvPacked: a small driver over the GEMM micro-kernels with A (the weight) packed
// at load time and B (the input planes) packed once per call by the calling thread into
// thread-local scratch, then shared read-only by every task. Tasks split the output channels
// (panels of MR rows) and, when there are fewer panel groups than tasks, the columns.
#include "kernels/cpu/conv2d_pointwise.h"

#include <algorithm>
#include <cstdlib>

#include "kernels/cpu/conv2d_pointwise_internal.h"
#include "kernels/cpu/gemm_kernels.h"
#include "kernels/cpu/kernel_dispatch.h"
#include "kernels/cpu/pack_internal.h"
#include "kernels/cpu/prepacked_gemm.h"
#include "kernels/cpu/scratch_buffer.h"

namespace mlos::kernels {
namespace {

using gemm_internal::KernelSet;
using gemm_internal::TileEpilogue;

// Floats of packed input per column chunk (192 KB: a fifth of L2, beside the weight panels).
constexpr int64_t kChunkFloats = 48 * 1024;

int64_t RoundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// Per-thread buffer for the packed input; nullptr when it cannot be had.
float* BPanel(int64_t floats) {
  thread_local internal::ScratchBuffer buf;
  return buf.Get(floats);
}

}  // namespace

// Columns [j0, j1) by a plain loop reading the packed weight in place: the path taken when
// scratch cannot be allocated (slow, correct).
void PointwiseFallback(const PackedPointwiseWeight& w, const float* x, int64_t hw,
                       const float* bias, const ActivationParams& act, float* y, int64_t j0,
                       int64_t j1) {
  const KernelSet& ks = *w.ks_;
  const int64_t k = w.c_;
  for (int64_t o = 0; o < w.m_; ++o) {
    float* row = y + o * hw;
    const int64_t i0 = o / ks.mr * ks.mr, r = o % ks.mr;
    for (int64_t q = j0; q < j1; ++q) {
      float acc = bias != nullptr ? bias[o] : 0.f;
      for (int64_t p = 0; p < k; ++p) {
        const int64_t pc = p / ks.kc * ks.kc, kc = std::min<int64_t>(ks.kc, k - pc);
        acc += w.data_.get()[pc * w.m_pad_ + i0 * kc + (p - pc) * ks.mr + r] * x[p * hw + q];
      }
      row[q] = acc;
    }
    ApplyActivation(act, row + j0, j1 - j0);
  }
}

void PackedPointwiseWeight::FreeDeleter::operator()(float* p) const { std::free(p); }

Result<std::shared_ptr<const PackedPointwiseWeight>> PackedPointwiseWeight::Pack(const float* w,
                                                                                 int64_t m,
                                                                                 int64_t c) {
  if (m <= 0 || c <= 0) {
    return InvalidArgument("PackedPointwiseWeight: weight ", m, " x ", c, " is empty");
  }
  auto pw = std::shared_ptr<PackedPointwiseWeight>(new PackedPointwiseWeight());
  const KernelSet& ks = MicroKernels();
  pw->ks_ = &ks;
  pw->m_ = m;
  pw->c_ = c;
  pw->m_pad_ = RoundUp(m, ks.mr);
  const size_t floats = static_cast<size_t>(pw->m_pad_) * static_cast<size_t>(c);
  const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
  pw->data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
  if (pw->data_ == nullptr)
    return ResourceExhausted("PackedPointwiseWeight: cannot allocate ", bytes);
  float* out = pw->data_.get();
  for (int64_t pc = 0; pc < c; pc += ks.kc) {
    const int64_t kc = std::min<int64_t>(ks.kc, c - pc);
    // Panel i0 of this depth block at out + pc * m_pad + i0 * kc (MR rows x kc, p-major).
    PackA(ks, w + pc, c, 1, m, kc, 1.f, out + pc * pw->m_pad_);
  }
  return std::shared_ptr<const PackedPointwiseWeight>(std::move(pw));
}

void PointwiseConvPacked(const PackedPointwiseWeight& w, const float* x, int64_t hw,
                         const float* bias, const ActivationParams& act, float* y,
                         ThreadPool& pool) {
  const KernelSet& ks = *w.ks_;
  const int64_t m = w.m_, k = w.c_;
  if (hw <= 0) return;
  const int64_t hw_pad = RoundUp(hw, ks.nr);
  // Column chunks of nc outputs whose packed input (k x nc) stays in L2 while every panel of
  // the weight sweeps it.
  const int64_t nc = std::clamp<int64_t>((kChunkFloats / k) / ks.nr * ks.nr, ks.nr, hw_pad);
  const int64_t chunks = (hw + nc - 1) / nc;
  int tasks = ThreadPool::InsideParallelRegion() ? 1 : pool.num_threads();
  const double work = static_cast<double>(m) * static_cast<double>(hw) * static_cast<double>(k);
  tasks = static_cast<int>(std::clamp<double>(work / (1 << 18), 1, tasks));
  const int64_t mt = (m + ks.mr - 1) / ks.mr;
  const float* packed_w = w.data_.get();
  // Panels [p0, p1) over the packed columns [j0, j1) (bblock: the packed input of column j0).
  auto sweep = [&](int64_t p0, int64_t p1, int64_t j0, int64_t j1, const float* bpacked,
                   int64_t b_stride) {
    TileEpilogue ep;
    ep.act = act.kind == Activation::kNone ? nullptr : &act;
    for (int64_t pc = 0; pc < k; pc += ks.kc) {
      const int64_t kc = std::min<int64_t>(ks.kc, k - pc);
      ep.first = pc == 0;
      ep.last = pc + kc >= k;
      const float* ablock = packed_w + pc * w.m_pad_;
      const float* bblock = bpacked + pc * b_stride;
      for (int64_t pi = p0; pi < p1; ++pi) {
        const int64_t i0 = pi * ks.mr;
        const int mr = static_cast<int>(std::min<int64_t>(ks.mr, m - i0));
        ep.row_bias = bias != nullptr ? bias + i0 : nullptr;
        const float* panel = ablock + i0 * kc;
        for (int64_t jr = j0; jr < j1; jr += ks.nr) {
          const int nr = static_cast<int>(std::min<int64_t>(ks.nr, j1 - jr));
          ks.kernel(kc, panel, bblock + (jr - j0) * kc, y + i0 * hw + jr, hw, mr, nr, ep);
        }
      }
    }
  };
  auto pack = [&](int64_t j0, int64_t j1, float* out, int64_t stride) {
    for (int64_t pc = 0; pc < k; pc += ks.kc) {
      const int64_t kc = std::min<int64_t>(ks.kc, k - pc);
      ks.pack_b(x + pc * hw + j0, hw, 1, kc, j1 - j0, out + pc * stride);
    }
  };
  if (chunks >= tasks) {
    // Each task packs its own chunks (thread-local scratch) and runs every panel over them.
    auto body = [&](int64_t t0, int64_t t1) {
      float* buf = BPanel(k * nc);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t j0 = t * nc, j1 = std::min(hw, j0 + nc);
        if (buf == nullptr) {
          PointwiseFallback(w, x, hw, bias, act, y, j0, j1);
          continue;
        }
        pack(j0, j1, buf, RoundUp(j1 - j0, ks.nr));
        sweep(0, mt, j0, j1, buf, RoundUp(j1 - j0, ks.nr));
      }
    };
    if (tasks == 1) {
      body(0, chunks);
    } else {
      pool.ParallelFor(chunks, 1, body);
    }
    return;
  }
  // Fewer chunks than tasks: the caller packs all columns once, tasks split the panels.
  float* bp = BPanel(hw_pad * k);
  if (bp == nullptr) {
    PointwiseFallback(w, x, hw, bias, act, y, 0, hw);
    return;
  }
  pack(0, hw, bp, hw_pad);
  const int64_t tm = std::min<int64_t>(tasks, mt);
  pool.ParallelTasks(
      tm, [&](int64_t t, int64_t) { sweep(mt * t / tm, mt * (t + 1) / tm, 0, hw, bp, hw_pad); });
}

bool PointwiseDirectAvailable() { return KernelsUseAvx2() && gemm_internal::UseAvx512(); }

bool PointwiseConvDirect(const float* w, int64_t m, int64_t c, const float* x, int64_t hw,
                         const float* bias, const ActivationParams& act, float* y,
                         ThreadPool& pool) {
  if (!PointwiseDirectAvailable()) return false;
  if (m <= 0 || hw <= 0) return true;
  const int64_t blocks = (hw + 31) / 32, groups = (m + 11) / 12;
  int tasks = ThreadPool::InsideParallelRegion() ? 1 : pool.num_threads();
  const double work = static_cast<double>(m) * static_cast<double>(hw) * static_cast<double>(c);
  tasks = static_cast<int>(std::clamp<double>(work / (1 << 18), 1, tasks));
  tasks = static_cast<int>(std::min<int64_t>(tasks, std::max(blocks, groups)));
  // Split the 32-column blocks, or the 12-channel row groups when that evens out the parts: a
  // 14x14 plane has 7 blocks (the last of 4 columns costs a whole block), which split 3 + 4
  // over 2 tasks, while 48 row groups split 24 + 24 (96 -> 576 @14: largest part 4 x 576 vs
  // 7 x 288 block-rows). Each task's rows read the whole (small) input block; its share of the
  // weight is disjoint.
  const int64_t col_cost = (blocks + tasks - 1) / tasks * m;
  int64_t row_cost = 0;
  for (int t = 0; t < tasks; ++t) {
    const int64_t o0 = std::min(m, groups * t / tasks * 12);
    const int64_t o1 = std::min(m, groups * (t + 1) / tasks * 12);
    row_cost = std::max(row_cost, blocks * (o1 - o0));
  }
  const bool split_rows = tasks > 1 && groups >= tasks && row_cost < col_cost;
  auto body = [&](int64_t t, int64_t) {
    if (split_rows) {
      const int64_t o0 = std::min(m, groups * t / tasks * 12);
      const int64_t o1 = std::min(m, groups * (t + 1) / tasks * 12);
      if (o0 < o1) {
        internal::PointwiseDirectAvx512(w + o0 * c, o1 - o0, c, x, hw,
                                        bias != nullptr ? bias + o0 : nullptr, act, y + o0 * hw, 0,
                                        hw);
      }
      return;
    }
    const int64_t j0 = std::min(hw, blocks * t / tasks * 32);
    const int64_t j1 = std::min(hw, blocks * (t + 1) / tasks * 32);
    if (j0 < j1) internal::PointwiseDirectAvx512(w, m, c, x, hw, bias, act, y, j0, j1);
  };
  if (tasks == 1) {
    body(0, 1);
  } else {
    pool.ParallelTasks(tasks, body);
  }
  return true;
}

bool StridedPointwiseConvDirect(const float* w, int64_t m, int64_t c, const float* x, int64_t h,
                                int64_t wd, int64_t sh, int64_t sw, int64_t oh, int64_t ow,
                                const float* bias, const ActivationParams& act, float* y,
                                ThreadPool& pool) {
  if (!PointwiseDirectAvailable()) return false;
  const int64_t plane = oh * ow;
  if (m <= 0 || plane <= 0) return true;
  thread_local internal::ScratchBuffer gathered;
  float* g = gathered.Get(c * plane);
  if (g == nullptr) return false;
  auto gather = [&](int64_t b, int64_t e) {
    internal::GatherStridedAvx512(x, h, wd, sh, sw, oh, ow, b, e, g + b * plane);
  };
  if (ThreadPool::InsideParallelRegion() || c * plane < 32 * 1024) {
    gather(0, c);
  } else {
    pool.ParallelFor(c, std::max<int64_t>(1, 16384 / plane), gather);
  }
  return PointwiseConvDirect(w, m, c, g, plane, bias, act, y, pool);
}

void TransposeToPlanes(const float* yt, int64_t rows, int64_t cols, float* y, ThreadPool& pool,
                       const float* sum, const ActivationParams& act) {
  if (rows <= 0 || cols <= 0) return;
  const bool simd = KernelsUseAvx2();
  const bool epilogue = sum != nullptr || act.kind != Activation::kNone;
  const int64_t rows8 = simd ? rows / 8 * 8 : 0;
  const int64_t col_blocks = (cols + 7) / 8;
  // Columns [j0, j1) of yt: 8 x 8 register blocks, then the leftover rows and columns. With an
  // epilogue, block by block of 8 planes, so the addend pass finds its planes still in L2 (a
  // transpose pass and a separate addend pass over all of y cost two).
  auto columns = [&](int64_t j0, int64_t j1) {
    const int64_t j8 = simd ? j0 + (j1 - j0) / 8 * 8 : j0;
    if (j8 > j0 && rows8 > 0) {
      internal::TransposeBlocks8Avx2(yt + j0, cols, rows8, j8 - j0, y + j0 * rows, rows);
    }
    for (int64_t j = j0; j < j1; ++j) {
      float* out = y + j * rows;
      const int64_t i0 = j < j8 ? rows8 : 0;
      for (int64_t i = i0; i < rows; ++i) out[i] = yt[i * cols + j];
      if (!epilogue) continue;
      if (sum != nullptr) {
        const float* add = sum + j * rows;
        for (int64_t i = 0; i < rows; ++i) out[i] += add[i];
      }
      ApplyActivation(act, out, rows);
    }
  };
  auto body = [&](int64_t b0, int64_t b1) {
    if (!epilogue) return columns(b0 * 8, std::min(cols, b1 * 8));
    for (int64_t b = b0; b < b1; ++b) columns(b * 8, std::min(cols, b * 8 + 8));
  };
  int tasks = ThreadPool::InsideParallelRegion() ? 1 : pool.num_threads();
  tasks = static_cast<int>(std::clamp<int64_t>(rows * cols / (16 * 1024), 1, tasks));
  tasks = static_cast<int>(std::min<int64_t>(tasks, col_blocks));
  if (tasks == 1) {
    body(0, col_blocks);
    return;
  }
  pool.ParallelTasks(tasks, [&](int64_t t, int64_t) {
    body(col_blocks * t / tasks, col_blocks * (t + 1) / tasks);
  });
}

}  // namespace mlos::kernels
