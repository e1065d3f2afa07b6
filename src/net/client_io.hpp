#pragma once
// detail: Beast/Asio helpers shared by http_client.cpp and ws_client.cpp (only they include it).

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include "core/error.hpp"
#include "net/url.hpp"

namespace twinstar::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Runs `ioc` until `done` holds or `deadline` passes; on a timeout calls `cancel` and drains the
// aborted handlers so no callback outlives the caller's frame. Returns whether `done` held.
template <class Done, class Cancel>
bool run_until(asio::io_context& ioc, std::chrono::steady_clock::time_point deadline, Done done, Cancel cancel) {
  ioc.restart();
  while (!done()) {
    if (ioc.run_one_until(deadline) == 0 && std::chrono::steady_clock::now() >= deadline) break;
  }
  if (done()) return true;
  cancel();
  ioc.restart();
  ioc.run();
  return done();
}

inline ssl::context make_tls_context(bool verify) {
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(verify ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

// Resolves and connects `stream` (a beast::tcp_stream) within `deadline`.
// Errors: timeout, io_error naming the origin and the step.
inline Status connect_tcp(asio::io_context& ioc, beast::tcp_stream& stream, const Url& url,
                          std::chrono::steady_clock::time_point deadline) {
  tcp::resolver resolver(ioc);
  std::optional<error_code> resolved;
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(url.host, std::to_string(url.port), [&](error_code ec, tcp::resolver::results_type r) {
    resolved = ec;
    endpoints = std::move(r);
  });
  if (!run_until(ioc, deadline, [&] { return resolved.has_value(); }, [&] { resolver.cancel(); }) ||
      *resolved == asio::error::operation_aborted) {
    return make_error(ErrorCode::timeout, "{}: resolving {} timed out", url.origin(), url.host);
  }
  if (*resolved) return make_error(ErrorCode::io_error, "{}: resolve: {}", url.origin(), resolved->message());
  std::optional<error_code> connected;
  stream.async_connect(endpoints, [&](error_code ec, const tcp::endpoint&) { connected = ec; });
  if (!run_until(ioc, deadline, [&] { return connected.has_value(); }, [&] { stream.socket().close(); }) ||
      *connected == asio::error::operation_aborted) {
    return make_error(ErrorCode::timeout, "{}: TCP connect timed out", url.origin());
  }
  if (*connected) return make_error(ErrorCode::io_error, "{}: connect: {}", url.origin(), connected->message());
  // Requests, orders and pings are small writes: send them now, not after the peer's delayed ACK.
  error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  return {};
}

// TLS handshake with SNI and host name verification. Errors: timeout, io_error.
inline Status tls_handshake(asio::io_context& ioc, beast::ssl_stream<beast::tcp_stream>& stream, const Url& url,
                            bool verify, std::chrono::steady_clock::time_point deadline) {
  if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
    return make_error(ErrorCode::io_error, "{}: cannot set TLS server name", url.origin());
  }
  if (verify) stream.set_verify_callback(ssl::host_name_verification(url.host));
  std::optional<error_code> done;
  stream.async_handshake(ssl::stream_base::client, [&](error_code ec) { done = ec; });
  if (!run_until(ioc, deadline, [&] { return done.has_value(); },
                 [&] { beast::get_lowest_layer(stream).socket().close(); }) ||
      *done == asio::error::operation_aborted) {
    return make_error(ErrorCode::timeout, "{}: TLS handshake timed out", url.origin());
  }
  if (*done) return make_error(ErrorCode::io_error, "{}: TLS handshake: {}", url.origin(), done->message());
  return {};
}

inline std::string host_header(const Url& url) {
  const bool default_port = (url.port == 443 && url.tls()) || (url.port == 80 && !url.tls());
  return default_port ? url.host : url.host + ":" + std::to_string(url.port);
}

}  // namespace twinstar::net::detail
