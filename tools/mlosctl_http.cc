// mlosctl's blocking HTTP/1.1 client (see mlosctl_http.h).
#include "tools/mlosctl_http.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace mlosctl {

using mlos::Result;
using mlos::Status;

namespace {

constexpr size_t kMaxHead = 64 << 10;
constexpr size_t kMaxBody = 256 << 20;

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

Result<int> Connect(const HttpEndpoint& ep) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(ep.host.c_str(), ep.port.c_str(), &hints, &res);
  if (rc != 0) {
    return mlos::Unavailable("cannot resolve ", ep.host, ":", ep.port, ": ", gai_strerror(rc));
  }
  int fd = -1;
  int err = 0;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    return mlos::Unavailable("cannot connect to the daemon at http://", ep.host, ":", ep.port, ": ",
                             std::strerror(err ? err : ECONNREFUSED),
                             " (is mlos_core running? set --endpoint or MLOS_ENDPOINT)");
  }
  return fd;
}

Status SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return mlos::Unavailable("sending the request: ", std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

std::string BuildRequest(const HttpEndpoint& ep, std::string_view method, std::string_view path,
                         std::string_view body, bool has_body) {
  std::string r;
  r.append(method).append(" ").append(ep.base_path).append(path).append(" HTTP/1.1\r\n");
  r.append("Host: ").append(ep.host).append(":").append(ep.port).append("\r\n");
  r.append("User-Agent: mlosctl\r\nConnection: close\r\n");
  if (has_body) {
    r.append("Content-Type: application/json\r\nContent-Length: ");
    r.append(std::to_string(body.size())).append("\r\n");
  }
  r.append("\r\n").append(body);
  return r;
}

// What the client needs from a response's status line and headers.
struct ResponseHead {
  int status = 0;
  bool chunked = false;
  int64_t content_length = -1;  // -1: not given
  std::string content_type;
};

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n..." (the head without its final blank line).
Result<ResponseHead> ParseResponseHead(std::string_view head) {
  const size_t eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, eol);
  const size_t sp = status_line.find(' ');
  if (status_line.substr(0, 5) != "HTTP/" || sp == std::string_view::npos) {
    return mlos::DataLoss("not an HTTP response: '", status_line.substr(0, 80), "'");
  }
  ResponseHead out;
  const std::string_view code = status_line.substr(sp + 1, 3);
  std::from_chars(code.data(), code.data() + code.size(), out.status);
  std::string_view rest = eol == std::string_view::npos ? "" : head.substr(eol + 2);
  while (!rest.empty()) {
    const size_t e = rest.find("\r\n");
    const std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = Trim(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
    if (EqualsNoCase(name, "transfer-encoding") && EqualsNoCase(value, "chunked")) {
      out.chunked = true;
    } else if (EqualsNoCase(name, "content-length")) {
      std::from_chars(value.data(), value.data() + value.size(), out.content_length);
    } else if (EqualsNoCase(name, "content-type")) {
      out.content_type = std::string(value);
    }
  }
  return out;
}

}  // namespace

Result<HttpEndpoint> ParseHttpEndpoint(std::string_view url) {
  HttpEndpoint ep;
  constexpr std::string_view kHttp = "http://";
  if (url.substr(0, kHttp.size()) == kHttp) {
    url.remove_prefix(kHttp.size());
  } else if (url.find("://") != std::string_view::npos) {
    return mlos::InvalidArgument("endpoint '", url,
                                 "': mlosctl speaks plain HTTP (http://host:port)");
  }
  size_t slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view base = url.substr(slash);
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    ep.base_path = std::string(base);
  }
  if (hostport.empty()) return mlos::InvalidArgument("endpoint '", url, "' names no host");
  if (hostport.front() == '[') {  // [v6]:port
    size_t close_br = hostport.find(']');
    if (close_br == std::string_view::npos) return mlos::InvalidArgument("bad endpoint ", url);
    ep.host = std::string(hostport.substr(1, close_br - 1));
    hostport.remove_prefix(close_br + 1);
    if (!hostport.empty() && hostport.front() == ':') ep.port = std::string(hostport.substr(1));
  } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    ep.host = std::string(hostport.substr(0, colon));
    ep.port = std::string(hostport.substr(colon + 1));
  } else {
    ep.host = std::string(hostport);
    ep.port = "80";
  }
  int port = 0;
  auto r = std::from_chars(ep.port.data(), ep.port.data() + ep.port.size(), port);
  if (r.ec != std::errc() || r.ptr != ep.port.data() + ep.port.size() || port <= 0 ||
      port > 65535) {
    return mlos::InvalidArgument("endpoint '", url, "': bad port '", ep.port, "'");
  }
  return ep;
}

HttpStream::~HttpStream() {
  if (fd_ >= 0) close(fd_);
}

bool HttpStream::Fill(const std::atomic<bool>* cancel, std::string* error) {
  for (;;) {
    if (cancel && cancel->load()) return false;
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, 100);
    if (rc < 0 && errno != EINTR) {
      *error = std::string("poll: ") + std::strerror(errno);
      return false;
    }
    if (rc <= 0) continue;
    char tmp[16384];
    ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      *error = std::string("receiving: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) return false;  // peer closed
    buf_.append(tmp, static_cast<size_t>(n));
    if (buf_.size() > kMaxBody) {
      *error = "response too large";
      return false;
    }
    return true;
  }
}

