// libFuzzer entry point (built with clang and -DMLOS_FUZZ=ON; see tests/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>

#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlos::fuzz::LoadAndRun(data, size);
  return 0;
}
