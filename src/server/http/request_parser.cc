#include "server/http/request_parser.h"

#include <algorithm>
#include <cstring>

namespace mlos::server::http {
namespace {

// RFC 9110 token characters.
bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(token) for each comma-separated, trimmed, non-empty token of a header value.
template <typename Fn>
void ForEachToken(std::string_view v, Fn&& fn) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view tok = Trim(v.substr(0, comma));
    if (!tok.empty()) fn(tok);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

}  // namespace

void RequestParser::Reset() {
  header_scan_ = 0;
  headers_done_ = false;
  body_start_ = 0;
  header_spans_.clear();
  version_minor_ = 1;
  keep_alive_ = true;
  expect_continue_ = false;
  chunked_ = false;
  content_length_ = 0;
  chunk_pos_ = 0;
  chunk_remaining_ = 0;
  chunk_phase_ = 0;
  chunked_body_.clear();
  error_status_ = 0;
  error_.clear();
}

RequestParser::State RequestParser::Fail(int status, std::string message) {
  error_status_ = status;
  error_ = std::move(message);
  return State::kError;
}

RequestParser::State RequestParser::Feed(std::string_view buf, HttpRequest* req, size_t* consumed) {
  if (error_status_ != 0) return State::kError;
  if (!headers_done_) {
    size_t from = header_scan_ >= 3 ? header_scan_ - 3 : 0;
    size_t end = buf.find("\r\n\r\n", from);
    if (end == std::string_view::npos) {
      if (buf.size() > limits_.max_header_bytes) {
        return Fail(431, "request line and headers exceed " +
                             std::to_string(limits_.max_header_bytes) + " bytes");
      }
      header_scan_ = buf.size();
      return State::kNeedMore;
    }
    if (end + 4 > limits_.max_header_bytes) {
      return Fail(431, "request line and headers exceed " +
                           std::to_string(limits_.max_header_bytes) + " bytes");
    }
    State s = ParseHead(buf.substr(0, end + 2));
    if (s == State::kError) return s;
    headers_done_ = true;
    body_start_ = end + 4;
    chunk_pos_ = body_start_;
  }
  size_t request_end = 0;
  if (chunked_) {
    State s = ParseChunked(buf, &request_end);
    if (s != State::kDone) return s;
  } else {
    if (buf.size() - body_start_ < content_length_) return State::kNeedMore;
    request_end = body_start_ + content_length_;
  }
  FillRequest(buf, req);
  *consumed = request_end;
  return State::kDone;
}

RequestParser::State RequestParser::ParseHead(std::string_view head) {
  // Skip empty lines before the request line (RFC 9112 section 2.2 robustness).
  size_t pos = 0;
  while (pos + 1 < head.size() && head[pos] == '\r' && head[pos + 1] == '\n') pos += 2;
  size_t eol = head.find('\n', pos);
  if (eol == std::string_view::npos) return Fail(400, "malformed request line");
  std::string_view line = head.substr(pos, eol - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  // method SP request-target SP HTTP-version
  size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return Fail(400, "malformed request line");
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return Fail(400, "malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  for (unsigned char c : method) {
    if (!IsTokenChar(c)) return Fail(400, "invalid character in method");
  }
  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) return Fail(400, "invalid character in request target");
  }
  if (target[0] != '/' && target != "*") {
    return Fail(400, "request target must be an absolute path");
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return Fail(400, "malformed HTTP version");
  }
  if (version[5] != '1') return Fail(505, "only HTTP/1.x is supported");
  version_minor_ = version[7] - '0';
  keep_alive_ = version_minor_ >= 1;
  method_ = {static_cast<uint32_t>(pos), static_cast<uint32_t>(sp1)};
  target_ = {static_cast<uint32_t>(pos + sp1 + 1), static_cast<uint32_t>(target.size())};

