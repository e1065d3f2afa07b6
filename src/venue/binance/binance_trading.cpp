#include "venue/binance/binance_trading.hpp"

#include <charconv>
#include <condition_variable>

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "net/ws_client.hpp"

namespace twinstar::venue::binance {

namespace {

using simdjson::dom::element;

// A field as text: strings as they are, numbers (orderId, serverTime) in their JSON spelling.
std::string field_text(element e, std::string_view key) {
  element v;
  if (e[key].get(v)) return {};
  std::string_view s;
  if (!v.get(s)) return std::string(s);
  return simdjson::to_string(v);
}

template <class D>
D decimal(element e, std::string_view key) {
  const auto t = field_text(e, key);
  if (t.empty()) return D{};
  auto d = D::parse_rounded(t);
  return d ? *d : D{};
}

std::int64_t integer(element e, std::string_view key) {
  std::int64_t v = 0;
  if (!e[key].get(v)) return v;
  const auto t = field_text(e, key);
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

TradeSide side_of(std::string_view s) { return s == "SELL" ? TradeSide::sell : TradeSide::buy; }

OrderState order_of(element o) {
  OrderState s;
  s.market = Market::linear;
  if (auto sym = Symbol::parse(field_text(o, "symbol"))) s.symbol = *sym;
  s.order_id = field_text(o, "orderId");
  s.client_id = field_text(o, "clientOrderId");
  s.side = side_of(field_text(o, "side"));
  s.type = field_text(o, "type") == "LIMIT" ? TradeOrderType::limit : TradeOrderType::market;
  s.status = parse_order_status(field_text(o, "status")).value_or(TradeOrderStatus::unknown);
  s.price = decimal<Price>(o, "price");
  s.quantity = decimal<Quantity>(o, "origQty");
  s.filled = decimal<Quantity>(o, "executedQty");
  s.average_price = decimal<Price>(o, "avgPrice");
  return s;
}

}  // namespace

Result<TradeOrderStatus> parse_order_status(std::string_view t) {
  if (t == "NEW") return TradeOrderStatus::open;
  if (t == "PARTIALLY_FILLED") return TradeOrderStatus::partially_filled;
  if (t == "FILLED") return TradeOrderStatus::filled;
  if (t == "CANCELED" || t == "EXPIRED" || t == "EXPIRED_IN_MATCH") return TradeOrderStatus::cancelled;
  if (t == "REJECTED") return TradeOrderStatus::rejected;
  return make_error(ErrorCode::parse_error, "unknown Binance order status '{}'", t);
}

Result<OrderTradeUpdate> parse_order_trade_update(std::string_view event) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(event.data(), event.size()).get(root)) return make_error(ErrorCode::parse_error, "not JSON: {:.80}", event);
  if (field_text(root, "e") != "ORDER_TRADE_UPDATE") return make_error(ErrorCode::not_found, "not an order update");
  element o;
  if (root["o"].get(o)) return make_error(ErrorCode::parse_error, "ORDER_TRADE_UPDATE without \"o\"");
  OrderTradeUpdate u;
  auto& s = u.order;
  s.market = Market::linear;
  if (auto sym = Symbol::parse(field_text(o, "s"))) s.symbol = *sym;
  s.order_id = field_text(o, "i");
  s.client_id = field_text(o, "c");
  s.side = side_of(field_text(o, "S"));
  s.type = field_text(o, "o") == "LIMIT" ? TradeOrderType::limit : TradeOrderType::market;
  s.status = parse_order_status(field_text(o, "X")).value_or(TradeOrderStatus::unknown);
  s.price = decimal<Price>(o, "p");
  s.quantity = decimal<Quantity>(o, "q");
  s.filled = decimal<Quantity>(o, "z");
  s.average_price = decimal<Price>(o, "ap");
  if (field_text(o, "x") == "TRADE") {
    Fill f;
    f.symbol = s.symbol;
    f.order_id = s.order_id;
    f.client_id = s.client_id;
    f.exec_id = field_text(o, "t");
    f.side = s.side;
    f.price = decimal<Price>(o, "L");
    f.quantity = decimal<Quantity>(o, "l");
    f.fee = decimal<Money>(o, "n");
    f.time = from_epoch_ms(integer(o, "T"));
    u.fill = std::move(f);
  }
  return u;
}

