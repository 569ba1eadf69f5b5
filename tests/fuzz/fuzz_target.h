// The body shared by the libFuzzer target and the corpus replay test: load arbitrary bytes as an
// ONNX model and, when that works, run it on zero-filled inputs of its declared shapes (dynamic
// dims = 1). Any outcome but a crash, hang or sanitizer report is fine.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mlos::fuzz {

void LoadAndRun(const uint8_t* data, size_t size);

}  // namespace mlos::fuzz
