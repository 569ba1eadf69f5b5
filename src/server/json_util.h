// Small RapidJSON helpers for the API routes. Header-only; thread-safe (no state).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

#include "mlos/status.h"
#include "server/http/response_writer.h"

namespace mlos::server {

template <typename Writer>
void WriteString(std::string_view s, Writer* w) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Reads an optional string member; InvalidArgument if present but not a string.
inline Status GetOptionalString(const rapidjson::Value& obj, const char* key, std::string* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::OK();
  if (!it->value.IsString()) return InvalidArgument("'", key, "' must be a string");
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return Status::OK();
}

inline std::string EscapeJson(std::string_view s) {
  std::string out;
  http::AppendJsonEscaped(s, &out);
  return out;
}

}  // namespace mlos::server
