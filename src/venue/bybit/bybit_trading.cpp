#include "venue/bybit/bybit_trading.hpp"

#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "core/json_writer.hpp"
#include "net/ws_client.hpp"

namespace twinstar::venue {

std::string_view to_string(TradeOrderStatus s) noexcept {
  switch (s) {
    case TradeOrderStatus::open: return "open";
    case TradeOrderStatus::partially_filled: return "partially_filled";
    case TradeOrderStatus::filled: return "filled";
    case TradeOrderStatus::cancelled: return "cancelled";
    case TradeOrderStatus::rejected: return "rejected";
    case TradeOrderStatus::unknown: return "unknown";
  }
  return "unknown";
}

}  // namespace twinstar::venue

namespace twinstar::venue::bybit {

namespace {

using simdjson::dom::element;

std::string_view category_of(Market m) { return m == Market::spot ? "spot" : "linear"; }

std::string_view text(element e, std::string_view key) {
  std::string_view v;
  if (e[key].get(v)) return {};
  return v;
}

template <class D>
D decimal(element e, std::string_view key) {
  const auto t = text(e, key);
  if (t.empty()) return D{};
  auto d = D::parse_rounded(t);
  return d ? *d : D{};
}

TradeSide side_of(std::string_view s) { return s == "Sell" ? TradeSide::sell : TradeSide::buy; }

OrderState order_of(element o) {
  OrderState s;
  s.market = text(o, "category") == "spot" ? Market::spot : Market::linear;
  if (auto sym = Symbol::parse(text(o, "symbol"))) s.symbol = *sym;
  s.order_id = std::string(text(o, "orderId"));
  s.client_id = std::string(text(o, "orderLinkId"));
  s.side = side_of(text(o, "side"));
  s.type = text(o, "orderType") == "Limit" ? TradeOrderType::limit : TradeOrderType::market;
  s.status = parse_order_status(text(o, "orderStatus")).value_or(TradeOrderStatus::unknown);
  s.price = decimal<Price>(o, "price");
  s.quantity = decimal<Quantity>(o, "qty");
  s.filled = decimal<Quantity>(o, "cumExecQty");
  s.average_price = decimal<Price>(o, "avgPrice");
  s.fees = decimal<Money>(o, "cumExecFee");
  s.reject_reason = std::string(text(o, "rejectReason"));
  return s;
}

// The array under "list" (REST result) or "data" (push).
Result<simdjson::dom::array> items_of(simdjson::dom::parser& parser, std::string_view json) {
  element root;
  if (parser.parse(json.data(), json.size()).get(root)) return make_error(ErrorCode::parse_error, "not JSON: {:.80}", json);
  simdjson::dom::array items;
  if (!root["list"].get(items)) return items;
  if (!root["data"].get(items)) return items;
  return make_error(ErrorCode::parse_error, "no list or data array in {:.80}", json);
}

// The error a Bybit retCode stands for; `what` names the request ("POST /v5/order/create").
Status ret_code_status(std::int64_t ret_code, std::string_view msg, std::string_view what) {
  switch (ret_code) {
    case 0: return {};
    case 10002:
      return make_error(ErrorCode::invalid_argument,
                        "Bybit {}: clock skew: the venue refused the request timestamp (10002: {}); call sync_time() "
                        "or fix the system clock",
                        what, msg);
    case 10003:
    case 10004:
    case 10005:
      return make_error(ErrorCode::invalid_argument, "Bybit {}: credentials refused ({}: {})", what, ret_code,
                        ret_code == 10004 ? "signature error" : msg);  // 10004 echoes the signed text: not logged
    case 10006:
    case 10429: return make_error(ErrorCode::rate_limited, "Bybit {}: rate limit ({}: {})", what, ret_code, msg);
    case 10019:  // WebSocket order entry restarting: the request was not taken
      return make_error(ErrorCode::unavailable, "Bybit {}: service restarting ({}: {})", what, ret_code, msg);
    case 110001: return make_error(ErrorCode::not_found, "Bybit {}: order does not exist ({})", what, msg);
    default: return make_error(ErrorCode::invalid_argument, "Bybit {}: retCode {}: {}", what, ret_code, msg);
  }
}

// The /v5/order/create body, also the args item of a WebSocket order.create.
Result<std::string> order_body(const PlaceOrder& o) {
  if (o.type == TradeOrderType::limit && !o.price) {
    return make_error(ErrorCode::invalid_argument, "limit order {} on {} needs a price", o.client_id, o.symbol);
  }
  JsonWriter w;
  w.begin_object().field("category", category_of(o.market)).field("symbol", o.symbol.view());
  w.field("side", o.side == TradeSide::buy ? "Buy" : "Sell");
  w.field("orderType", o.type == TradeOrderType::limit ? "Limit" : "Market");
  w.field("qty", o.quantity.to_string());
  if (o.type == TradeOrderType::limit) w.field("price", o.price->to_string()).field("timeInForce", "GTC");
  if (!o.client_id.empty()) w.field("orderLinkId", o.client_id);
  if (o.reduce_only) w.field("reduceOnly", true);
  w.end_object();
  return w.take();
}

std::string_view create_cost(Market m) { return m == Market::spot ? "order_create_spot" : "order_create_linear"; }

}  // namespace

Result<TradeOrderStatus> parse_order_status(std::string_view t) {
  if (t == "New" || t == "Untriggered" || t == "Created") return TradeOrderStatus::open;
  if (t == "PartiallyFilled") return TradeOrderStatus::partially_filled;
  if (t == "Filled") return TradeOrderStatus::filled;
  if (t == "Cancelled" || t == "PartiallyFilledCanceled" || t == "Deactivated") return TradeOrderStatus::cancelled;
  if (t == "Rejected") return TradeOrderStatus::rejected;
  return make_error(ErrorCode::parse_error, "unknown Bybit orderStatus '{}'", t);
}

Result<std::vector<OrderState>> parse_order_list(std::string_view json) {
  simdjson::dom::parser parser;
  auto items = items_of(parser, json);
  if (!items) return std::unexpected(items.error());
  std::vector<OrderState> out;
  for (element o : *items) out.push_back(order_of(o));
  return out;
}

Result<std::vector<Fill>> parse_executions(std::string_view json) {
  simdjson::dom::parser parser;
  auto items = items_of(parser, json);
  if (!items) return std::unexpected(items.error());
  std::vector<Fill> out;
  for (element e : *items) {
    Fill f;
    if (auto sym = Symbol::parse(text(e, "symbol"))) f.symbol = *sym;
    f.order_id = std::string(text(e, "orderId"));
    f.client_id = std::string(text(e, "orderLinkId"));
    f.exec_id = std::string(text(e, "execId"));
    f.side = side_of(text(e, "side"));
    f.price = decimal<Price>(e, "execPrice");
    f.quantity = decimal<Quantity>(e, "execQty");
    f.fee = decimal<Money>(e, "execFee");
    std::int64_t ms = 0;
    const auto t = text(e, "execTime");
    std::from_chars(t.data(), t.data() + t.size(), ms);
    f.time = from_epoch_ms(ms);
    out.push_back(std::move(f));
  }
  return out;
}

BybitTrading::BybitTrading(BybitTradingOptions options, std::shared_ptr<VenueLimiter> limiter, Clock& clock)
    : options_(std::move(options)), limiter_(std::move(limiter)), clock_(clock),
      signer_(options_.api_key, options_.api_secret) {}

BybitTrading::~BybitTrading() {
  stop_order_channel();
  stop_stream();
}

Result<std::unique_ptr<BybitTrading>> BybitTrading::create(BybitTradingOptions options,
                                                           std::shared_ptr<VenueLimiter> limiter, Clock& clock) {
  if (options.api_key.empty() || options.api_secret.empty()) {
    return make_error(ErrorCode::invalid_argument, "Bybit trading needs an API key and secret");
  }
  if (!limiter) return make_error(ErrorCode::invalid_argument, "Bybit trading needs the account's rate limiter");
  auto http = net::HttpClientPool::create(options.rest_url, options.http, options.http_connections);
  if (!http) return std::unexpected(http.error());
  std::unique_ptr<BybitTrading> t(new BybitTrading(std::move(options), std::move(limiter), clock));
  t->http_ = std::move(*http);
  return t;
}

std::int64_t BybitTrading::venue_now_ms() const {
  return to_epoch_ms(clock_.now() + Duration(offset_ns_.load()));
}

Result<Duration> BybitTrading::sync_time() {
  // Like every request, the time query is charged to the limiter (one market_data call).
  auto cost = limiter_->endpoint_cost("market_data");
  if (!cost) return std::unexpected(cost.error());
  if (auto st = limiter_->acquire_for(*cost, Priority::trading, options_.limiter_timeout); !st) {
    return make_error(st.error().code, "GET /v5/market/time: rate limiter: {}", st.error().message);
  }
  auto http = http_->acquire();
  const auto before = clock_.now();
  auto r = http->get("/v5/market/time");
  const auto after = clock_.now();
  if (!r) return std::unexpected(r.error());
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(r->body).get(root)) {
    return make_error(ErrorCode::parse_error, "{}/v5/market/time: not JSON (HTTP {})", options_.rest_url, r->status);
  }
  std::int64_t server_ms = 0;
  std::string_view nano = text(root["result"].value_unsafe(), "timeNano");
  std::int64_t ns = 0;
  if (!nano.empty() && std::from_chars(nano.data(), nano.data() + nano.size(), ns).ec == std::errc()) {
    server_ms = ns / 1'000'000;
  } else if (root["time"].get(server_ms)) {
    return make_error(ErrorCode::parse_error, "{}/v5/market/time: no server time in the answer", options_.rest_url);
  }
  // The server read its clock about halfway through the round trip.
  const auto local_mid = before + (after - before) / 2;
  const Duration offset = Timestamp(std::chrono::milliseconds(server_ms)) - local_mid;
  offset_ns_.store(offset.count());
  const auto skew_ms = std::chrono::duration_cast<std::chrono::milliseconds>(offset).count();
  // Bybit accepts timestamps in [server - recv_window, server + 1 s): beyond that every signed
  // request fails with 10002 unless we correct by the offset.
  if (std::abs(skew_ms) >= options_.recv_window_ms) {
    return make_error(ErrorCode::invalid_argument,
                      "clock skew: the local clock is {} ms {} Bybit's ({}); signed requests carry a {} ms receive "
                      "window, so the venue would reject them. Fix the system clock (NTP); until then twinstar signs "
                      "with the venue's time",
                      std::abs(skew_ms), skew_ms > 0 ? "behind" : "ahead of", options_.rest_url, options_.recv_window_ms);
  }
  return offset;
}

