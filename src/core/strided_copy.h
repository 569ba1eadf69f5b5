// Copies between tensors of equal dtype and shape with arbitrary strides (internal).
#pragma once

#include "mlos/tensor.h"

namespace mlos {

// Precondition: same dtype and shape (checked by callers). Runs of the innermost axis that are
// contiguous on both sides are copied with memcpy.
void CopyStrided(const Tensor& src, const Tensor& dst);

}  // namespace mlos
