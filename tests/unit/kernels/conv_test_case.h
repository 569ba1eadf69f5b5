// A dense convolution test case shared by the Conv2d kernel tests (implicit GEMM, small-C
// direct): its parameters, random operands, and the check of a kernel's output against a plain
// direct loop in double precision (bias, optional residual addend, then the activation).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "activation_reference.h"
#include "kernel_test_util.h"
#include "kernels/cpu/nn.h"

namespace mlos::kernels::testing {

struct ConvCase {
  int64_t n, c, h, w, m, kh, kw, dh, dw, pt, pl, pb, pr, groups;
  Activation act;
  bool bias;
  int64_t sh = 1, sw = 1;
  bool sum = false;  // residual addend (Conv2dParams::sum), added before the activation
};

inline ::testing::Message Describe(const ConvCase& k) {
  return ::testing::Message() << "n" << k.n << " c" << k.c << " " << k.h << "x" << k.w << " m"
                              << k.m << " k" << k.kh << "x" << k.kw << " d" << k.dh << "," << k.dw
                              << " pads " << k.pt << "," << k.pl << "," << k.pb << "," << k.pr
                              << " g" << k.groups << " act " << static_cast<int>(k.act) << " s"
                              << k.sh << "," << k.sw;
}

// Clip bounds are -0.5 and 0.75 so that both bind on the random data.
inline Conv2dParams ParamsFor(const ConvCase& k) {
  Conv2dParams p;
  p.stride_h = k.sh;
  p.stride_w = k.sw;
  p.dilation_h = k.dh;
  p.dilation_w = k.dw;
  p.pad_top = k.pt;
  p.pad_left = k.pl;
  p.pad_bottom = k.pb;
  p.pad_right = k.pr;
  p.groups = k.groups;
  p.activation.kind = k.act;
  p.activation.min = -0.5f;
  p.activation.max = 0.75f;
  return p;
}

struct ConvOperands {
  Tensor x, w, b;
};

inline ConvOperands RandomOperands(const ConvCase& k, std::mt19937& rng) {
  ConvOperands o;
  o.x = RandomTensor(DType::kFloat32, {k.n, k.c, k.h, k.w}, rng, -1, 1);
  o.w = RandomTensor(DType::kFloat32, {k.m, k.c / k.groups, k.kh, k.kw}, rng, -0.2, 0.2);
  o.b = RandomTensor(DType::kFloat32, {k.m}, rng, -1, 1);
  return o;
}

// y (shape [n, m, oh, ow]) against the direct loop; `addend` (same shape) is added when non-null.
inline void ExpectMatchesDirectLoop(const ConvCase& k, const ConvOperands& o, const float* addend,
                                    const Tensor& y) {
  const int64_t oh = y.dim(2), ow = y.dim(3), cg = k.c / k.groups, mg = k.m / k.groups;
  const float* xp = static_cast<const float*>(o.x.raw_data());
  const float* wp = static_cast<const float*>(o.w.raw_data());
  const float* bp = static_cast<const float*>(o.b.raw_data());
  const float* yp = static_cast<const float*>(y.raw_data());
  const ActivationParams act = ParamsFor(k).activation;
  for (int64_t n = 0; n < k.n; ++n) {
    for (int64_t m = 0; m < k.m; ++m) {
      const int64_t grp = m / mg;
      for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          double acc = k.bias ? bp[m] : 0;
          for (int64_t c = 0; c < cg; ++c) {
            for (int64_t i = 0; i < k.kh; ++i) {
              const int64_t iy = oy * k.sh - k.pt + i * k.dh;
              if (iy < 0 || iy >= k.h) continue;
              for (int64_t j = 0; j < k.kw; ++j) {
                const int64_t ix = ox * k.sw - k.pl + j * k.dw;
                if (ix < 0 || ix >= k.w) continue;
                acc += static_cast<double>(xp[((n * k.c + grp * cg + c) * k.h + iy) * k.w + ix]) *
                       wp[((m * cg + c) * k.kh + i) * k.kw + j];
              }
            }
          }
          const int64_t at = ((n * k.m + m) * oh + oy) * ow + ox;
          if (addend != nullptr) acc += addend[at];
          const double want = ReferenceActivation(act, acc);
          const double got = yp[at];
          ASSERT_LE(std::fabs(got - want), 2e-4 * (1 + std::fabs(want)))
              << n << "," << m << "," << oy << "," << ox << " got " << got << " want " << want;
        }
      }
    }
  }
}

}  // namespace mlos::kernels::testing
