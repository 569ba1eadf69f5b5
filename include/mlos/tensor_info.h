// TensorInfo: the declared name, dtype and shape of a model input or output.
// Dynamic dimensions are -1, with their symbolic name (if any) in dim_names.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mlos/dtype.h"
#include "mlos/tensor.h"

namespace mlos {

struct TensorInfo {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;
};

using NamedTensor = std::pair<std::string, Tensor>;

}  // namespace mlos
