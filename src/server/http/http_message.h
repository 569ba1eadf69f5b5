// HttpRequest / HttpResponse: the values an HTTP handler reads and fills.
//
// Ownership: an HttpRequest's string_views point into the connection's receive buffer (or the
// parser's decoded-body buffer) and are valid only for the duration of the handler call.
// An HttpResponse owns everything in it. Neither type is shared between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlos::server::http {

// Case-insensitive ASCII comparison, for header names and tokens.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct HttpHeader {
  std::string_view name;
  std::string_view value;
};

struct HttpRequest {
  std::string_view method;
  std::string_view target;  // as sent: path plus optional "?query"
  std::string_view path;    // raw (still percent-encoded) path
  std::string_view query;   // after '?', without it; empty if none
  int version_minor = 1;    // HTTP/1.x
  bool keep_alive = true;
  std::vector<HttpHeader> headers;
  std::string_view body;
  int64_t received_us = 0;  // monotonic clock when the last byte of the request arrived

  // The first header named `name` (case-insensitive), or an empty view.
  std::string_view Header(std::string_view name) const;
  // The value of query parameter `key` (not decoded), or an empty view; *found tells presence.
  std::string_view QueryParam(std::string_view key, bool* found = nullptr) const;
};

// Produces the pieces of a streamed (chunked) response, e.g. server-sent events. Called on the
// connection's event-loop thread; must not block.
class StreamSource {
 public:
  virtual ~StreamSource() = default;
  // Appends the next chunk to *out (may append nothing) and sets *next_ms to the delay before
  // the next call. Returns false when the stream is finished.
  virtual bool Next(std::string* out, int* next_ms) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string_view content_type = "application/json";  // a static string
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool close = false;                                        // close after sending
  std::shared_ptr<StreamSource> stream;                      // set: chunked streaming body

  void SetJson(int code, std::string json) {
    status = code;
    content_type = "application/json";
    body = std::move(json);
  }
};

// "OK", "Not Found", ... for a status code.
std::string_view StatusReason(int status);

// Decodes %XX escapes (and '+' as space when `plus_is_space`); fails on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space = false);

}  // namespace mlos::server::http
