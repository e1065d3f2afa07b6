// The engine's own HTTP and WebSocket clients against the net::Server on 127.0.0.1.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "closing_server.hpp"
#include "net/http_client.hpp"
#include "net/http_client_pool.hpp"
#include "net/server.hpp"
#include "net/url.hpp"
#include "net/ws_client.hpp"

namespace twinstar::net {
namespace {

using namespace std::chrono_literals;

// HTTP: echoes; "/hang" never answers. WS: echoes; "close" closes with 4001; "drop" cuts the link.
class ClientTestHandler : public ServerHandler {
 public:
  HttpResponse on_http(const HttpRequest& r) override {
    HttpResponse res;
    res.content_type = "text/plain";
    if (r.path == "/hang") res.hang_for = 3s;
    res.body = r.method + " " + r.target + " " + r.body;
    res.headers.push_back({"X-Seen", std::string(r.header("x-test"))});
    return res;
  }
  void on_ws_open(const std::shared_ptr<WsSession>&) override {}
  void on_ws_message(const std::shared_ptr<WsSession>& s, std::string_view text) override {
    if (text == "close") {
      s->close(4001, "bye");
    } else if (text == "drop") {
      s->drop();
    } else {
      s->send(std::string(text));
    }
  }
  void on_ws_close(const std::shared_ptr<WsSession>&, std::string_view) override {}
};

struct ClientFixture : ::testing::Test {
  void SetUp() override {
    server = std::make_unique<Server>(ServerOptions{}, handler);
    ASSERT_TRUE(server->start());
  }
  std::string base(std::string_view scheme = "http") const {
    return fmt::format("{}://127.0.0.1:{}", scheme, server->port());
  }
  ClientTestHandler handler;
  std::unique_ptr<Server> server;
};

TEST(Url, parses_scheme_host_port_and_target) {
  auto u = parse_url("wss://stream.bybit.com/v5/public/linear");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "stream.bybit.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/v5/public/linear");
  EXPECT_TRUE(u->tls());
  auto p = parse_url("http://127.0.0.1:8080");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->port, 8080);
  EXPECT_EQ(p->target, "/");
  EXPECT_FALSE(p->tls());
  EXPECT_FALSE(parse_url("ftp://x"));
  EXPECT_FALSE(parse_url("http://:80/"));
  EXPECT_FALSE(parse_url("http://host:99999/"));
}

TEST_F(ClientFixture, http_client_reuses_one_connection_for_many_requests) {
  auto c = HttpClient::create(base());
  ASSERT_TRUE(c);
  for (int i = 0; i < 5; ++i) {
    auto r = (*c)->get(fmt::format("/echo?i={}", i), {{"X-Test", "yes"}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, fmt::format("GET /echo?i={} ", i));
    EXPECT_EQ(r->header("x-seen"), "yes");
  }
  auto post = (*c)->request("POST", "/order", R"({"a":1})");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->body, R"(POST /order {"a":1})");
  EXPECT_EQ((*c)->connections_opened(), 1u);
}

// Each lease is its own keep-alive connection; a caller that never overlaps with another keeps
// using one; a full pool makes the next caller wait for a lease to come back.
TEST_F(ClientFixture, a_client_pool_lends_one_connection_per_caller_and_waits_when_all_are_out) {
  auto pool = HttpClientPool::create(base(), {}, 3);
  ASSERT_TRUE(pool) << pool.error().message;
  for (int i = 0; i < 4; ++i) {
    auto c = (*pool)->acquire();
    auto r = c->get(fmt::format("/one?i={}", i));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, fmt::format("GET /one?i={} ", i));
  }
  EXPECT_EQ((*pool)->connections_opened(), 1u);  // sequential use stays on the warm connection

  std::vector<HttpClientPool::Lease> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back((*pool)->acquire());
    auto r = held.back()->get("/held");
    ASSERT_TRUE(r) << r.error().message;
  }
  EXPECT_EQ((*pool)->connections_opened(), 3u);

  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto c = (*pool)->acquire();
    got = true;
    auto r = c->get("/after");
    EXPECT_TRUE(r);
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(got.load());  // all three are out
  held.pop_back();           // one comes back
  waiter.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ((*pool)->connections_opened(), 3u);  // the returned connection was reused

  auto none = HttpClientPool::create(base(), {}, 0);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::invalid_argument);
}

TEST_F(ClientFixture, http_client_times_out_on_a_silent_server_and_recovers) {
  HttpClientOptions o;
  o.request_timeout = 200ms;
  auto c = HttpClient::create(base(), o);
  ASSERT_TRUE(c);
  auto r = (*c)->get("/hang");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::timeout);
  auto again = (*c)->get("/ok");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->status, 200);
}

