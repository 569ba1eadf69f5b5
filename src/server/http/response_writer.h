// Serialises HttpResponse heads and bodies into a connection's output buffer.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "server/http/http_message.h"

namespace mlos::server::http {

struct ResponseContext {
  std::string_view date;         // preformatted IMF-fixdate
  std::string_view cors_origin;  // empty: no CORS headers
  bool head_request = false;     // HEAD: send the length but no body
  bool http10 = false;
  bool close = false;  // add "Connection: close"
};

// Appends the status line, headers and (unless streaming or HEAD) the body.
void AppendResponse(const HttpResponse& resp, const ResponseContext& ctx, std::string* out);

// Appends one chunk of a chunked body ("<hex>\r\n<data>\r\n"); empty data appends nothing.
void AppendChunk(std::string_view data, std::string* out);
// Appends the terminating zero-length chunk.
void AppendLastChunk(std::string* out);

// {"error":"<message>"} with JSON escaping.
std::string ErrorJson(std::string_view message);
// Appends `s` JSON-escaped (without quotes).
void AppendJsonEscaped(std::string_view s, std::string* out);

}  // namespace mlos::server::http
