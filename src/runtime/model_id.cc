#include "runtime/model_id.h"

#include <vector>

namespace mlos::runtime {

bool IsSafeSegment(std::string_view s) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  return true;
}

Result<ModelId> ParseModelId(std::string_view text) {
  if (text.empty()) return InvalidArgument("model_id is empty");
  if (text.size() > 512) return InvalidArgument("model_id is longer than 512 characters");
  ModelId id;
  std::string_view rest = text;
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    id.version = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
  } else {
    id.version = "latest";
  }
  if (!IsSafeSegment(id.version)) {
    return InvalidArgument("model_id '", text, "': version '", id.version,
                           "' must be letters, digits, '.', '_', '-' or '+'");
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    id.ns = "local";
    id.name = std::string(rest);
  } else {
    id.ns = std::string(rest.substr(0, slash));
    id.name = std::string(rest.substr(slash + 1));
  }
  if (!IsSafeSegment(id.ns)) {
    return InvalidArgument("model_id '", text, "': namespace '", id.ns,
                           "' must be letters, digits, '.', '_', '-' or '+'");
  }
  std::string_view name = id.name;
  if (name.empty()) return InvalidArgument("model_id '", text, "': name is empty");
  while (!name.empty()) {
    size_t s = name.find('/');
    std::string_view seg = name.substr(0, s);
    if (!IsSafeSegment(seg)) {
      return InvalidArgument("model_id '", text, "': name segment '", seg,
                             "' must be letters, digits, '.', '_', '-' or '+'");
    }
    if (s == std::string_view::npos) break;
    name.remove_prefix(s + 1);
    if (name.empty()) return InvalidArgument("model_id '", text, "': name ends with '/'");
  }
  return id;
}

bool VersionLess(std::string_view a, std::string_view b) {
  auto split = [](std::string_view v) {
    std::vector<std::string_view> parts;
    while (true) {
      size_t d = v.find('.');
      parts.push_back(v.substr(0, d));
      if (d == std::string_view::npos) break;
      v.remove_prefix(d + 1);
    }
    return parts;
  };
  auto is_num = [](std::string_view s) {
    if (s.empty() || s.size() > 18) return false;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  std::string_view va = a, vb = b;
  if (!va.empty() && (va[0] == 'v' || va[0] == 'V')) va.remove_prefix(1);
  if (!vb.empty() && (vb[0] == 'v' || vb[0] == 'V')) vb.remove_prefix(1);
  auto pa = split(va), pb = split(vb);
  for (size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
    if (is_num(pa[i]) && is_num(pb[i])) {
      long long x = std::stoll(std::string(pa[i])), y = std::stoll(std::string(pb[i]));
      if (x != y) return x < y;
    } else if (pa[i] != pb[i]) {
      return pa[i] < pb[i];
    }
  }
  return pa.size() < pb.size();
}

}  // namespace mlos::runtime
