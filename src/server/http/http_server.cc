#include "server/http/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "server/http/response_writer.h"

namespace mlos::server::http {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<int> OpenListener(const std::string& host, int port, bool reuse_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port_str = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) return InvalidArgument("cannot resolve host '", host, "': ", gai_strerror(rc));
  Status last = Unavailable("no address for host '", host, "'");
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0) {
      freeaddrinfo(res);
      return fd;
    }
    last = Unavailable("cannot listen on ", host, ":", port, ": ", std::strerror(errno));
    close(fd);
  }
  freeaddrinfo(res);
  return last;
}

int LocalPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

}  // namespace

class HttpServer::Loop {
 public:
  Loop(const HttpServerOptions& opts, HttpHandler handler, int listen_fd,
       std::shared_ptr<std::atomic<int>> active, std::shared_ptr<std::atomic<uint64_t>> accepted)
      : opts_(opts),
        handler_(std::move(handler)),
        listen_fd_(listen_fd),
        active_(std::move(active)),
        accepted_(std::move(accepted)) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &listen_tag_;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    ev.data.ptr = &wake_tag_;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  }
  ~Loop() {
    for (auto& [fd, c] : conns_) close(fd);
    if (listen_fd_ >= 0) close(listen_fd_);
    close(wake_fd_);
    close(epfd_);
  }

  void RequestStop(int timeout_ms) {
    stop_deadline_ms_.store(NowMs() + timeout_ms);
    stopping_.store(true);
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  }

  void Run();

 private:
  struct Conn {
    explicit Conn(const ParserLimits& l) : parser(l) {}
    int fd = -1;
    std::string in;
    size_t in_off = 0;
    RequestParser parser;
    HttpRequest req;
    std::string out;
    size_t out_off = 0;
    bool want_close = false;  // close once `out` is flushed
    bool peer_closed = false;
    bool sent_continue = false;
    bool epollout = false;
    bool closed = false;
    bool paused = false;  // stopped reading pipelined requests until output drains
    int64_t last_active_ms = 0;
    std::shared_ptr<StreamSource> stream;
    bool stream_http10 = false;
    int64_t stream_due_ms = 0;
  };

  void Accept();
  void OnReadable(Conn* c);
  void ProcessInput(Conn* c);
  void Flush(Conn* c);
  void CloseConn(Conn* c);
  void TickStreams(int64_t now);
  void Sweep(int64_t now);
  void UpdateDate();
  bool Busy(const Conn* c) const {
    return c->out_off < c->out.size() || c->stream || (c->parser.started() && !c->want_close);
  }

  HttpServerOptions opts_;
  HttpHandler handler_;
  int listen_fd_;
  int epfd_ = -1;
  int wake_fd_ = -1;
  char listen_tag_ = 0;
  char wake_tag_ = 0;
  std::shared_ptr<std::atomic<int>> active_;
  std::shared_ptr<std::atomic<uint64_t>> accepted_;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Conn>> graveyard_;  // closed this iteration; freed after it
  std::vector<char> scratch_ = std::vector<char>(64 * 1024);  // recv buffer of this loop
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> stop_deadline_ms_{0};
  bool draining_ = false;
  int streams_ = 0;
  time_t date_sec_ = 0;
  char date_[64] = {0};
  size_t date_len_ = 0;
};

void HttpServer::Loop::UpdateDate() {
  time_t now = time(nullptr);
  if (now == date_sec_) return;
  date_sec_ = now;
  tm t{};
  gmtime_r(&now, &t);
  date_len_ = strftime(date_, sizeof date_, "%a, %d %b %Y %H:%M:%S GMT", &t);
}

