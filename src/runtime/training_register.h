// RegisterTrainedModel: registers a TorchScript file a training session produced as a version of
// a model name (the TrainingService's register_as), through the ModelManager, so it is served by
// the torch plugin (framework pytorch, execution format torchscript).
// Thread-safety: as ModelManager::Register; two concurrent calls for the same name may pick the
// same version, so callers serialise them.
#pragma once

#include <string>

#include "mlos/status.h"
#include "runtime/model_manager.h"

namespace mlos::runtime {

// `register_as`: "name", "ns/name" or "ns/name@version". The version is `version` if given,
// else the one in register_as, else the next patch version after the highest registered one
// ("1.0.0" for a new name), skipping versions that exist. Returns the registered id.
Result<std::string> RegisterTrainedModel(ModelManager* models, const std::string& register_as,
                                         const std::string& version, const std::string& file,
                                         const std::string& description);

// "1.0.3" -> "1.0.4", "7" -> "8"; "" for versions that are not dot-separated numbers.
std::string NextPatchVersion(const std::string& version);

}  // namespace mlos::runtime