Result<std::string> BybitTrading::call(std::string_view method, std::string_view path, std::string_view payload,
                                       std::string_view endpoint_cost, Priority priority) {
  auto cost = limiter_->endpoint_cost(endpoint_cost);
  if (!cost) return std::unexpected(cost.error());
  const bool get = method == "GET";
  const std::string target = get && !payload.empty() ? fmt::format("{}?{}", path, payload) : std::string(path);
  Result<net::HttpResult> r;
  // A read whose kept-alive connection was closed under it is sent once more, with a new grant;
  // a POST (an order, a cancel) is not: it may have reached the venue.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto st = limiter_->acquire_for(*cost, priority, options_.limiter_timeout); !st) {
      return make_error(st.error().code, "{} {}: rate limiter: {}", method, path, st.error().message);
    }
    auto http = http_->acquire();
    const auto h = signer_.sign_rest(venue_now_ms(), payload, options_.recv_window_ms);
    const std::vector<net::Header> headers{{std::string(kHeaderApiKey), h.api_key},
                                           {std::string(kHeaderTimestamp), h.timestamp},
                                           {std::string(kHeaderSign), h.sign},
                                           {std::string(kHeaderRecvWindow), h.recv_window}};
    r = http->request(method, target, get ? std::string_view{} : payload, headers);
    if (r || r.error().code != ErrorCode::unavailable || !get) break;
  }
  if (!r) {
    return make_error(r.error().code, "Bybit {} {}: {}{}", method, path, r.error().message,
                      !get && r.error().code == ErrorCode::unavailable
                          ? " (not resent: the venue may have received it; query before repeating)"
                          : "");
  }
  std::vector<HttpHeader> hv;
  for (const auto& x : r->headers) hv.push_back({x.name, x.value});
  simdjson::dom::parser parser;
  element root;
  const bool json = !parser.parse(r->body).get(root);
  std::int64_t ret_code = -1;
  if (json && root["retCode"].get(ret_code)) ret_code = -1;
  const VenueResponse response{Exchange::bybit, r->status, json ? std::optional<std::int64_t>(ret_code) : std::nullopt, hv};
  if (auto retry = limiter_->observe_response(*cost, response)) {
    return make_error(ErrorCode::rate_limited, "Bybit {} {}: {} (paused {})", method, path, retry->reason,
                      format_duration(retry->pause));
  }
  if (!json) return make_error(ErrorCode::io_error, "Bybit {} {}: HTTP {} with a body that is not JSON", method, path, r->status);
  if (auto st = ret_code_status(ret_code, text(root, "retMsg"), fmt::format("{} {}", method, path)); !st) {
    return std::unexpected(st.error());
  }
  element result;
  if (root["result"].get(result)) return std::string("{}");
  return simdjson::to_string(result);
}

