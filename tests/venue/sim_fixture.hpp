#pragma once
// A SimServer on 127.0.0.1:0 driven by a ManualClock, with signed-request helpers and a
// small JSON reader, for the socket-level sim tests.

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/clock.hpp"
#include "test_client.hpp"
#include "venue/bybit/bybit_signer.hpp"
#include "venue/sim/sim_server.hpp"

namespace twinstar::venue::sim::testing {

using namespace std::chrono_literals;
using twinstar::testing::HttpClient;
using twinstar::testing::HttpResult;
using twinstar::testing::WsClient;

// Parsed JSON that owns its parser (simdjson DOM elements point into it).
struct Json {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::element operator[](std::string_view key) const { return root[key]; }
};

inline std::unique_ptr<Json> parse(const std::string& text) {
  auto j = std::make_unique<Json>();
  if (j->parser.parse(text).get(j->root)) ADD_FAILURE() << "not JSON: " << text;
  return j;
}

inline std::string str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

class SimFixture : public ::testing::Test {
 protected:
  void TearDown() override {
    if (sim) sim->stop();
  }

  void start_sim() {
    options.tick = 1ms;
    options.server.port = 0;
    options.symbols = options.symbols == 50 ? 50 : options.symbols;
    options.history = 24h;
    auto source = make_market_source(options, clock.now());
    ASSERT_TRUE(source) << source.error().message;
    sim = std::make_unique<SimServer>(options, std::move(*source), clock);
    ASSERT_TRUE(sim->start());
    http = std::make_unique<HttpClient>(sim->port());
  }

  std::int64_t now_ms() const { return to_epoch_ms(clock.now()); }

  // Advances the simulated clock and waits (bounded) until the sim's tick has seen it.
  void advance(Duration d) {
    clock.advance(d);
    const auto target = now_ms();
    for (int i = 0; i < 2000; ++i) {
      auto r = http->get("/sim/stats");
      if (r && r->status == 200 && std::int64_t(parse(r->body)->root["tick"]) >= target) return;
      std::this_thread::sleep_for(1ms);
    }
    ADD_FAILURE() << "sim tick did not reach the clock";
  }

  std::vector<net::Header> sign_headers(const std::string& payload, std::size_t account = 0, std::int64_t ts_offset = 0,
                                        const std::string& secret_override = {}) {
    const auto& a = options.accounts.at(account);
    const bybit::BybitSigner signer(a.api_key, secret_override.empty() ? a.api_secret : secret_override);
    const auto h = signer.sign_rest(now_ms() + ts_offset, payload);
    return {{std::string(bybit::kHeaderApiKey), h.api_key},
            {std::string(bybit::kHeaderTimestamp), h.timestamp},
            {std::string(bybit::kHeaderSign), h.sign},
            {std::string(bybit::kHeaderRecvWindow), h.recv_window}};
  }

  HttpResult signed_get(const std::string& path, const std::string& query, std::size_t account = 0) {
    auto r = http->get(path + "?" + query, sign_headers(query, account));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : HttpResult{};
  }

  HttpResult signed_post(const std::string& path, const std::string& body, std::size_t account = 0) {
    auto r = http->request("POST", path, body, sign_headers(body, account));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : HttpResult{};
  }

  std::unique_ptr<Json> stats() {
    auto r = http->get("/sim/stats");
    EXPECT_TRUE(r);
    return parse(r ? r->body : "{}");
  }

  std::unique_ptr<WsClient> ws(std::string_view path) {
    auto c = WsClient::connect(sim->port(), path);
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? std::move(*c) : nullptr;
  }

  // Reads frames until `pred` holds for one (returned), or `max_frames`/timeout pass.
  template <class Pred>
  std::unique_ptr<Json> read_until(WsClient& c, Pred pred, int max_frames = 10'000, std::chrono::milliseconds timeout = 5s) {
    for (int i = 0; i < max_frames; ++i) {
      auto m = c.read(timeout);
      if (!m) return nullptr;
      auto j = parse(*m);
      if (pred(*j)) return j;
    }
    return nullptr;
  }

  ManualClock clock{*parse_iso8601("2025-01-01T00:00:00Z")};
  SimOptions options;
  std::unique_ptr<SimServer> sim;
  std::unique_ptr<HttpClient> http;
};

}  // namespace twinstar::venue::sim::testing
