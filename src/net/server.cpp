// The only translation unit of the net module that includes Boost.Beast/Asio.
#include "net/server.hpp"

#include <deque>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace twinstar::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

HttpRequest to_request(const http::request<http::string_body>& req, const std::string& remote_ip) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  const auto q = out.target.find('?');
  out.path = out.target.substr(0, q);
  if (q != std::string::npos) out.query = out.target.substr(q + 1);
  for (const auto& field : req) out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  out.body = req.body();
  out.remote_ip = remote_ip;
  return out;
}

http::response<http::string_body> to_beast(const HttpResponse& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "twinstar-sim");
  res.set(http::field::content_type, r.content_type);
  for (const auto& h : r.headers) res.set(h.name, h.value);
  res.keep_alive(keep_alive);
  res.body() = r.body;
  res.prepare_payload();
  return res;
}

std::string remote_ip_of(const tcp::socket& s) {
  error_code ec;
  const auto ep = s.remote_endpoint(ec);
  return ec ? std::string("unknown") : ep.address().to_string();
}

}  // namespace

class WsSessionImpl;
class HttpSession;

// A repeating timer; its pending wait holds a reference, so cancel() ends it.
struct Periodic : std::enable_shared_from_this<Periodic> {
  Periodic(asio::io_context& ioc, std::chrono::milliseconds p, std::function<void()> f, const bool& s)
      : timer(ioc), period(p), fn(std::move(f)), stopped(s) {}
  void arm() {
    timer.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->stopped) return;
      self->fn();
      // When the callback ran late, the next tick is a full period from now (no catch-up burst).
      const auto now = asio::steady_timer::clock_type::now();
      const auto next = self->timer.expiry() + self->period;
      self->timer.expires_at(next < now ? now + self->period : next);
      self->arm();
    });
  }
  void cancel() { timer.cancel(); }
  asio::steady_timer timer;
  std::chrono::milliseconds period;
  std::function<void()> fn;
  const bool& stopped;
};

struct Server::Impl {
  Impl(ServerOptions o, ServerHandler& h) : options(std::move(o)), handler(h), acceptor(ioc) {}

  void do_accept();
  void register_session(const std::shared_ptr<WsSessionImpl>& s);
  void unregister_session(std::uint64_t id);

  ServerOptions options;
  ServerHandler& handler;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::thread thread;
  std::uint16_t port = 0;
  bool stopped = false;          // io thread
  bool started = false;          // owner thread
  std::uint64_t next_session_id = 1;
  ServerCounters counters;       // io thread
  std::unordered_map<std::uint64_t, std::weak_ptr<WsSessionImpl>> sessions;  // io thread
  std::vector<std::shared_ptr<struct Periodic>> timers;                      // io thread
  std::vector<std::weak_ptr<HttpSession>> http_sessions;                     // io thread
};

class WsSessionImpl final : public WsSession, public std::enable_shared_from_this<WsSessionImpl> {
 public:
  WsSessionImpl(Server::Impl& server, tcp::socket socket, HttpRequest upgrade, std::uint64_t id)
      : server_(server), ws_(std::move(socket)), upgrade_(std::move(upgrade)), id_(id) {}

  std::uint64_t id() const noexcept override { return id_; }
  const HttpRequest& upgrade() const noexcept override { return upgrade_; }
  bool is_open() const noexcept override { return open_ && !closing_; }
  std::size_t queued_bytes() const noexcept override { return queued_bytes_; }

