// The market feed against small fakes of OKX v5 and Bitget v2 on 127.0.0.1 (exchange-api.md §3,
// §4), over real sockets. The fakes read each subscribe frame as the reference documents it
// ({"op","args":[{channel, instId}]} for OKX, with instType for Bitget), acknowledge every
// channel with its own event, answer an unknown instrument with an error event, answer the text
// "ping" with "pong", push candles (OKX: confirm "0" / "1"; Bitget: a snapshot, then updates,
// no closed flag) and serve the REST candles endpoints (OKX: newest first, `after` / `before`;
// Bitget: oldest first, startTime / endTime / limit). Time is a ManualClock the tests move.
#include <simdjson.h>

#include <condition_variable>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "feed/market_feed.hpp"
#include "net/server.hpp"

namespace twinstar::feed {
namespace okx_bitget_e2e {  // named: this file shares a unity build with feed_binance_test.cpp
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kMinute = 60'000;

// One candle's values as the venue spells them.
struct Ohlcv {
  std::string open, high, low, close;
  std::string base_volume;  // base units
  std::string contracts;    // OKX swaps: `vol` counts contracts (here 100 per base unit)
  std::string quote_volume;
};

// The final values of a candle: different for every instrument and minute.
Ohlcv final_values(std::string_view inst, std::int64_t open_ms) {
  std::int64_t s = 0;
  for (char ch : inst) s = (s * 31 + ch) % 97;
  const auto m = open_ms / kMinute % 500;
  const auto p = 1000 + 10 * s + m;
  const auto base = 20 + m % 13;
  return {fmt::format("{}.5", p),     fmt::format("{}.75", p + 3),       fmt::format("{}.25", p - 2),
          fmt::format("{}.125", p + 1), fmt::format("{}.5", base),         fmt::format("{}", base * 100 + 50),
          fmt::format("{}.25", 20'000 + 7 * m)};
}

// What the venue shows while the candle is still forming: another close, high and volume.
Ohlcv partial_values(std::string_view inst, std::int64_t open_ms) {
  Ohlcv v = final_values(inst, open_ms);
  const auto p = std::stoll(v.open);
  v.high = fmt::format("{}.0", p + 1);
  v.close = fmt::format("{}.0", p);
  v.base_volume = "1.5";
  v.contracts = "150";
  v.quote_volume = "1500.0";
  return v;
}

Candle expected_candle(const Ohlcv& v, std::int64_t open_ms, bool closed) {
  Candle c;
  c.open_time = from_epoch_ms(open_ms);
  c.open = *Price::parse(v.open);
  c.high = *Price::parse(v.high);
  c.low = *Price::parse(v.low);
  c.close = *Price::parse(v.close);
  c.volume = *Quantity::parse(v.base_volume);
  c.turnover = *Money::parse(v.quote_volume);
  c.closed = closed;
  return c;
}

std::string describe(const Candle& c) {
  return fmt::format("{} o={} h={} l={} c={} v={} q={} closed={}", format_iso8601(c.open_time), c.open, c.high, c.low, c.close,
                     c.volume, c.turnover, c.closed);
}

std::int64_t ms(Timestamp t) { return to_epoch_ms(t); }

struct RestCall {
  std::string path;
  std::map<std::string, std::string> query;
};

// Reads a WebSocket request as JSON; null when it is not a JSON object.
struct JsonRequest {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  bool parse(std::string_view text) {
    padded = simdjson::padded_string(text);
    simdjson::dom::element doc;
    if (parser.parse(padded).get(doc)) return false;
    return !doc.get_object().get(root);
  }
  std::optional<std::string_view> string(std::string_view key) {
    std::string_view v;
    if (root[key].get_string().get(v)) return std::nullopt;
    return v;
  }
  simdjson::padded_string padded;
};

// ---------------------------------------------------------------------------------------------
// OKX v5: GET /api/v5/market/candles | history-candles and the business WebSocket (§3.1, §3.2).
class FakeOkx : public net::ServerHandler {
 public:
  FakeOkx(Clock& clock, std::set<std::string> listed) : clock_(clock), listed_(std::move(listed)) {}

  net::HttpResponse on_http(const net::HttpRequest& r) override {
    RestCall call{r.path, {}};
    for (const auto& [k, v] : net::parse_query(r.query)) call.query[k] = v;
    {
      std::lock_guard lock(mutex);
      rest.push_back(call);
    }
    net::HttpResponse res;
    if (r.path != "/api/v5/market/candles" && r.path != "/api/v5/market/history-candles") {
      res.status = 404;
      return res;
    }
    auto error = [&](std::string_view code, std::string_view msg) {
      res.body = fmt::format(R"({{"code":"{}","msg":"{}","data":[]}})", code, msg);
      return res;
    };
    const auto& q = call.query;
    if (!q.contains("instId") || !listed_.contains(q.at("instId"))) return error("51001", "Instrument ID does not exist");
    if (q.contains("bar") && q.at("bar") != "1m") return error("51000", "Parameter bar error");
    const std::int64_t limit = q.contains("limit") ? std::stoll(q.at("limit")) : 100;
    if (limit < 1 || limit > 300) return error("51000", "Parameter limit error");
    // Newest first; rows older than `after` and newer than `before` (§3.1), up to the candle
    // forming now, which is sent with confirm "0".
    const std::int64_t now = ms(clock_.now());
    const std::int64_t current = now / kMinute * kMinute;
    std::int64_t t = current;
    if (q.contains("after")) t = std::min<std::int64_t>(t, (std::stoll(q.at("after")) - 1) / kMinute * kMinute);
    const std::int64_t before = q.contains("before") ? std::stoll(q.at("before")) : -1;
    std::string rows;
    for (std::int64_t n = 0; n < limit && t > before; ++n, t -= kMinute) {
      const bool done = t + kMinute <= now;
      const auto& inst = q.at("instId");
      rows += (rows.empty() ? "" : ",") + row(inst, t, done ? final_values(inst, t) : partial_values(inst, t), done);
    }
    res.body = R"({"code":"0","msg":"","data":[)" + rows + "]}";
    return res;
  }
  std::optional<net::HttpResponse> on_ws_upgrade(const net::HttpRequest& r) override {
    if (r.path == "/ws/v5/business") return std::nullopt;  // §3.2: candles are on business only
    net::HttpResponse res;
    res.status = 404;
    return res;
  }
  void on_ws_open(const std::shared_ptr<net::WsSession>& s) override { session_ = s; }
  void on_ws_close(const std::shared_ptr<net::WsSession>&, std::string_view) override {
    session_.reset();
    std::lock_guard lock(mutex);
    subscribed.clear();
  }
  void on_ws_message(const std::shared_ptr<net::WsSession>& s, std::string_view text) override {
    if (text == "ping") {  // §3.2: the plain string, answered with "pong"
      std::lock_guard lock(mutex);
      ++pings;
      if (answer_pings) s->send(std::string("pong"));
      return;
    }
    std::lock_guard lock(mutex);
    // {"id":"1512","op":"subscribe","args":[{"channel":"candle1D","instId":"BTC-USDT"}]} (§3.2);
    // "id" is optional and a string.
    auto invalid = [&] {
      ++invalid_frames;
      s->send(fmt::format(R"({{"event":"error","code":"60012","msg":"Invalid request","connId":"{}"}})", kConnId));
    };
    if (!json_.parse(text)) return invalid();
    const auto op = json_.string("op");
    if (!op || (*op != "subscribe" && *op != "unsubscribe")) return invalid();
    std::string id;
    if (auto field = json_.root["id"]; field.error() != simdjson::NO_SUCH_FIELD) {
      auto v = json_.string("id");
      if (!v) return invalid();
      id = *v;
    }
    simdjson::dom::array args;
    if (json_.root["args"].get_array().get(args) || args.size() == 0) return invalid();
    std::vector<std::pair<std::string, std::string>> topics;
    for (auto arg : args) {
      std::string_view channel, inst;
      if (arg["channel"].get_string().get(channel) || arg["instId"].get_string().get(inst)) return invalid();
      topics.emplace_back(channel, inst);
    }
    frames.push_back({std::string(*op), id, topics});
    const std::string id_field = id.empty() ? "" : fmt::format(R"("id":"{}",)", id);
    // One event per channel: an ack naming it, or an error (which names no arg) for a channel
    // that does not exist.
    for (const auto& [channel, inst] : topics) {
      if (channel != "candle1m" || !listed_.contains(inst)) {
        s->send(fmt::format(
            R"({{{}"event":"error","code":"60018","msg":"Wrong URL or channel:{},instId:{} doesn't exist. Please use the correct URL, channel and parameters referring to API document.","connId":"{}"}})",
            id_field, channel, inst, kConnId));
        continue;
      }
      if (*op == "subscribe") {
        subscribed.insert(inst);
      } else {
        subscribed.erase(inst);
      }
      s->send(fmt::format(R"({{{}"event":"{}","arg":{{"channel":"{}","instId":"{}"}},"connId":"{}"}})", id_field, *op, channel,
                          inst, kConnId));
    }
  }

  // A push on the io thread (Server::post): {"arg":{..},"data":[[ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm]]}.
  void push(const std::string& inst, std::int64_t open_ms, const Ohlcv& v, bool confirm) {
    {
      std::lock_guard lock(mutex);
      if (!session_ || !subscribed.contains(inst)) return;
    }
    session_->send(fmt::format(R"({{"arg":{{"channel":"candle1m","instId":"{}"}},"data":[{}]}})", inst, row(inst, open_ms, v, confirm)));
  }

  // [ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm], all strings (§3.1). `vol` counts contracts on
  // swaps and base units on spot; volCcy is the base volume of a swap, the quote volume on spot.
  static std::string row(std::string_view inst, std::int64_t open_ms, const Ohlcv& v, bool confirm) {
    const bool swap = inst.ends_with("-SWAP");
    return fmt::format(R"(["{}","{}","{}","{}","{}","{}","{}","{}","{}"])", open_ms, v.open, v.high, v.low, v.close,
                       swap ? v.contracts : v.base_volume, swap ? v.base_volume : v.quote_volume, v.quote_volume,
                       confirm ? "1" : "0");
  }

  struct Frame {
    std::string op;
    std::string id;
    std::vector<std::pair<std::string, std::string>> args;  // channel, instId
  };
  std::mutex mutex;
  std::vector<Frame> frames;      // guarded by mutex
  std::set<std::string> subscribed;  // guarded by mutex
  std::vector<RestCall> rest;     // guarded by mutex
  int pings = 0;                  // guarded by mutex
  int invalid_frames = 0;         // guarded by mutex
  bool answer_pings = true;       // guarded by mutex

 private:
  static constexpr std::string_view kConnId = "a4d3ae55";
  Clock& clock_;
  const std::set<std::string> listed_;
  JsonRequest json_;                        // io thread
  std::shared_ptr<net::WsSession> session_;  // io thread
};

// ---------------------------------------------------------------------------------------------
// Bitget v2 USDT-FUTURES: GET /api/v2/mix/market/candles and the public WebSocket (§4.1, §4.2).
class FakeBitget : public net::ServerHandler {
 public:
  FakeBitget(Clock& clock, std::set<std::string> listed) : clock_(clock), listed_(std::move(listed)) {}

  net::HttpResponse on_http(const net::HttpRequest& r) override {
    RestCall call{r.path, {}};
    for (const auto& [k, v] : net::parse_query(r.query)) call.query[k] = v;
    {
      std::lock_guard lock(mutex);
      rest.push_back(call);
    }
    net::HttpResponse res;
    if (r.path != "/api/v2/mix/market/candles" && r.path != "/api/v2/mix/market/history-candles") {
      res.status = 404;
      return res;
    }
    const std::int64_t now = ms(clock_.now());
    auto error = [&](std::string_view code, std::string msg) {
      res.status = 400;
      res.body = fmt::format(R"({{"code":"{}","msg":"{}","requestTime":{},"data":null}})", code, msg, now);
      return res;
    };
    const auto& q = call.query;
    if (!q.contains("symbol") || !listed_.contains(q.at("symbol"))) return error("40034", "Parameter symbol does not exist");
    if (!q.contains("productType") || q.at("productType") != "USDT-FUTURES") return error("40034", "Parameter productType error");
    if (!q.contains("granularity") || q.at("granularity") != "1m") return error("40034", "Parameter granularity error");
    const std::int64_t limit = q.contains("limit") ? std::stoll(q.at("limit")) : 100;
    const std::int64_t max_limit = r.path.ends_with("history-candles") ? 200 : 1000;
    if (limit < 1 || limit > max_limit) return error("40034", "Parameter limit error");
    const std::int64_t current = now / kMinute * kMinute;
    const std::int64_t end = q.contains("endTime") ? std::min<std::int64_t>(std::stoll(q.at("endTime")), current) : current;
    std::int64_t start = q.contains("startTime") ? std::stoll(q.at("startTime")) : end - (limit - 1) * kMinute;
    // Oldest first (§4.1), startTime..endTime, the forming candle included (no closed flag).
    std::string rows;
    const auto& sym = q.at("symbol");
    for (std::int64_t t = (start + kMinute - 1) / kMinute * kMinute, n = 0; t <= end && n < limit; t += kMinute, ++n) {
      const auto v = t + kMinute <= now ? final_values(sym, t) : partial_values(sym, t);
      // [ts, open, high, low, close, baseVolume, quoteVolume] (7 strings, mix).
      rows += fmt::format(R"({}["{}","{}","{}","{}","{}","{}","{}"])", rows.empty() ? "" : ",", t, v.open, v.high, v.low, v.close,
                          v.base_volume, v.quote_volume);
    }
    res.body = fmt::format(R"({{"code":"00000","msg":"success","requestTime":{},"data":[{}]}})", now, rows);
    return res;
  }
  std::optional<net::HttpResponse> on_ws_upgrade(const net::HttpRequest& r) override {
    if (r.path == "/v2/ws/public") return std::nullopt;
    net::HttpResponse res;
    res.status = 404;
    return res;
  }
  void on_ws_open(const std::shared_ptr<net::WsSession>& s) override { session_ = s; }
  void on_ws_close(const std::shared_ptr<net::WsSession>&, std::string_view) override {
    session_.reset();
    std::lock_guard lock(mutex);
    subscribed.clear();
  }
  void on_ws_message(const std::shared_ptr<net::WsSession>& s, std::string_view text) override {
    if (text == "ping") {  // §4.2
      std::lock_guard lock(mutex);
      ++pings;
      if (answer_pings) s->send(std::string("pong"));
      return;
    }
    std::lock_guard lock(mutex);
    // {"op":"subscribe","args":[{"instType":"USDT-FUTURES","channel":"candle1m","instId":"BTCUSDT"}]} (§4.2)
    auto invalid = [&] {
      ++invalid_frames;
      s->send(std::string(R"({"event":"error","code":30016,"msg":"Param error"})"));
    };
    if (!json_.parse(text)) return invalid();
    const auto op = json_.string("op");
    if (!op || (*op != "subscribe" && *op != "unsubscribe")) return invalid();
    simdjson::dom::array args;
    if (json_.root["args"].get_array().get(args) || args.size() == 0) return invalid();
    Frame frame{std::string(*op), {}};
    for (auto arg : args) {
      std::string_view type, channel, inst;
      if (arg["instType"].get_string().get(type) || arg["channel"].get_string().get(channel) ||
          arg["instId"].get_string().get(inst)) {
        return invalid();
      }
      frame.args.push_back({std::string(type), std::string(channel), std::string(inst)});
    }
    frames.push_back(frame);
    const std::int64_t now = ms(clock_.now());
    for (const auto& a : frame.args) {
      const std::string arg = fmt::format(R"({{"instType":"{}","channel":"{}","instId":"{}"}})", a.type, a.channel, a.inst);
      if (a.type != "USDT-FUTURES" || a.channel != "candle1m" || !listed_.contains(a.inst)) {
        s->send(fmt::format(R"({{"event":"error","arg":{},"code":30001,"msg":"instType:{},channel:{},instId:{} doesn't exist","op":"{}"}})",
                            arg, a.type, a.channel, a.inst, frame.op));
        continue;
      }
      s->send(fmt::format(R"({{"event":"{}","arg":{}}})", frame.op, arg));
      if (frame.op == "unsubscribe") {
        subscribed.erase(a.inst);
        continue;
      }
      subscribed.insert(a.inst);
      // A subscription starts with a snapshot: here the two last closed candles and the one forming.
      const std::int64_t current = now / kMinute * kMinute;
      std::string rows;
      for (std::int64_t t = current - 2 * kMinute; t <= current; t += kMinute) {
        rows += (rows.empty() ? "" : ",") + row(t, t < current ? final_values(a.inst, t) : partial_values(a.inst, t));
      }
      s->send(fmt::format(R"({{"action":"snapshot","arg":{},"data":[{}],"ts":{}}})", arg, rows, now));
    }
  }

  // An update push on the io thread (Server::post).
  void push(const std::string& inst, std::int64_t open_ms, const Ohlcv& v) {
    {
      std::lock_guard lock(mutex);
      if (!session_ || !subscribed.contains(inst)) return;
    }
    session_->send(fmt::format(
        R"({{"action":"update","arg":{{"instType":"USDT-FUTURES","channel":"candle1m","instId":"{}"}},"data":[{}],"ts":{}}})", inst,
        row(open_ms, v), ms(clock_.now())));
  }
  // [ts,o,h,l,c,baseVol,quoteVol,usdtVol] (§4.2); no closed flag.
  static std::string row(std::int64_t open_ms, const Ohlcv& v) {
    return fmt::format(R"(["{}","{}","{}","{}","{}","{}","{}","{}"])", open_ms, v.open, v.high, v.low, v.close, v.base_volume,
                       v.quote_volume, v.quote_volume);
  }

  struct Arg {
    std::string type, channel, inst;
  };
  struct Frame {
    std::string op;
    std::vector<Arg> args;
  };
  std::mutex mutex;
  std::vector<Frame> frames;         // guarded by mutex
  std::set<std::string> subscribed;  // guarded by mutex
  std::vector<RestCall> rest;        // guarded by mutex
  int pings = 0;                     // guarded by mutex
  int invalid_frames = 0;            // guarded by mutex
  bool answer_pings = true;          // guarded by mutex

 private:
  Clock& clock_;
  const std::set<std::string> listed_;
  JsonRequest json_;                         // io thread
  std::shared_ptr<net::WsSession> session_;  // io thread
};

// ---------------------------------------------------------------------------------------------
// Closed and open candles per symbol as the consumer saw them, and the refusals it was told of.
class Collect final : public CandleConsumer {
 public:
  void on_candle(const SeriesKey& k, const Candle& c) override {
    std::lock_guard l(mutex);
    (c.closed ? closed : open)[k.symbol.str()].push_back(c);
    cv.notify_all();
  }
  void on_refused(const SeriesKey& k, std::string_view reason) override {
    std::lock_guard l(mutex);
    refused.emplace_back(k.symbol.str(), reason);
    cv.notify_all();
  }
  // Waits (at most 10 s) until pred() holds under the mutex.
  template <class Pred>
  bool wait(Pred pred) {
    std::unique_lock l(mutex);
    return cv.wait_for(l, 10s, pred);
  }
  // Every symbol of `symbols` has a closed candle opening at `open_ms` (or later); no waiting.
  bool has_closed_until(const std::vector<std::string>& symbols, std::int64_t open_ms) {
    std::lock_guard l(mutex);
    return all_closed_until(symbols, open_ms);
  }
  // The same, waiting for it.
  bool closed_until(const std::vector<std::string>& symbols, std::int64_t open_ms) {
    return wait([&] { return all_closed_until(symbols, open_ms); });
  }
  // Every symbol's latest open update is the candle at `open_ms` with values_of(symbol, open_ms).
  bool open_seen(const std::vector<std::string>& symbols, std::int64_t open_ms, auto values_of) {
    return wait([&] {
      for (const auto& s : symbols) {
        auto it = open.find(s);
        if (it == open.end() || it->second.empty() || it->second.back() != expected_candle(values_of(s, open_ms), open_ms, false)) {
          return false;
        }
      }
      return true;
    });
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::map<std::string, std::vector<Candle>> closed;             // guarded by mutex
  std::map<std::string, std::vector<Candle>> open;               // guarded by mutex
  std::vector<std::pair<std::string, std::string>> refused;      // guarded by mutex

 private:
  bool all_closed_until(const std::vector<std::string>& symbols, std::int64_t open_ms) {  // mutex held
    for (const auto& s : symbols) {
      auto it = closed.find(s);
      if (it == closed.end() || it->second.empty() || to_epoch_ms(it->second.back().open_time) < open_ms) return false;
    }
    return true;
  }
};

// Polls pred() every 2 ms for at most `limit` of real time.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Moves the test clock along at real pace (bounded) until pred() holds: the REST limiter's token
// buckets refill on that clock, so a start backfill of several series needs it to move.
template <class Pred>
bool drive_until(ManualClock& clock, Pred pred, std::chrono::milliseconds limit = 5000ms) {
  for (auto waited = 0ms; waited < limit; waited += 1ms) {
    if (pred()) return true;
    clock.advance(1ms);
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

template <class Venue>
auto locked(Venue& v, auto fn) {
  std::lock_guard lock(v.mutex);
  return fn();
}

FeedOptions options_for(Exchange exchange, const net::Server& server, std::string_view ws_path) {
  FeedOptions o;
  o.exchange = exchange;
  o.market = Market::linear;
  o.endpoints = {fmt::format("http://127.0.0.1:{}", server.port()), fmt::format("ws://127.0.0.1:{}{}", server.port(), ws_path)};
  // The heartbeat has its own tests; here it stays out of the way of the candle steps (a ping
  // sent right after another frame would wait 100 ms of the test's clock).
  o.ping_interval = 1h;
  o.stale_after = 2h;
  return o;
}

const std::int64_t kT0 = ms(*parse_iso8601("2025-01-01T00:00:00Z"));

// The closed candles of one symbol are exactly `first`..`last` (step 1 minute), each once, in
// order, with the venue's final values.
void expect_closed_run(const std::vector<Candle>& got, const std::string& sym, std::int64_t first, std::int64_t last) {
  const auto n = static_cast<std::size_t>((last - first) / kMinute + 1);
  ASSERT_EQ(got.size(), n) << sym;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t open = first + static_cast<std::int64_t>(i) * kMinute;
    const Candle want = expected_candle(final_values(sym, open), open, true);
    EXPECT_EQ(got[i], want) << sym << " #" << i << "\n got  " << describe(got[i]) << "\n want " << describe(want);
  }
}

// ---------------------------------------------------------------------------------------------

TEST(FeedOkx, five_swaps_on_one_business_connection_are_backfilled_and_close_only_on_confirm_1) {
  ManualClock clock(Timestamp(std::chrono::milliseconds(kT0 + 30'000)));
  const std::vector<std::string> plain = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"};
  const std::vector<std::string> insts = {"BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP", "XRP-USDT-SWAP", "DOGE-USDT-SWAP"};
  FakeOkx venue(clock, {insts.begin(), insts.end()});
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  FeedOptions o = options_for(Exchange::okx, server, "/ws/v5/business");
  o.last_stored = [](const SeriesKey&) -> std::optional<TimestampMs> { return from_epoch_ms(kT0 - 10 * kMinute); };
  auto feed = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(feed) << feed.error().message;
  auto sink = std::make_shared<Collect>();
  for (const auto& s : plain) ASSERT_TRUE((*feed)->subscribe(*Symbol::parse(s), Interval::m1, sink, /*want_open=*/true));
  ASSERT_TRUE((*feed)->start());

  // Start backfill: the 9 candles between the stored history and the one forming now.
  // (the clock stays within minute t0: the window ends at t0)
  ASSERT_TRUE(drive_until(clock, [&] { return sink->has_closed_until(insts, kT0 - kMinute); }));
  ASSERT_TRUE(eventually([&] { return locked(venue, [&] { return venue.subscribed.size(); }) == insts.size(); }));
  {
    std::lock_guard lock(venue.mutex);
    EXPECT_EQ(venue.invalid_frames, 0);
    // One subscribe frame (OKX allows 64 KB of channels per frame) naming every swap's candle1m.
    ASSERT_EQ(venue.frames.size(), 1u);
    EXPECT_EQ(venue.frames[0].op, "subscribe");
    EXPECT_FALSE(venue.frames[0].id.empty());
    std::set<std::string> named;
    for (const auto& [channel, inst] : venue.frames[0].args) {
      EXPECT_EQ(channel, "candle1m");
      named.insert(inst);
    }
    EXPECT_EQ(named, std::set<std::string>(insts.begin(), insts.end()));
    EXPECT_EQ(venue.frames[0].args.size(), insts.size());
    // One recent-candles request per swap, for exactly the missing window.
    ASSERT_EQ(venue.rest.size(), insts.size());
    for (const auto& call : venue.rest) {
      EXPECT_EQ(call.path, "/api/v5/market/candles");
      EXPECT_EQ(call.query.at("bar"), "1m");
      EXPECT_EQ(std::stoll(call.query.at("after")), kT0 - 1);                     // older than t0
      EXPECT_EQ(std::stoll(call.query.at("before")), kT0 - 9 * kMinute - 1);      // newer than t0 - 9 min - 1 ms
      EXPECT_EQ(call.query.at("limit"), "9");
    }
  }
  auto post = [&](std::int64_t open, bool confirm, bool final) {
    server.post([&venue, &insts, open, confirm, final] {
      for (const auto& i : insts) venue.push(i, open, final ? final_values(i, open) : partial_values(i, open), confirm);
    });
  };
  // Minute t0 forming: an open update (confirm "0") is delivered as open only.
  post(kT0, false, false);
  ASSERT_TRUE(sink->open_seen(insts, kT0, partial_values));
  {
    std::lock_guard l(sink->mutex);
    for (const auto& i : insts) EXPECT_EQ(to_epoch_ms(sink->closed[i].back().open_time), kT0 - kMinute) << i;
  }
  // t0 closes (confirm "1", final values); t0+1 starts.
  clock.set(Timestamp(std::chrono::milliseconds(kT0 + kMinute + 1'000)));
  post(kT0, true, true);
  post(kT0 + kMinute, false, false);
  ASSERT_TRUE(sink->open_seen(insts, kT0 + kMinute, partial_values));
  ASSERT_TRUE(sink->closed_until(insts, kT0));
  // t0+1 closes, and its close is pushed twice: delivered once.
  clock.set(Timestamp(std::chrono::milliseconds(kT0 + 2 * kMinute + 1'000)));
  post(kT0 + kMinute, true, true);
  post(kT0 + kMinute, true, true);
  post(kT0 + 2 * kMinute, false, false);
  ASSERT_TRUE(sink->open_seen(insts, kT0 + 2 * kMinute, partial_values));
  (*feed)->stop();
  server.stop();

  std::lock_guard l(sink->mutex);
  for (const auto& i : insts) {
    expect_closed_run(sink->closed[i], i, kT0 - 9 * kMinute, kT0 + kMinute);
    // The open updates, with their own values, none of them closed.
    const auto& open = sink->open[i];
    ASSERT_EQ(open.size(), 3u) << i;
    for (std::size_t n = 0; n < 3; ++n) {
      const std::int64_t t = kT0 + static_cast<std::int64_t>(n) * kMinute;
      EXPECT_EQ(open[n], expected_candle(partial_values(i, t), t, false)) << i << " " << describe(open[n]);
    }
  }
  EXPECT_TRUE(sink->refused.empty());
  const auto st = (*feed)->stats();
  EXPECT_EQ(st.gap_candles_filled, insts.size() * 9);
  EXPECT_EQ(st.closed_candles, insts.size() * 11);
  EXPECT_EQ(st.duplicates, insts.size());
  EXPECT_EQ(st.parse_errors, 0u);
  EXPECT_EQ(st.subscribe_errors, 0u);
  EXPECT_EQ(st.reconnects, 0u);
  EXPECT_EQ(st.connections_opened, 1u);
}

TEST(FeedOkx, lost_confirm_push_is_filled_over_rest_before_the_next_close) {
  ManualClock clock(Timestamp(std::chrono::milliseconds(kT0 + 30'000)));
  const std::vector<std::string> insts = {"BTC-USDT-SWAP", "ETH-USDT-SWAP"};
  FakeOkx venue(clock, {insts.begin(), insts.end()});
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  FeedOptions o = options_for(Exchange::okx, server, "/ws/v5/business");
  o.last_stored = [](const SeriesKey&) -> std::optional<TimestampMs> { return from_epoch_ms(kT0 - 10 * kMinute); };
  auto feed = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(feed) << feed.error().message;
  auto sink = std::make_shared<Collect>();
  for (auto s : {"BTCUSDT", "ETHUSDT"}) ASSERT_TRUE((*feed)->subscribe(*Symbol::parse(s), Interval::m1, sink));
  ASSERT_TRUE((*feed)->start());
  // (the clock stays within minute t0: the window ends at t0)
  ASSERT_TRUE(drive_until(clock, [&] { return sink->has_closed_until(insts, kT0 - kMinute); }));
  ASSERT_TRUE(eventually([&] { return locked(venue, [&] { return venue.subscribed.size(); }) == insts.size(); }));
  auto close_minute = [&](std::int64_t open, bool lose) {
    clock.set(Timestamp(std::chrono::milliseconds(open + kMinute + 1'000)));
    if (lose) return;
    server.post([&venue, &insts, open] {
      for (const auto& i : insts) venue.push(i, open, final_values(i, open), true);
    });
  };
  close_minute(kT0, false);
  ASSERT_TRUE(sink->closed_until(insts, kT0));
  const auto rest_before = locked(venue, [&] { return venue.rest.size(); });
  close_minute(kT0 + kMinute, true);  // this push never arrives
  close_minute(kT0 + 2 * kMinute, false);
  ASSERT_TRUE(sink->closed_until(insts, kT0 + 2 * kMinute));
  (*feed)->stop();
  server.stop();

  {
    std::lock_guard l(sink->mutex);
    for (const auto& i : insts) expect_closed_run(sink->closed[i], i, kT0 - 9 * kMinute, kT0 + 2 * kMinute);
  }
  // The gap was asked for exactly: the one candle between the two closes that arrived.
  {
    std::lock_guard lock(venue.mutex);
    ASSERT_EQ(venue.rest.size(), rest_before + insts.size());
    for (std::size_t n = rest_before; n < venue.rest.size(); ++n) {
      const auto& q = venue.rest[n].query;
      EXPECT_EQ(std::stoll(q.at("after")), kT0 + 2 * kMinute - 1);
      EXPECT_EQ(std::stoll(q.at("before")), kT0 + kMinute - 1);
      EXPECT_EQ(q.at("limit"), "1");
    }
  }
  const auto st = (*feed)->stats();
  EXPECT_EQ(st.gaps, 2u * insts.size());  // the start backfill and the lost push, per swap
  EXPECT_EQ(st.gap_candles_filled, insts.size() * (9 + 1));
  EXPECT_EQ(st.venue_gap_candles, 0u);
  EXPECT_EQ(st.reconnects, 0u);
}

// The heartbeat with the venue's own settings (no shortened interval: the clock is the test's).
// A ping goes out before `max_silence` of clock time has passed since the last one; the pongs
// keep the connection through many stale periods; without them the feed gives it up.
template <class Venue>
void heartbeat_keeps_the_connection(Exchange exchange, std::string_view ws_path, std::string_view symbol,
                                    Duration max_silence) {
  const Timestamp start(std::chrono::milliseconds(kT0 + 30'000));
  ManualClock clock(start);
  Venue venue(clock, {std::string(exchange == Exchange::okx ? "BTC-USDT-SWAP" : "BTCUSDT")});
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  FeedOptions o;
  o.exchange = exchange;
  o.market = Market::linear;
  o.endpoints = {fmt::format("http://127.0.0.1:{}", server.port()), fmt::format("ws://127.0.0.1:{}{}", server.port(), ws_path)};
  o.backfill = false;
  o.read_slice = 10ms;  // real time between housekeeping passes: keeps the test short
  auto feed = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(feed) << feed.error().message;
  auto sink = std::make_shared<Collect>();
  ASSERT_TRUE((*feed)->subscribe(*Symbol::parse(symbol), Interval::m1, sink));
  ASSERT_TRUE((*feed)->start());
  ASSERT_TRUE(eventually([&] { return locked(venue, [&] { return venue.subscribed.size(); }) == 1u; }));
  auto pings = [&] { return locked(venue, [&] { return venue.pings; }); };
  EXPECT_EQ(pings(), 0);
  // Ten silent periods: each gets its ping, each ping its pong, the connection stays.
  Timestamp t = start;
  for (int n = 1; n <= 10; ++n) {
    const auto frames = (*feed)->stats().frames;
    t += max_silence;
    clock.set(t);
    ASSERT_TRUE(eventually([&] { return pings() >= n; })) << "no ping within " << format_duration(max_silence) << " (round " << n << ")";
    ASSERT_TRUE(eventually([&] { return (*feed)->stats().frames > frames; })) << "pong not read, round " << n;
  }
  EXPECT_EQ(pings(), 10);
  {
    const auto st = (*feed)->stats();
    EXPECT_EQ(st.pings, 10u);
    EXPECT_EQ(st.parse_errors, 0u);  // "pong" is understood
    EXPECT_EQ(st.reconnects, 0u);
    EXPECT_EQ(st.connections_opened, 1u);
  }
  // The venue stops answering: one missed pong is tolerated; after a few silent periods the feed
  // replaces the connection.
  {
    std::lock_guard lock(venue.mutex);
    venue.answer_pings = false;
  }
  int replaced_in_round = 0;
  for (int n = 1; n <= 10 && replaced_in_round == 0; ++n) {
    t += max_silence;
    clock.set(t);
    // A ping, unless the connection is given up first (the stale check may run before it).
    ASSERT_TRUE(eventually([&] { return pings() >= 10 + n || (*feed)->stats().reconnects > 0; })) << "silent round " << n;
    if (eventually([&] { return (*feed)->stats().reconnects > 0; }, 100ms)) replaced_in_round = n;
  }
  (*feed)->stop();
  server.stop();
  EXPECT_NE(replaced_in_round, 0) << "a connection whose pings go unanswered is kept";
  EXPECT_GE(replaced_in_round, 2) << "replaced after a single missed pong";
  std::lock_guard lock(venue.mutex);
  EXPECT_EQ(venue.invalid_frames, 0);
}

TEST(FeedOkx, pings_within_30_s_and_its_pongs_keep_the_connection) {
  // §3.2: the server drops a connection after 30 s without data; ping at N < 30 s.
  heartbeat_keeps_the_connection<FakeOkx>(Exchange::okx, "/ws/v5/business", "BTCUSDT", 29s);
}

TEST(FeedBitget, pings_every_30_s_and_its_pongs_keep_the_connection) {
  heartbeat_keeps_the_connection<FakeBitget>(Exchange::bitget, "/v2/ws/public", "BTCUSDT", 30s);  // §4.2
}

// Unknown swaps among the ones a start subscribes: OKX answers each channel of the frame on its
// own under the frame's id, an error event (code 60018, naming no arg) for a channel that does not
// exist and an ack for the others. AAA sorts first in the frame, so its error comes before any
// ack; LUNA's comes after some.
TEST(FeedOkx, unknown_instruments_in_a_shared_subscribe_frame_are_refused_alone_and_the_others_flow) {
  ManualClock clock(Timestamp(std::chrono::milliseconds(kT0 + 30'000)));
  const std::vector<std::string> good = {"BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP", "XRP-USDT-SWAP"};
  const std::set<std::string> bad = {"AAA-USDT-SWAP", "LUNA-USDT-SWAP"};
  FakeOkx venue(clock, {good.begin(), good.end()});
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  FeedOptions o = options_for(Exchange::okx, server, "/ws/v5/business");
  o.refused_retry_min = 5min;
  auto feed = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(feed) << feed.error().message;
  auto sink = std::make_shared<Collect>();
  auto bad_sink = std::make_shared<Collect>();
  for (auto s : {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"}) ASSERT_TRUE((*feed)->subscribe(*Symbol::parse(s), Interval::m1, sink));
  for (auto s : {"AAAUSDT", "LUNAUSDT"}) ASSERT_TRUE((*feed)->subscribe(*Symbol::parse(s), Interval::m1, bad_sink));
  ASSERT_TRUE((*feed)->start());
  ASSERT_TRUE(bad_sink->wait([&] { return bad_sink->refused.size() >= 2; })) << "on_refused not called for both";
  ASSERT_TRUE(eventually([&] { return locked(venue, [&] { return venue.subscribed.size(); }) == good.size(); }));
  {
    std::lock_guard lock(venue.mutex);
    ASSERT_EQ(venue.frames.size(), 1u);  // all six in one frame, AAA first
    ASSERT_EQ(venue.frames[0].args.size(), 6u);
    EXPECT_EQ(venue.frames[0].args[0].second, "AAA-USDT-SWAP");
  }
  // The others flow.
  for (std::int64_t open : {kT0, kT0 + kMinute}) {
    clock.set(Timestamp(std::chrono::milliseconds(open + kMinute + 1'000)));
    server.post([&venue, &good, open] {
      for (const auto& i : good) venue.push(i, open, final_values(i, open), true);
    });
    ASSERT_TRUE(sink->closed_until(good, open));
  }
  // Five minutes after the refusals the unknown swaps alone are asked for again (refused again).
  clock.set(Timestamp(std::chrono::milliseconds(kT0 + 6 * kMinute)));
  ASSERT_TRUE(bad_sink->wait([&] { return bad_sink->refused.size() >= 4; }));
  (*feed)->stop();
  server.stop();

  {
    std::lock_guard l(bad_sink->mutex);
    ASSERT_EQ(bad_sink->refused.size(), 4u);
    std::multiset<std::string> told;
    for (const auto& [sym, reason] : bad_sink->refused) {
      told.insert(sym);
      EXPECT_NE(reason.find("60018"), std::string::npos) << reason;
      EXPECT_NE(reason.find("instId:" + sym + " doesn't exist"), std::string::npos) << sym << ": " << reason;
    }
    EXPECT_EQ(told, (std::multiset<std::string>{"AAA-USDT-SWAP", "AAA-USDT-SWAP", "LUNA-USDT-SWAP", "LUNA-USDT-SWAP"}));
  }
  {
    std::lock_guard l(sink->mutex);
    EXPECT_TRUE(sink->refused.empty());
    for (const auto& i : good) expect_closed_run(sink->closed[i], i, kT0, kT0 + kMinute);
  }
  {
    std::lock_guard lock(venue.mutex);
    ASSERT_EQ(venue.frames.size(), 2u);
    std::set<std::string> retried;
    for (const auto& [channel, inst] : venue.frames[1].args) retried.insert(inst);
    EXPECT_EQ(retried, bad);
    EXPECT_EQ(venue.frames[1].args.size(), 2u);
    EXPECT_EQ(venue.invalid_frames, 0);
  }
  const auto st = (*feed)->stats();
  EXPECT_EQ(st.subscribe_errors, 4u);
  EXPECT_EQ(st.refused_retries, 2u);
  EXPECT_EQ(st.reconnects, 0u);
}

// Bitget has no closed flag: a candle is closed when the next one starts (BitgetCandleCloser).
TEST(FeedBitget, five_usdt_futures_are_backfilled_and_a_candle_closes_when_the_next_one_starts) {
  ManualClock clock(Timestamp(std::chrono::milliseconds(kT0 + 30'000)));
  const std::vector<std::string> syms = {"BTCUSDT", "DOGEUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"};
  FakeBitget venue(clock, {syms.begin(), syms.end()});
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  FeedOptions o = options_for(Exchange::bitget, server, "/v2/ws/public");
  o.last_stored = [](const SeriesKey&) -> std::optional<TimestampMs> { return from_epoch_ms(kT0 - 10 * kMinute); };
  auto feed = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(feed) << feed.error().message;
  auto sink = std::make_shared<Collect>();
  for (const auto& s : syms) ASSERT_TRUE((*feed)->subscribe(*Symbol::parse(s), Interval::m1, sink, /*want_open=*/true));
  ASSERT_TRUE((*feed)->start());
  // (the clock stays within minute t0: the window ends at t0)
  ASSERT_TRUE(drive_until(clock, [&] { return sink->has_closed_until(syms, kT0 - kMinute); }));
  // The snapshot's forming candle reaches the consumer as open.
  ASSERT_TRUE(sink->open_seen(syms, kT0, partial_values));
  {
    std::lock_guard lock(venue.mutex);
    EXPECT_EQ(venue.invalid_frames, 0);
    ASSERT_EQ(venue.frames.size(), 1u);
    EXPECT_EQ(venue.frames[0].op, "subscribe");
    std::set<std::string> named;
    for (const auto& a : venue.frames[0].args) {
      EXPECT_EQ(a.type, "USDT-FUTURES");
      EXPECT_EQ(a.channel, "candle1m");
      named.insert(a.inst);
    }
    EXPECT_EQ(named, std::set<std::string>(syms.begin(), syms.end()));
    ASSERT_EQ(venue.rest.size(), syms.size());
    for (const auto& call : venue.rest) {
      EXPECT_EQ(call.path, "/api/v2/mix/market/candles");
      EXPECT_EQ(call.query.at("productType"), "USDT-FUTURES");
      EXPECT_EQ(call.query.at("granularity"), "1m");
      EXPECT_EQ(std::stoll(call.query.at("startTime")), kT0 - 9 * kMinute);
      EXPECT_LT(std::stoll(call.query.at("endTime")), kT0);  // the forming candle is not asked for
      EXPECT_GE(std::stoll(call.query.at("endTime")), kT0 - kMinute);
      EXPECT_EQ(call.query.at("limit"), "9");
    }
  }
  auto post = [&](std::int64_t open, bool final) {
    server.post([&venue, &syms, open, final] {
      for (const auto& s : syms) venue.push(s, open, final ? final_values(s, open) : partial_values(s, open));
    });
  };
  // t0 is updated to its final values: still open, not closed, as nothing later has started.
  post(kT0, false);
  post(kT0, true);
  ASSERT_TRUE(sink->wait([&] {
    for (const auto& s : syms) {
      const auto& v = sink->open[s];
      if (v.empty() || v.back() != expected_candle(final_values(s, kT0), kT0, false)) return false;
    }
    return true;
  }));
  {
    std::lock_guard l(sink->mutex);
    for (const auto& s : syms) EXPECT_EQ(to_epoch_ms(sink->closed[s].back().open_time), kT0 - kMinute) << s;
  }
  // t0+1 starts: t0 closes with its last pushed values.
  clock.set(Timestamp(std::chrono::milliseconds(kT0 + kMinute + 1'000)));
  post(kT0 + kMinute, false);
  ASSERT_TRUE(sink->closed_until(syms, kT0));
  post(kT0 + kMinute, true);
  // t0+2 starts: t0+1 closes; a late update of t0+1 after that closes nothing twice. (Open
  // updates of one candle may be coalesced in the queue, so the waits look for values.)
  clock.set(Timestamp(std::chrono::milliseconds(kT0 + 2 * kMinute + 1'000)));
  post(kT0 + 2 * kMinute, false);
  post(kT0 + kMinute, true);
  post(kT0 + 2 * kMinute, true);
  ASSERT_TRUE(sink->closed_until(syms, kT0 + kMinute));
  ASSERT_TRUE(sink->open_seen(syms, kT0 + 2 * kMinute, final_values));  // the late update was read before it
  (*feed)->stop();
  server.stop();

  std::lock_guard l(sink->mutex);
  for (const auto& s : syms) {
    expect_closed_run(sink->closed[s], s, kT0 - 9 * kMinute, kT0 + kMinute);
    // Open updates from t0 on, never going back (the late update of t0+1 is not one).
    std::int64_t last = kT0;
    for (const auto& c : sink->open[s]) {
      EXPECT_GE(to_epoch_ms(c.open_time), last) << s << " " << describe(c);
      last = to_epoch_ms(c.open_time);
    }
  }
  EXPECT_TRUE(sink->refused.empty());
  const auto st = (*feed)->stats();
  EXPECT_EQ(st.gap_candles_filled, syms.size() * 9);
  EXPECT_EQ(st.closed_candles, syms.size() * 11);
  EXPECT_EQ(st.duplicates, syms.size() * 3);  // the snapshot's two closed candles, the late update
  EXPECT_EQ(st.parse_errors, 0u);
  EXPECT_EQ(st.subscribe_errors, 0u);
  EXPECT_EQ(st.reconnects, 0u);
}

// Bitget's error event names the refused channel in its arg (code 30001).
TEST(FeedBitget, unknown_instrument_is_refused_alone_and_the_others_flow) {
  ManualClock clock(Timestamp(std::chrono::milliseconds(kT0 + 30'000)));
  const std::vector<std::string> good = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"};
  FakeBitget venue(clock, {good.begin(), good.end()});
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  FeedOptions o = options_for(Exchange::bitget, server, "/v2/ws/public");
  auto feed = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(feed) << feed.error().message;
  auto sink = std::make_shared<Collect>();
  auto bad_sink = std::make_shared<Collect>();
  for (const auto& s : good) ASSERT_TRUE((*feed)->subscribe(*Symbol::parse(s), Interval::m1, sink));
  ASSERT_TRUE((*feed)->subscribe(*Symbol::parse("LUNAUSDT"), Interval::m1, bad_sink));
  ASSERT_TRUE((*feed)->start());
  ASSERT_TRUE(bad_sink->wait([&] { return !bad_sink->refused.empty(); })) << "on_refused never called";
  ASSERT_TRUE(eventually([&] { return locked(venue, [&] { return venue.subscribed.size(); }) == good.size(); }));
  // The snapshot left t0 open; t0+1 and t0+2 starting close t0 and t0+1.
  for (std::int64_t open : {kT0 + kMinute, kT0 + 2 * kMinute}) {
    clock.set(Timestamp(std::chrono::milliseconds(open + 1'000)));
    server.post([&venue, &good, open] {
      for (const auto& s : good) venue.push(s, open, partial_values(s, open));
    });
    ASSERT_TRUE(sink->closed_until(good, open - kMinute));
  }
  (*feed)->stop();
  server.stop();

  {
    std::lock_guard l(bad_sink->mutex);
    ASSERT_EQ(bad_sink->refused.size(), 1u);
    EXPECT_EQ(bad_sink->refused[0].first, "LUNAUSDT");
    EXPECT_NE(bad_sink->refused[0].second.find("30001"), std::string::npos) << bad_sink->refused[0].second;
  }
  {
    std::lock_guard l(sink->mutex);
    EXPECT_TRUE(sink->refused.empty());
    // The snapshot's two closed candles, then t0 (its snapshot values: the venue sent no update)
    // and t0+1 (partial values: its only push).
    for (const auto& s : good) {
      const auto& c = sink->closed[s];
      ASSERT_EQ(c.size(), 4u) << s;
      EXPECT_EQ(c[0], expected_candle(final_values(s, kT0 - 2 * kMinute), kT0 - 2 * kMinute, true)) << describe(c[0]);
      EXPECT_EQ(c[1], expected_candle(final_values(s, kT0 - kMinute), kT0 - kMinute, true)) << describe(c[1]);
      EXPECT_EQ(c[2], expected_candle(partial_values(s, kT0), kT0, true)) << describe(c[2]);
      EXPECT_EQ(c[3], expected_candle(partial_values(s, kT0 + kMinute), kT0 + kMinute, true)) << describe(c[3]);
    }
  }
  std::lock_guard lock(venue.mutex);
  EXPECT_EQ(venue.invalid_frames, 0);
  const auto st = (*feed)->stats();
  EXPECT_EQ(st.subscribe_errors, 1u);
  EXPECT_EQ(st.reconnects, 0u);
}

}  // namespace
}  // namespace okx_bitget_e2e
}  // namespace twinstar::feed