Result<OrderAck> BybitTrading::place_order(const PlaceOrder& o) {
  auto body = order_body(o);
  if (!body) return std::unexpected(body.error());
  auto r = call("POST", "/v5/order/create", *body, create_cost(o.market), Priority::trading);
  if (!r) return std::unexpected(r.error());
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(*r).get(root)) return make_error(ErrorCode::parse_error, "order/create: result is not JSON");
  return OrderAck{std::string(text(root, "orderId")), std::string(text(root, "orderLinkId"))};
}

Status BybitTrading::cancel_order(Market market, const Symbol& symbol, const std::string& client_id) {
  JsonWriter w;
  w.begin_object().field("category", category_of(market)).field("symbol", symbol.view()).field("orderLinkId", client_id);
  w.end_object();
  auto r = call("POST", "/v5/order/cancel", w.str(), "order_cancel", Priority::critical);
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<std::vector<OrderState>> BybitTrading::open_orders(Market market, std::optional<Symbol> symbol) {
  std::string q = fmt::format("category={}", category_of(market));
  if (symbol) q += fmt::format("&symbol={}", symbol->view());
  else if (market == Market::linear) q += "&settleCoin=USDT";
  auto r = call("GET", "/v5/order/realtime", q, "order_query", Priority::trading);
  if (!r) return std::unexpected(r.error());
  return parse_order_list(*r);
}

Result<std::optional<OrderState>> BybitTrading::find_order(Market market, const Symbol& symbol, const std::string& client_id) {
  // realtime answers for open orders and, asked by id, recently closed ones; history covers older.
  for (std::string_view path : {"/v5/order/realtime", "/v5/order/history"}) {
    const std::string q = fmt::format("category={}&symbol={}&orderLinkId={}", category_of(market), symbol.view(), client_id);
    auto r = call("GET", path, q, "order_query", Priority::trading);
    if (!r) return std::unexpected(r.error());
    auto list = parse_order_list(*r);
    if (!list) return std::unexpected(list.error());
    for (auto& o : *list) {
      if (o.client_id == client_id) return std::optional<OrderState>(std::move(o));
    }
  }
  return std::optional<OrderState>{};
}

Result<InstrumentRules> BybitTrading::instrument_rules(Market market, const Symbol& symbol) {
  const std::string q = fmt::format("category={}&symbol={}", category_of(market), symbol.view());
  auto r = call("GET", "/v5/market/instruments-info", q, "market_data", Priority::trading);
  if (!r) {
    if (r.error().code == ErrorCode::invalid_argument) {
      return make_error(ErrorCode::invalid_argument, "Bybit {} does not list {} ({})", category_of(market), symbol, r.error().message);
    }
    return std::unexpected(r.error());
  }
  simdjson::dom::parser parser;
  auto items = items_of(parser, *r);
  if (!items) return std::unexpected(items.error());
  for (element i : *items) {
    if (text(i, "symbol") != symbol.view()) continue;
    InstrumentRules rules;
    rules.symbol = symbol;
    rules.trading = text(i, "status") == "Trading";
    element lot;
    if (i["lotSizeFilter"].get(lot)) return make_error(ErrorCode::parse_error, "instruments-info {}: no lotSizeFilter", symbol);
    rules.qty_step = decimal<Quantity>(lot, market == Market::spot ? "basePrecision" : "qtyStep");
    rules.min_qty = decimal<Quantity>(lot, "minOrderQty");
    rules.min_notional = decimal<Money>(lot, market == Market::spot ? "minOrderAmt" : "minNotionalValue");
    return rules;
  }
  return make_error(ErrorCode::invalid_argument, "Bybit {} does not list {}", category_of(market), symbol);
}

Result<std::vector<PositionState>> BybitTrading::positions(std::optional<Symbol> symbol) {
  const std::string q = symbol ? fmt::format("category=linear&symbol={}", symbol->view()) : "category=linear&settleCoin=USDT";
  auto r = call("GET", "/v5/position/list", q, "position_list", Priority::trading);
  if (!r) return std::unexpected(r.error());
  simdjson::dom::parser parser;
  auto items = items_of(parser, *r);
  if (!items) return std::unexpected(items.error());
  std::vector<PositionState> out;
  for (element p : *items) {
    PositionState s;
    if (auto sym = Symbol::parse(text(p, "symbol"))) s.symbol = *sym;
    s.side = side_of(text(p, "side"));
    s.size = decimal<Quantity>(p, "size");
    s.entry_price = decimal<Price>(p, "avgPrice");
    s.unrealised_pnl = decimal<Money>(p, "unrealisedPnl");
    out.push_back(s);
  }
  return out;
}

Result<std::vector<Balance>> BybitTrading::balances() {
  auto r = call("GET", "/v5/account/wallet-balance", "accountType=UNIFIED", "private", Priority::trading);
  if (!r) return std::unexpected(r.error());
  simdjson::dom::parser parser;
  auto items = items_of(parser, *r);
  if (!items) return std::unexpected(items.error());
  std::vector<Balance> out;
  for (element account : *items) {
    simdjson::dom::array coins;
    if (account["coin"].get(coins)) continue;
    for (element c : coins) {
      Balance b;
      b.coin = std::string(text(c, "coin"));
      b.equity = decimal<Money>(c, "equity");
      b.wallet = decimal<Money>(c, "walletBalance");
      b.available = decimal<Money>(c, "availableToWithdraw");
      if (b.available.is_zero() && b.coin == "USDT") b.available = decimal<Money>(account, "totalAvailableBalance");
      out.push_back(std::move(b));
    }
  }
  return out;
}

struct BybitTrading::StreamStart {
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<Status> first_auth;  // guarded by mutex
  void set(Status s) {
    std::lock_guard lock(mutex);
    if (!first_auth) first_auth = std::move(s);
    cv.notify_all();
  }
  // The first auth's outcome; none within 15 s real time (connect and auth are network round
  // trips, not simulated time).
  std::optional<Status> wait() {
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, std::chrono::seconds(15), [&] { return first_auth.has_value(); })) return std::nullopt;
    return first_auth;
  }
};

