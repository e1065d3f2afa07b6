#pragma once
// A small HTTP/1.1 + WebSocket server on one io thread (Boost.Beast inside server.cpp only).
// Handlers see plain HttpRequest/HttpResponse values and a WsSession interface.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "net/http_types.hpp"

namespace twinstar::net {

// One accepted WebSocket connection. Thread: the server's io thread only (handlers run there).
class WsSession {
 public:
  virtual ~WsSession() = default;
  virtual std::uint64_t id() const noexcept = 0;        // unique per server, in accept order
  virtual const HttpRequest& upgrade() const noexcept = 0;  // the HTTP upgrade request (path, query, ip)
  // Queues a text frame. Overflow policy: when the bytes queued would pass the session's
  // limit the client is a slow consumer and the connection is closed (code 1008), as a
  // real exchange does; returns false then, and when the session is already closing.
  virtual bool send(std::shared_ptr<const std::string> frame) = 0;
  bool send(std::string text) { return send(std::make_shared<const std::string>(std::move(text))); }
  // Graceful close: queued frames are dropped, a close frame with `code` is sent.
  virtual void close(std::uint16_t code, std::string_view reason) = 0;
  // Abrupt close: the TCP connection is shut without a close frame (a dropped network link).
  virtual void drop() = 0;
  virtual bool is_open() const noexcept = 0;
  virtual std::size_t queued_bytes() const noexcept = 0;
};

// Called on the io thread. Handlers must not block and must not throw.
class ServerHandler {
 public:
  virtual ~ServerHandler() = default;
  virtual HttpResponse on_http(const HttpRequest& request) = 0;
  // A new TCP connection: false closes it at once with a reset (a server refusing connections).
  virtual bool on_accept(std::string_view remote_ip) { (void)remote_ip; return true; }
  // A WebSocket upgrade: nullopt accepts it, a response rejects it (e.g. 404 for an unknown path).
  virtual std::optional<HttpResponse> on_ws_upgrade(const HttpRequest& request) { (void)request; return std::nullopt; }
  virtual void on_ws_open(const std::shared_ptr<WsSession>& session) = 0;
  virtual void on_ws_message(const std::shared_ptr<WsSession>& session, std::string_view text) = 0;
  // Exactly once per opened session, also when the server stops; drop every reference to it here.
  virtual void on_ws_close(const std::shared_ptr<WsSession>& session, std::string_view reason) = 0;
};

struct ServerOptions {
  std::string address = "127.0.0.1";  // loopback unless the user asks otherwise
  std::uint16_t port = 0;              // 0: the kernel picks a free port (see Server::port)
  std::size_t max_http_body = 1 << 20;
  std::size_t max_ws_message = 64 * 1024;        // larger frames: close 1009 (message too big)
  std::size_t ws_send_queue_bytes = 8u << 20;    // per session; overflow closes it (slow consumer)
  std::chrono::seconds http_idle_timeout{60};    // keep-alive connections idle longer are closed
  // TCP_NODELAY on accepted sockets: small frames leave at once. Without it Nagle holds each
  // frame until the client's delayed ACK (up to 40 ms). false only to measure that (bench).
  bool tcp_no_delay = true;
};

struct ServerCounters {
  std::uint64_t http_connections = 0;
  std::uint64_t http_requests = 0;
  std::uint64_t ws_sessions_opened = 0;
  std::uint64_t ws_sessions_open = 0;
  std::uint64_t ws_frames_in = 0;
  std::uint64_t ws_frames_out = 0;
  std::uint64_t ws_bytes_out = 0;
  std::uint64_t ws_slow_consumer_closes = 0;
  std::uint64_t refused_connections = 0;
};

class Server {
 public:
  // `handler` must outlive the server.
  Server(ServerOptions options, ServerHandler& handler);
  ~Server();  // stops and joins
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, then runs the io thread. Errors: io_error when the address cannot be bound.
  Status start();
  // Closes the listener, tells the handler every session closed, ends the io thread. Idempotent.
  // Thread: any but the io thread.
  void stop();
  // The bound port (the kernel's pick when options.port was 0). Valid after start().
  std::uint16_t port() const noexcept;
  const ServerOptions& options() const noexcept;

  // Runs fn on the io thread. Thread: any.
  void post(std::function<void()> fn);
  // Calls fn on the io thread every `period` (real time) until stop(). Thread: any.
  void every(std::chrono::milliseconds period, std::function<void()> fn);
  // Calls fn on the io thread once after `delay` (real time), unless stopped first. Thread: io.
  void after(std::chrono::milliseconds delay, std::function<void()> fn);
  // Thread: io thread only (e.g. from a handler).
  const ServerCounters& counters() const noexcept;

  struct Impl;  // detail: server.cpp only

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinstar::net