TEST_F(ClientFixture, http_client_names_the_origin_when_the_connection_is_refused) {
  const auto url = base();
  server->stop();
  auto c = HttpClient::create(url);
  ASSERT_TRUE(c);
  auto r = (*c)->get("/x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::io_error);
  EXPECT_NE(r.error().message.find("127.0.0.1"), std::string::npos) << r.error().message;
}

TEST_F(ClientFixture, https_to_a_plain_server_fails_in_the_tls_handshake) {
  HttpClientOptions o;
  o.connect_timeout = 2s;
  auto c = HttpClient::create(base("https"), o);
  ASSERT_TRUE(c);
  auto r = (*c)->get("/x");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("TLS"), std::string::npos) << r.error().message;
}

TEST_F(ClientFixture, ws_client_echoes_times_out_and_wakes) {
  auto c = WsClient::connect(base("ws") + "/ws");
  ASSERT_TRUE(c) << c.error().message;
  auto& ws = **c;
  ASSERT_TRUE(ws.send("hello"));
  auto m = ws.read(5s);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(*m, "hello");
  auto idle = ws.read(50ms);
  ASSERT_FALSE(idle);
  EXPECT_EQ(idle.error().code, ErrorCode::timeout);
  std::thread waker([&] { ws.wake(); });
  auto woken = ws.read(10s);
  waker.join();
  ASSERT_FALSE(woken);
  EXPECT_EQ(woken.error().code, ErrorCode::cancelled);
  ASSERT_TRUE(ws.ping());
  ASSERT_TRUE(ws.send("after"));  // the interrupted read resumes and gets the next message
  auto after = ws.read(5s);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(*after, "after");
  ws.close();
  EXPECT_FALSE(ws.is_open());
}

TEST_F(ClientFixture, ws_client_sees_the_server_close_code_and_a_dropped_link) {
  auto c = WsClient::connect(base("ws") + "/ws");
  ASSERT_TRUE(c);
  ASSERT_TRUE((*c)->send("close"));
  auto r = (*c)->read(5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::io_error);
  EXPECT_EQ((*c)->close_code(), 4001);
  EXPECT_FALSE((*c)->is_open());

  auto d = WsClient::connect(base("ws") + "/ws");
  ASSERT_TRUE(d);
  ASSERT_TRUE((*d)->send("drop"));
  auto r2 = (*d)->read(5s);
  ASSERT_FALSE(r2);
  EXPECT_EQ((*d)->close_code(), -1);
}

TEST_F(ClientFixture, ws_connect_fails_clearly_when_nothing_listens) {
  const auto url = base("ws") + "/ws";
  server->stop();
  auto c = WsClient::connect(url);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::io_error);
}

// A request is sent at most once: when the server reads it and closes the kept-alive connection
// without answering, the client reports `unavailable` and does not resend (the resend would
// reach the venue without a limiter grant, or place an order twice).
TEST(HttpClientKeepAlive, a_request_the_server_read_before_closing_is_not_resent) {
  twinstar::testing::ClosingServer server(2, twinstar::testing::ClosingServer::Close::after_reading_next, [](const std::string& t) { return t; });
  auto c = HttpClient::create(fmt::format("http://127.0.0.1:{}", server.port()));
  ASSERT_TRUE(c);
  ASSERT_TRUE((*c)->get("/1"));
  ASSERT_TRUE((*c)->get("/2"));
  auto third = (*c)->get("/3");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::unavailable) << third.error().message;
  EXPECT_EQ(server.requests_seen(), 3u);
  auto fourth = (*c)->get("/4");  // a fresh connection
  ASSERT_TRUE(fourth) << fourth.error().message;
  EXPECT_EQ(fourth->body, "/4");
  ASSERT_TRUE((*c)->get("/5"));
  auto post = (*c)->request("POST", "/order", R"({"a":1})");
  ASSERT_FALSE(post);
  EXPECT_EQ(post.error().code, ErrorCode::unavailable);
  EXPECT_EQ(server.requests_seen(), 6u);
  EXPECT_EQ(server.unanswered(), 2u);
  EXPECT_EQ((*c)->connections_opened(), 2u);
}

// An idle connection the server has already closed is replaced before the request is sent, so
// the request neither fails nor costs a second send.
TEST(HttpClientKeepAlive, an_idle_connection_the_server_closed_is_replaced_before_sending) {
  twinstar::testing::ClosingServer server(2, twinstar::testing::ClosingServer::Close::silently, [](const std::string& t) { return t; });
  auto c = HttpClient::create(fmt::format("http://127.0.0.1:{}", server.port()));
  ASSERT_TRUE(c);
  for (int i = 0; i < 6; ++i) {
    if (i > 0 && i % 2 == 0) {  // the server has answered twice: wait until its FIN is out
      for (int w = 0; w < 500 && server.silent_closes() < static_cast<std::uint64_t>(i / 2); ++w) std::this_thread::sleep_for(10ms);
    }
    auto r = (*c)->get(fmt::format("/{}", i));
    ASSERT_TRUE(r) << i << ": " << r.error().message;
    EXPECT_EQ(r->body, fmt::format("/{}", i));
  }
  EXPECT_EQ(server.requests_seen(), 6u);
  EXPECT_EQ(server.unanswered(), 0u);
  EXPECT_EQ((*c)->connections_opened(), 3u);
}

}  // namespace
}  // namespace twinstar::net
