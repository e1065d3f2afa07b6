#include "venue/sim/sim_server.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "net/crypto.hpp"
#include "venue/bybit/bybit_signer.hpp"
#include "venue/sim/rng.hpp"

namespace twinstar::venue::sim {

namespace {

using net::HttpRequest;
using net::HttpResponse;

constexpr std::string_view kPathLinear = "/v5/public/linear";
constexpr std::string_view kPathSpot = "/v5/public/spot";
constexpr std::string_view kPathPrivate = "/v5/private";
constexpr std::string_view kPathTrade = "/v5/trade";

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Bybit's receive window (exchange-api.md §1.4): server - recv_window <= timestamp < server + 1 s.
// The window is real time: at --speed S the network is not S times faster, so S x recv_window
// simulated milliseconds may pass while a request is on its way. The 10002 text when outside.
std::optional<std::string> recv_window_error(std::string_view ts_text, std::string_view rw_text, std::int64_t now_ms,
                                             double speed) {
  const auto ts = parse_int(ts_text);
  const auto rw = parse_int(rw_text);
  const double stretch = std::max(1.0, speed);
  const auto window = static_cast<std::int64_t>(static_cast<double>(rw.value_or(0)) * stretch);
  const auto ahead = static_cast<std::int64_t>(1000 * stretch);
  if (ts && rw && *rw > 0 && now_ms - window <= *ts && *ts < now_ms + ahead) return std::nullopt;
  return fmt::format("invalid request, please check your server timestamp or recv_window param. "
                     "req_timestamp[{}],server_timestamp[{}],recv_window[{}]",
                     ts_text, now_ms, rw_text);
}

// Parameters of a request: the query (GET) or the top-level JSON body fields (POST).
class Params {
 public:
  static std::optional<Params> from(const HttpRequest& r) {
    Params p;
    if (r.method == "GET") {
      for (auto& [k, v] : net::parse_query(r.query)) p.values_.emplace_back(k, Value{v, JsonKind::string});
      return p;
    }
    if (r.body.empty()) return p;
    auto flat = parse_flat_json(r.body);
    if (!flat) return std::nullopt;
    for (auto& f : flat->fields) p.values_.emplace_back(f.key, Value{f.text, f.kind});
    return p;
  }
  std::optional<std::string_view> get(std::string_view key) const {
    for (const auto& [k, v] : values_) {
      if (k == key) return std::string_view(v.text);
    }
    return std::nullopt;
  }
  std::optional<JsonKind> kind(std::string_view key) const {
    for (const auto& [k, v] : values_) {
      if (k == key) return v.kind;
    }
    return std::nullopt;
  }

