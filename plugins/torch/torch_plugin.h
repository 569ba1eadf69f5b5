// Internals shared by the torch plugin's two translation units (torch_plugin.cc: models and
// inference; torch_training.cc: the SMI 1.1 training entries). Not an installed header.
// Thread-safety: SetError is safe from any thread (the host's set_error is per call/thread).
#pragma once

#include <string>

#include "mlos/smi_spec.h"

namespace mlos::torch_plugin {

// Reports `message` through the host's set_error and returns `code`.
smi_status_t SetError(smi_status_t code, const std::string& message);
// Stops every training session (each writes a last checkpoint) and frees them; from cleanup.
void ShutdownTraining();

}  // namespace mlos::torch_plugin