  void run(http::request<http::string_body> req) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(server_.options.max_ws_message);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "twinstar-sim"); }));
    ws_.async_accept(req, [self = shared_from_this()](error_code ec) {
      if (ec) return;  // handshake failed: never opened, nothing to report
      self->open_ = true;
      self->server_.register_session(self);
      self->server_.handler.on_ws_open(self);
      if (self->is_open()) self->do_read();
    });
  }

  bool send(std::shared_ptr<const std::string> frame) override {
    if (!open_ || closing_) return false;
    if (queued_bytes_ + frame->size() > server_.options.ws_send_queue_bytes) {
      ++server_.counters.ws_slow_consumer_closes;
      close(1008, "slow consumer: send queue full");
      return false;
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    if (!writing_) do_write();
    return true;
  }

  void close(std::uint16_t code, std::string_view reason) override {
    if (!open_ || closing_) return;
    closing_ = true;
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), std::string(reason));
    // Frames not yet on the wire are dropped; the one in flight completes first.
    while (queue_.size() > (writing_ ? 1u : 0u)) {
      queued_bytes_ -= queue_.back()->size();
      queue_.pop_back();
    }
    if (!writing_) do_close();
  }

  void drop() override {
    if (!open_) return;
    closing_ = true;
    error_code ec;
    auto& sock = beast::get_lowest_layer(ws_).socket();
    sock.set_option(asio::socket_base::linger(true, 0), ec);
    sock.close(ec);
    finish("dropped by server");
  }

  // Server stop: tell the handler, then close the socket without ceremony.
  void shutdown() {
    finish("server stopping");
    error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) {
        self->finish(ec == websocket::error::closed ? "closed by client" : ec.message());
        return;
      }
      ++self->server_.counters.ws_frames_in;
      const auto data = self->buffer_.cdata();
      const std::string_view text(static_cast<const char*>(data.data()), data.size());
      if (!self->closing_) self->server_.handler.on_ws_message(self, text);
      self->buffer_.consume(self->buffer_.size());
      if (!self->finished_) self->do_read();
    });
  }

  void do_write() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()), [self = shared_from_this()](error_code ec, std::size_t n) {
      self->writing_ = false;
      self->queued_bytes_ -= self->queue_.front()->size();
      self->queue_.pop_front();
      if (ec) {
        self->finish(ec.message());
        return;
      }
      ++self->server_.counters.ws_frames_out;
      self->server_.counters.ws_bytes_out += n;
      if (self->closing_) {
        self->do_close();
      } else if (!self->queue_.empty()) {
        self->do_write();
      }
    });
  }

  void do_close() {
    if (finished_) return;
    ws_.async_close(close_reason_, [self = shared_from_this()](error_code) {
      self->finish("closed by server");
      error_code ec;
      beast::get_lowest_layer(self->ws_).socket().close(ec);
    });
  }

  void finish(std::string_view reason) {
    if (finished_) return;
    finished_ = true;
    closing_ = true;
    if (open_) {
      server_.unregister_session(id_);
      server_.handler.on_ws_close(shared_from_this(), reason);
    }
  }

  Server::Impl& server_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  HttpRequest upgrade_;
  std::uint64_t id_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::size_t queued_bytes_ = 0;
  websocket::close_reason close_reason_;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