BinanceUsdmTrading::BinanceUsdmTrading(BinanceTradingOptions options, std::shared_ptr<VenueLimiter> limiter, Clock& clock)
    : options_(std::move(options)), limiter_(std::move(limiter)), clock_(clock),
      signer_(options_.api_key, options_.api_secret) {}

BinanceUsdmTrading::~BinanceUsdmTrading() { stop_stream(); }

Result<std::unique_ptr<BinanceUsdmTrading>> BinanceUsdmTrading::create(BinanceTradingOptions options,
                                                                       std::shared_ptr<VenueLimiter> limiter, Clock& clock) {
  if (options.api_key.empty() || options.api_secret.empty()) {
    return make_error(ErrorCode::invalid_argument, "Binance USDⓈ-M trading needs an API key and secret");
  }
  if (!limiter) return make_error(ErrorCode::invalid_argument, "Binance USDⓈ-M trading needs the account's rate limiter");
  auto http = net::HttpClientPool::create(options.rest_url, options.http, options.http_connections);
  if (!http) return std::unexpected(http.error());
  std::unique_ptr<BinanceUsdmTrading> t(new BinanceUsdmTrading(std::move(options), std::move(limiter), clock));
  t->http_ = std::move(*http);
  return t;
}

std::int64_t BinanceUsdmTrading::venue_now_ms() const { return to_epoch_ms(clock_.now() + Duration(offset_ns_.load())); }

Result<Cost> BinanceUsdmTrading::weight(std::int64_t w) const { return limiter_->cost({CostItem{"request_weight", w}}); }

Result<Duration> BinanceUsdmTrading::sync_time() {
  auto cost = weight(1);
  if (!cost) return std::unexpected(cost.error());
  const auto before = clock_.now();
  auto body = call("GET", "/fapi/v1/time", {}, *cost, Priority::trading, false);
  const auto after = clock_.now();
  if (!body) return std::unexpected(body.error());
  simdjson::dom::parser parser;
  element root;
  std::int64_t server_ms = 0;
  if (parser.parse(*body).get(root) || root["serverTime"].get(server_ms)) {
    return make_error(ErrorCode::parse_error, "{}/fapi/v1/time: no serverTime in the answer", options_.rest_url);
  }
  const Duration offset = Timestamp(std::chrono::milliseconds(server_ms)) - (before + (after - before) / 2);
  offset_ns_.store(offset.count());
  const auto skew_ms = std::chrono::duration_cast<std::chrono::milliseconds>(offset).count();
  // The venue accepts timestamp < serverTime + 1 s and serverTime - timestamp <= recvWindow (§2.5).
  if (skew_ms >= options_.recv_window_ms || skew_ms <= -1000) {
    return make_error(ErrorCode::invalid_argument,
                      "clock skew: the local clock is {} ms {} Binance's ({}); signed requests carry a {} ms "
                      "recvWindow, so the venue would answer -1021. Fix the system clock (NTP); until then twinstar "
                      "signs with the venue's time",
                      std::abs(skew_ms), skew_ms > 0 ? "behind" : "ahead of", options_.rest_url, options_.recv_window_ms);
  }
  return offset;
}

