#include "fuzz_target.h"

#include <string_view>
#include <vector>

#include "graph/session.h"

namespace mlos::fuzz {

void LoadAndRun(const uint8_t* data, size_t size) {
  static ThreadPool pool(1);
  graph::SessionOptions opts;
  opts.pool = &pool;
  // No base dir: external data is refused, so fuzz inputs cannot read files.
  auto s = graph::Session::LoadFromBytes(
      std::string_view(reinterpret_cast<const char*>(data), size), "", opts);
  if (!s.ok()) return;
  std::vector<NamedTensor> inputs;
  for (const TensorInfo& info : (*s)->inputs()) {
    Shape shape = info.shape;
    int64_t n = 1;
    for (auto& d : shape) {
      if (d < 0) d = 1;
      n *= d;
      if (d > 4096 || n > (1 << 20)) return;  // keep runs small
    }
    if (info.dtype == DType::kString) return;
    auto t = Tensor::Zeros(info.dtype, shape);
    if (!t.ok()) return;
    inputs.emplace_back(info.name, *t);
  }
  std::vector<Tensor> outputs;
  (void)(*s)->Run(inputs, &outputs);
}

}  // namespace mlos::fuzz