 private:
  struct Value {
    std::string text;
    JsonKind kind;
  };
  std::vector<std::pair<std::string, Value>> values_;
};

HttpResponse json_response(std::string body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

std::optional<Category> parse_category(std::string_view c) {
  if (c == "linear") return Category::linear;
  if (c == "spot") return Category::spot;
  return std::nullopt;
}

std::int64_t ms_of(Timestamp t) { return to_epoch_ms(t); }

}  // namespace

Result<std::unique_ptr<MarketSource>> make_market_source(const SimOptions& options, Timestamp default_start) {
  if (options.replay) {
    ReplayOptions r;
    r.path = *options.replay;
    r.start = options.start;
    return make_replay_source(r);
  }
  SyntheticOptions s;
  s.symbols = options.symbols;
  s.seed = options.seed;
  s.start = std::chrono::floor<std::chrono::minutes>(options.start.value_or(default_start));
  s.history = options.history;
  s.retention = std::max(options.retention, options.history + std::chrono::hours(24));
  return make_synthetic_source(s);
}

SimServer::SimServer(SimOptions options, std::unique_ptr<MarketSource> source, Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      market_(std::move(source)),
      exchange_(options_, market_),
      limits_(options_.ip_limit, options_.ip_window, options_.ip_ban),
      server_(options_.server, *this) {}

SimServer::~SimServer() { stop(); }

Status SimServer::start() {
  started_at_ = last_tick_ = clock_.now();
  next_update_ = last_tick_;
  if (auto s = server_.start(); !s) return s;
  server_.every(options_.tick, [this] { on_tick(); });
  return {};
}

void SimServer::stop() { server_.stop(); }

std::string SimServer::rest_url() const { return fmt::format("http://{}:{}", options_.server.address, port()); }
std::string SimServer::ws_url(std::string_view path) const {
  return fmt::format("ws://{}:{}{}", options_.server.address, port(), path);
}

// ---------------------------------------------------------------- tick

void SimServer::on_tick() {
  const Timestamp now = clock_.now();
  if (now <= last_tick_) return;
  const Timestamp prev = last_tick_;
  last_tick_ = now;
  run_periodic_faults(prev, now);
  run_matching(prev, now);
  push_kline_confirms(now);
  push_kline_updates(now);
  release_held(now);
  close_idle(now);
}

void SimServer::run_periodic_faults(Timestamp prev, Timestamp now) {
  const auto& f = options_.faults;
  auto open_ids = [&] {
    std::vector<std::uint64_t> ids;
    for (const auto& [id, s] : ws_) {
      if (s.session->is_open()) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  // Events fall on a grid of simulated time (k * every), so the schedule depends only on the clock.
  auto each_event = [&](Duration every, auto&& fn) {
    const auto n = every.count();
    for (std::int64_t k = prev.time_since_epoch().count() / n + 1, done = 0;
         k * n <= now.time_since_epoch().count() && done < 1000; ++k, ++done) {
      fn(k, Timestamp(Duration(k * n)));
    }
  };
  if (f.drop_every) {
    each_event(*f.drop_every, [&](std::int64_t k, Timestamp) {
      const auto ids = open_ids();
      if (ids.empty()) return;
      const auto id = ids[hash_combine(options_.seed, 0xD809, static_cast<std::uint64_t>(k)) % ids.size()];
      ++counters_.fault_drop;
      ws_.at(id).session->drop();
    });
  }
  if (f.stall_every) {
    each_event(*f.stall_every, [&](std::int64_t k, Timestamp at) {
      const auto ids = open_ids();
      if (ids.empty()) return;
      const auto id = ids[hash_combine(options_.seed, 0x57A1, static_cast<std::uint64_t>(k)) % ids.size()];
      ++counters_.fault_stall;
      auto& s = ws_.at(id);
      s.hold_until = std::max(s.hold_until, at + f.stall_for);
    });
  }
  if (f.refuse_every) {
    each_event(*f.refuse_every, [&](std::int64_t, Timestamp at) { refusing_until_ = at + f.refuse_for; });
  }
}

void SimServer::run_matching(Timestamp prev, Timestamp now) {
  std::vector<AccountUpdate> updates;
  // Copy the keys: fills change the map.
  std::vector<std::size_t> instruments;
  for (const auto& [i, n] : exchange_.resting_by_instrument()) instruments.push_back(i);
  for (const auto i : instruments) {
    points_scratch_.clear();
    market_.points_between(i, prev, now, points_scratch_);
    exchange_.on_prices(i, points_scratch_, updates);
  }
  if (!updates.empty()) push_account_updates(updates, now);
}

void SimServer::push_kline_confirms(Timestamp now) {
  for (auto& [key, t] : kline_topics_) {
    for (int guard = 0; t.next_close <= now && guard < 10'000; ++guard) {
      const Timestamp close = t.next_close;
      const Timestamp open = is_fixed_length(t.interval) ? close - interval_length(t.interval)
                                                         : interval_floor(t.interval, close - Duration(1));
      t.next_close = interval_next(t.interval, close);
      const auto c = market_.candle(t.instrument, t.interval, open, close);
      if (!c) continue;  // no data (replay gap or end)
      auto frame = std::make_shared<const std::string>(kline_push(t.name, t.interval_text, *c, ms_of(close) - 1, ms_of(close)));
      for (const auto id : t.sessions) {
        auto it = ws_.find(id);
        if (it == ws_.end()) continue;
        ++counters_.kline_confirm_pushes;
        ++counters_.kline_pushes;
        deliver(it->second, frame, true);
      }
    }
  }
}

void SimServer::push_kline_updates(Timestamp now) {
  if (now < next_update_) return;
  const Duration period = options_.effective_push_period();
  const auto n = period.count();
  const Timestamp grid = Timestamp(Duration(now.time_since_epoch().count() / n * n));
  next_update_ = grid + period;
  for (auto& [key, t] : kline_topics_) {
    const Timestamp open = interval_floor(t.interval, grid);
    const auto c = market_.candle(t.instrument, t.interval, open, grid);
    if (!c || c->closed) continue;
    const Timestamp end = interval_next(t.interval, open);
    auto frame = std::make_shared<const std::string>(kline_push(t.name, t.interval_text, *c, ms_of(end) - 1, ms_of(grid)));
    for (const auto id : t.sessions) {
      auto it = ws_.find(id);
      if (it == ws_.end()) continue;
      ++counters_.kline_pushes;
      deliver(it->second, frame, true);
    }
  }
}

void SimServer::release_held(Timestamp now) {
  for (auto& [id, s] : ws_) {
    while (!s.held.empty() && s.held.front().first <= now) {
      auto f = std::move(s.held.front().second);
      s.held_bytes -= f->size();
      s.held.pop_front();
      s.session->send(std::move(f));
    }
  }
}

void SimServer::close_idle(Timestamp now) {
  std::vector<std::shared_ptr<net::WsSession>> idle;
  for (auto& [id, s] : ws_) {
    if (now - s.last_activity > s.idle_limit) idle.push_back(s.session);
  }
  for (auto& s : idle) {
    ++counters_.ws_idle_closes;
    s->close(1000, "idle: no ping within the idle timeout");
  }
}

// ---------------------------------------------------------------- delivery and faults

void SimServer::send_now(WsState& s, const std::shared_ptr<const std::string>& frame) { s.session->send(frame); }

void SimServer::deliver(WsState& s, const std::shared_ptr<const std::string>& frame, bool is_push) {
  const auto& f = options_.faults;
  const Timestamp now = last_tick_;
  int copies = 1;
  // When this frame may leave: now, later if delayed or the session is stalled, and never
  // before the frames queued ahead of it (a delayed TCP stream stays in order).
  Timestamp release = now;
  if (is_push && (f.dup_probability > 0 || f.delay_probability > 0)) {
    const std::uint64_t n = ++push_counter_;
    if (f.dup_probability > 0 && unit_from(hash_combine(options_.seed, 0xD0B, n)) < f.dup_probability) {
      ++counters_.fault_dup;
      copies = 2;
    }
    if (f.delay_probability > 0 && unit_from(hash_combine(options_.seed, 0xDE1A, n)) < f.delay_probability) {
      ++counters_.fault_delay;
      release = now + f.delay_for;
    }
  }
  if (now < s.hold_until) release = std::max(release, s.hold_until);
  if (!s.held.empty()) release = std::max(release, s.held.back().first);
  for (int c = 0; c < copies; ++c) {
    if (release > now || !s.held.empty()) {
      // Held back: bounded like the send queue; overflow closes the session (slow consumer).
      s.held_bytes += frame->size();
      if (s.held_bytes > options_.server.ws_send_queue_bytes) {
        s.held.clear();
        s.held_bytes = 0;
        s.session->close(1008, "slow consumer: send queue full");
        return;
      }
      s.held.emplace_back(release, frame);
    } else {
      send_now(s, frame);
    }
  }
}

bool SimServer::on_accept(std::string_view) {
  if (clock_.now() < refusing_until_) {
    ++counters_.fault_refused;
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- WebSocket

std::optional<HttpResponse> SimServer::on_ws_upgrade(const HttpRequest& request) {
  if (request.path == kPathLinear || request.path == kPathSpot || request.path == kPathPrivate || request.path == kPathTrade) {
    return std::nullopt;
  }
  ++counters_.rest_not_found;
  return plain(404, "Not Found");
}

void SimServer::on_ws_open(const std::shared_ptr<net::WsSession>& session) {
  WsState s;
  s.session = session;
  const auto& path = session->upgrade().path;
  s.channel = path == kPathSpot      ? WsChannel::spot
              : path == kPathPrivate ? WsChannel::private_
              : path == kPathTrade   ? WsChannel::trade
                                     : WsChannel::linear;
  const std::uint64_t h = hash_combine(options_.seed, 0xC044, session->id());
  s.conn_id = fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", h >> 32, (h >> 16) & 0xffff, h & 0xffff,
                          mix64(h) >> 48, mix64(h) & 0xffffffffffffULL);
  s.last_activity = clock_.now();
  s.idle_limit = options_.effective_idle_timeout();
  if (s.channel == WsChannel::private_) {
    // ?max_active_time=30s..600s (Bybit's private-stream option) replaces the 10-minute base.
    for (const auto& [k, v] : net::parse_query(session->upgrade().query)) {
      if (k != "max_active_time") continue;
      if (auto d = parse_duration(v); d && *d >= std::chrono::seconds(30) && *d <= std::chrono::seconds(600)) {
        const auto floor_real = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(30.0 * options_.speed));
        s.idle_limit = std::max(*d, floor_real);
      }
    }
  }
  ws_.emplace(session->id(), std::move(s));
}

void SimServer::on_ws_close(const std::shared_ptr<net::WsSession>& session, std::string_view) {
  auto it = ws_.find(session->id());
  if (it == ws_.end()) return;
  for (const auto& topic : it->second.topics) {
    const std::string key = (it->second.channel == WsChannel::spot ? "S|" : "L|") + topic;
    auto t = kline_topics_.find(key);
    if (t == kline_topics_.end()) continue;
    std::erase(t->second.sessions, session->id());
    if (t->second.sessions.empty()) kline_topics_.erase(t);
  }
  ws_.erase(it);
}

void SimServer::on_ws_message(const std::shared_ptr<net::WsSession>& session, std::string_view text) {
  auto it = ws_.find(session->id());
  if (it == ws_.end()) return;
  WsState& s = it->second;
  s.last_activity = clock_.now();
  auto msg = parse_flat_json(text);
  if (!msg) {
    ++counters_.ws_errors;
    reply(s, ws_op_reply(s.channel, false, "error:request not json", s.conn_id, std::nullopt, ""));
    return;
  }
  if (s.channel == WsChannel::trade) return handle_trade(s, *msg);
  std::optional<std::string> req_id_store;
  if (const JsonField* r = msg->find("req_id"); r && (r->kind == JsonKind::string || r->kind == JsonKind::number)) {
    req_id_store = r->text;
  }
  const std::optional<std::string_view> req_id =
      req_id_store ? std::optional<std::string_view>(*req_id_store) : std::nullopt;
  const auto op = msg->string("op");
  if (!op) {
    ++counters_.ws_errors;
    reply(s, ws_op_reply(s.channel, false, "error:op is required", s.conn_id, req_id, ""));
    return;
  }
  if (*op == "ping") {
    if (s.channel == WsChannel::private_) {
      reply(s, ws_private_pong(req_id, ms_of(clock_.now()), s.conn_id));
    } else {
      reply(s, ws_op_reply(s.channel, true, "pong", s.conn_id, req_id, "ping"));
    }
  } else if (*op == "subscribe" || *op == "unsubscribe") {
    handle_subscribe(s, *op == "subscribe", *msg, req_id);
  } else if (*op == "auth" && s.channel == WsChannel::private_) {
    handle_auth(s, *msg, req_id);
  } else {
    ++counters_.ws_errors;
    reply(s, ws_op_reply(s.channel, false, fmt::format("error:unsupported op: {}", *op), s.conn_id, req_id, *op));
  }
}

std::expected<std::size_t, SimServer::AuthRefusal> SimServer::ws_auth_account(const FlatJson& msg) const {
  const JsonField* args = msg.find("args");
  if (!args || args->kind != JsonKind::array || args->items.size() != 3 || args->item_kinds[0] != JsonKind::string ||
      args->item_kinds[2] != JsonKind::string) {
    return std::unexpected(AuthRefusal{10001, "Params Error"});
  }
  const auto expires = parse_int(args->items[1]);
  if (!expires) return std::unexpected(AuthRefusal{10001, "Params Error"});
  const auto account = exchange_.account_by_key(args->items[0]);
  if (!account) return std::unexpected(AuthRefusal{10003, "Invalid apikey"});
  // Like the REST receive window: the grace is real time at any --speed.
  const auto grace = static_cast<std::int64_t>(1000 * (std::max(1.0, options_.speed) - 1));
  if (*expires + grace <= ms_of(clock_.now())) return std::unexpected(AuthRefusal{10002, "Request expired"});
  const std::string expected = bybit::ws_auth_signature(exchange_.account(*account).config.api_secret, *expires);
  if (!net::constant_time_equal(expected, args->items[2])) return std::unexpected(AuthRefusal{10004, "Signature error"});
  return *account;
}

void SimServer::handle_auth(WsState& s, const FlatJson& msg, std::optional<std::string_view> req_id) {
  auto account = ws_auth_account(msg);
  if (!account) {
    ++counters_.ws_errors;
    ++counters_.auth_failures[account.error().code];
    return reply(s, ws_op_reply(s.channel, false, account.error().text, s.conn_id, req_id, "auth"));
  }
  s.account = *account;
  reply(s, ws_op_reply(s.channel, true, "", s.conn_id, req_id, "auth"));
}

void SimServer::handle_trade(WsState& s, const FlatJson& msg) {
  std::optional<std::string> req_id;
  if (const JsonField* r = msg.find("reqId"); r && (r->kind == JsonKind::string || r->kind == JsonKind::number)) req_id = r->text;
  const Timestamp now = clock_.now();
  const std::int64_t now_ms = ms_of(now);
  const auto op = msg.string("op").value_or("");
  // counted: route_authed has counted the retCode already.
  auto answer = [&](int code, std::string_view ret_msg, std::string_view data = {}, std::string_view header = {},
                    bool counted = false) {
    if (code != 0) {
      ++counters_.ws_errors;
      if (!counted) ++counters_.ret_codes[code];
    }
    std::string frame = ws_trade_reply(req_id, code, ret_msg, op, data, header, s.conn_id);
    if (options_.latency.count() == 0) return reply(s, std::move(frame));
    server_.after(options_.latency, [this, id = s.session->id(), frame = std::move(frame)]() mutable {
      if (auto it = ws_.find(id); it != ws_.end()) reply(it->second, std::move(frame));
    });
  };
  if (op == "ping") {
    ++counters_.ws_replies;
    JsonWriter w;
    w.begin_object().field("retCode", 0).field("retMsg", "OK").field("op", "pong");
    w.key("data").begin_array().value(std::to_string(now_ms)).end_array().field("connId", s.conn_id).end_object();
    return deliver(s, std::make_shared<const std::string>(w.take()), false);
  }
  if (op == "auth") {
    if (s.account) return answer(20001, "Repeat auth");
    auto account = ws_auth_account(msg);
    if (!account) {
      ++counters_.auth_failures[account.error().code];
      return answer(account.error().code, account.error().text);
    }
    s.account = *account;
    return answer(0, "OK");
  }
  if (op != "order.create" && op != "order.cancel") {
    return answer(10404, op == "order.amend" ? "order.amend is not supported by twinstar sim" : "op type is not found");
  }
  if (!s.account) return answer(10003, "Please auth first");
  // header.X-BAPI-TIMESTAMP (required) and X-BAPI-RECV-WINDOW: the REST receive window.
  const JsonField* header = msg.find("header");
  std::optional<FlatJson> h;
  if (header && header->kind == JsonKind::object) {
    if (auto parsed = parse_flat_json(header->text)) h = std::move(*parsed);
  }
  const auto ts_text = h ? h->string(bybit::kHeaderTimestamp) : std::nullopt;
  if (!ts_text) return answer(10001, "params error: header.X-BAPI-TIMESTAMP is required");
  const auto rw_text = h->string(bybit::kHeaderRecvWindow).value_or("5000");
  if (auto late = recv_window_error(*ts_text, rw_text, now_ms, options_.speed)) return answer(10002, *late);
  const JsonField* args = msg.find("args");
  if (!args || args->kind != JsonKind::array || args->items.size() != 1 || args->item_kinds[0] != JsonKind::object) {
    return answer(10001, "params error: args must hold one order object");
  }
  ++counters_.ws_orders;
  // The same path as the REST call: limits, validation, matching, pushes.
  HttpRequest request;
  request.method = "POST";
  request.path = op == "order.create" ? "/v5/order/create" : "/v5/order/cancel";
  request.body = args->items[0];
  const HttpResponse r = route_authed(*s.account, request, now);
  auto envelope = parse_flat_json(r.body);
  if (!envelope) return answer(10016, "internal server error");
  const JsonField* code = envelope->find("retCode");
  const int ret_code = code ? static_cast<int>(parse_int(code->text).value_or(10016)) : 10016;
  const JsonField* result = envelope->find("result");
  JsonWriter hw;
  hw.begin_object();
  for (const auto& [name, value] : r.headers) {
    if (name.starts_with("X-Bapi-Limit")) hw.field(name, value);
  }
  hw.field("Traceid", fmt::format("{:032x}", hash_combine(options_.seed, 0x7ADE, counters_.ws_orders)));
  hw.field("Timenow", std::to_string(now_ms)).end_object();
  // order.create/cancel answer {"orderId","orderLinkId"} as REST's result; errors carry "{}".
  answer(ret_code, envelope->string("retMsg").value_or(""), result && result->kind == JsonKind::object ? result->text : "{}",
         hw.take(), true);
}

void SimServer::handle_subscribe(WsState& s, bool subscribe, const FlatJson& msg, std::optional<std::string_view> req_id) {
  const std::string_view op = subscribe ? "subscribe" : "unsubscribe";
  auto fail = [&](std::string ret_msg) {
    ++counters_.ws_errors;
    reply(s, ws_op_reply(s.channel, false, ret_msg, s.conn_id, req_id, op));
  };
  const JsonField* args = msg.find("args");
  if (!args || args->kind != JsonKind::array ||
      std::any_of(args->item_kinds.begin(), args->item_kinds.end(), [](JsonKind k) { return k != JsonKind::string; })) {
    return fail("error:args must be an array of topic strings");
  }
  if (s.channel == WsChannel::spot && args->items.size() > options_.spot_max_args) {
    return fail(fmt::format("error:args size >{}", options_.spot_max_args));
  }
  std::size_t chars = 0;
  for (const auto& a : args->items) chars += a.size() + 3;  // quotes and comma, as in the frame
  if (chars > options_.max_ws_args_chars) return fail(fmt::format("error:args length >{}", options_.max_ws_args_chars));

  if (s.channel == WsChannel::private_) {
    if (!s.account) return fail("Request not authorized");
    static const std::vector<std::string_view> kAllInOne = {"order", "execution", "position", "wallet"};
    static const std::vector<std::string_view> kPerCategory = {"order.spot", "order.linear", "execution.spot",
                                                               "execution.linear", "position.linear"};
    bool all_in_one = false, per_category = false;
    for (const auto& a : args->items) {
      const bool aio = std::find(kAllInOne.begin(), kAllInOne.end(), a) != kAllInOne.end();
      const bool pc = std::find(kPerCategory.begin(), kPerCategory.end(), a) != kPerCategory.end();
      if (!aio && !pc) return fail(fmt::format("error:handler not found,topic:{}", a));
      all_in_one |= aio && a != "wallet";
      per_category |= pc;
    }
    if (all_in_one && per_category) return fail("error:cannot mix the all-in-one and per-category topics in one request");
    for (const auto& a : args->items) {
      auto it = std::find(s.topics.begin(), s.topics.end(), a);
      if (subscribe && it == s.topics.end()) s.topics.push_back(a);
      if (!subscribe && it != s.topics.end()) s.topics.erase(it);
    }
    reply(s, ws_op_reply(s.channel, true, "", s.conn_id, req_id, op));
    return;
  }

  // Public: kline.{interval}.{symbol}; every topic is checked before any is applied.
  struct Parsed {
    std::string name;
    Interval interval;
    std::size_t instrument;
  };
  std::vector<Parsed> parsed;
  const twinstar::Market mkt = s.channel == WsChannel::spot ? twinstar::Market::spot : twinstar::Market::linear;
  for (const auto& a : args->items) {
    const auto d1 = a.find('.');
    const auto d2 = d1 == std::string::npos ? std::string::npos : a.find('.', d1 + 1);
    if (d2 == std::string::npos || a.substr(0, d1) != "kline") return fail(fmt::format("error:handler not found,topic:{}", a));
    const std::string iv = a.substr(d1 + 1, d2 - d1 - 1);
    const std::string sym = a.substr(d2 + 1);
    auto interval = parse_venue_interval(twinstar::Exchange::bybit, mkt, iv);
    if (!interval || !market_.supports(*interval)) return fail(fmt::format("error:handler not found,topic:{}", a));
    const auto inst = market_.find(sym);
    if (!inst) return fail(fmt::format("error:Invalid symbol :[{}]", a));
    const bool already = std::find(s.topics.begin(), s.topics.end(), a) != s.topics.end();
    if (subscribe && already) return fail(fmt::format("error:already subscribed,topic:{}", a));
    parsed.push_back({a, *interval, *inst});
  }
  if (subscribe && s.topics.size() + parsed.size() > options_.max_topics_per_connection) {
    return fail(fmt::format("error:too many topics on one connection (max {})", options_.max_topics_per_connection));
  }
  const std::string prefix = s.channel == WsChannel::spot ? "S|" : "L|";
  const Timestamp now = clock_.now();
  for (const auto& p : parsed) {
    const std::string key = prefix + p.name;
    if (subscribe) {
      s.topics.push_back(p.name);
      auto [it, inserted] = kline_topics_.try_emplace(key);
      KlineTopic& t = it->second;
      if (inserted) {
        t.channel = s.channel;
        t.interval = p.interval;
        t.interval_text = std::string(*venue_interval(twinstar::Exchange::bybit, mkt, p.interval));
        t.instrument = p.instrument;
        t.name = p.name;
        t.next_close = interval_next(p.interval, interval_floor(p.interval, std::max(now, last_tick_)));
      }
      t.sessions.push_back(s.session->id());
    } else {
      auto pos = std::find(s.topics.begin(), s.topics.end(), p.name);
      if (pos == s.topics.end()) continue;
      s.topics.erase(pos);
      auto it = kline_topics_.find(key);
      if (it == kline_topics_.end()) continue;
      std::erase(it->second.sessions, s.session->id());
      if (it->second.sessions.empty()) kline_topics_.erase(it);
    }
  }
  reply(s, ws_op_reply(s.channel, true, s.channel == WsChannel::spot ? op : "", s.conn_id, req_id, op));
}

void SimServer::push_account_updates(const std::vector<AccountUpdate>& updates, Timestamp now) {
  const auto now_ms = ms_of(now);
  auto push_id = [&] {
    const std::uint64_t h = hash_combine(options_.seed, 0x9054, ++push_id_counter_);
    return fmt::format("{:x}-{:x}", h >> 20, mix64(h) >> 40);
  };
  for (const auto& u : updates) {
    const auto symbol_of = [&](std::size_t i) { return market_.instruments()[i].symbol.view(); };
    // Encoded once per topic, then sent to every private session of the account that wants it.
    auto build = [&](std::string_view topic, std::string_view category_filter) -> std::string {
      JsonWriter items;
      bool any = false;
      auto sep = [&] {
        if (any) items.raw(",");
        any = true;
      };
      (void)sep;
      std::string data;
      const auto matches = [&](Category c) { return category_filter.empty() || to_string(c) == category_filter; };
      if (topic.starts_with("order")) {
        for (const auto& o : u.orders) {
          if (!matches(o.category)) continue;
          JsonWriter w;
          write_order(w, o, symbol_of(o.instrument));
          data += (data.empty() ? "" : ",") + w.take();
        }
      } else if (topic.starts_with("execution")) {
        for (const auto& e : u.executions) {
          if (!matches(e.category)) continue;
          JsonWriter w;
          write_execution(w, e, symbol_of(e.instrument));
          data += (data.empty() ? "" : ",") + w.take();
        }
      } else if (topic.starts_with("position")) {
        for (const auto& p : u.positions) {
          JsonWriter w;
          const Price mark = market_.price_at(p.instrument, now);
          write_position(w, p, symbol_of(p.instrument), mark, exchange_.unrealised(p, mark), exchange_.leverage());
          data += (data.empty() ? "" : ",") + w.take();
        }
      } else if (topic == "wallet" && u.wallet) {
        JsonWriter w;
        write_wallet(w, exchange_.wallet_view(u.account, now), now_ms);
        data = w.take();
      }
      if (data.empty()) return {};
      return private_push(push_id(), topic, now_ms, data);
    };
    std::map<std::string, std::shared_ptr<const std::string>> frames;
    for (auto& [id, s] : ws_) {
      if (s.channel != WsChannel::private_ || s.account != u.account) continue;
      for (const auto& topic : s.topics) {
        auto f = frames.find(topic);
        if (f == frames.end()) {
          const auto dot = topic.find('.');
          const std::string_view cat = dot == std::string::npos ? std::string_view() : std::string_view(topic).substr(dot + 1);
          std::string body = build(std::string_view(topic).substr(0, dot), cat);
          // The per-category topic pushes carry their own topic name.
          if (!body.empty() && dot != std::string::npos) {
            const std::string from = fmt::format(R"("topic":"{}")", topic.substr(0, dot));
            const auto at = body.find(from);
            if (at != std::string::npos) body.replace(at, from.size(), fmt::format(R"("topic":"{}")", topic));
          }
          f = frames.emplace(topic, body.empty() ? nullptr : std::make_shared<const std::string>(std::move(body))).first;
        }
        if (f->second) {
          ++counters_.private_pushes;
          deliver(s, f->second, true);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- REST

HttpResponse SimServer::on_http(const HttpRequest& request) {
  if (request.path == "/sim/stats") return stats_response(clock_.now());
  HttpResponse r = answer_http(request);
  if (options_.latency.count() > 0 && !r.hang_for) r.delay = options_.latency;
  return r;
}

HttpResponse SimServer::answer_http(const HttpRequest& request) {
  const Timestamp now = clock_.now();
  ++counters_.rest_requests;
  if (!limits_.admit_ip(request.remote_ip, now)) {
    // Bybit: HTTP 403 "access too frequent"; the IP is banned for a while (see --ip-ban).
    return plain(403, "access too frequent");
  }
  const auto& f = options_.faults;
  if (f.rest_5xx_probability > 0 || f.timeout_probability > 0) {
    const std::uint64_t n = ++rest_counter_;
    if (f.rest_5xx_probability > 0 && unit_from(hash_combine(options_.seed, 0x5005, n)) < f.rest_5xx_probability) {
      ++counters_.fault_5xx;
      return plain(503, "503 Service Temporarily Unavailable");
    }
    if (f.timeout_probability > 0 && unit_from(hash_combine(options_.seed, 0x7130, n)) < f.timeout_probability) {
      ++counters_.fault_timeout;
      HttpResponse r;
      const double real_ms = std::chrono::duration<double, std::milli>(f.timeout_hold).count() / options_.speed;
      r.hang_for = std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(real_ms)));
      return r;
    }
  }
  if (request.path.starts_with("/v5/market/")) {
    ++counters_.rest_public;
    return route_public(request, now);
  }
  ++counters_.rest_private;
  return route_private(request, now);
}

HttpResponse SimServer::route_public(const HttpRequest& request, Timestamp now) {
  const auto now_ms = ms_of(now);
  auto error = [&](int code, std::string_view msg) {
    ++counters_.ret_codes[code];
    return json_response(rest_error(code, msg, now_ms));
  };
  const std::string_view path = request.path;
  static constexpr std::string_view kKnown[] = {"/v5/market/time", "/v5/market/kline", "/v5/market/instruments-info",
                                                "/v5/market/tickers", "/v5/market/orderbook"};
  if (request.method != "GET" || std::find(std::begin(kKnown), std::end(kKnown), path) == std::end(kKnown)) {
    ++counters_.rest_not_found;
    return plain(404, "Not Found");
  }
  const auto params = Params::from(request);
  if (path == "/v5/market/time") {
    JsonWriter w;
    w.begin_object().field("timeSecond", std::to_string(now_ms / 1000));
    w.field("timeNano", std::to_string(now.time_since_epoch().count())).end_object();
    return json_response(rest_ok(w.str(), now_ms));
  }
  const std::string_view category_text = params->get("category").value_or(path == "/v5/market/kline" ? "linear" : "");
  if (category_text.empty()) return error(10001, "params error: category is required");
  const auto category = parse_category(category_text);
  if (!category) return error(10001, "params error: Illegal category");
  const twinstar::Market mkt = *category == Category::spot ? twinstar::Market::spot : twinstar::Market::linear;
  const auto symbol_param = params->get("symbol");
  std::optional<std::size_t> only;
  if (symbol_param) {
    only = market_.find(*symbol_param);
    if (!only) return error(10001, path == "/v5/market/kline" ? "Not supported symbols" : "params error: symbol invalid");
  }
  const auto& specs = market_.instruments();

  if (path == "/v5/market/kline") {
    if (!only) return error(10001, "params error: symbol is required");
    const auto iv_text = params->get("interval");
    if (!iv_text) return error(10001, "params error: interval is required");
    auto interval = parse_venue_interval(twinstar::Exchange::bybit, mkt, *iv_text);
    if (!interval) return error(10001, "Invalid period!");
    std::int64_t limit = 200;
    if (auto l = params->get("limit")) {
      auto v = parse_int(*l);
      if (!v || *v < 1 || *v > 1000) return error(10001, "params error: limit must be an integer in [1, 1000]");
      limit = *v;
    }
    Timestamp start = Timestamp::min() + std::chrono::hours(24 * 366);
    Timestamp end = now;
    if (auto sv = params->get("start")) {
      auto v = parse_int(*sv);
      if (!v || *v < 0) return error(10001, "params error: start must be a timestamp in ms");
      start = Timestamp(from_epoch_ms(*v));
    }
    if (auto ev = params->get("end")) {
      auto v = parse_int(*ev);
      if (!v || *v < 0) return error(10001, "params error: end must be a timestamp in ms");
      end = Timestamp(from_epoch_ms(*v));
    }
    std::vector<Candle> rows;
    if (market_.supports(*interval)) rows = market_.klines(*only, *interval, start, end, static_cast<std::size_t>(limit), now);
    return json_response(rest_ok(kline_result(specs[*only].symbol.view(), category_text, rows), now_ms));
  }

  if (path == "/v5/market/instruments-info") {
    JsonWriter w;
    w.begin_object().field("category", category_text).key("list").begin_array();
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (only && *only != i) continue;
      const auto& s = specs[i];
      w.begin_object().field("symbol", s.symbol.view());
      if (mkt == twinstar::Market::linear) w.field("contractType", "LinearPerpetual");
      const bool closed = std::find(options_.closed_symbols.begin(), options_.closed_symbols.end(), s.symbol.view()) !=
                          options_.closed_symbols.end();
      w.field("status", closed ? "Closed" : "Trading").field("baseCoin", s.base_coin).field("quoteCoin", s.quote_coin);
      if (mkt == twinstar::Market::linear) {
        w.field("launchTime", std::to_string(ms_of(market_.source().history_begin()))).field("deliveryTime", "0");
        w.field("deliveryFeeRate", "").field("priceScale", std::to_string(s.price_scale));
        w.key("leverageFilter").begin_object().field("minLeverage", "1").field("maxLeverage", "100.00");
        w.field("leverageStep", "0.01").end_object();
        w.key("priceFilter").begin_object().field("minPrice", s.tick_size.to_string(s.price_scale));
        w.field("maxPrice", Price::from_raw(s.tick_size.raw() * 199'999'980).to_string(s.price_scale));
        w.field("tickSize", s.tick_size.to_string(s.price_scale)).end_object();
        w.key("lotSizeFilter").begin_object().field("maxOrderQty", s.max_qty).field("minOrderQty", s.min_qty);
        w.field("qtyStep", s.qty_step).field("postOnlyMaxOrderQty", s.max_qty).field("maxMktOrderQty", s.max_qty);
        w.field("minNotionalValue", s.min_notional).end_object();
        w.field("unifiedMarginTrade", true).field("fundingInterval", 480).field("settleCoin", "USDT");
        w.field("copyTrading", "both").field("upperFundingRate", "0.00375").field("lowerFundingRate", "-0.00375");
      } else {
        w.field("innovation", "0").field("marginTrading", "both");
        w.key("lotSizeFilter").begin_object().field("basePrecision", s.qty_step).field("quotePrecision", "0.00000001");
        w.field("minOrderQty", s.min_qty).field("maxOrderQty", s.max_qty).field("minOrderAmt", "1");
        w.field("maxOrderAmt", "2000000").end_object();
        w.key("priceFilter").begin_object().field("tickSize", s.tick_size.to_string(s.price_scale)).end_object();
      }
      w.end_object();
    }
    w.end_array().field("nextPageCursor", "").end_object();
    return json_response(rest_ok(w.str(), now_ms));
  }

  if (path == "/v5/market/tickers") {
    JsonWriter w;
    w.begin_object().field("category", category_text).key("list").begin_array();
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (only && *only != i) continue;
      const auto& s = specs[i];
      const Price last = market_.price_at(i, now);
      const auto day = market_.candle(i, Interval::m1, now - std::chrono::hours(24), now);
      // 24h figures from the last 24 hourly-aligned candles of the base path.
      Price high = last, low = last, prev24 = market_.price_at(i, now - std::chrono::hours(24));
      Quantity vol;
      Money turn;
      for (const auto& c : market_.klines(i, Interval::h1, now - std::chrono::hours(24), now, 25, now)) {
        high = std::max(high, c.high);
        low = std::min(low, c.low);
        vol += c.volume;
        turn += c.turnover;
      }
      (void)day;
      if (prev24.is_zero()) prev24 = last;
      const double pct = prev24.is_zero() ? 0.0 : last.to_double() / prev24.to_double() - 1.0;
      const Price half_spread = s.tick_size;
      w.begin_object().field("symbol", s.symbol.view()).field("lastPrice", last);
      if (mkt == twinstar::Market::linear) w.field("indexPrice", last).field("markPrice", last);
      w.field("prevPrice24h", prev24).field("price24hPcnt", fmt::format("{:.6f}", pct));
      w.field("highPrice24h", high).field("lowPrice24h", low);
      if (mkt == twinstar::Market::linear) {
        w.field("prevPrice1h", market_.price_at(i, now - std::chrono::hours(1)));
        w.field("openInterest", "0").field("openInterestValue", "0");
      }
      w.field("turnover24h", turn).field("volume24h", vol);
      if (mkt == twinstar::Market::linear) {
        w.field("fundingRate", "0.0001");
        const auto next_funding = (now_ms / 28'800'000 + 1) * 28'800'000;
        w.field("nextFundingTime", std::to_string(next_funding)).field("predictedDeliveryPrice", "");
        w.field("basisRate", "").field("deliveryFeeRate", "").field("deliveryTime", "0");
      }
      w.field("bid1Price", last - half_spread).field("bid1Size", s.min_qty * 10);
      w.field("ask1Price", last + half_spread).field("ask1Size", s.min_qty * 10);
      w.end_object();
    }
    w.end_array().end_object();
    return json_response(rest_ok(w.str(), now_ms));
  }

  if (path == "/v5/market/orderbook") {
    if (!only) return error(10001, "params error: symbol is required");
    const std::int64_t max_depth = mkt == twinstar::Market::spot ? 200 : 500;
    std::int64_t depth = mkt == twinstar::Market::spot ? 1 : 25;
    if (auto l = params->get("limit")) {
      auto v = parse_int(*l);
      if (!v || *v < 1 || *v > max_depth) return error(10001, fmt::format("params error: limit must be in [1, {}]", max_depth));
      depth = *v;
    }
    // A synthetic book: levels one tick apart around the last price, sizes seeded by time.
    const auto& s = specs[*only];
    const Price last = market_.price_at(*only, now);
    auto size_at = [&](std::int64_t level, bool bid) {
      const auto h = hash_combine(options_.seed, static_cast<std::uint64_t>(now_ms / 1000) * 1024 + level, bid ? 1 : 2);
      return Quantity::from_raw(s.min_qty.raw() * static_cast<std::int64_t>(1 + h % 200));
    };
    JsonWriter w;
    w.begin_object().field("s", s.symbol.view()).key("b").begin_array();
    for (std::int64_t k = 1; k <= depth; ++k) {
      const Price p = Price::from_raw(last.raw() - s.tick_size.raw() * k);
      if (!p.is_positive()) break;
      w.begin_array().value(p).value(size_at(k, true)).end_array();
    }
    w.end_array().key("a").begin_array();
    for (std::int64_t k = 1; k <= depth; ++k) {
      w.begin_array().value(Price::from_raw(last.raw() + s.tick_size.raw() * k)).value(size_at(k, false)).end_array();
    }
    w.end_array().field("ts", now_ms).field("u", now_ms / 100).field("seq", now_ms / 10).field("cts", now_ms);
    w.end_object();
    return json_response(rest_ok(w.str(), now_ms));
  }
  ++counters_.rest_not_found;
  return plain(404, "Not Found");
}

HttpResponse SimServer::route_private(const HttpRequest& request, Timestamp now) {
  const auto now_ms = ms_of(now);
  struct Route {
    std::string_view path;
    std::string_view method;
  };
  static constexpr Route kRoutes[] = {
      {"/v5/order/create", "POST"},     {"/v5/order/cancel", "POST"},          {"/v5/order/realtime", "GET"},
      {"/v5/order/history", "GET"},     {"/v5/position/list", "GET"},          {"/v5/account/wallet-balance", "GET"},
      {"/v5/account/info", "GET"},      {"/v5/user/query-api", "GET"},         {"/v5/execution/list", "GET"},
  };
  const auto route = std::find_if(std::begin(kRoutes), std::end(kRoutes), [&](const Route& r) { return r.path == request.path; });
  if (route == std::end(kRoutes) || route->method != request.method) {
    ++counters_.rest_not_found;
    return plain(404, "Not Found");
  }
  auto error = [&](int code, std::string_view msg) {
    ++counters_.ret_codes[code];
    return json_response(rest_error(code, msg, now_ms));
  };
  auto auth_error = [&](int code, std::string_view msg) {
    ++counters_.auth_failures[code];
    return error(code, msg);
  };

  // Authentication (exchange-api.md §1.4): key, then the time window, then the signature.
  const std::string_view key = request.header(bybit::kHeaderApiKey);
  const std::string_view ts_text = request.header(bybit::kHeaderTimestamp);
  const std::string_view sign = request.header(bybit::kHeaderSign);
  std::string_view rw_text = request.header(bybit::kHeaderRecvWindow);
  if (rw_text.empty()) rw_text = "5000";
  const auto account_index = exchange_.account_by_key(key);
  if (key.empty() || !account_index) return auth_error(10003, "API key is invalid.");
  if (auto late = recv_window_error(ts_text, rw_text, now_ms, options_.speed)) return auth_error(10002, *late);
  const Account& signer = exchange_.account(*account_index);
  const std::string_view payload = request.method == "GET" ? std::string_view(request.query) : std::string_view(request.body);
  const std::string expected = bybit::rest_signature(signer.config.api_secret, ts_text, key, rw_text, payload);
  if (!net::constant_time_equal(expected, sign)) {
    return auth_error(10004, fmt::format("error sign! origin_string[{}]", bybit::rest_sign_payload(ts_text, key, rw_text, payload)));
  }
  return route_authed(*account_index, request, now);
}

HttpResponse SimServer::route_authed(std::size_t account, const HttpRequest& request, Timestamp now) {
  const auto now_ms = ms_of(now);
  const std::optional<std::size_t> account_index = account;
  const Account& acc = exchange_.account(account);
  auto error = [&](int code, std::string_view msg) {
    ++counters_.ret_codes[code];
    return json_response(rest_error(code, msg, now_ms));
  };

  const auto params = Params::from(request);
  const std::string_view category_text = params ? params->get("category").value_or("") : "";
  const auto category = parse_category(category_text);

  // Per-UID per-endpoint 1 s windows (exchange-api.md §1.3).
  int limit = options_.query_limit;
  std::string endpoint(request.path);
  if (request.path == "/v5/order/create" || request.path == "/v5/order/cancel") {
    const bool create = request.path == "/v5/order/create";
    const bool spot = category == Category::spot;
    limit = create ? (spot ? options_.order_create_spot : options_.order_create_linear)
                   : (spot ? options_.order_cancel_spot : options_.order_cancel_linear);
    endpoint += spot ? ":spot" : ":linear";
  }
  const auto decision = limits_.admit_uid(acc.config.uid, endpoint, limit, now);
  auto with_limit_headers = [&](HttpResponse r) {
    r.headers.push_back({"X-Bapi-Limit-Status", std::to_string(decision.remaining)});
    r.headers.push_back({"X-Bapi-Limit", std::to_string(decision.limit)});
    r.headers.push_back({"X-Bapi-Limit-Reset-Timestamp", std::to_string(decision.reset_ms)});
    return r;
  };
  if (!decision.allowed) return with_limit_headers(error(10006, "Too many visits!"));
  if (!params) return with_limit_headers(error(10001, "params error: the body is not a JSON object"));

  const std::string_view path = request.path;
  auto list_result = [&](std::string_view cat, const std::string& items) {
    std::string r = R"({"category":)";
    append_json_string(r, cat);
    r += R"(,"list":[)" + items + R"(],"nextPageCursor":""})";
    return r;
  };
  auto limit_param = [&](std::int64_t def, std::int64_t max) -> std::optional<std::int64_t> {
    const auto l = params->get("limit");
    if (!l) return def;
    auto v = parse_int(*l);
    if (!v || *v < 1 || *v > max) return std::nullopt;
    return *v;
  };
  const std::string_view symbol_filter = params->get("symbol").value_or("");

  if (path == "/v5/account/info") {
    JsonWriter w;
    w.begin_object().field("unifiedMarginStatus", 4).field("marginMode", "REGULAR_MARGIN").field("isMasterTrader", false);
    w.field("spotHedgingStatus", "OFF").field("updatedTime", std::to_string(ms_of(started_at_))).end_object();
    return with_limit_headers(json_response(rest_ok(w.str(), now_ms)));
  }
  if (path == "/v5/user/query-api") {
    JsonWriter w;
    w.begin_object().field("id", std::to_string(acc.config.uid * 10 + 7)).field("note", acc.config.name);
    w.field("apiKey", acc.config.api_key).field("readOnly", 0).field("secret", "");
    w.key("permissions").begin_object();
    for (const auto* p : {"ContractTrade", "Spot", "Wallet", "Options", "Derivatives", "CopyTrading", "BlockTrade",
                          "Exchange", "NFT", "Affiliate"}) {
      w.key(p).begin_array();
      if (std::string_view(p) == "ContractTrade") w.value("Order").value("Position");
      if (std::string_view(p) == "Spot") w.value("SpotTrade");
      if (std::string_view(p) == "Wallet") w.value("AccountTransfer");
      w.end_array();
    }
    w.end_object();
    w.key("ips").begin_array().value("*").end_array();
    w.field("type", 1).field("deadlineDay", -1).field("expiredAt", "").field("createdAt", format_iso8601(started_at_));
    w.field("unified", 0).field("uta", 1).field("userID", acc.config.uid).field("inviterID", 0);
    w.field("vipLevel", "No VIP").field("mktMakerLevel", "0").field("affiliateID", 0).field("rsaPublicKey", "");
    w.field("isMaster", true).field("parentUid", "0").field("kycLevel", "LEVEL_DEFAULT").field("kycRegion", "");
    w.end_object();
    return with_limit_headers(json_response(rest_ok(w.str(), now_ms)));
  }
  if (path == "/v5/account/wallet-balance") {
    const auto type = params->get("accountType");
    if (!type || *type != "UNIFIED") return with_limit_headers(error(10001, "accountType only support UNIFIED."));
    JsonWriter w;
    w.begin_object().key("list").begin_array();
    write_wallet(w, exchange_.wallet_view(*account_index, now), now_ms);
    w.end_array().end_object();
    return with_limit_headers(json_response(rest_ok(w.str(), now_ms)));
  }

  if (!category) {
    return with_limit_headers(error(10001, category_text.empty() ? "params error: category is required"
                                                                 : "params error: Illegal category"));
  }
  std::vector<AccountUpdate> updates;
  HttpResponse response;
  if (path == "/v5/order/create") {
    OrderRequest req;
    req.category = *category;
    for (const auto* field : {"symbol", "side", "orderType", "qty"}) {
      if (!params->get(field)) return with_limit_headers(error(10001, fmt::format("params error: {} is required", field)));
    }
    for (const auto* field : {"qty", "price", "orderLinkId"}) {
      if (auto k = params->kind(field); k && *k != JsonKind::string && request.method == "POST") {
        return with_limit_headers(error(10001, fmt::format("params error: {} must be a string", field)));
      }
    }
    req.symbol = *params->get("symbol");
    req.side = *params->get("side");
    req.order_type = *params->get("orderType");
    req.qty = *params->get("qty");
    if (auto v = params->get("price")) req.price = std::string(*v);
    if (auto v = params->get("timeInForce")) req.time_in_force = std::string(*v);
    if (auto v = params->get("orderLinkId"); v && !v->empty()) req.order_link_id = std::string(*v);
    if (auto v = params->get("marketUnit")) req.market_unit = std::string(*v);
    req.reduce_only = params->get("reduceOnly").value_or("false") == "true";
    if (auto v = params->get("positionIdx")) req.position_idx = static_cast<int>(parse_int(*v).value_or(-1));
    auto placed = exchange_.place(*account_index, req, now, updates);
    if (!placed) return with_limit_headers(error(placed.error().code, placed.error().message));
    JsonWriter w;
    w.begin_object().field("orderId", placed->order_id).field("orderLinkId", placed->order_link_id).end_object();
    response = json_response(rest_ok(w.str(), now_ms));
  } else if (path == "/v5/order/cancel") {
    if (!params->get("symbol")) return with_limit_headers(error(10001, "params error: symbol is required"));
    auto cancelled = exchange_.cancel(*account_index, *category, *params->get("symbol"), params->get("orderId").value_or(""),
                                      params->get("orderLinkId").value_or(""), now, updates);
    if (!cancelled) return with_limit_headers(error(cancelled.error().code, cancelled.error().message));
    JsonWriter w;
    w.begin_object().field("orderId", cancelled->order_id).field("orderLinkId", cancelled->order_link_id).end_object();
    response = json_response(rest_ok(w.str(), now_ms));
  } else if (path == "/v5/order/realtime" || path == "/v5/order/history") {
    const auto lim = limit_param(20, 50);
    if (!lim) return with_limit_headers(error(10001, "params error: limit must be in [1, 50]"));
    const std::string_view order_id = params->get("orderId").value_or("");
    const std::string_view link_id = params->get("orderLinkId").value_or("");
    const bool history = path == "/v5/order/history";
    const bool by_id = !order_id.empty() || !link_id.empty();
    std::vector<const Order*> found;
    auto consider = [&](const Order& o) {
      if (o.category != *category) return;
      if (!symbol_filter.empty() && market_.instruments()[o.instrument].symbol.view() != symbol_filter) return;
      if (!order_id.empty() && o.order_id != order_id) return;
      if (!link_id.empty() && o.order_link_id != link_id) return;
      found.push_back(&o);
    };
    for (const auto& [id, o] : acc.open_orders) consider(o);
    // realtime: open orders, plus a closed one asked for by id (as Bybit does); history: both.
    if (history || by_id) {
      for (auto it = acc.closed_orders.rbegin(); it != acc.closed_orders.rend(); ++it) consider(*it);
    }
    std::stable_sort(found.begin(), found.end(), [](const Order* a, const Order* b) { return a->created > b->created; });
    std::string items;
    for (std::size_t k = 0; k < found.size() && static_cast<std::int64_t>(k) < *lim; ++k) {
      JsonWriter w;
      write_order(w, *found[k], market_.instruments()[found[k]->instrument].symbol.view());
      items += (items.empty() ? "" : ",") + w.take();
    }
    response = json_response(rest_ok(list_result(category_text, items), now_ms));
  } else if (path == "/v5/execution/list") {
    const auto lim = limit_param(50, 100);
    if (!lim) return with_limit_headers(error(10001, "params error: limit must be in [1, 100]"));
    const std::string_view order_id = params->get("orderId").value_or("");
    std::string items;
    std::int64_t n = 0;
    for (auto it = acc.executions.rbegin(); it != acc.executions.rend() && n < *lim; ++it) {
      if (it->category != *category) continue;
      if (!symbol_filter.empty() && market_.instruments()[it->instrument].symbol.view() != symbol_filter) continue;
      if (!order_id.empty() && it->order_id != order_id) continue;
      JsonWriter w;
      write_execution(w, *it, market_.instruments()[it->instrument].symbol.view());
      items += (items.empty() ? "" : ",") + w.take();
      ++n;
    }
    response = json_response(rest_ok(list_result(category_text, items), now_ms));
  } else if (path == "/v5/position/list") {
    if (*category != Category::linear) return with_limit_headers(error(10001, "params error: Illegal category"));
    const std::string_view settle = params->get("settleCoin").value_or("");
    if (symbol_filter.empty() && settle.empty()) {
      return with_limit_headers(error(10001, "params error: symbol or settleCoin is required"));
    }
    std::optional<std::size_t> inst;
    if (!symbol_filter.empty()) {
      inst = market_.find(symbol_filter);
      if (!inst) return with_limit_headers(error(10001, "params error: symbol invalid"));
    }
    std::string items;
    auto add = [&](const Position& p) {
      JsonWriter w;
      const Price mark = market_.price_at(p.instrument, now);
      write_position(w, p, market_.instruments()[p.instrument].symbol.view(), mark, exchange_.unrealised(p, mark),
                     exchange_.leverage());
      items += (items.empty() ? "" : ",") + w.take();
    };
    if (inst) {
      const auto it = acc.positions.find(*inst);
      Position empty;
      empty.instrument = *inst;
      add(it == acc.positions.end() ? empty : it->second);
    } else {
      for (const auto& [i, p] : acc.positions) {
        if (!p.size.is_zero()) add(p);
      }
    }
    response = json_response(rest_ok(list_result(category_text, items), now_ms));
  }
  if (!updates.empty()) push_account_updates(updates, now);
  return with_limit_headers(std::move(response));
}

HttpResponse SimServer::stats_response(Timestamp now) {
  const auto& sc = server_.counters();
  JsonWriter w;
  w.begin_object();
  w.field("time", ms_of(now)).field("tick", ms_of(last_tick_)).field("started", ms_of(started_at_));
  w.field("speed", options_.speed).field("seed", static_cast<std::uint64_t>(options_.seed));
  w.key("connections").begin_object();
  w.field("http", sc.http_connections).field("ws_open", sc.ws_sessions_open).field("ws_opened", sc.ws_sessions_opened);
  w.field("refused", sc.refused_connections).field("slow_consumer_closes", sc.ws_slow_consumer_closes);
  w.field("idle_closes", counters_.ws_idle_closes).end_object();
  w.key("rest").begin_object();
  w.field("requests", counters_.rest_requests).field("public", counters_.rest_public);
  w.field("private", counters_.rest_private).field("not_found", counters_.rest_not_found);
  w.key("ret_codes").begin_object();
  for (const auto& [code, n] : counters_.ret_codes) w.field(std::to_string(code), n);
  w.end_object();
  w.key("auth_failures").begin_object();
  for (const auto& [code, n] : counters_.auth_failures) w.field(std::to_string(code), n);
  w.end_object().end_object();
  w.key("ws").begin_object();
  w.field("frames_in", sc.ws_frames_in).field("frames_out", sc.ws_frames_out).field("bytes_out", sc.ws_bytes_out);
  w.field("replies", counters_.ws_replies).field("errors", counters_.ws_errors).field("orders", counters_.ws_orders);
  w.field("topics", static_cast<std::uint64_t>(kline_topics_.size())).end_object();
  w.key("pushes").begin_object();
  w.field("kline", counters_.kline_pushes).field("kline_confirm", counters_.kline_confirm_pushes);
  w.field("private", counters_.private_pushes).end_object();
  w.field("violations", limits_.violations());
  w.key("rate_limits");
  limits_.write_stats(w);
  w.key("faults").begin_object();
  w.field("spec", options_.faults.describe());
  w.field("drop", counters_.fault_drop).field("stall", counters_.fault_stall).field("dup", counters_.fault_dup);
  w.field("delay", counters_.fault_delay).field("rest5xx", counters_.fault_5xx).field("timeout", counters_.fault_timeout);
  w.field("refused", counters_.fault_refused).end_object();
  w.end_object();
  return json_response(w.take());
}

}  // namespace twinstar::venue::sim
