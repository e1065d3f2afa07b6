#pragma once
// An HTTP/1.1 client for one origin (Boost.Beast inside http_client.cpp only): keep-alive,
// connect and request timeouts, TLS with peer verification for https:// (OpenSSL), plain TCP
// for http:// (twinstar sim on loopback). Async I/O inside; the caller sees one blocking call.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "net/http_types.hpp"
#include "net/url.hpp"

namespace twinstar::net {

// Timeouts are real time (steady clock): they bound waits on the kernel and the network, not
// engine time, so they are the one place the injected Clock does not apply.
struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};   // DNS + TCP + TLS handshake
  std::chrono::milliseconds request_timeout{10000};  // write + read of one request
  bool verify_tls = true;                            // off only for tests against self-signed servers
  std::size_t max_body_bytes = 32u << 20;            // larger answers are an error, not an allocation
  std::string user_agent = "twinstar";
};

struct HttpResult {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
  // The first header named `name` (case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const noexcept;
};

// Thread: one thread at a time (one client per worker); the connection is reused across calls.
// A request is sent at most once: an idle connection the server has already closed is replaced
// before sending, and a failure after sending is returned, never retried here (every request
// that reaches a venue must carry its own rate-limiter grant; a POST may be an order).
class HttpClient {
 public:
  // `base_url` is "https://api.bybit.com" or "http://127.0.0.1:PORT"; its path is ignored.
  // Errors: invalid_argument for a bad URL.
  static Result<std::unique_ptr<HttpClient>> create(std::string_view base_url, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `target` is path + query ("/v5/market/kline?category=linear&..."). Any HTTP status is a
  // result; only transport failures are errors.
  // Errors: timeout (connect or answer took too long), io_error (resolve, connect, TLS, read or
  // write failed; the message names the origin and the step), unavailable (the server closed a
  // reused keep-alive connection before answering: the request may or may not have reached it;
  // an idempotent request may be retried with a new limiter grant, the connection is reopened).
  Result<HttpResult> request(std::string_view method, std::string_view target, std::string_view body = {},
                             const std::vector<Header>& headers = {});
  Result<HttpResult> get(std::string_view target, const std::vector<Header>& headers = {}) {
    return request("GET", target, {}, headers);
  }

  const Url& url() const noexcept;
  std::uint64_t connections_opened() const noexcept;  // reconnects show up here

 private:
  HttpClient();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinstar::net