void HttpServer::Loop::Run() {
  epoll_event events[256];
  int64_t next_sweep = NowMs() + 250;
  while (true) {
    int64_t now = NowMs();
    int timeout = static_cast<int>(std::max<int64_t>(0, next_sweep - now));
    if (streams_ > 0) timeout = std::min(timeout, 50);
    int n = epoll_wait(epfd_, events, 256, timeout);
    if (n < 0 && errno != EINTR) break;
    UpdateDate();
    for (int i = 0; i < n; ++i) {
      void* p = events[i].data.ptr;
      if (p == &listen_tag_) {
        Accept();
        continue;
      }
      if (p == &wake_tag_) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &v, sizeof v);
        continue;
      }
      Conn* c = static_cast<Conn*>(p);
      uint32_t e = events[i].events;
      if (c->closed) continue;
      if (e & (EPOLLERR)) {
        CloseConn(c);
        continue;
      }
      if (c->closed) continue;
      if (e & EPOLLOUT) {
        Flush(c);
        if (!c->closed && c->paused && c->out_off == c->out.size()) {
          c->paused = false;
          ProcessInput(c);
        }
      }
      if (c->closed) continue;
      if (e & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) OnReadable(c);
    }
    graveyard_.clear();
    now = NowMs();
    if (streams_ > 0) TickStreams(now);
    if (stopping_.load() && !draining_) {
      draining_ = true;
      if (listen_fd_ >= 0) {
        epoll_ctl(epfd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        close(listen_fd_);
        listen_fd_ = -1;
      }
      next_sweep = 0;
    }
    if (now >= next_sweep) {
      Sweep(now);
      next_sweep = now + (draining_ ? 20 : 250);
    }
    if (draining_ && (conns_.empty() || now >= stop_deadline_ms_.load())) break;
  }
  std::vector<Conn*> all;
  for (auto& [fd, c] : conns_) all.push_back(c.get());
  for (Conn* c : all) CloseConn(c);
}

void HttpServer::Loop::Accept() {
  while (true) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or EMFILE and friends: try again on the next event
    }
    accepted_->fetch_add(1, std::memory_order_relaxed);
    if (active_->load(std::memory_order_relaxed) >= opts_.max_connections) {
      static const char kBusy[] =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
          "Content-Length: 38\r\nConnection: close\r\n\r\n{\"error\":\"too many open "
          "connections\"}";
      [[maybe_unused]] ssize_t w = send(fd, kBusy, sizeof kBusy - 1, MSG_NOSIGNAL);
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto conn = std::make_unique<Conn>(opts_.limits);
    conn->fd = fd;
    conn->last_active_ms = NowMs();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = conn.get();
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      continue;
    }
    active_->fetch_add(1, std::memory_order_relaxed);
    conns_[fd] = std::move(conn);
  }
}

void HttpServer::Loop::OnReadable(Conn* c) {
  if (c->peer_closed) return;
  size_t total = 0;
  while (total < (4u << 20)) {
    ssize_t r = recv(c->fd, scratch_.data(), scratch_.size(), 0);
    if (r > 0) {
      c->in.append(scratch_.data(), static_cast<size_t>(r));
      total += static_cast<size_t>(r);
      if (static_cast<size_t>(r) < scratch_.size()) break;
      continue;
    }
    if (r == 0) {
      c->peer_closed = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    CloseConn(c);
    return;
  }
  c->last_active_ms = NowMs();
  ProcessInput(c);
  if (!c->closed && c->peer_closed && !c->epollout) {
    // Nothing more will be read; stop level-triggered EOF events from spinning the loop.
    epoll_event ev{};
    ev.events = 0;
    ev.data.ptr = c;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd, &ev);
  }
}

