// Registration of trained models (training_register.h).
#include "runtime/training_register.h"

#include <cctype>

#include "runtime/log.h"
#include "runtime/model_id.h"

namespace mlos::runtime {

std::string NextPatchVersion(const std::string& v) {
  if (v.empty()) return "";
  const size_t dot = v.rfind('.');
  const std::string head = dot == std::string::npos ? "" : v.substr(0, dot + 1);
  const std::string tail = dot == std::string::npos ? v : v.substr(dot + 1);
  if (tail.empty() || tail.size() > 15) return "";
  for (char c : head + tail) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.')) return "";
  }
  return head + std::to_string(std::stoll(tail) + 1);
}

Result<std::string> RegisterTrainedModel(ModelManager* models, const std::string& register_as,
                                         const std::string& version_in, const std::string& file,
                                         const std::string& description) {
  if (models == nullptr) return FailedPrecondition("no model registry to register into");
  Result<ModelId> parsed = ParseModelId(register_as);
  if (!parsed.ok()) return parsed.status().WithContext("register_as");
  ModelId target = *parsed;
  std::string version = version_in;
  if (version.empty() && register_as.find('@') != std::string::npos) version = target.version;
  if (version.empty()) {
    version = "1.0.0";
    if (std::shared_ptr<ModelEntry> e = models->Find(target.Family())) {
      const std::string next = NextPatchVersion(e->record().version);
      if (!next.empty()) version = next;
    }
    // Never replace an existing version by accident.
    for (int i = 0; i < 1000; ++i) {
      ModelId probe = target;
      probe.version = version;
      std::shared_ptr<ModelEntry> e = models->Find(probe.ToString());
      if (!e || e->id() != probe.ToString()) break;
      const std::string next = NextPatchVersion(version);
      version = next.empty() ? version + ".1" : next;
    }
  }
  target.version = version;
  RegisterRequest req;
  req.model_id = target.ToString();
  req.path = file;
  req.framework = "pytorch";
  req.execution_format = "torchscript";
  req.description = description;
  MLOS_ASSIGN_OR_RETURN(std::shared_ptr<ModelEntry> entry, models->Register(req));
  return entry->id();
}

}  // namespace mlos::runtime
