// The market feed against a small fake of Binance USDⓈ-M on 127.0.0.1: SUBSCRIBE frames and
// their {"result":null,"id":N} replies, raw kline events closed by `k.x`, a lost push filled
// over GET /fapi/v1/klines before the next close is delivered, and the start backfill.
#include <condition_variable>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "feed/market_feed.hpp"
#include "net/server.hpp"

namespace twinstar::feed {
namespace {

using namespace std::chrono_literals;

std::string kline_row(std::int64_t open_ms) {
  const auto p = 100 + (open_ms / 60'000) % 50;
  return fmt::format(R"([{},"{}","{}","{}","{}","10",{},"1000",5,"5","500","0"])", open_ms, p, p + 1, p - 1, p, open_ms + 59'999);
}

class FakeBinanceMarket : public net::ServerHandler {
 public:
  net::HttpResponse on_http(const net::HttpRequest& r) override {
    std::int64_t start = 0, end = 0, limit = 500;
    for (const auto& [k, v] : net::parse_query(r.query)) {
      if (k == "startTime") start = std::stoll(v);
      if (k == "endTime") end = std::stoll(v);
      if (k == "limit") limit = std::stoll(v);
    }
    ++rest_requests;
    if (rest_down) {
      net::HttpResponse down;
      down.status = 503;
      down.body = "Service Unavailable";
      return down;
    }
    std::string rows;
    for (std::int64_t t = (start + 59'999) / 60'000 * 60'000, n = 0; t <= end && n < limit; t += 60'000, ++n) {
      rows += (rows.empty() ? "" : ",") + kline_row(t);
    }
    net::HttpResponse res;
    res.body = "[" + rows + "]";
    res.headers.push_back({"X-MBX-USED-WEIGHT-1M", "5"});
    return res;
  }
  std::optional<net::HttpResponse> on_ws_upgrade(const net::HttpRequest& r) override {
    if (r.path == "/market/ws") return std::nullopt;
    net::HttpResponse res;
    res.status = 404;
    return res;
  }
  void on_ws_open(const std::shared_ptr<net::WsSession>& s) override { session = s; }
  void on_ws_message(const std::shared_ptr<net::WsSession>& s, std::string_view text) override {
    // {"method":"SUBSCRIBE","params":["btcusdt@kline_1m",...],"id":N}
    if (text.find("\"SUBSCRIBE\"") == std::string_view::npos) return;
    ++subscribe_frames;
    const auto id = text.find("\"id\":");
    const auto id_text = text.substr(id + 5, text.find('}', id) - id - 5);
    if (text.find("badusdt@") != std::string_view::npos && refused_frames < refuse_bad_times) {  // unknown: the frame is refused
      ++refused_frames;
      s->send(fmt::format(R"({{"error":{{"code":2,"msg":"Invalid request: unknown symbol"}},"id":{}}})", id_text));
      return;
    }
    for (auto pos = text.find("@kline_1m"); pos != std::string_view::npos; pos = text.find("@kline_1m", pos + 1)) {
      const auto q = text.rfind('"', pos);
      std::string sym(text.substr(q + 1, pos - q - 1));
      for (auto& c : sym) c = static_cast<char>(std::toupper(c));
      streams.insert(sym);
    }
    stream_count = streams.size();
    s->send(fmt::format(R"({{"result":null,"id":{}}})", id_text));
  }
  void on_ws_close(const std::shared_ptr<net::WsSession>&, std::string_view) override { session.reset(); }
  // io thread (via Server::post)
  void push_closed(std::int64_t open_ms) {
    if (!session) return;
    for (const auto& sym : streams) {
      const auto p = 100 + (open_ms / 60'000) % 50;
      session->send(fmt::format(
          R"({{"e":"kline","E":{},"s":"{}","k":{{"t":{},"T":{},"s":"{}","i":"1m","f":1,"L":2,"o":"{}","c":"{}","h":"{}","l":"{}","v":"10","n":5,"x":true,"q":"1000","V":"5","Q":"500","B":"0"}}}})",
          open_ms + 60'000, sym, open_ms, open_ms + 59'999, sym, p, p, p + 1, p - 1));
    }
  }
  std::shared_ptr<net::WsSession> session;  // io thread
  std::set<std::string> streams;            // io thread
  std::atomic<std::size_t> stream_count{0};  // for the test thread
  std::atomic<int> refused_frames{0};
  std::atomic<int> refuse_bad_times{1'000'000};  // BADUSDT is listed after this many refusals
  std::atomic<int> subscribe_frames{0};
  std::atomic<int> rest_requests{0};
  std::atomic<bool> rest_down{false};
};

class Collect final : public CandleConsumer {
 public:
  void on_candle(const SeriesKey& k, const Candle& c) override {
    std::lock_guard l(mutex);
    by_symbol[k.symbol.str()].push_back(c);
    cv.notify_all();
  }
  void on_refused(const SeriesKey& k, std::string_view reason) override {
    std::lock_guard l(mutex);
    refused.emplace_back(k.symbol.str(), reason);
  }
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> refused;  // guarded by mutex
  std::condition_variable cv;
  std::map<std::string, std::vector<Candle>> by_symbol;  // guarded by mutex
};

// A feed on the fake's REST and WebSocket endpoints.
FeedOptions binance_options(const net::Server& server) {
  FeedOptions o;
  o.exchange = Exchange::binance;
  o.market = Market::linear;
  o.endpoints = {fmt::format("http://127.0.0.1:{}", server.port()), fmt::format("ws://127.0.0.1:{}/market/ws", server.port())};
  return o;
}

TEST(FeedBinance, lost_push_is_filled_over_rest_before_the_next_close_and_start_is_backfilled) {
  ManualClock clock(*parse_iso8601("2025-01-01T00:00:30Z"));
  FakeBinanceMarket venue;
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  const auto t0 = from_epoch_ms(to_epoch_ms(*parse_iso8601("2025-01-01T00:00:00Z")));
  FeedOptions o = binance_options(server);
  o.stale_after = 1h;
  o.last_stored = [&](const SeriesKey&) -> std::optional<TimestampMs> { return t0 - 10min; };
  auto feed = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(feed) << feed.error().message;
  auto sink = std::make_shared<Collect>();
  for (auto s : {"BTCUSDT", "ETHUSDT"}) ASSERT_TRUE((*feed)->subscribe(*Symbol::parse(s), Interval::m1, sink));
  ASSERT_TRUE((*feed)->start());
  auto have_until = [&](TimestampMs open) {
    std::unique_lock l(sink->mutex);
    return sink->cv.wait_for(l, 10s, [&] {
      if (sink->by_symbol.size() < 2) return false;
      for (auto& [s, v] : sink->by_symbol) {
        if (v.empty() || v.back().open_time < open) return false;
      }
      return true;
    });
  };
  // Start backfill: the 9 minutes between the stored history and the candle forming now.
  ASSERT_TRUE(have_until(t0 - 1min));
  for (int i = 0; i < 500 && venue.stream_count < 2; ++i) std::this_thread::sleep_for(5ms);  // subscribed
  // A topic the venue refuses is counted and not resent in a loop; the others keep flowing.
  auto bad_sink = std::make_shared<Collect>();
  ASSERT_TRUE((*feed)->subscribe(*Symbol::parse("BADUSDT"), Interval::m1, bad_sink));
  for (int i = 0; i < 500 && (*feed)->stats().subscribe_errors == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ((*feed)->stats().subscribe_errors, 1u);
  auto close_minute = [&](TimestampMs open, bool lose) {
    clock.set(Timestamp(open + 1min + 1s));
    if (!lose) server.post([&venue, open] { venue.push_closed(to_epoch_ms(open)); });
  };
  close_minute(t0, false);
  close_minute(t0 + 1min, true);  // this push never arrives
  close_minute(t0 + 2min, false);
  ASSERT_TRUE(have_until(t0 + 2min));
  (*feed)->stop();
  server.stop();

  for (const auto& [sym, candles] : sink->by_symbol) {
    ASSERT_EQ(candles.size(), 12u) << sym;  // t0-9m .. t0+2m, each once
    for (std::size_t i = 0; i < candles.size(); ++i) {
      EXPECT_EQ(candles[i].open_time, t0 - 9min + std::chrono::minutes(i)) << sym;
      EXPECT_TRUE(candles[i].closed);
    }
  }
  const auto st = (*feed)->stats();
  EXPECT_GE(st.gaps, 3u);  // two start backfills, one lost push per symbol
  // 9 at start and 1 lost push per symbol, and BADUSDT's 9: its REST history exists, and its
  // backfill runs right after its subscribe frame is sent, before the refusal comes back.
  EXPECT_EQ(st.gap_candles_filled, 2u * 9u + 2u + 9u);
  EXPECT_EQ(st.subscribe_errors, 1u);
  EXPECT_EQ(venue.refused_frames.load(), 1);  // sent once: its retry is 5 minutes away
  EXPECT_EQ(st.refused_retries, 0u);
  // Its consumer is told, with the venue's reason; the others are not.
  {
    std::lock_guard l(bad_sink->mutex);
    ASSERT_EQ(bad_sink->refused.size(), 1u);
    EXPECT_EQ(bad_sink->refused[0].first, "BADUSDT");
    EXPECT_NE(bad_sink->refused[0].second.find("unknown symbol"), std::string::npos) << bad_sink->refused[0].second;
  }
  std::lock_guard l(sink->mutex);
  EXPECT_TRUE(sink->refused.empty());
  EXPECT_GE(venue.rest_requests.load(), 4);
}

// A refused topic is asked for again after a backoff that doubles (not in a loop, not only at a
// reconnect); once the venue takes it, its history since the store's last candle is filled in.
TEST(FeedBinance, a_refused_topic_is_asked_for_again_with_a_growing_backoff_and_then_flows) {
  ManualClock clock(*parse_iso8601("2025-01-01T00:00:30Z"));
  FakeBinanceMarket venue;
  venue.refuse_bad_times = 2;
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  const auto t0 = from_epoch_ms(to_epoch_ms(*parse_iso8601("2025-01-01T00:00:00Z")));
  FeedOptions o = binance_options(server);
  o.stale_after = 24h;
  o.refused_retry_min = 5min;
  o.refused_retry_max = 1h;
  auto feed = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(feed) << feed.error().message;
  auto sink = std::make_shared<Collect>();
  ASSERT_TRUE((*feed)->subscribe(*Symbol::parse("BADUSDT"), Interval::m1, sink));
  ASSERT_TRUE((*feed)->start());
  auto wait_for = [](auto pred) {
    for (int i = 0; i < 1000 && !pred(); ++i) std::this_thread::sleep_for(5ms);
    return pred();
  };
  ASSERT_TRUE(wait_for([&] { return (*feed)->stats().subscribe_errors == 1; }));
  // Not before 5 minutes.
  clock.set(*parse_iso8601("2025-01-01T00:05:20Z"));
  std::this_thread::sleep_for(300ms);  // three housekeeping passes
  EXPECT_EQ(venue.refused_frames.load(), 1);
  clock.set(*parse_iso8601("2025-01-01T00:05:31Z"));
  ASSERT_TRUE(wait_for([&] { return (*feed)->stats().subscribe_errors == 2; }));
  EXPECT_EQ((*feed)->stats().refused_retries, 1u);
  // The second refusal doubles the wait: 10 minutes.
  clock.set(*parse_iso8601("2025-01-01T00:15:20Z"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(venue.refused_frames.load(), 2);
  EXPECT_EQ((*feed)->stats().refused_retries, 1u);
  clock.set(*parse_iso8601("2025-01-01T00:15:32Z"));
  ASSERT_TRUE(wait_for([&] { return venue.stream_count.load() == 1; }));  // listed now: taken
  EXPECT_EQ((*feed)->stats().refused_retries, 2u);
  EXPECT_EQ((*feed)->stats().subscribe_errors, 2u);
  EXPECT_EQ((*feed)->stats().reconnects, 0u);  // all on the first connection
  // It flows: a live close arrives after the backfill of what it missed.
  clock.set(Timestamp(t0 + 16min + 1s));
  server.post([&venue, t0] { venue.push_closed(to_epoch_ms(t0 + 15min)); });
  {
    std::unique_lock l(sink->mutex);
    ASSERT_TRUE(sink->cv.wait_for(l, 10s, [&] {
      auto it = sink->by_symbol.find("BADUSDT");
      return it != sink->by_symbol.end() && !it->second.empty() && it->second.back().open_time == t0 + 15min;
    }));
    EXPECT_EQ(sink->refused.size(), 2u);  // told at each refusal
  }
  (*feed)->stop();
  server.stop();
  EXPECT_EQ(venue.subscribe_frames.load(), 3);
}

TEST(FeedBinance, a_gap_that_rest_cannot_fill_yet_is_not_skipped) {
  ManualClock clock(*parse_iso8601("2025-01-01T00:00:30Z"));
  FakeBinanceMarket venue;
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  const auto t0 = from_epoch_ms(to_epoch_ms(*parse_iso8601("2025-01-01T00:00:00Z")));
  FeedOptions o = binance_options(server);
  o.stale_after = 1h;
  o.fetch.max_attempts = 2;
  auto feed = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(feed);
  auto sink = std::make_shared<Collect>();
  ASSERT_TRUE((*feed)->subscribe(*Symbol::parse("BTCUSDT"), Interval::m1, sink));
  ASSERT_TRUE((*feed)->start());
  for (int i = 0; i < 500 && venue.stream_count == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_GT(venue.stream_count.load(), 0u);
  clock.set(Timestamp(t0 + 1min + 1s));
  server.post([&venue, t0] { venue.push_closed(to_epoch_ms(t0)); });
  {
    std::unique_lock l(sink->mutex);
    ASSERT_TRUE(sink->cv.wait_for(l, 10s, [&] { return !sink->by_symbol["BTCUSDT"].empty(); }));
  }
  venue.rest_down = true;
  clock.set(Timestamp(t0 + 3min + 1s));  // minute t0+1 is lost; t0+2 arrives while REST is down
  server.post([&venue, t0] { venue.push_closed(to_epoch_ms(t0 + 2min)); });
  for (int i = 0; i < 400 && (*feed)->stats().backfill_errors == 0; ++i) {
    clock.advance(100ms);  // the fetcher's retry backoff runs on the clock
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_GT((*feed)->stats().backfill_errors, 0u);
  {
    std::lock_guard l(sink->mutex);
    EXPECT_EQ(sink->by_symbol["BTCUSDT"].size(), 1u);  // t0+2 was held back, not delivered over the gap
  }
  venue.rest_down = false;
  bool filled = false;
  for (int i = 0; i < 2000 && !filled; ++i) {  // reconnect backoff and the backfill after it
    clock.advance(50ms);
    std::this_thread::sleep_for(2ms);
    std::lock_guard l(sink->mutex);
    filled = sink->by_symbol["BTCUSDT"].size() >= 3;
  }
  (*feed)->stop();
  server.stop();
  ASSERT_TRUE(filled);
  const auto& c = sink->by_symbol["BTCUSDT"];
  for (std::size_t i = 0; i < c.size(); ++i) EXPECT_EQ(c[i].open_time, t0 + std::chrono::minutes(i));
  EXPECT_GE((*feed)->stats().reconnects, 1u);
}

}  // namespace
}  // namespace twinstar::feed
