#include "mlos/version.h"

namespace mlos {
const char* Version() { return MLOS_VERSION_STRING; }
}  // namespace mlos
