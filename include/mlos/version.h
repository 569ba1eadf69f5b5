// The MLOS version, for clients and for /health.
#pragma once

#define MLOS_VERSION_MAJOR 0
#define MLOS_VERSION_MINOR 1
#define MLOS_VERSION_PATCH 0
#define MLOS_VERSION_STRING "0.1.0"

namespace mlos {
// The version of the library actually linked (may differ from the header's).
const char* Version();
}  // namespace mlos
