// A small blocking HTTP/1.1 client for mlosctl's daemon subcommands (train): one request per
// connection ("Connection: close"), plain http:// only, bodies read whole or streamed line by
// line (server-sent events over chunked transfer encoding).
// Thread-safety: an HttpClientConnection belongs to one thread; the free functions keep no
// state.
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "mlos/status.h"

namespace mlosctl {

struct HttpEndpoint {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string base_path;  // a prefix before the API paths, without the trailing '/'
};

// "http://host[:port][/prefix]" (or "host:port"); other schemes are an InvalidArgument error.
mlos::Result<HttpEndpoint> ParseHttpEndpoint(std::string_view url);

struct HttpResult {
  int status = 0;
  std::string content_type;
  std::string body;
};

// One request with an optional JSON body; the whole response. `timeout_ms` bounds each wait.
mlos::Result<HttpResult> HttpRequest(const HttpEndpoint& ep, std::string_view method,
                                     std::string_view path, std::string_view json_body = {},
                                     int timeout_ms = 30000);

// A response read incrementally: after Open(), ReadLine() returns the body's lines (chunked
// or not) as they arrive.
class HttpStream {
 public:
  HttpStream() = default;
  ~HttpStream();
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  // Sends a GET and reads the status line and headers. A status other than 200 is returned in
  // *status with the body in *error_body (read whole), and the stream is closed.
  mlos::Status Open(const HttpEndpoint& ep, std::string_view path, int* status,
                    std::string* error_body);
  // The next line of the body without its "\n" (or "\r\n"). Returns false at the end of the
  // body, on an error (*error set), or when `*cancel` became true (checked every 100 ms).
  bool ReadLine(std::string* line, const std::atomic<bool>* cancel, std::string* error);

 private:
  bool Fill(const std::atomic<bool>* cancel, std::string* error);      // more raw bytes into buf_
  bool FillBody(const std::atomic<bool>* cancel, std::string* error);  // decoded into body_

  int fd_ = -1;
  std::string buf_;   // raw bytes not yet consumed
  std::string body_;  // decoded body bytes not yet returned as lines
  bool chunked_ = false;
  bool done_ = false;
  int64_t remaining_ = -1;  // Content-Length left, -1: until close
};

}  // namespace mlosctl