void HttpServer::Loop::ProcessInput(Conn* c) {
  while (!c->stream && !c->want_close) {
    if (c->out.size() - c->out_off > opts_.max_output_bytes) {
      c->paused = true;  // let the reader catch up; resumed from the EPOLLOUT handler
      break;
    }
    std::string_view view(c->in.data() + c->in_off, c->in.size() - c->in_off);
    if (view.empty()) break;
    size_t consumed = 0;
    RequestParser::State st = c->parser.Feed(view, &c->req, &consumed);
    if (st == RequestParser::State::kNeedMore) {
      if (c->parser.headers_complete() && c->parser.expects_continue() && !c->sent_continue) {
        c->out.append("HTTP/1.1 100 Continue\r\n\r\n");
        c->sent_continue = true;
      }
      break;
    }
    ResponseContext ctx;
    ctx.date = std::string_view(date_, date_len_);
    ctx.cors_origin = opts_.cors_origin;
    if (st == RequestParser::State::kError) {
      HttpResponse resp;
      resp.SetJson(c->parser.error_status(), ErrorJson(c->parser.error_message()));
      ctx.close = true;
      AppendResponse(resp, ctx, &c->out);
      c->want_close = true;
      c->in.clear();
      c->in_off = 0;
      break;
    }
    HttpRequest& req = c->req;
    req.received_us = NowUs();
    HttpResponse resp;
    if (!opts_.cors_origin.empty() && req.method == "OPTIONS") {
      resp.status = 204;
      resp.content_type = {};
      resp.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      resp.headers.emplace_back("Access-Control-Allow-Headers",
                                "Content-Type, Authorization, Inference-Header-Content-Length");
      resp.headers.emplace_back("Access-Control-Max-Age", "600");
    } else {
      // Last line of defence: nothing below throws on purpose, but a request must never take
      // the daemon down (std::bad_alloc on a huge body, a filesystem error, ...).
      try {
        handler_(req, &resp);
      } catch (const std::exception& e) {
        resp = HttpResponse();
        resp.SetJson(500, ErrorJson(std::string("internal error: ") + e.what()));
      } catch (...) {
        resp = HttpResponse();
        resp.SetJson(500, ErrorJson("internal error"));
      }
    }
    ctx.head_request = req.method == "HEAD";
    ctx.http10 = req.version_minor == 0;
    ctx.close = !req.keep_alive || resp.close || draining_ || (resp.stream && ctx.http10);
    AppendResponse(resp, ctx, &c->out);
    c->in_off += consumed;
    c->parser.Reset();
    c->sent_continue = false;
    if (resp.stream && !ctx.head_request) {
      c->stream = std::move(resp.stream);
      c->stream_http10 = ctx.http10;
      c->stream_due_ms = 0;
      ++streams_;
    }
    if (ctx.close) c->want_close = true;
  }
  if (c->in_off == c->in.size()) {
    c->in.clear();
    c->in_off = 0;
  } else if (c->in_off > 65536 && c->in_off * 2 > c->in.size()) {
    c->in.erase(0, c->in_off);
    c->in_off = 0;
  }
  if (c->peer_closed && !c->stream && !c->want_close) {
    // The peer sent all it will send; answer what was complete, then close.
    if (c->in_off < c->in.size() && !c->paused) {
      HttpResponse resp;
      resp.SetJson(400, ErrorJson("connection closed before the request was complete"));
      ResponseContext ctx;
      ctx.close = true;
      AppendResponse(resp, ctx, &c->out);
    }
    if (!c->paused) c->want_close = true;
  }
  Flush(c);
}

void HttpServer::Loop::Flush(Conn* c) {
  while (c->out_off < c->out.size()) {
    ssize_t w = send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
    if (w > 0) {
      c->out_off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c->epollout) {
        epoll_event ev{};
        ev.events = c->peer_closed ? EPOLLOUT : (EPOLLIN | EPOLLRDHUP | EPOLLOUT);
        ev.data.ptr = c;
        epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd, &ev);
        c->epollout = true;
      }
      return;
    }
    CloseConn(c);
    return;
  }
  c->out.clear();
  c->out_off = 0;
  if (c->epollout) {
    epoll_event ev{};
    ev.events = c->peer_closed ? 0u : (EPOLLIN | EPOLLRDHUP);
    ev.data.ptr = c;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd, &ev);
    c->epollout = false;
  }
  if (c->want_close && !c->stream) CloseConn(c);
}

void HttpServer::Loop::CloseConn(Conn* c) {
  if (c->closed) return;
  c->closed = true;
  int fd = c->fd;
  if (c->stream) --streams_;
  c->stream.reset();
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  active_->fetch_sub(1, std::memory_order_relaxed);
  auto it = conns_.find(fd);
  if (it != conns_.end()) {
    graveyard_.push_back(std::move(it->second));
    conns_.erase(it);
  }
}