class HttpSession final : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Server::Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), remote_ip_(remote_ip_of(stream_.socket())) {}

  void run() { do_read(); }

  void shutdown() {
    error_code ec;
    stream_.socket().close(ec);
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_http_body);
    stream_.expires_after(server_.options.http_idle_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(error_code ec) {
    if (ec == http::error::body_limit) {
      HttpResponse r;
      r.status = 413;
      r.content_type = "text/plain";
      r.body = "request body too large";
      write(to_beast(r, 11, false));
      return;
    }
    if (ec) {
      error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    ++server_.counters.http_requests;
    auto req = parser_->release();
    HttpRequest request = to_request(req, remote_ip_);
    if (websocket::is_upgrade(req)) {
      if (auto reject = server_.handler.on_ws_upgrade(request)) {
        write(to_beast(*reject, req.version(), false));
        return;
      }
      stream_.expires_never();
      const auto id = server_.next_session_id++;
      std::make_shared<WsSessionImpl>(server_, stream_.release_socket(), std::move(request), id)->run(std::move(req));
      return;
    }
    HttpResponse response = server_.handler.on_http(request);
    if (response.hang_for) {
      // A timeout fault: answer nothing, then hang up.
      stream_.expires_never();
      hang_timer_ = std::make_unique<asio::steady_timer>(server_.ioc, *response.hang_for);
      hang_timer_->async_wait([self = shared_from_this()](error_code) {
        error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        self->stream_.socket().close(ignored);
      });
      return;
    }
    if (response.delay) {
      auto res = std::make_shared<http::response<http::string_body>>(to_beast(response, req.version(), req.keep_alive()));
      hang_timer_ = std::make_unique<asio::steady_timer>(server_.ioc, *response.delay);
      hang_timer_->async_wait([self = shared_from_this(), res](error_code ec) {
        if (!ec) self->write(std::move(*res));
      });
      return;
    }
    write(to_beast(response, req.version(), req.keep_alive()));
  }

  void write(http::response<http::string_body> res) {
    auto sp = std::make_shared<http::response<http::string_body>>(std::move(res));
    const bool keep = sp->keep_alive();
    http::async_write(stream_, *sp, [self = shared_from_this(), sp, keep](error_code ec, std::size_t) {
      if (ec || !keep) {
        error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->do_read();
    });
  }

  Server::Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<asio::steady_timer> hang_timer_;
  std::string remote_ip_;
};

void Server::Impl::do_accept() {
  acceptor.async_accept(ioc, [this](error_code ec, tcp::socket socket) {
    if (stopped) return;
    if (!ec) {
      if (!handler.on_accept(remote_ip_of(socket))) {
        ++counters.refused_connections;
        error_code ignored;
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
      } else {
        ++counters.http_connections;
        if (options.tcp_no_delay) {
          error_code ignored;
          socket.set_option(tcp::no_delay(true), ignored);
        }
        auto session = std::make_shared<HttpSession>(*this, std::move(socket));
        std::erase_if(http_sessions, [](const auto& w) { return w.expired(); });
        http_sessions.push_back(session);
        session->run();
      }
    }
    do_accept();
  });
}

void Server::Impl::register_session(const std::shared_ptr<WsSessionImpl>& s) {
  sessions[s->id()] = s;
  ++counters.ws_sessions_opened;
  counters.ws_sessions_open = sessions.size();
}

void Server::Impl::unregister_session(std::uint64_t id) {
  sessions.erase(id);
  counters.ws_sessions_open = sessions.size();
}

Server::Server(ServerOptions options, ServerHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

Server::~Server() { stop(); }

Status Server::start() {
  if (impl_->started) return make_error(ErrorCode::conflict, "server already started");
  error_code ec;
  const auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) return make_error(ErrorCode::invalid_argument, "bad listen address '{}': {}", impl_->options.address, ec.message());
  const tcp::endpoint endpoint(address, impl_->options.port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::io_error, "cannot listen on {}:{}: {}", impl_->options.address, impl_->options.port,
                      ec.message());
  }
  impl_->port = acc.local_endpoint().port();
  impl_->started = true;
  impl_->do_accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
  return {};
}

void Server::stop() {
  if (!impl_->started || !impl_->thread.joinable()) return;
  asio::post(impl_->ioc, [impl = impl_.get()] {
    impl->stopped = true;
    error_code ec;
    impl->acceptor.close(ec);
    for (auto& t : impl->timers) t->cancel();
    std::vector<std::shared_ptr<WsSessionImpl>> live;
    for (auto& [id, w] : impl->sessions) {
      if (auto s = w.lock()) live.push_back(s);
    }
    for (auto& s : live) s->shutdown();
    for (auto& w : impl->http_sessions) {
      if (auto s = w.lock()) s->shutdown();
    }
    impl->ioc.stop();
  });
  impl_->thread.join();
}

std::uint16_t Server::port() const noexcept { return impl_->port; }
const ServerOptions& Server::options() const noexcept { return impl_->options; }
const ServerCounters& Server::counters() const noexcept { return impl_->counters; }

void Server::post(std::function<void()> fn) { asio::post(impl_->ioc, std::move(fn)); }

void Server::every(std::chrono::milliseconds period, std::function<void()> fn) {
  asio::post(impl_->ioc, [impl = impl_.get(), period, fn = std::move(fn)]() mutable {
    if (impl->stopped) return;
    auto p = std::make_shared<Periodic>(impl->ioc, period, std::move(fn), impl->stopped);
    impl->timers.push_back(p);
    p->timer.expires_after(period);
    p->arm();
  });
}

void Server::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(impl_->ioc, delay);
  timer->async_wait([impl = impl_.get(), timer, fn = std::move(fn)](error_code ec) {
    if (!ec && !impl->stopped) fn();
  });
}

}  // namespace twinstar::net
