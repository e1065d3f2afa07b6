// One of the two client translation units that include Boost.Beast (see client_io.hpp).
#include "net/ws_client.hpp"

#include <atomic>
#include <variant>

#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "net/client_io.hpp"

namespace twinstar::net {

namespace websocket = boost::beast::websocket;
using namespace detail;

namespace {
using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
}  // namespace

struct WsClient::Impl {
  Url url;
  WsClientOptions options;
  asio::io_context ioc;
  std::optional<ssl::context> tls;
  std::unique_ptr<PlainWs> plain;
  std::unique_ptr<TlsWs> secure;
  beast::flat_buffer buffer;
  bool reading = false;
  std::optional<error_code> read_result;
  std::atomic<bool> woken{false};
  bool open = false;
  int close_code = -1;

  template <class F>
  decltype(auto) with_ws(F&& f) {
    return plain ? f(*plain) : f(*secure);
  }
  beast::tcp_stream& lowest() {
    return plain ? beast::get_lowest_layer(*plain) : beast::get_lowest_layer(*secure);
  }
  void drop() {
    error_code ec;
    if (plain || secure) lowest().socket().close(ec);
    ioc.restart();
    ioc.poll();
    open = false;
  }

  template <class Ws>
  Status handshake(Ws& ws, std::chrono::steady_clock::time_point deadline) {
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "twinstar"); }));
    ws.read_message_max(options.max_message_bytes);
    websocket::response_type res;
    std::optional<error_code> done;
    ws.async_handshake(res, host_header(url), url.target, [&](error_code ec) { done = ec; });
    if (!run_until(ioc, deadline, [&] { return done.has_value(); }, [&] { lowest().socket().close(); }) ||
        *done == asio::error::operation_aborted) {
      return make_error(ErrorCode::timeout, "{}{}: WebSocket upgrade timed out", url.origin(), url.target);
    }
    if (*done) {
      return make_error(ErrorCode::io_error, "{}{}: WebSocket upgrade failed (HTTP {}): {}", url.origin(), url.target,
                        res.result_int(), done->message());
    }
    return {};
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() {
  if (impl_) impl_->drop();
}

Result<std::unique_ptr<WsClient>> WsClient::connect(std::string_view url_text, WsClientOptions options) {
  auto url = parse_url(url_text);
  if (!url) return std::unexpected(url.error());
  if (url->scheme != "ws" && url->scheme != "wss") {
    return make_error(ErrorCode::invalid_argument, "WebSocket client: '{}' is not a ws(s) URL", url_text);
  }
  std::unique_ptr<WsClient> c(new WsClient());
  auto& im = *c->impl_;
  im.url = std::move(*url);
  im.options = options;
  const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  Status st;
  if (im.url.tls()) {
    im.tls.emplace(make_tls_context(options.verify_tls));
    im.secure = std::make_unique<TlsWs>(im.ioc, *im.tls);
    st = connect_tcp(im.ioc, beast::get_lowest_layer(*im.secure), im.url, deadline);
    if (st) st = tls_handshake(im.ioc, im.secure->next_layer(), im.url, options.verify_tls, deadline);
    if (st) st = im.handshake(*im.secure, deadline);
  } else {
    im.plain = std::make_unique<PlainWs>(im.ioc);
    st = connect_tcp(im.ioc, beast::get_lowest_layer(*im.plain), im.url, deadline);
    if (st) st = im.handshake(*im.plain, deadline);
  }
  if (!st) {
    im.drop();
    return std::unexpected(st.error());
  }
  im.open = true;
  return c;
}

Status WsClient::send(std::string_view text) {
  auto& im = *impl_;
  if (!im.open) return make_error(ErrorCode::io_error, "{}{}: send on a closed connection", im.url.origin(), im.url.target);
  std::optional<error_code> done;
  im.with_ws([&](auto& ws) {
    ws.text(true);
    ws.async_write(asio::buffer(text.data(), text.size()), [&](error_code ec, std::size_t) { done = ec; });
  });
  const auto deadline = std::chrono::steady_clock::now() + im.options.write_timeout;
  if (!run_until(im.ioc, deadline, [&] { return done.has_value(); }, [&] { im.lowest().socket().close(); }) ||
      *done == asio::error::operation_aborted) {
    im.open = false;
    return make_error(ErrorCode::timeout, "{}{}: write stalled for {} ms", im.url.origin(), im.url.target,
                      im.options.write_timeout.count());
  }
  if (*done) {
    im.open = false;
    return make_error(ErrorCode::io_error, "{}{}: write: {}", im.url.origin(), im.url.target, done->message());
  }
  return {};
}

Status WsClient::ping() {
  auto& im = *impl_;
  if (!im.open) return make_error(ErrorCode::io_error, "{}{}: ping on a closed connection", im.url.origin(), im.url.target);
  std::optional<error_code> done;
  im.with_ws([&](auto& ws) { ws.async_ping({}, [&](error_code ec) { done = ec; }); });
  const auto deadline = std::chrono::steady_clock::now() + im.options.write_timeout;
  if (!run_until(im.ioc, deadline, [&] { return done.has_value(); }, [&] { im.lowest().socket().close(); }) ||
      *done) {
    im.open = false;
    return make_error(ErrorCode::io_error, "{}{}: ping failed", im.url.origin(), im.url.target);
  }
  return {};
}

Result<std::string> WsClient::read(std::chrono::milliseconds timeout) {
  auto& im = *impl_;
  if (!im.open && !im.read_result) {
    return make_error(ErrorCode::io_error, "{}{}: connection closed", im.url.origin(), im.url.target);
  }
  if (!im.reading && !im.read_result) {
    im.reading = true;
    im.with_ws([&](auto& ws) {
      ws.async_read(im.buffer, [&im](error_code ec, std::size_t) {
        im.read_result = ec;
        im.reading = false;
      });
    });
  }
  im.ioc.restart();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!im.read_result) {
    if (im.woken.exchange(false)) return make_error(ErrorCode::cancelled, "woken");
    if (im.ioc.run_one_until(deadline) == 0 && std::chrono::steady_clock::now() >= deadline) break;
  }
  if (!im.read_result) return make_error(ErrorCode::timeout, "no message within {} ms", timeout.count());
  const auto ec = *im.read_result;
  im.read_result.reset();
  if (ec) {
    im.open = false;
    if (ec == websocket::error::closed) im.close_code = static_cast<int>(im.with_ws([](auto& ws) { return ws.reason().code; }));
    return make_error(ErrorCode::io_error, "{}{}: connection ended: {} (close code {})", im.url.origin(), im.url.target,
                      ec.message(), im.close_code);
  }
  std::string out = beast::buffers_to_string(im.buffer.data());
  im.buffer.consume(im.buffer.size());
  return out;
}

void WsClient::wake() {
  impl_->woken.store(true);
  asio::post(impl_->ioc, [] {});
}

void WsClient::close(std::uint16_t code) {
  auto& im = *impl_;
  if (!im.open) return;
  std::optional<error_code> done;
  im.with_ws([&](auto& ws) { ws.async_close(websocket::close_reason(code), [&](error_code ec) { done = ec; }); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  run_until(im.ioc, deadline, [&] { return done.has_value() && !im.reading; }, [&] { im.lowest().socket().close(); });
  im.drop();
}

bool WsClient::is_open() const noexcept { return impl_->open; }
int WsClient::close_code() const noexcept { return impl_->close_code; }
const Url& WsClient::url() const noexcept { return impl_->url; }

}  // namespace twinstar::net
