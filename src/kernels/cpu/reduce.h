// Reductions over any set of axes, for every numeric dtype (float16/bfloat16 accumulate in
// float32, integers in their own type except Mean). Outputs are preallocated with ReduceShape.
#pragma once

#include <span>

#include "mlos/status.h"
#include "mlos/tensor.h"
#include "mlos/thread_pool.h"

namespace mlos::kernels {

enum class ReduceOp : uint8_t {
  kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare,
};

// Axes may be negative; empty axes reduce everything. Duplicates are an error.
Result<Shape> ReduceShape(const Shape& in, std::span<const int64_t> axes, bool keepdims);
Status Reduce(ReduceOp op, const Tensor& x, std::span<const int64_t> axes, bool keepdims,
              Tensor& y, ThreadPool& pool);
// ArgMax/ArgMin along one axis into an int64 tensor; ties pick the first (or last) index.
Status ArgReduce(bool is_max, const Tensor& x, int64_t axis, bool keepdims, bool select_last,
                 Tensor& y, ThreadPool& pool);

}  // namespace mlos::kernels