Result<std::string> BinanceUsdmTrading::call(std::string_view method, std::string_view path, std::string params,
                                             const Cost& cost, Priority priority, bool sign) {
  const bool get = method == "GET";
  Result<net::HttpResult> r;
  // A read whose kept-alive connection was closed under it is sent once more, with a new grant;
  // a POST or DELETE (an order, a cancel) is not: it may have reached the venue.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto st = limiter_->acquire_for(cost, priority, options_.limiter_timeout); !st) {
      return make_error(st.error().code, "{} {}: rate limiter: {}", method, path, st.error().message);
    }
    auto http = http_->acquire();
    const std::string query = sign ? signer_.signed_query(params, venue_now_ms(), options_.recv_window_ms) : params;
    const std::string target = query.empty() ? std::string(path) : fmt::format("{}?{}", path, query);
    r = http->request(method, target, {}, {{std::string(kHeaderApiKey), signer_.api_key()}});
    if (r || r.error().code != ErrorCode::unavailable || !get) break;
  }
  if (!r) {
    return make_error(r.error().code, "Binance {} {}: {}{}", method, path, r.error().message,
                      !get && r.error().code == ErrorCode::unavailable
                          ? " (not resent: the venue may have received it; query before repeating)"
                          : "");
  }
  std::vector<HttpHeader> hv;
  for (const auto& x : r->headers) hv.push_back({x.name, x.value});
  simdjson::dom::parser parser;
  element root;
  const bool json = !parser.parse(r->body).get(root);
  std::optional<std::int64_t> code;
  if (json && root.is_object()) {
    std::int64_t c = 0;
    if (!root["code"].get(c)) code = c;
  }
  const VenueResponse response{Exchange::binance, r->status, code, hv};
  if (auto retry = limiter_->observe_response(cost, response)) {
    return make_error(ErrorCode::rate_limited, "Binance {} {}: {} (paused {})", method, path, retry->reason,
                      format_duration(retry->pause));
  }
  if (r->status / 100 == 2 && json) return r->body;
  const std::string msg = json && root.is_object() ? field_text(root, "msg") : std::string();
  switch (code.value_or(0)) {
    case -1021:
      return make_error(ErrorCode::invalid_argument,
                        "Binance {} {}: clock skew: the venue refused the timestamp (-1021: {}); call sync_time() or fix "
                        "the system clock",
                        method, path, msg);
    case -1022:
    case -2014:
    case -2015: return make_error(ErrorCode::invalid_argument, "Binance {} {}: credentials refused ({})", method, path, *code);
    case -2011:
    case -2013: return make_error(ErrorCode::not_found, "Binance {} {}: order does not exist ({}: {})", method, path, *code, msg);
    default:
      return make_error(r->status >= 500 ? ErrorCode::io_error : ErrorCode::invalid_argument, "Binance {} {}: HTTP {} {} {}",
                        method, path, r->status, code ? std::to_string(*code) : std::string(), msg);
  }
}

Result<OrderAck> BinanceUsdmTrading::place_order(const PlaceOrder& o) {
  if (o.market != Market::linear) return make_error(ErrorCode::invalid_argument, "Binance USDⓈ-M trades linear only");
  if (o.type == TradeOrderType::limit && !o.price) {
    return make_error(ErrorCode::invalid_argument, "limit order {} on {} needs a price", o.client_id, o.symbol);
  }
  std::string q = fmt::format("symbol={}&side={}&type={}&quantity={}", o.symbol.view(), o.side == TradeSide::buy ? "BUY" : "SELL",
                              o.type == TradeOrderType::limit ? "LIMIT" : "MARKET", o.quantity.to_string());
  if (o.type == TradeOrderType::limit) q += fmt::format("&price={}&timeInForce=GTC", o.price->to_string());
  if (!o.client_id.empty()) q += "&newClientOrderId=" + o.client_id;
  if (o.reduce_only) q += "&reduceOnly=true";
  auto cost = limiter_->endpoint_cost("order");
  if (!cost) return std::unexpected(cost.error());
  auto body = call("POST", "/fapi/v1/order", q, *cost, Priority::trading);
  if (!body) return std::unexpected(body.error());
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(*body).get(root)) return make_error(ErrorCode::parse_error, "POST /fapi/v1/order: answer is not JSON");
  return OrderAck{field_text(root, "orderId"), field_text(root, "clientOrderId")};
}

Status BinanceUsdmTrading::cancel_order(Market, const Symbol& symbol, const std::string& client_id) {
  auto cost = limiter_->endpoint_cost("cancel");
  if (!cost) return std::unexpected(cost.error());
  auto body = call("DELETE", "/fapi/v1/order", fmt::format("symbol={}&origClientOrderId={}", symbol.view(), client_id),
                   *cost, Priority::critical);
  if (!body) return std::unexpected(body.error());
  return {};
}