  bool have_length = false;
  bool have_te = false;
  pos = eol + 1;
  while (pos < head.size()) {
    eol = head.find('\n', pos);
    if (eol == std::string_view::npos) eol = head.size();
    std::string_view hline = head.substr(pos, eol - pos);
    size_t line_start = pos;
    pos = eol + 1;
    if (!hline.empty() && hline.back() == '\r') hline.remove_suffix(1);
    if (hline.empty()) continue;
    if (hline[0] == ' ' || hline[0] == '\t') return Fail(400, "obsolete header line folding");
    size_t colon = hline.find(':');
    if (colon == 0 || colon == std::string_view::npos) return Fail(400, "malformed header line");
    std::string_view name = hline.substr(0, colon);
    for (unsigned char c : name) {
      if (!IsTokenChar(c)) return Fail(400, "invalid character in header name");
    }
    std::string_view value = Trim(hline.substr(colon + 1));
    for (unsigned char c : value) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) return Fail(400, "invalid character in header");
    }
    if (header_spans_.size() >= limits_.max_headers) {
      return Fail(431, "more than " + std::to_string(limits_.max_headers) + " headers");
    }
    size_t value_off = static_cast<size_t>(value.data() - head.data());
    header_spans_.push_back(
        {{static_cast<uint32_t>(line_start), static_cast<uint32_t>(colon)},
         {static_cast<uint32_t>(value_off), static_cast<uint32_t>(value.size())}});

    if (EqualsIgnoreCase(name, "content-length")) {
      if (value.empty() || value.size() > 19) return Fail(400, "invalid Content-Length");
      size_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return Fail(400, "invalid Content-Length");
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      if (have_length && n != content_length_) return Fail(400, "conflicting Content-Length");
      have_length = true;
      content_length_ = n;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      std::string_view last;
      ForEachToken(value, [&](std::string_view t) { last = t; });
      if (!EqualsIgnoreCase(last, "chunked")) {
        return Fail(501, "unsupported Transfer-Encoding '" + std::string(value) + "'");
      }
      have_te = true;
      chunked_ = true;
    } else if (EqualsIgnoreCase(name, "connection")) {
      ForEachToken(value, [&](std::string_view t) {
        if (EqualsIgnoreCase(t, "close")) keep_alive_ = false;
        if (EqualsIgnoreCase(t, "keep-alive")) keep_alive_ = true;
      });
    } else if (EqualsIgnoreCase(name, "expect")) {
      if (!EqualsIgnoreCase(value, "100-continue")) return Fail(417, "unsupported Expect");
      expect_continue_ = version_minor_ >= 1;
    }
  }
  if (have_te && have_length) {
    return Fail(400, "both Content-Length and Transfer-Encoding given");
  }
  if (content_length_ > limits_.max_body_bytes) {
    return Fail(413, "request body of " + std::to_string(content_length_) +
                         " bytes exceeds the limit of " + std::to_string(limits_.max_body_bytes));
  }
  if (!chunked_ && content_length_ == 0) expect_continue_ = false;
  return State::kDone;
}

RequestParser::State RequestParser::ParseChunked(std::string_view buf, size_t* end) {
  while (true) {
    if (chunk_phase_ == 0 || chunk_phase_ == 3) {
      size_t eol = buf.find('\n', chunk_pos_);
      if (eol == std::string_view::npos) {
        if (buf.size() - chunk_pos_ > 4096) return Fail(400, "chunk size line too long");
        return State::kNeedMore;
      }
      if (eol - chunk_pos_ > 4096) return Fail(400, "chunk size line too long");
      std::string_view line = buf.substr(chunk_pos_, eol - chunk_pos_);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      chunk_pos_ = eol + 1;
      if (chunk_phase_ == 3) {  // trailer section: ignored, ends at an empty line
        if (line.empty()) {
          *end = chunk_pos_;
          expect_continue_ = false;
          return State::kDone;
        }
        if (chunk_pos_ - body_start_ > chunked_body_.size() + limits_.max_header_bytes) {
          return Fail(431, "chunked trailers too large");
        }
        continue;
      }
      size_t semi = line.find(';');
      std::string_view hex = Trim(line.substr(0, semi));
      if (hex.empty() || hex.size() > 15) return Fail(400, "malformed chunk size");
      size_t size = 0;
      for (char c : hex) {
        int d;
        if (c >= '0' && c <= '9')
          d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
          d = (c | 0x20) - 'a' + 10;
        else
          return Fail(400, "malformed chunk size");
        size = size * 16 + static_cast<size_t>(d);
      }
      if (size > limits_.max_body_bytes || chunked_body_.size() + size > limits_.max_body_bytes) {
        return Fail(413, "chunked request body exceeds the limit of " +
                             std::to_string(limits_.max_body_bytes) + " bytes");
      }
      if (size == 0) {
        chunk_phase_ = 3;
      } else {
        chunk_remaining_ = size;
        chunk_phase_ = 1;
      }
    } else if (chunk_phase_ == 1) {
      size_t avail = std::min(buf.size() - chunk_pos_, chunk_remaining_);
      chunked_body_.append(buf.data() + chunk_pos_, avail);
      chunk_pos_ += avail;
      chunk_remaining_ -= avail;
      if (chunk_remaining_ > 0) return State::kNeedMore;
      chunk_phase_ = 2;
    } else {  // CRLF after chunk data
      if (buf.size() - chunk_pos_ < 1) return State::kNeedMore;
      if (buf[chunk_pos_] == '\n') {
        chunk_pos_ += 1;
      } else {
        if (buf.size() - chunk_pos_ < 2) return State::kNeedMore;
        if (buf[chunk_pos_] != '\r' || buf[chunk_pos_ + 1] != '\n') {
          return Fail(400, "missing CRLF after chunk data");
        }
        chunk_pos_ += 2;
      }
      chunk_phase_ = 0;
    }
  }
}

void RequestParser::FillRequest(std::string_view buf, HttpRequest* req) const {
  req->method = buf.substr(method_.off, method_.len);
  req->target = buf.substr(target_.off, target_.len);
  size_t q = req->target.find('?');
  req->path = req->target.substr(0, q);
  req->query = q == std::string_view::npos ? std::string_view() : req->target.substr(q + 1);
  req->version_minor = version_minor_;
  req->keep_alive = keep_alive_;
  req->headers.clear();
  for (const auto& [n, v] : header_spans_) {
    req->headers.push_back({buf.substr(n.off, n.len), buf.substr(v.off, v.len)});
  }
  req->body = chunked_ ? std::string_view(chunked_body_) : buf.substr(body_start_, content_length_);
}

}  // namespace mlos::server::http
