// HttpServer: an asynchronous HTTP/1.1 server on epoll.
//
// N event-loop threads each own a listening socket bound with SO_REUSEPORT (the kernel spreads
// connections across them) and all of their connections; nothing is shared between loops
// except a connection counter. Requests are parsed incrementally (RequestParser), pipelined
// requests are answered in order, and keep-alive, chunked request bodies, 100-continue,
// chunked/SSE responses (HttpResponse::stream), idle timeouts and connection limits are
// handled here. The handler runs on the loop thread that read the request and must not block
// for long; it is called concurrently from different loops, so it must be thread-safe.
//
// Shutdown(): stops accepting, closes idle connections, lets requests in progress finish and
// their answers flush for up to the timeout, then closes everything and joins the loops.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mlos/status.h"
#include "server/http/http_message.h"
#include "server/http/request_parser.h"

namespace mlos::server::http {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port (see HttpServer::port())
  int threads = 0;  // event loops; 0 = the CPUs this process may use
  ParserLimits limits;
  int idle_timeout_ms = 60000;        // a connection with no traffic for this long is closed
  int max_connections = 10000;        // beyond this, new connections get 503 and are closed
  size_t max_output_bytes = 8 << 20;  // pipelined answers buffered before reading pauses
  std::string cors_origin;            // empty: no CORS headers at all
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;

class HttpServer {
 public:
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the loops. Errors (address in use, bad host) come back as a Status.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpHandler handler);

  int port() const { return port_; }
  int active_connections() const { return active_->load(std::memory_order_relaxed); }
  uint64_t accepted_connections() const { return accepted_->load(std::memory_order_relaxed); }

  // Graceful stop; idempotent. Returns after every loop thread has exited.
  void Shutdown(int timeout_ms);

 private:
  class Loop;
  HttpServer() = default;

  int port_ = 0;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  std::shared_ptr<std::atomic<int>> active_ = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<uint64_t>> accepted_ = std::make_shared<std::atomic<uint64_t>>(0);
  bool stopped_ = false;
};

}  // namespace mlos::server::http
