#include "test_client.hpp"

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace twinstar::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::string HttpResult::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

struct HttpClient::Impl {
  std::uint16_t port;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(std::uint16_t port, std::chrono::milliseconds timeout) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->timeout = timeout;
}
HttpClient::~HttpClient() = default;

Result<HttpResult> HttpClient::request(std::string_view method, std::string_view target, std::string_view body,
                                       const std::vector<net::Header>& headers) {
  auto& im = *impl_;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = false;
    if (!im.stream) {
      fresh = true;
      im.stream.emplace(im.ioc);
      error_code ec;
      im.stream->socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), im.port), ec);
      if (ec) {
        im.stream.reset();
        return make_error(ErrorCode::io_error, "connect: {}", ec.message());
      }
      im.buffer.clear();
    }
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& h : headers) req.set(h.name, h.value);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
    req.prepare_payload();
    std::optional<error_code> write_ec;
    http::async_write(*im.stream, req, [&](error_code ec, std::size_t) { write_ec = ec; });
    im.ioc.restart();
    im.ioc.run_for(im.timeout);
    if (!write_ec || *write_ec) {
      im.stream.reset();
      im.ioc.restart();
      im.ioc.poll();
      if (attempt == 0 && !fresh) continue;
      return make_error(ErrorCode::io_error, "write failed");
    }
    http::response<http::string_body> res;
    std::optional<error_code> read_ec;
    http::async_read(*im.stream, im.buffer, res, [&](error_code ec, std::size_t) { read_ec = ec; });
    im.ioc.restart();
    im.ioc.run_for(im.timeout);
    if (!read_ec) {
      im.stream.reset();  // cancels the read
      im.ioc.restart();
      im.ioc.poll();
      return make_error(ErrorCode::timeout, "no answer within {} ms", im.timeout.count());
    }
    if (*read_ec) {
      im.stream.reset();
      im.ioc.restart();
      im.ioc.poll();
      // A keep-alive connection the server closed meanwhile: retry once on a fresh one.
      if (attempt == 0 && !fresh &&
          (*read_ec == http::error::end_of_stream || *read_ec == asio::error::connection_reset)) {
        continue;
      }
      return make_error(ErrorCode::io_error, "read: {}", read_ec->message());
    }
    HttpResult out;
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (const auto& f : res) out.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    if (!res.keep_alive()) im.stream.reset();
    return out;
  }
  return make_error(ErrorCode::io_error, "request failed");
}

struct WsClient::Impl {
  asio::io_context ioc;
  std::optional<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
  bool pending = false;
  std::optional<error_code> read_result;
  bool closed = false;
  int close_code = -1;
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() { close(); }

Result<std::unique_ptr<WsClient>> WsClient::connect(std::uint16_t port, std::string_view target,
                                                    std::chrono::milliseconds timeout) {
  std::unique_ptr<WsClient> c(new WsClient());
  auto& im = *c->impl_;
  im.ws.emplace(im.ioc);
  error_code ec;
  beast::get_lowest_layer(*im.ws).socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return make_error(ErrorCode::io_error, "connect: {}", ec.message());
  std::optional<error_code> hs;
  im.ws->async_handshake("127.0.0.1", std::string(target), [&](error_code e) { hs = e; });
  im.ioc.run_for(timeout);
  if (!hs) return make_error(ErrorCode::timeout, "handshake timed out");
  if (*hs) return make_error(ErrorCode::io_error, "handshake: {}", hs->message());
  im.ws->read_message_max(16u << 20);
  return c;
}

Status WsClient::send(std::string_view text) {
  auto& im = *impl_;
  if (im.closed) return make_error(ErrorCode::io_error, "closed");
  im.ws->text(true);
  std::optional<error_code> r;
  im.ws->async_write(asio::buffer(text.data(), text.size()), [&](error_code ec, std::size_t) { r = ec; });
  // Drive only this write (a pending read may complete too; its result is kept).
  im.ioc.restart();
  while (!r) {
    if (im.ioc.run_one_for(std::chrono::seconds(5)) == 0) break;
  }
  if (!r || *r) return make_error(ErrorCode::io_error, "write failed");
  return {};
}

Result<std::string> WsClient::read(std::chrono::milliseconds timeout) {
  auto& im = *impl_;
  if (im.closed) return make_error(ErrorCode::io_error, "closed");
  if (!im.pending) {
    im.pending = true;
    im.read_result.reset();
    im.ws->async_read(im.buffer, [&im](error_code ec, std::size_t) { im.read_result = ec; });
  }
  im.ioc.restart();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!im.read_result && std::chrono::steady_clock::now() < deadline) {
    im.ioc.run_one_until(deadline);
  }
  if (!im.read_result) return make_error(ErrorCode::timeout, "no frame within {} ms", timeout.count());
  im.pending = false;
  if (*im.read_result) {
    im.closed = true;
    if (*im.read_result == websocket::error::closed) im.close_code = static_cast<int>(im.ws->reason().code);
    return make_error(ErrorCode::io_error, "read: {}", im.read_result->message());
  }
  std::string out = beast::buffers_to_string(im.buffer.data());
  im.buffer.consume(im.buffer.size());
  return out;
}

bool WsClient::is_closed() const noexcept { return impl_->closed; }
int WsClient::close_code() const noexcept { return impl_->close_code; }

void WsClient::close() {
  auto& im = *impl_;
  if (!im.ws || im.closed) return;
  im.closed = true;
  error_code ec;
  beast::get_lowest_layer(*im.ws).socket().shutdown(tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(*im.ws).socket().close(ec);
  im.ioc.restart();
  im.ioc.poll();
}

}  // namespace twinstar::testing
