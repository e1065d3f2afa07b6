// One of the two client translation units that include Boost.Beast (see client_io.hpp).
#include "net/http_client.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <boost/beast/http.hpp>

#include "net/client_io.hpp"

namespace twinstar::net {

namespace http = boost::beast::http;
using namespace detail;

std::string_view HttpResult::header(std::string_view name) const noexcept {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

struct HttpClient::Impl {
  Url url;
  HttpClientOptions options;
  asio::io_context ioc;
  std::optional<ssl::context> tls;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::uint64_t opened = 0;

  bool connected() const { return plain.has_value() || secure.has_value(); }
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }

  void disconnect() {
    if (!connected()) return;
    error_code ec;
    lowest().socket().close(ec);
    ioc.restart();
    ioc.poll();
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  Status connect() {
    const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
    if (url.tls()) {
      if (!tls) tls.emplace(make_tls_context(options.verify_tls));
      secure.emplace(ioc, *tls);
      auto st = connect_tcp(ioc, beast::get_lowest_layer(*secure), url, deadline);
      if (st) st = tls_handshake(ioc, *secure, url, options.verify_tls, deadline);
      if (!st) {
        disconnect();
        return st;
      }
    } else {
      plain.emplace(ioc);
      auto st = connect_tcp(ioc, *plain, url, deadline);
      if (!st) {
        disconnect();
        return st;
      }
    }
    ++opened;
    return {};
  }

  // An idle kept-alive socket the server has closed (EOF pending) or written to out of turn is
  // dropped before anything is sent on it: a fresh connection costs no request.
  bool idle_connection_is_stale() {
    auto& sock = lowest().socket();
    pollfd p{sock.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return true;
    char c;
    const auto n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;                    // FIN
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    return !secure.has_value();                 // TLS may hold session tickets; plain HTTP may not
  }

  template <class Stream>
  Result<HttpResult> exchange(Stream& stream, http::request<http::string_body>& req, bool reused) {
    const auto deadline = std::chrono::steady_clock::now() + options.request_timeout;
    std::optional<error_code> wrote;
    http::async_write(stream, req, [&](error_code ec, std::size_t) { wrote = ec; });
    if (!run_until(ioc, deadline, [&] { return wrote.has_value(); }, [&] { lowest().socket().close(); }) ||
        *wrote == asio::error::operation_aborted) {
      return make_error(ErrorCode::timeout, "{} {}: writing the request timed out", url.origin(), req.target());
    }
    if (*wrote) {
      return make_error(reused ? ErrorCode::unavailable : ErrorCode::io_error, "{} {}: write: {}", url.origin(),
                        req.target(), wrote->message());
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    parser.header_limit(64 * 1024);
    std::optional<error_code> read;
    http::async_read(stream, buffer, parser, [&](error_code ec, std::size_t) { read = ec; });
    if (!run_until(ioc, deadline, [&] { return read.has_value(); }, [&] { lowest().socket().close(); }) ||
        *read == asio::error::operation_aborted) {
      return make_error(ErrorCode::timeout, "{} {}: no answer within {} ms", url.origin(), req.target(),
                        options.request_timeout.count());
    }
    if (*read) {
      // The server closed a reused connection without answering. Whether it read the request
      // first cannot be known, so it is not resent here (it would reach the venue without a
      // limiter grant, or place an order twice): the caller decides, with a new grant.
      const bool closed = *read == http::error::end_of_stream || *read == asio::error::connection_reset ||
                          *read == asio::error::eof;
      return make_error(reused && closed ? ErrorCode::unavailable : ErrorCode::io_error, "{} {}: read: {}",
                        url.origin(), req.target(), read->message());
    }
    auto res = parser.release();
    HttpResult out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    for (const auto& f : res) out.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    if (!res.keep_alive()) disconnect();
    return out;
  }
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {}
HttpClient::~HttpClient() {
  if (impl_) impl_->disconnect();
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(std::string_view base_url, HttpClientOptions options) {
  auto url = parse_url(base_url);
  if (!url) return std::unexpected(url.error());
  if (url->scheme != "http" && url->scheme != "https") {
    return make_error(ErrorCode::invalid_argument, "HTTP client: '{}' is not an http(s) URL", base_url);
  }
  std::unique_ptr<HttpClient> c(new HttpClient());
  c->impl_->url = std::move(*url);
  c->impl_->options = std::move(options);
  return c;
}

const Url& HttpClient::url() const noexcept { return impl_->url; }
std::uint64_t HttpClient::connections_opened() const noexcept { return impl_->opened; }

Result<HttpResult> HttpClient::request(std::string_view method, std::string_view target, std::string_view body,
                                       const std::vector<Header>& headers) {
  auto& im = *impl_;
  if (im.connected() && im.idle_connection_is_stale()) im.disconnect();
  const bool reused = im.connected();
  if (!reused) {
    if (auto st = im.connect(); !st) return std::unexpected(st.error());
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host_header(im.url));
  req.set(http::field::user_agent, im.options.user_agent);
  req.keep_alive(true);
  for (const auto& h : headers) req.set(h.name, h.value);
  if (!body.empty() && req.find(http::field::content_type) == req.end()) {
    req.set(http::field::content_type, "application/json");
  }
  req.body() = std::string(body);
  req.prepare_payload();
  auto r = im.plain ? im.exchange(*im.plain, req, reused) : im.exchange(*im.secure, req, reused);
  if (!r) im.disconnect();
  return r;
}

}  // namespace twinstar::net