Result<std::vector<OrderState>> BinanceUsdmTrading::open_orders(Market, std::optional<Symbol> symbol) {
  auto cost = weight(symbol ? 1 : 40);  // GET /fapi/v1/openOrders: 1 with a symbol, 40 without
  if (!cost) return std::unexpected(cost.error());
  auto body = call("GET", "/fapi/v1/openOrders", symbol ? fmt::format("symbol={}", symbol->view()) : std::string(), *cost,
                   Priority::trading);
  if (!body) return std::unexpected(body.error());
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  if (parser.parse(*body).get(items)) return make_error(ErrorCode::parse_error, "openOrders: not a JSON array");
  std::vector<OrderState> out;
  for (element o : items) out.push_back(order_of(o));
  return out;
}

Result<std::optional<OrderState>> BinanceUsdmTrading::find_order(Market, const Symbol& symbol, const std::string& client_id) {
  auto cost = weight(1);  // GET /fapi/v1/order
  if (!cost) return std::unexpected(cost.error());
  auto body = call("GET", "/fapi/v1/order", fmt::format("symbol={}&origClientOrderId={}", symbol.view(), client_id), *cost,
                   Priority::trading);
  if (!body) {
    if (body.error().code == ErrorCode::not_found) return std::optional<OrderState>{};  // -2013: never arrived
    return std::unexpected(body.error());
  }
  simdjson::dom::parser parser;
  simdjson::dom::element o;
  if (parser.parse(*body).get(o)) return make_error(ErrorCode::parse_error, "GET /fapi/v1/order: not JSON");
  return std::optional<OrderState>(order_of(o));
}

Result<InstrumentRules> BinanceUsdmTrading::instrument_rules(Market, const Symbol& symbol) {
  auto cost = weight(1);  // GET /fapi/v1/exchangeInfo
  if (!cost) return std::unexpected(cost.error());
  auto body = call("GET", "/fapi/v1/exchangeInfo", "", *cost, Priority::trading);
  if (!body) return std::unexpected(body.error());
  simdjson::dom::parser parser;
  simdjson::dom::array symbols;
  if (parser.parse(*body)["symbols"].get(symbols)) return make_error(ErrorCode::parse_error, "exchangeInfo: no symbols");
  for (element i : symbols) {
    if (field_text(i, "symbol") != symbol.view()) continue;
    InstrumentRules rules;
    rules.symbol = symbol;
    rules.trading = field_text(i, "status") == "TRADING";
    simdjson::dom::array filters;
    if (!i["filters"].get(filters)) {
      for (element f : filters) {
        const auto type = field_text(f, "filterType");
        if (type == "LOT_SIZE") {
          rules.qty_step = decimal<Quantity>(f, "stepSize");
          rules.min_qty = decimal<Quantity>(f, "minQty");
        } else if (type == "MIN_NOTIONAL") {
          rules.min_notional = decimal<Money>(f, "notional");
        }
      }
    }
    return rules;
  }
  return make_error(ErrorCode::invalid_argument, "Binance USDⓈ-M does not list {}", symbol);
}

Result<std::vector<PositionState>> BinanceUsdmTrading::positions(std::optional<Symbol> symbol) {
  auto cost = weight(5);
  if (!cost) return std::unexpected(cost.error());
  auto body = call("GET", "/fapi/v2/positionRisk", symbol ? fmt::format("symbol={}", symbol->view()) : std::string(), *cost,
                   Priority::trading);
  if (!body) return std::unexpected(body.error());
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  if (parser.parse(*body).get(items)) return make_error(ErrorCode::parse_error, "positionRisk: not a JSON array");
  std::vector<PositionState> out;
  for (element p : items) {
    PositionState s;
    if (auto sym = Symbol::parse(field_text(p, "symbol"))) s.symbol = *sym;
    auto amount = decimal<Quantity>(p, "positionAmt");  // signed: negative is short
    s.side = amount.is_negative() ? TradeSide::sell : TradeSide::buy;
    s.size = amount.is_negative() ? Quantity::zero() - amount : amount;
    s.entry_price = decimal<Price>(p, "entryPrice");
    s.unrealised_pnl = decimal<Money>(p, "unRealizedProfit");
    out.push_back(s);
  }
  return out;
}

