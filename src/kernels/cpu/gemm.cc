// Public float32 GEMM entry points: Sgemm and SgemmBatched reduce to the strided driver.
#include "kernels/cpu/gemm.h"

#include "kernels/cpu/gemm_internal.h"

namespace mlos::kernels {

namespace {

gemm_internal::StridedGemm ToStrided(const GemmArgs& args) {
  gemm_internal::StridedGemm g;
  g.m = args.m;
  g.n = args.n;
  g.k = args.k;
  g.a = args.a;
  if (args.trans_a) {
    g.a_rs = 1;
    g.a_cs = args.lda;
  } else {
    g.a_rs = args.lda;
    g.a_cs = 1;
  }
  g.b = args.b;
  if (args.trans_b) {
    g.b_rs = 1;
    g.b_cs = args.ldb;
  } else {
    g.b_rs = args.ldb;
    g.b_cs = 1;
  }
  g.c = args.c;
  g.ldc = args.ldc;
  g.alpha = args.alpha;
  g.beta = args.beta;
  g.bias = args.bias;
  g.row_bias = args.row_bias;
  g.act = args.activation;
  return g;
}

}  // namespace

void Sgemm(const GemmArgs& args, ThreadPool& pool) {
  gemm_internal::RunGemm(ToStrided(args), gemm_internal::Isa::kAuto, pool);
}

void SgemmBatched(const GemmArgs& args, int64_t batch, int64_t stride_a, int64_t stride_b,
                  int64_t stride_c, ThreadPool& pool) {
  if (batch <= 0 || args.m <= 0 || args.n <= 0) return;
  const gemm_internal::StridedGemm base = ToStrided(args);
  const int64_t flops_per = args.m * args.n * (args.k > 0 ? args.k : 1);
  // Small matrices: one task per group of GEMMs (each single-threaded); large ones: each GEMM
  // uses the whole pool in turn.
  if (batch > 1 && pool.num_threads() > 1 && flops_per < (int64_t{1} << 21)) {
    auto body = [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        gemm_internal::StridedGemm g = base;
        g.a += i * stride_a;
        g.b += i * stride_b;
        g.c += i * stride_c;
        gemm_internal::RunGemm(g, gemm_internal::Isa::kAuto, pool, 1);
      }
    };
    const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / flops_per);
    pool.ParallelFor(batch, grain, body);
    return;
  }
  for (int64_t i = 0; i < batch; ++i) {
    gemm_internal::StridedGemm g = base;
    g.a += i * stride_a;
    g.b += i * stride_b;
    g.c += i * stride_c;
    gemm_internal::RunGemm(g, gemm_internal::Isa::kAuto, pool);
  }
}

}  // namespace mlos::kernels