Status HttpStream::Open(const HttpEndpoint& ep, std::string_view path, int* status,
                        std::string* error_body) {
  MLOS_ASSIGN_OR_RETURN(fd_, Connect(ep));
  MLOS_RETURN_IF_ERROR(SendAll(fd_, BuildRequest(ep, "GET", path, {}, false)));
  std::string err;
  size_t head_end;
  while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (buf_.size() > kMaxHead) return mlos::DataLoss("response headers too large");
    if (!Fill(nullptr, &err)) {
      return mlos::Unavailable("the daemon closed the connection before answering",
                               err.empty() ? "" : ": ", err);
    }
  }
  MLOS_ASSIGN_OR_RETURN(ResponseHead rh,
                        ParseResponseHead(std::string_view(buf_.data(), head_end)));
  *status = rh.status;
  chunked_ = rh.chunked;
  remaining_ = rh.content_length;
  buf_.erase(0, head_end + 4);
  if (*status != 200) {
    std::string line;
    while (ReadLine(&line, nullptr, &err)) error_body->append(line).append("\n");
    close(fd_);
    fd_ = -1;
  }
  return Status::OK();
}

// Moves decoded body bytes from buf_ to body_, reading more when needed. False at the end.
bool HttpStream::FillBody(const std::atomic<bool>* cancel, std::string* error) {
  for (;;) {
    if (done_) return false;
    if (!chunked_) {
      if (!buf_.empty()) {
        size_t take =
            remaining_ < 0 ? buf_.size() : std::min(buf_.size(), static_cast<size_t>(remaining_));
        body_.append(buf_, 0, take);
        buf_.erase(0, take);
        if (remaining_ >= 0) remaining_ -= static_cast<int64_t>(take);
        if (remaining_ == 0) done_ = true;
        return true;
      }
      if (remaining_ == 0) {
        done_ = true;
        return false;
      }
      if (!Fill(cancel, error)) {
        done_ = true;
        return false;
      }
      continue;
    }
    // Chunked: "<hex>[;ext]\r\n<data>\r\n" ... "0\r\n\r\n".
    size_t eol = buf_.find("\r\n");
    if (eol != std::string::npos) {
      uint64_t size = 0;
      auto r = std::from_chars(buf_.data(), buf_.data() + eol, size, 16);
      if (r.ptr == buf_.data()) {
        *error = "malformed chunk header";
        done_ = true;
        return false;
      }
      if (size == 0) {
        done_ = true;
        return false;
      }
      if (buf_.size() >= eol + 2 + size + 2) {
        body_.append(buf_, eol + 2, size);
        buf_.erase(0, eol + 2 + size + 2);
        return true;
      }
    }
    if (!Fill(cancel, error)) {
      done_ = true;
      return false;
    }
  }
}

bool HttpStream::ReadLine(std::string* line, const std::atomic<bool>* cancel, std::string* error) {
  for (;;) {
    size_t nl = body_.find('\n');
    if (nl != std::string::npos) {
      size_t len = nl > 0 && body_[nl - 1] == '\r' ? nl - 1 : nl;
      line->assign(body_, 0, len);
      body_.erase(0, nl + 1);
      return true;
    }
    if (!FillBody(cancel, error)) {
      if (!body_.empty() && !(cancel && cancel->load())) {  // a last line without "\n"
        line->swap(body_);
        body_.clear();
        return true;
      }
      return false;
    }
  }
}

Result<HttpResult> HttpRequest(const HttpEndpoint& ep, std::string_view method,
                               std::string_view path, std::string_view json_body, int timeout_ms) {
  MLOS_ASSIGN_OR_RETURN(int fd, Connect(ep));
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  bool has_body = method == "POST" || method == "PUT";
  Status st = SendAll(fd, BuildRequest(ep, method, path, json_body, has_body));
  if (!st.ok()) {
    close(fd);
    return st;
  }
  // Connection: close, so the response ends when the daemon closes.
  std::string raw;
  for (;;) {
    char tmp[16384];
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return mlos::Unavailable("waiting for the daemon's answer: ", std::strerror(e));
    }
    if (n == 0) break;
    raw.append(tmp, static_cast<size_t>(n));
    if (raw.size() > kMaxBody) {
      close(fd);
      return mlos::DataLoss("response too large");
    }
  }
  close(fd);
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.substr(0, 5) != "HTTP/" || head_end == std::string::npos) {
    return mlos::DataLoss("not an HTTP response from ", ep.host, ":", ep.port);
  }
  MLOS_ASSIGN_OR_RETURN(ResponseHead rh, ParseResponseHead(std::string_view(raw.data(), head_end)));
  HttpResult out;
  out.status = rh.status;
  out.content_type = std::move(rh.content_type);
  const bool chunked = rh.chunked;
  std::string_view body(raw.data() + head_end + 4, raw.size() - head_end - 4);
  if (!chunked) {
    out.body = std::string(body);
    return out;
  }
  while (!body.empty()) {
    size_t eol = body.find("\r\n");
    if (eol == std::string_view::npos) break;
    uint64_t size = 0;
    std::from_chars(body.data(), body.data() + eol, size, 16);
    if (size == 0 || body.size() < eol + 2 + size) break;
    out.body.append(body.substr(eol + 2, size));
    body.remove_prefix(std::min(body.size(), eol + 2 + size + 2));
  }
  return out;
}

}  // namespace mlosctl