Result<std::vector<Balance>> BinanceUsdmTrading::balances() {
  auto cost = weight(5);
  if (!cost) return std::unexpected(cost.error());
  auto body = call("GET", "/fapi/v2/balance", {}, *cost, Priority::trading);
  if (!body) return std::unexpected(body.error());
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  if (parser.parse(*body).get(items)) return make_error(ErrorCode::parse_error, "balance: not a JSON array");
  std::vector<Balance> out;
  for (element b : items) {
    out.push_back(Balance{field_text(b, "asset"), decimal<Money>(b, "balance") + decimal<Money>(b, "crossUnPnl"),
                          decimal<Money>(b, "balance"), decimal<Money>(b, "availableBalance")});
  }
  return out;
}

struct BinanceUsdmTrading::StreamStart {
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<Status> first;  // guarded by mutex
  void set(Status s) {
    std::lock_guard lock(mutex);
    if (!first) first = std::move(s);
    cv.notify_all();
  }
};

Status BinanceUsdmTrading::start_stream(TradingEvents events) {
  if (stream_.joinable()) return make_error(ErrorCode::conflict, "Binance user-data stream already running");
  auto start = std::make_shared<StreamStart>();
  stream_ = std::jthread([this, events = std::move(events), start](std::stop_token st) { stream_loop(st, events, start); });
  std::unique_lock lock(start->mutex);
  if (!start->cv.wait_for(lock, std::chrono::seconds(15), [&] { return start->first.has_value(); })) {
    lock.unlock();
    stop_stream();
    return make_error(ErrorCode::timeout, "Binance user-data stream: not connected within 15 s");
  }
  auto result = *start->first;
  lock.unlock();
  if (!result) stop_stream();
  return result;
}

void BinanceUsdmTrading::stop_stream() {
  if (!stream_.joinable()) return;
  stream_.request_stop();
  stream_.join();
}

void BinanceUsdmTrading::stream_loop(std::stop_token stop, TradingEvents events, std::shared_ptr<StreamStart> start) {
  int failures = 0;
  while (!stop.stop_requested()) {
    if (failures > 0 && !clock_.sleep_for(std::min<Duration>(std::chrono::milliseconds(500) * (1 << std::min(failures, 6)),
                                                             std::chrono::seconds(30)), stop)) {
      return;
    }
    auto cost = weight(1);
    auto key_body = cost ? call("POST", "/fapi/v1/listenKey", {}, *cost, Priority::trading, false)
                         : Result<std::string>(std::unexpected(cost.error()));
    std::string listen_key;
    if (key_body) {
      simdjson::dom::parser parser;
      element root;
      if (!parser.parse(*key_body).get(root)) listen_key = field_text(root, "listenKey");
    }
    if (listen_key.empty()) {
      Error e = key_body ? Error{ErrorCode::parse_error, "Binance listenKey: no key in the answer"} : key_body.error();
      start->set(std::unexpected(e));
      if (events.on_error) events.on_error(e);
      if (e.code == ErrorCode::invalid_argument) return;  // refused credentials do not get better
      ++failures;
      continue;
    }
    auto ws = net::WsClient::connect(fmt::format("{}/ws?listenKey={}&events=ORDER_TRADE_UPDATE", options_.private_ws_base, listen_key));
    if (!ws) {
      ++failures;
      start->set(std::unexpected(ws.error()));
      if (events.on_error) events.on_error(ws.error());
      continue;
    }
    failures = 0;
    start->set(Status{});
    std::stop_callback wake(stop, [&] { (*ws)->wake(); });
    auto last_keepalive = clock_.now();
    while (!stop.stop_requested()) {
      if (clock_.now() - last_keepalive >= options_.listen_key_keepalive) {
        if (auto c = weight(1)) (void)call("PUT", "/fapi/v1/listenKey", {}, *c, Priority::trading, false);
        last_keepalive = clock_.now();
      }
      auto m = (*ws)->read(std::chrono::milliseconds(200));
      if (!m) {
        if (m.error().code == ErrorCode::timeout || m.error().code == ErrorCode::cancelled) continue;
        if (events.on_error) events.on_error(m.error());
        break;
      }
      if (m->find("listenKeyExpired") != std::string::npos) break;  // reconnect with a new key
      auto u = parse_order_trade_update(*m);
      if (!u) continue;
      if (events.on_order) events.on_order(u->order);
      if (u->fill && events.on_fill) events.on_fill(*u->fill);
    }
    ++failures;
  }
}

}  // namespace twinstar::venue::binance