Status BybitTrading::start_stream(TradingEvents events) {
  if (stream_.joinable()) return make_error(ErrorCode::conflict, "Bybit private stream already running");
  auto start = std::make_shared<StreamStart>();
  stream_ = std::jthread([this, events = std::move(events), start](std::stop_token st) { stream_loop(st, events, start); });
  const auto result = start->wait();
  if (!result || !*result) stop_stream();
  if (!result) return make_error(ErrorCode::timeout, "Bybit private stream {}: no auth answer within 15 s", options_.private_ws_url);
  return *result;
}

void BybitTrading::stop_stream() {
  if (!stream_.joinable()) return;
  stream_.request_stop();
  stream_.join();
}

void BybitTrading::stream_loop(std::stop_token stop, TradingEvents events, std::shared_ptr<StreamStart> start) {
  int failures = 0;
  while (!stop.stop_requested()) {
    if (failures > 0 && !clock_.sleep_for(std::min<Duration>(std::chrono::milliseconds(500) * (1 << std::min(failures, 6)),
                                                             std::chrono::seconds(30)), stop)) {
      return;
    }
    auto ws = net::WsClient::connect(options_.private_ws_url);
    if (!ws) {
      ++failures;
      start->set(std::unexpected(ws.error()));
      if (events.on_error) events.on_error(ws.error());
      continue;
    }
    std::stop_callback wake(stop, [&] { (*ws)->wake(); });
    auto& c = **ws;
    (void)c.send(signer_.ws_auth_frame(venue_now_ms() + 10'000));
    bool authed = false;
    auto last_ping = clock_.now();
    while (!stop.stop_requested()) {
      if (clock_.now() - last_ping >= options_.ping_interval) {
        (void)c.send(R"({"op":"ping"})");
        last_ping = clock_.now();
      }
      auto m = c.read(std::chrono::milliseconds(200));
      if (!m) {
        if (m.error().code == ErrorCode::timeout || m.error().code == ErrorCode::cancelled) continue;
        if (events.on_error) events.on_error(m.error());
        break;
      }
      simdjson::dom::parser parser;
      element root;
      if (parser.parse(*m).get(root)) continue;
      const auto op = text(root, "op");
      if (op == "auth") {
        bool ok = false;
        if (root["success"].get(ok)) ok = false;
        if (!ok) {
          Error e{ErrorCode::invalid_argument, fmt::format("Bybit private stream: auth refused: {}", text(root, "ret_msg"))};
          start->set(std::unexpected(e));
          if (events.on_error) events.on_error(e);
          return;  // wrong keys do not get better by retrying
        }
        authed = true;
        failures = 0;
        (void)c.send(R"({"op":"subscribe","args":["order","execution"]})");
        start->set(Status{});
        continue;
      }
      if (!authed) continue;
      const auto topic = text(root, "topic");
      if (topic.starts_with("order") && events.on_order) {
        if (auto orders = parse_order_list(*m)) for (const auto& o : *orders) events.on_order(o);
      } else if (topic.starts_with("execution") && events.on_fill) {
        if (auto fills = parse_executions(*m)) for (const auto& f : *fills) events.on_fill(f);
      }
    }
    ++failures;
  }
}

// ------------------------------------------------------------ order channel (/v5/trade)

struct BybitTrading::Channel {
  struct Out {
    std::string req_id, frame, client_id, cost;
    bool cancel = false;
    std::uint64_t token = 0;
  };
  struct Pending {
    std::string client_id, cost;
    bool cancel = false;
    std::uint64_t token = 0;
    std::chrono::steady_clock::time_point sent;
  };
  std::mutex mutex;
  std::deque<Out> outbox;       // guarded by mutex; bounded by the limiter's grants
  net::WsClient* ws = nullptr;  // guarded by mutex: the live connection, to wake its reader
  bool up = false;              // guarded by mutex: connected and authenticated
  std::atomic<std::uint64_t> cancels{0};
};

Status BybitTrading::start_order_channel(OrderChannelEvents events) {
  if (options_.trade_ws_url.empty()) return make_error(ErrorCode::unavailable, "Bybit: no trade_ws_url configured");
  if (channel_thread_.joinable()) return make_error(ErrorCode::conflict, "Bybit order channel already running");
  channel_ = std::make_shared<Channel>();
  auto start = std::make_shared<StreamStart>();
  channel_thread_ =
      std::jthread([this, events = std::move(events), start](std::stop_token st) { channel_loop(st, events, start); });
  const auto result = start->wait();
  if (!result || !*result) stop_order_channel();
  if (!result) return make_error(ErrorCode::timeout, "Bybit order channel {}: no auth answer within 15 s", options_.trade_ws_url);
  return *result;
}

void BybitTrading::stop_order_channel() {
  if (!channel_thread_.joinable()) return;
  channel_thread_.request_stop();
  channel_thread_.join();
}

Status BybitTrading::enqueue(std::string req_id, std::string frame, std::string client_id, bool cancel, std::uint64_t token,
                             std::string_view endpoint_cost, bool wait) {
  const auto ch = channel_;
  auto is_up = [&] {
    std::lock_guard lock(ch->mutex);
    return ch->up;
  };
  if (!ch || !is_up()) return make_error(ErrorCode::unavailable, "Bybit order channel is not connected");
  auto cost = limiter_->endpoint_cost(endpoint_cost);
  if (!cost) return std::unexpected(cost.error());
  const Priority priority = cancel ? Priority::critical : Priority::trading;
  if (auto st = wait ? limiter_->acquire_for(*cost, priority, options_.limiter_timeout)
                     : limiter_->try_acquire(*cost, priority, /*count_refusal=*/false);
      !st) {
    return make_error(st.error().code, "Bybit order channel: rate limiter: {}", st.error().message);
  }
  std::lock_guard lock(ch->mutex);
  if (!ch->up) return make_error(ErrorCode::unavailable, "Bybit order channel dropped");
  ch->outbox.push_back(Channel::Out{std::move(req_id), std::move(frame), std::move(client_id), std::string(endpoint_cost), cancel, token});
  if (ch->ws != nullptr) ch->ws->wake();
  return {};
}

namespace {
std::string trade_frame(std::string_view req_id, std::string_view op, std::int64_t timestamp_ms, std::int64_t recv_window_ms,
                        std::string_view args_item) {
  JsonWriter w;
  w.begin_object().field("reqId", req_id).key("header").begin_object();
  w.field(kHeaderTimestamp, std::to_string(timestamp_ms)).field(kHeaderRecvWindow, std::to_string(recv_window_ms));
  w.end_object().field("op", op).key("args").begin_array().raw(args_item).end_array().end_object();
  return w.take();
}
}  // namespace

Status BybitTrading::send_order(const PlaceOrder& o, std::uint64_t token, bool wait) {
  auto body = order_body(o);
  if (!body) return std::unexpected(body.error());
  // A reqId may not repeat on a connection (20006): the client id is unique per order.
  std::string req_id = o.client_id.empty() ? fmt::format("c#{}", token) : "c:" + o.client_id;
  std::string frame = trade_frame(req_id, "order.create", venue_now_ms(), options_.recv_window_ms, *body);
  return enqueue(std::move(req_id), std::move(frame), o.client_id, false, token, create_cost(o.market), wait);
}

Status BybitTrading::send_cancel(Market market, const Symbol& symbol, const std::string& client_id, std::uint64_t token) {
  JsonWriter w;
  w.begin_object().field("category", category_of(market)).field("symbol", symbol.view()).field("orderLinkId", client_id);
  w.end_object();
  const auto ch = channel_;
  const std::uint64_t n = ch ? ch->cancels.fetch_add(1) : 0;
  std::string req_id = fmt::format("x{}:{}", n, client_id);
  std::string frame = trade_frame(req_id, "order.cancel", venue_now_ms(), options_.recv_window_ms, w.str());
  return enqueue(std::move(req_id), std::move(frame), client_id, true, token, "order_cancel");
}

void BybitTrading::channel_loop(std::stop_token stop, OrderChannelEvents events, std::shared_ptr<StreamStart> start) {
  const auto ch = channel_;
  std::map<std::string, Channel::Pending> pending;  // by reqId; this thread only
  auto answer = [&](const std::string& client_id, bool cancel, std::uint64_t token, Status result) {
    if (events.on_reply) events.on_reply(ChannelReply{client_id, cancel, token, std::move(result)});
  };
  // Sent and unanswered may have arrived (io_error: look them up); queued were never sent.
  auto fail_all = [&](const std::string& why) {
    std::deque<Channel::Out> unsent;
    {
      std::lock_guard lock(ch->mutex);
      ch->up = false;
      ch->ws = nullptr;
      unsent.swap(ch->outbox);
    }
    for (auto& [id, p] : pending) {
      answer(p.client_id, p.cancel, p.token,
             make_error(ErrorCode::io_error, "Bybit order channel: the connection ended before the answer ({}); it may have "
                                             "reached the venue",
                        why));
    }
    pending.clear();
    for (auto& o : unsent) {
      answer(o.client_id, o.cancel, o.token, make_error(ErrorCode::unavailable, "Bybit order channel: not sent ({})", why));
    }
  };
  int failures = 0;
  while (!stop.stop_requested()) {
    if (failures > 0 && !clock_.sleep_for(std::min<Duration>(std::chrono::milliseconds(500) * (1 << std::min(failures, 6)),
                                                             std::chrono::seconds(30)), stop)) {
      break;
    }
    auto ws = net::WsClient::connect(options_.trade_ws_url);
    if (!ws) {
      ++failures;
      start->set(std::unexpected(ws.error()));
      if (events.on_error) events.on_error(ws.error());
      continue;
    }
    auto& c = **ws;
    std::stop_callback wake(stop, [&] { c.wake(); });
    (void)c.send(signer_.ws_auth_frame(venue_now_ms() + 10'000));
    bool authed = false;
    std::string why = "stopped";
    auto last_ping = clock_.now();
    while (!stop.stop_requested()) {
      if (authed) {
        std::deque<Channel::Out> batch;
        {
          std::lock_guard lock(ch->mutex);
          batch.swap(ch->outbox);
        }
        bool broken = false;
        while (!batch.empty() && !broken) {
          Channel::Out o = std::move(batch.front());
          batch.pop_front();
          if (auto st = c.send(o.frame); !st) {
            why = st.error().message;
            broken = true;  // this one may have left in part: counted as sent
          } else if (events.on_written) {
            events.on_written(o.token);
          }
          pending.emplace(o.req_id, Channel::Pending{o.client_id, o.cost, o.cancel, o.token, std::chrono::steady_clock::now()});
        }
        if (broken) {
          std::lock_guard lock(ch->mutex);
          for (auto it = batch.rbegin(); it != batch.rend(); ++it) ch->outbox.push_front(std::move(*it));
          break;
        }
      }
      if (clock_.now() - last_ping >= options_.ping_interval) {
        (void)c.send(R"({"op":"ping"})");
        last_ping = clock_.now();
      }
      // Unanswered for too long: reported lost, so the caller looks the order up.
      const auto now = std::chrono::steady_clock::now();
      for (auto it = pending.begin(); it != pending.end();) {
        if (now - it->second.sent < options_.channel_reply_timeout) {
          ++it;
          continue;
        }
        answer(it->second.client_id, it->second.cancel, it->second.token,
               make_error(ErrorCode::timeout, "Bybit order channel: no answer within {}", format_duration(options_.channel_reply_timeout)));
        it = pending.erase(it);
      }
      auto m = c.read(std::chrono::milliseconds(200));
      if (!m) {
        if (m.error().code == ErrorCode::timeout || m.error().code == ErrorCode::cancelled) continue;
        why = m.error().message;
        if (events.on_error) events.on_error(m.error());
        break;
      }
      simdjson::dom::parser parser;
      element root;
      if (parser.parse(*m).get(root)) continue;
      std::int64_t ret_code = -1;
      if (root["retCode"].get(ret_code)) ret_code = -1;
      const auto op = text(root, "op");
      if (op == "auth") {
        if (ret_code != 0) {
          Error e{ErrorCode::invalid_argument, fmt::format("Bybit order channel: auth refused ({}: {})", ret_code, text(root, "retMsg"))};
          start->set(std::unexpected(e));
          if (events.on_error) events.on_error(e);
          fail_all(e.message);
          return;  // wrong keys do not get better by retrying
        }
        authed = true;
        failures = 0;
        {
          std::lock_guard lock(ch->mutex);
          ch->up = true;
          ch->ws = &c;
        }
        start->set(Status{});
        continue;
      }
      auto it = pending.find(std::string(text(root, "reqId")));
      if (it == pending.end()) continue;  // pong, or an answer already reported lost
      Channel::Pending p = std::move(it->second);
      pending.erase(it);
      std::vector<HttpHeader> headers;
      simdjson::dom::object h;
      if (!root["header"].get(h)) {
        for (auto [k, v] : h) {
          std::string_view value;
          if (!v.get(value)) headers.push_back({k, value});  // views into the parsed answer, which outlives them
        }
      }
      const std::string what = p.cancel ? "order.cancel" : "order.create";
      Status result = ret_code_status(ret_code, text(root, "retMsg"), what);
      if (auto cost = limiter_->endpoint_cost(p.cost)) {
        const VenueResponse response{Exchange::bybit, 200, ret_code, headers};
        if (auto retry = limiter_->observe_response(*cost, response)) {
          result = make_error(ErrorCode::rate_limited, "Bybit {}: {} (paused {})", what, retry->reason, format_duration(retry->pause));
        }
      }
      answer(p.client_id, p.cancel, p.token, std::move(result));
    }
    fail_all(why);
    ++failures;
  }
}

}  // namespace twinstar::venue::bybit