void HttpServer::Loop::TickStreams(int64_t now) {
  std::vector<Conn*> due;
  for (auto& [fd, c] : conns_) {
    if (c->stream && c->stream_due_ms <= now) due.push_back(c.get());
  }
  for (Conn* c : due) {
    std::string chunk;
    int next_ms = 1000;
    bool more = !draining_ && c->stream->Next(&chunk, &next_ms);
    if (c->stream_http10) {
      c->out.append(chunk);
    } else {
      AppendChunk(chunk, &c->out);
    }
    c->last_active_ms = now;
    if (!more) {
      if (!c->stream_http10) AppendLastChunk(&c->out);
      c->stream.reset();
      --streams_;
      if (c->stream_http10 || draining_) c->want_close = true;
      ProcessInput(c);  // answers pipelined requests that waited behind the stream; flushes
    } else {
      c->stream_due_ms = now + std::max(1, next_ms);
      Flush(c);
    }
  }
  graveyard_.clear();
}

void HttpServer::Loop::Sweep(int64_t now) {
  std::vector<Conn*> idle;
  std::vector<Conn*> timed_out;
  for (auto& [fd, c] : conns_) {
    if (c->stream) continue;
    bool pending_out = c->out_off < c->out.size();
    if (draining_ && !Busy(c.get())) {
      idle.push_back(c.get());
    } else if (now - c->last_active_ms > opts_.idle_timeout_ms) {
      if (!pending_out && c->parser.started() && !c->want_close) {
        timed_out.push_back(c.get());
      } else {
        idle.push_back(c.get());
      }
    }
  }
  for (Conn* c : idle) CloseConn(c);
  for (Conn* c : timed_out) {
    // A request began but never completed (slow or half-open client): say why, then close.
    HttpResponse resp;
    resp.SetJson(408, ErrorJson("request not completed within the idle timeout"));
    ResponseContext ctx;
    ctx.close = true;
    c->want_close = true;
    c->last_active_ms = now;  // give the 408 one more timeout to drain
    AppendResponse(resp, ctx, &c->out);
    Flush(c);
  }
  graveyard_.clear();
}

HttpServer::~HttpServer() { Shutdown(0); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      HttpHandler handler) {
  if (options.port < 0 || options.port > 65535) {
    return InvalidArgument("http port ", options.port, " is outside 0..65535");
  }
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp(threads, 1, 64);
  std::unique_ptr<HttpServer> server(new HttpServer());
  int port = options.port;
  if (port != 0) {
    // SO_REUSEPORT would let us share a port with another daemon of the same user and split its
    // traffic; a plain bind first makes "address in use" an error as users expect.
    Result<int> probe = OpenListener(options.host, port, /*reuse_port=*/false);
    if (!probe.ok()) return probe.status();
    close(*probe);
  }
  std::vector<int> fds;
  for (int i = 0; i < threads; ++i) {
    Result<int> fd = OpenListener(options.host, port, /*reuse_port=*/true);
    if (!fd.ok()) {
      for (int f : fds) close(f);
      return fd.status();
    }
    if (i == 0) port = LocalPort(*fd);
    fds.push_back(*fd);
  }
  server->port_ = port;
  for (int fd : fds) {
    server->loops_.push_back(
        std::make_unique<Loop>(options, handler, fd, server->active_, server->accepted_));
  }
  for (auto& loop : server->loops_) {
    Loop* l = loop.get();
    server->threads_.emplace_back([l] { l->Run(); });
  }
  return server;
}

void HttpServer::Shutdown(int timeout_ms) {
  if (stopped_) return;
  stopped_ = true;
  for (auto& loop : loops_) loop->RequestStop(timeout_ms);
  for (auto& t : threads_) t.join();
  threads_.clear();
  loops_.clear();
}

}  // namespace mlos::server::http
