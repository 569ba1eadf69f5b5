// RequestParser: an incremental HTTP/1.1 request parser with hard limits.
//
// The caller keeps the unread bytes of a connection in one buffer and calls Feed() each time
// more arrive, passing the buffer from the start of the current request. The parser remembers
// how far it has scanned (offsets, never pointers, so the buffer may grow and move), so bytes
// are looked at once. On kDone the request's views point into that buffer (or into the
// parser's own buffer for a chunked body) and stay valid until the next Feed() or Reset().
// Every malformed or oversized input ends in kError with an HTTP status (400, 413, 431, 501,
// 505) and a message; nothing the peer sends can make it read out of bounds.
// Thread-safety: one parser per connection; not shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/http_message.h"

namespace mlos::server::http {

struct ParserLimits {
  size_t max_header_bytes = 64 * 1024;  // request line + headers
  size_t max_headers = 100;
  size_t max_body_bytes = 64ull << 20;
};

class RequestParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  explicit RequestParser(const ParserLimits& limits) : limits_(limits) {}

  // Parses as much of `buf` as possible. On kDone, *req is filled and *consumed is the length
  // of this request in `buf`; call Reset() before parsing the next one.
  State Feed(std::string_view buf, HttpRequest* req, size_t* consumed);
  void Reset();

  // After the headers are complete: true if the client sent "Expect: 100-continue" and the body
  // is not yet complete (the connection should answer "100 Continue" once).
  bool expects_continue() const { return expect_continue_; }
  bool headers_complete() const { return headers_done_; }
  bool started() const { return header_scan_ > 0 || headers_done_; }

  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_; }

 private:
  struct Span {
    uint32_t off;
    uint32_t len;
  };
  State Fail(int status, std::string message);
  State ParseHead(std::string_view head);
  State ParseChunked(std::string_view buf, size_t* end);
  void FillRequest(std::string_view buf, HttpRequest* req) const;

  ParserLimits limits_;
  // Header phase.
  size_t header_scan_ = 0;  // bytes already searched for the blank line
  bool headers_done_ = false;
  size_t body_start_ = 0;
  Span method_{}, target_{};
  std::vector<std::pair<Span, Span>> header_spans_;
  int version_minor_ = 1;
  bool keep_alive_ = true;
  bool expect_continue_ = false;
  // Body phase.
  bool chunked_ = false;
  size_t content_length_ = 0;
  size_t chunk_pos_ = 0;        // next unparsed byte of a chunked body (offset in buf)
  size_t chunk_remaining_ = 0;  // data bytes left in the current chunk
  int chunk_phase_ = 0;         // 0 size line, 1 data, 2 CRLF after data, 3 trailers
  std::string chunked_body_;
  // Error.
  int error_status_ = 0;
  std::string error_;
};

}  // namespace mlos::server::http
