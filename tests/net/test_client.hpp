#pragma once
// A small blocking HTTP + WebSocket client for tests (Boost.Beast inside test_client.cpp), so
// tests talk to servers over real loopback sockets without using the engine's own code.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "net/http_types.hpp"

namespace twinstar::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::vector<net::Header> headers;
  std::string header(std::string_view name) const;
};

// One keep-alive connection to 127.0.0.1:port; reconnects when the server closed it.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  // Errors: io_error (connect/read failed), timeout (no answer within the timeout).
  Result<HttpResult> request(std::string_view method, std::string_view target, std::string_view body = {},
                             const std::vector<net::Header>& headers = {});
  Result<HttpResult> get(std::string_view target, const std::vector<net::Header>& headers = {}) {
    return request("GET", target, {}, headers);
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class WsClient {
 public:
  // Errors: io_error when the TCP connect or the handshake fails (e.g. refused).
  static Result<std::unique_ptr<WsClient>> connect(std::uint16_t port, std::string_view target,
                                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~WsClient();
  Status send(std::string_view text);
  // Next text frame. Errors: timeout (nothing within `timeout`), io_error (closed; see close_code()).
  Result<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool is_closed() const noexcept;
  int close_code() const noexcept;  // the server's close code, or -1 when the link dropped without one
  void close();

 private:
  WsClient();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinstar::testing
