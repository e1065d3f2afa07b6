#include "observe/control_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace twinstar::observe {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

Result<ControlReply> control_call(const ControlEndpoint& endpoint, std::string_view method, std::string_view path,
                                  std::string_view body, std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::string_body> req{http::string_to_verb(method), std::string(path), 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::user_agent, "twinstar");
  if (method == "POST") {
    req.set(http::field::authorization, "Bearer " + endpoint.token);
    req.set(http::field::content_type, "application/json");
  }
  req.body() = std::string(body);
  req.prepare_payload();

  beast::error_code ec;
  std::optional<http::response<http::string_body>> res;
  stream.expires_after(timeout);
  stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), endpoint.port), [&](beast::error_code e) {
    if (e) {
      ec = e;
      return;
    }
    http::async_write(stream, req, [&](beast::error_code e2, std::size_t) {
      if (e2) {
        ec = e2;
        return;
      }
      auto buffer = std::make_shared<beast::flat_buffer>();
      auto response = std::make_shared<http::response<http::string_body>>();
      http::async_read(stream, *buffer, *response, [&, buffer, response](beast::error_code e3, std::size_t) {
        if (e3) {
          ec = e3;
          return;
        }
        res = std::move(*response);
      });
    });
  });
  io.run();
  if (ec == beast::error::timeout) {
    return make_error(ErrorCode::timeout, "the engine on 127.0.0.1:{} did not answer within {} ms", endpoint.port, timeout.count());
  }
  if (ec || !res) {
    return make_error(ErrorCode::io_error, "cannot reach the engine on 127.0.0.1:{}: {}", endpoint.port,
                      ec ? ec.message() : std::string("no answer"));
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return ControlReply{static_cast<int>(res->result_int()), std::move(res->body())};
}

}  // namespace twinstar::observe
