// ModelId: the registry's model identifier, "<namespace>/<name>@<version>" as Axon spells it
// (e.g. "hf/bert-base-uncased@latest"). The name may itself hold '/' (hf/org/model@v1).
// Pure value type; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "mlos/status.h"

namespace mlos::runtime {

struct ModelId {
  std::string ns;
  std::string name;
  std::string version;

  std::string ToString() const { return ns + "/" + name + "@" + version; }
  std::string Family() const { return ns + "/" + name; }  // without the version
};

// Parses and validates an id. Segments use [A-Za-z0-9._+-] and may not be "." or ".."; a
// missing "@version" means "latest". Without a '/' the namespace is "local".
Result<ModelId> ParseModelId(std::string_view text);

// True if `s` is a safe single path segment (no '/', not "." or "..", allowed characters only).
bool IsSafeSegment(std::string_view s);

// Orders versions for "latest": numeric dot-separated parts compare numerically, else text.
bool VersionLess(std::string_view a, std::string_view b);

}  // namespace mlos::runtime
