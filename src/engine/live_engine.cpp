#include "engine/live_engine.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include <malloc.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "bot/bot_factory.hpp"
#include "capital/ledger.hpp"
#include "engine/bot_control.hpp"
#include "engine/engine_control.hpp"
#include "engine/order_journal.hpp"
#include "engine/rate_limits.hpp"
#include "engine/send_queue.hpp"
#include "engine/trading_loop.hpp"
#include "feed/kline_fetcher.hpp"
#include "feed/market_feed.hpp"
#include "feed/store_sink.hpp"
#include "ratelimit/budget_share.hpp"
#include "ratelimit/preset.hpp"
#include "store/candle_store.hpp"
#include "venue/binance/binance_trading.hpp"
#include "venue/bybit/bybit_trading.hpp"

namespace twinstar {

namespace {

// Set-up and reconciliation calls ride out transient trouble (a 5xx, a dropped connection, a
// rate-limit pause): up to 5 attempts, 0.2 s to 1.6 s apart. Venue answers are never retried.
template <class F>
auto with_retries(F&& f) -> decltype(f()) {
  for (int attempt = 1;; ++attempt) {
    auto r = f();
    if (r || attempt >= 5) return r;
    const ErrorCode code = r.error().code;
    if (code != ErrorCode::unavailable && code != ErrorCode::io_error && code != ErrorCode::timeout &&
        code != ErrorCode::rate_limited) {
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
  }
}

std::int64_t real_ns() { return RealClock::instance().now().time_since_epoch().count(); }

OrderStatus to_order_status(venue::TradeOrderStatus s) {
  switch (s) {
    case venue::TradeOrderStatus::open: return OrderStatus::open;
    case venue::TradeOrderStatus::partially_filled: return OrderStatus::partially_filled;
    case venue::TradeOrderStatus::filled: return OrderStatus::filled;
    case venue::TradeOrderStatus::cancelled: return OrderStatus::cancelled;
    case venue::TradeOrderStatus::rejected: return OrderStatus::rejected;
    case venue::TradeOrderStatus::unknown: break;
  }
  return OrderStatus::submitted;
}

OrderUpdate to_update(const venue::OrderState& s, Timestamp now) {
  return OrderUpdate{s.client_id, to_order_status(s.status), s.filled, s.average_price, s.fees, now, s.reject_reason};
}

venue::PlaceOrder to_place(const OrderRequest& r, Market market) {
  venue::PlaceOrder p;
  p.market = market;
  p.symbol = r.symbol;
  p.side = r.side == Side::buy ? venue::TradeSide::buy : venue::TradeSide::sell;
  p.type = r.type == OrderType::market ? venue::TradeOrderType::market : venue::TradeOrderType::limit;
  p.quantity = r.quantity;
  p.price = r.price;
  p.client_id = r.client_id;
  p.reduce_only = r.reduce_only;
  return p;
}

// The bot a client id belongs to ("<bot>-<nonce>-<n>"): the longest bot name it starts with.
std::optional<std::string> bot_of(std::string_view client_id, const std::vector<std::string>& bots) {
  std::optional<std::string> best;
  for (const auto& b : bots) {
    if (client_id.size() > b.size() && client_id.starts_with(b) && client_id[b.size()] == '-' &&
        (!best || b.size() > best->size())) {
      best = b;
    }
  }
  return best;
}

// One venue account: the gateway its bots send orders through, the sender threads that talk
// to the venue, and the private stream. Every report goes through the journal first; only a
// report that moves an order forward reaches the bots, so duplicates and late acks change nothing.
class AccountSession final : public OrderGateway {
 public:
  AccountSession(AccountEndpoint endpoint, std::unique_ptr<venue::VenueTrading> trading, OrderJournal& journal,
                 Clock& clock, const LiveEngineOptions& options)
      : endpoint_(std::move(endpoint)), trading_(std::move(trading)), journal_(journal), clock_(clock), options_(options) {}
  ~AccountSession() override { stop(); }

  const AccountEndpoint& endpoint() const noexcept { return endpoint_; }
  venue::VenueTrading& trading() noexcept { return *trading_; }
  void set_bots(std::vector<std::string> bots) { bots_ = std::move(bots); }
  const std::vector<std::string>& bots() const noexcept { return bots_; }

  // Before the trading loop starts: orders and positions of this account's bots made to agree
  // with the venue. Adds a line per fix to `fixes`.
  Status reconcile(std::vector<std::unique_ptr<Bot>>& bots, CapitalLedger& ledger, SymbolClaims& claims,
                   std::vector<std::string>& fixes);

  // Before the loop starts (the loop's thread reads it in submit()).
  void attach(TradingLoop& loop) { loop_ = &loop; }

  void start() {
    if (!endpoint_.trade_ws_url.empty()) {
      venue::OrderChannelEvents ce;
      ce.on_reply = [this](const venue::ChannelReply& r) { on_channel_reply(r); };
      ce.on_written = [this](std::uint64_t token) { on_channel_written(token); };
      ce.on_error = [this](const Error& e) {
        notice(fmt::format("account {}: order channel: {} (reconnecting; orders go over REST meanwhile)", endpoint_.name, e.message));
      };
      if (auto ok = trading_->start_order_channel(std::move(ce)); ok) {
        channel_ = true;
      } else {
        notice(fmt::format("account {}: order channel did not start: {} (orders go over REST)", endpoint_.name, ok.error().message));
      }
    }
    const std::size_t senders = std::max<std::size_t>(1, options_.senders_per_account);
    for (std::size_t i = 0; i < senders; ++i) {
      senders_.emplace_back([this, i](std::stop_token st) { run(st, /*poller=*/i == 0); });
    }
    venue::TradingEvents events;
    events.on_order = [this](const venue::OrderState& s) {
      if (s.status != venue::TradeOrderStatus::unknown) apply(to_update(s, clock_.now()));
    };
    events.on_fill = [](const venue::Fill&) {};  // the order push carries the cumulative fill
    events.on_error = [this](const Error& e) {
      notice(fmt::format("account {}: private stream: {} (reconnecting; open orders are polled meanwhile)", endpoint_.name,
                         e.message));
    };
    if (auto ok = trading_->start_stream(std::move(events)); !ok) {
      notice(fmt::format("account {}: private stream did not start: {} (orders are polled instead)", endpoint_.name,
                         ok.error().message));
    }
  }

  void stop() {
    trading_->stop_stream();
    for (auto& s : senders_) s.request_stop();  // wakes their waits (stop_token)
    for (auto& s : senders_) s.join();          // each drains what it can take first
    senders_.clear();
    trading_->stop_order_channel();  // unanswered orders are reported lost: the next start looks them up
  }

  // Trading thread. Inside a batch (a round's orders) held for end_batch(); otherwise queued,
  // and the sender journals it before it leaves (write-ahead). A crash before the journal write
  // loses an order that never left; its reservation is reaped at the next start.
  Status submit(const OrderRequest& request) override {
    SendJob job{SendJob::Kind::place, request, request.client_id, request.symbol,
                loop_ != nullptr ? loop_->current_candle_received_ns() : 0, clock_.now()};
    if (batching_) {
      if (queue_.queued() + held_.size() >= options_.order_queue_capacity) {
        ++refusals_;
        return make_error(ErrorCode::unavailable, "account {}: order queue full ({} pending, policy {})", endpoint_.name,
                          options_.order_queue_capacity, kOrderQueueRefuseNew);
      }
      held_.push_back(std::move(job));
      held_places_.fetch_add(1);
      ++orders_;
      return {};
    }
    if (!queue_.push(std::move(job))) {
      ++refusals_;
      return make_error(ErrorCode::unavailable, "account {}: order queue full ({} pending, policy {})", endpoint_.name,
                        options_.order_queue_capacity, kOrderQueueRefuseNew);
    }
    ++orders_;
    return {};
  }
  Status cancel(const std::string& client_id, const Symbol& symbol) override {
    SendJob job{SendJob::Kind::cancel, {}, client_id, symbol, 0, clock_.now()};
    if (batching_) {  // held too, so it cannot overtake an order of the batch
      held_.push_back(std::move(job));
      return {};
    }
    if (!queue_.push(std::move(job))) {
      return make_error(ErrorCode::unavailable, "account {}: order queue full", endpoint_.name);
    }
    return {};
  }

  // Trading thread. A round's orders are journaled in one transaction here, then queued already
  // journaled: the k-th order of a round no longer waits for k-1 journal commits.
  void begin_batch() override { batching_ = true; }
  void end_batch() override {
    batching_ = false;
    if (held_.empty()) return;
    std::vector<OrderRecord> records;
    for (const SendJob& job : held_) {
      if (job.kind == SendJob::Kind::place) records.push_back(record_of(job));
    }
    const Status journaled = journal_.record_submits(records);
    if (!journaled) spdlog::error("account {}: {} order(s) not sent: order journal: {}", endpoint_.name, records.size(), journaled.error().message);
    for (SendJob& job : held_) {
      const bool place = job.kind == SendJob::Kind::place;
      if (place && !journaled) {  // write-ahead: nothing leaves unjournaled
        ++refusals_;
        if (loop_ != nullptr) {
          loop_->post_order_update(OrderUpdate{job.client_id, OrderStatus::rejected, {}, {}, {}, clock_.now(),
                                               "not sent: order journal: " + journaled.error().message});
        }
        continue;
      }
      job.journaled = place;
      if (place && send_direct(job)) continue;
      const std::string id = job.client_id;
      if (!queue_.push(std::move(job))) {
        // Room was checked at submit; only the order channel's resends can have taken it since.
        if (place) {
          ++refusals_;
          apply(OrderUpdate{id, OrderStatus::rejected, {}, {}, {}, clock_.now(), "not sent: order queue full"});
        } else {
          spdlog::warn("account {}: cancel of {} not sent (order queue full): the next timeout check retries", endpoint_.name, id);
        }
      }
    }
    held_.clear();
    held_places_.store(0);
  }

  std::uint64_t orders() const noexcept { return orders_.load(); }
  std::uint64_t fills() const noexcept { return fills_.load(); }
  std::uint64_t refusals() const noexcept { return refusals_.load(); }
  const observe::LatencyHistogram& candle_to_order() const noexcept { return candle_to_order_; }

  // Orders of this account not yet sent, or sent and not seen settle by the journal (an order
  // being journaled right now may count twice for a moment).
  std::size_t in_flight() {
    const std::size_t unsent = queue_.places() + held_places_.load();
    auto open = journal_.open_orders();
    if (!open) return unsent;
    return unsent + static_cast<std::size_t>(std::count_if(
                        open->begin(), open->end(), [&](const OrderRecord& r) { return r.account == endpoint_.name && ours(r.client_id); }));
  }

 private:
  void notice(const std::string& text) {
    spdlog::warn("{}", text);
    if (options_.on_notice) options_.on_notice(text);
  }

  // An order of this process's bots. Another process on the same account shares the journal and
  // its orders reach this stream too: touching them would take their report from their owner.
  bool ours(std::string_view client_id) const { return bot_of(client_id, bots_).has_value(); }

  // Journal first; the bots see only what moved an order forward.
  void apply(const OrderUpdate& update) {
    if (!ours(update.client_id)) return;
    auto changed = journal_.record_update(update);
    if (!changed) {
      if (changed.error().code != ErrorCode::not_found) spdlog::error("order journal: {}", changed.error().message);
      return;
    }
    if (!*changed) return;
    if (update.status == OrderStatus::filled) ++fills_;
    if (loop_ != nullptr) loop_->post_order_update(update);
  }

  // Asks the venue for an order's state and applies it. `unsent`: the venue never acknowledged
  // it, so not knowing it means it never arrived.
  void look_up(const std::string& client_id, const Symbol& symbol, bool unsent) {
    auto found = trading_->find_order(endpoint_.market, symbol, client_id);
    if (!found) {
      spdlog::warn("account {}: looking up {}: {}", endpoint_.name, client_id, found.error().message);
      return;
    }
    if (*found) {
      spdlog::debug("account {}: {} is {} on the venue ({} filled)", endpoint_.name, client_id, venue::to_string((*found)->status),
                    (*found)->filled);
      if ((*found)->status != venue::TradeOrderStatus::unknown) apply(to_update(**found, clock_.now()));
    } else if (unsent) {
      apply(OrderUpdate{client_id, OrderStatus::rejected, {}, {}, {}, clock_.now(), "never reached the venue"});
    } else {
      spdlog::debug("account {}: {} is not known to the venue", endpoint_.name, client_id);
    }
  }

  OrderRecord record_of(const SendJob& job) const {
    OrderRecord record;
    record.client_id = job.client_id;
    record.bot = bot_of(job.client_id, bots_).value_or("?");
    record.account = endpoint_.name;
    record.exchange = endpoint_.exchange;
    record.market = endpoint_.market;
    record.request = job.request;
    record.created = record.updated = job.queued_at;
    return record;
  }

  void record_candle_to_order(std::int64_t received_ns) {
    if (received_ns == 0) return;
    const std::int64_t ns = real_ns() - received_ns;
    candle_to_order_.record_ns(ns);
    if (options_.on_candle_to_order_ns) options_.on_candle_to_order_ns(ns);
  }

  // A job handed to the order channel, until its answer. Returns its token.
  std::uint64_t track(const SendJob& job) {
    std::lock_guard lock(async_mutex_);
    const std::uint64_t token = next_token_++;
    async_.emplace(token, job);
    return token;
  }
  std::optional<SendJob> untrack(std::uint64_t token) {
    std::lock_guard lock(async_mutex_);
    auto it = async_.find(token);
    if (it == async_.end()) return std::nullopt;
    SendJob job = std::move(it->second);
    async_.erase(it);
    return job;
  }

  // The channel's thread: the frame is on the socket.
  void on_channel_written(std::uint64_t token) {
    std::int64_t received = 0;
    {
      std::lock_guard lock(async_mutex_);
      if (auto it = async_.find(token); it != async_.end() && it->second.kind == SendJob::Kind::place) received = it->second.received_ns;
    }
    record_candle_to_order(received);
  }

  // The channel's thread: the answer to a channel job. Nothing here waits on the network.
  void on_channel_reply(const venue::ChannelReply& r) {
    auto job = untrack(r.token);
    if (!job) return;
    if (r.result) {
      if (!r.cancel) apply(OrderUpdate{job->client_id, OrderStatus::open, {}, {}, {}, clock_.now(), ""});
      queue_.done(*job);
      return;
    }
    const Error& e = r.result.error();
    queue_.done(*job);
    if (e.code == ErrorCode::unavailable) {
      // It never left: over REST instead (a place is in the journal already).
      SendJob again = *job;
      again.via_rest = true;
      again.journaled = again.kind == SendJob::Kind::place;
      again.received_ns = 0;  // its latency is not the channel's
      if (!queue_.push(std::move(again))) {
        spdlog::warn("account {}: {} not resent (order queue full): the poller settles it", endpoint_.name, job->client_id);
      }
      return;
    }
    // A cancel that failed, or an order whose answer was lost: the stream or the poller says how
    // it ended (the poller looks orders up once no job of theirs is out).
    if (r.cancel || e.code == ErrorCode::io_error || e.code == ErrorCode::timeout) {
      spdlog::warn("account {}: {} {}: {}", endpoint_.name, r.cancel ? "cancel of" : "order", job->client_id, e.message);
      return;
    }
    ++refusals_;
    spdlog::warn("account {}: order {} {} {}: {}", endpoint_.name, job->client_id, to_string(job->request.side), job->request.symbol,
                 e.message);
    apply(OrderUpdate{job->client_id, OrderStatus::rejected, {}, {}, {}, clock_.now(), e.message});
  }

  // Trading thread: a journaled order straight onto the order channel, when nothing of its
  // symbol is queued or out and the limiter grants it at once: no sender thread in between.
  // false: nothing was sent (the senders take it as usual).
  bool send_direct(const SendJob& job) {
    if (!channel_ || job.via_rest || !queue_.take_direct(job)) return false;
    const std::uint64_t token = track(job);
    if (trading_->send_order(to_place(job.request, endpoint_.market), token, /*wait=*/false)) return true;
    untrack(token);
    queue_.done(job);
    return false;
  }

  // True when the job is finished; false when its answer comes later on the order channel.
  bool send(const SendJob& job) {
    const bool channel = channel_ && !job.via_rest;
    if (job.kind == SendJob::Kind::cancel) {
      if (channel) {
        const std::uint64_t token = track(job);
        if (trading_->send_cancel(endpoint_.market, job.symbol, job.client_id, token)) return false;
        untrack(token);  // not taken by the channel: over REST
      }
      auto ok = trading_->cancel_order(endpoint_.market, job.symbol, job.client_id);
      if (!ok) look_up(job.client_id, job.symbol, false);  // filled or gone already: learn how it ended
      return true;
    }
    if (!job.journaled) {
      if (auto journaled = journal_.record_submit(record_of(job)); !journaled) {  // write-ahead: nothing leaves unjournaled
        spdlog::error("account {}: order {} not sent: order journal: {}", endpoint_.name, job.client_id,
                      journaled.error().message);
        ++refusals_;
        if (loop_ != nullptr) {
          loop_->post_order_update(OrderUpdate{job.client_id, OrderStatus::rejected, {}, {}, {}, clock_.now(),
                                               "not sent: order journal: " + journaled.error().message});
        }
        return true;
      }
    }
    if (channel) {
      const std::uint64_t token = track(job);
      auto queued = trading_->send_order(to_place(job.request, endpoint_.market), token);
      if (queued) return false;  // "sent" is recorded when the channel writes it
      untrack(token);
      if (queued.error().code != ErrorCode::unavailable) {
        ++refusals_;
        apply(OrderUpdate{job.client_id, OrderStatus::rejected, {}, {}, {}, clock_.now(), queued.error().message});
        return true;
      }
    }
    record_candle_to_order(job.received_ns);  // "sent": journaled, about to be written to the socket
    auto ack = trading_->place_order(to_place(job.request, endpoint_.market));
    if (ack) {
      apply(OrderUpdate{job.client_id, OrderStatus::open, {}, {}, {}, clock_.now(), ""});
      return true;
    }
    const Error& e = ack.error();
    spdlog::warn("account {}: order {} {} {}: {}", endpoint_.name, job.client_id, to_string(job.request.side), job.request.symbol,
                 e.message);
    if (e.code == ErrorCode::io_error || e.code == ErrorCode::timeout || e.code == ErrorCode::unavailable) {
      // It may or may not have arrived: the venue decides (looked up at once, then polled).
      look_up(job.client_id, job.symbol, true);
      return true;
    }
    ++refusals_;
    apply(OrderUpdate{job.client_id, OrderStatus::rejected, {}, {}, {}, clock_.now(), e.message});
    return true;
  }

  // Every order of this account the journal has not seen settle, once it has been open for
  // poll_after: the stream may have missed its report. The journal is the source of truth, so
  // nothing here can forget an order. The polling sender only; orders queued or being sent
  // are left to their sender.
  void poll() {
    auto open = journal_.open_orders();
    if (!open) return;
    const auto now = std::chrono::steady_clock::now();
    std::map<std::string, std::chrono::steady_clock::time_point> next;
    for (const OrderRecord& r : *open) {
      if (r.account != endpoint_.name || !ours(r.client_id)) continue;
      if (queue_.pending(r.client_id)) continue;  // not sent yet, or its answer is awaited
      auto it = looked_up_.find(r.client_id);
      if (it == looked_up_.end()) {
        next[r.client_id] = now;  // first seen open: give the stream poll_after to report
        continue;
      }
      if (now - it->second < options_.poll_after) {
        next[r.client_id] = it->second;
        continue;
      }
      next[r.client_id] = now;
      // Sent, never acknowledged, and unknown to the venue: it never arrived.
      look_up(r.client_id, r.request.symbol, r.status == OrderStatus::submitted);
    }
    looked_up_ = std::move(next);
  }

  // The poller polls on its own period even while orders keep coming (a busy queue must not
  // starve it). On stop, each sender leaves once nothing is left that it could take.
  void run(std::stop_token stop, bool poller) {
    constexpr auto kPollEvery = std::chrono::milliseconds(250);
    auto next_poll = std::chrono::steady_clock::now() + kPollEvery;
    for (;;) {
      const auto deadline = poller ? next_poll : std::chrono::steady_clock::now() + std::chrono::seconds(1);
      if (auto job = queue_.take(stop, deadline)) {
        if (send(*job)) queue_.done(*job);  // else done when the order channel answers
      } else if (stop.stop_requested()) {
        return;
      }
      if (poller && std::chrono::steady_clock::now() >= next_poll) {
        poll();
        next_poll = std::chrono::steady_clock::now() + kPollEvery;
      }
    }
  }

  AccountEndpoint endpoint_;
  std::unique_ptr<venue::VenueTrading> trading_;
  OrderJournal& journal_;
  Clock& clock_;
  const LiveEngineOptions& options_;
  std::vector<std::string> bots_;
  TradingLoop* loop_ = nullptr;
  bool batching_ = false;                      // trading thread
  std::vector<SendJob> held_;                  // trading thread: the batch's jobs
  std::atomic<std::size_t> held_places_{0};    // places in held_, for in_flight() from other threads

  SendQueue queue_{options_.order_queue_capacity};
  std::map<std::string, std::chrono::steady_clock::time_point> looked_up_;  // polling sender: last lookup per open order
  std::atomic<std::uint64_t> orders_{0}, fills_{0}, refusals_{0};
  std::atomic<bool> channel_{false};  // the order channel started (it reconnects by itself)
  std::mutex async_mutex_;
  std::uint64_t next_token_ = 1;           // guarded by async_mutex_
  std::map<std::uint64_t, SendJob> async_;  // guarded by async_mutex_: jobs the channel holds, by token
  observe::LatencyHistogram candle_to_order_;
  std::vector<std::jthread> senders_;
};

Money signed_gross(const JournalPosition& p) {
  const Money entry = notional(p.entry_price, p.exited);
  return p.side == Side::buy ? p.exit_notional - entry : entry - p.exit_notional;
}

Status AccountSession::reconcile(std::vector<std::unique_ptr<Bot>>& bots, CapitalLedger& ledger, SymbolClaims& claims,
                                 std::vector<std::string>& fixes) {
  const std::string& acct = endpoint_.name;
  auto fix = [&](std::string text) {
    spdlog::info("reconcile: {}", text);
    fixes.push_back(std::move(text));
  };
  // 1. Orders in flight when the engine stopped: the venue says how they ended.
  auto open = journal_.open_orders();
  if (!open) return std::unexpected(open.error());
  std::set<std::string> journaled;
  for (const OrderRecord& r : *open) {
    if (r.account != acct || !ours(r.client_id)) continue;  // another process's order in flight: its own
    auto found = with_retries([&] { return trading_->find_order(endpoint_.market, r.request.symbol, r.client_id); });
    if (!found) return make_error(found.error().code, "account {}: looking up order {}: {}", acct, r.client_id, found.error().message);
    if (*found && ((*found)->status == venue::TradeOrderStatus::open || (*found)->status == venue::TradeOrderStatus::partially_filled)) {
      // Still working: its bot no longer waits for it.
      if (auto c = with_retries([&] { return trading_->cancel_order(endpoint_.market, r.request.symbol, r.client_id); });
          !c && c.error().code != ErrorCode::not_found) {
        return make_error(c.error().code, "account {}: cancelling order {}: {}", acct, r.client_id, c.error().message);
      }
      found = with_retries([&] { return trading_->find_order(endpoint_.market, r.request.symbol, r.client_id); });
      if (!found) return std::unexpected(found.error());
      fix(fmt::format("{}: order {} ({} {}) was still working on the venue: cancelled", r.bot, r.client_id,
                      to_string(r.request.purpose), r.request.symbol));
    }
    OrderUpdate u = *found ? to_update(**found, clock_.now())
                           : OrderUpdate{r.client_id, OrderStatus::rejected, {}, {}, {}, clock_.now(), "never reached the venue"};
    if (!is_terminal(u.status)) u.status = u.filled.is_positive() ? OrderStatus::cancelled : OrderStatus::rejected;
    (void)journal_.record_update(u);
    fix(fmt::format("{}: order {} ({} {} {}) in flight at the last stop: {} ({} filled)", r.bot, r.client_id,
                    to_string(r.request.purpose), to_string(r.request.side), r.request.symbol, to_string(u.status), u.filled));
  }
  for (const OrderRecord& r : *open) journaled.insert(r.client_id);
  // 2. Orders the venue has open that the journal does not know: ours (a lost journal) are
  // cancelled; others' (another engine, a human) are left alone.
  auto venue_open = with_retries([&] { return trading_->open_orders(endpoint_.market, std::nullopt); });
  if (!venue_open) return make_error(venue_open.error().code, "account {}: open orders: {}", acct, venue_open.error().message);
  for (const auto& o : *venue_open) {
    if (auto owner = bot_of(o.client_id, bots_)) {
      (void)with_retries([&] { return trading_->cancel_order(endpoint_.market, o.symbol, o.client_id); });
      const bool known = journaled.contains(o.client_id);
      fix(fmt::format("{}: order {} on {} was open on the venue{}: cancelled", *owner, o.client_id, o.symbol,
                      known ? "" : " but not in the journal"));
    } else {
      fix(fmt::format("account {}: order {} on {} is not this engine's: left alone", acct,
                      o.client_id.empty() ? o.order_id : o.client_id, o.symbol));
    }
  }
  // 3. Positions: journal (per bot) against the venue (net per symbol) and the ledger.
  auto venue_positions = with_retries([&] { return trading_->positions(std::nullopt); });
  if (!venue_positions) return make_error(venue_positions.error().code, "account {}: positions: {}", acct, venue_positions.error().message);
  std::map<Symbol, std::int64_t> venue_net;  // raw signed quantity
  for (const auto& p : *venue_positions) {
    if (p.size.is_positive()) venue_net[p.symbol] += p.side == venue::TradeSide::buy ? p.size.raw() : -p.size.raw();
  }
  const LedgerState state = ledger.state();
  std::map<std::pair<std::string, Symbol>, std::int64_t> ledger_position;  // (bot, symbol) -> position id
  for (const auto& [id, p] : state.positions()) ledger_position[{p.bot, p.symbol}] = id;
  std::map<Symbol, std::int64_t> journal_net;
  struct Found {
    Bot* bot;
    JournalPosition position;
  };
  std::vector<Found> positions;
  for (auto& bot : bots) {
    if (std::find(bots_.begin(), bots_.end(), bot->name()) == bots_.end()) continue;
    auto orders = journal_.orders_of(bot->name());
    if (!orders) return std::unexpected(orders.error());
    std::vector<JournalPosition> closed;
    for (auto& p : positions_from_orders(*orders, &closed)) {
      journal_net[p.symbol] += p.side == Side::buy ? p.quantity.raw() : -p.quantity.raw();
      positions.push_back(Found{bot.get(), std::move(p)});
    }
    // A position closed on the venue whose release the ledger never saw (a crash in between):
    // the newest closed one of its symbol is the one the ledger still holds.
    for (auto c = closed.rbegin(); c != closed.rend(); ++c) {
      const JournalPosition& p = *c;
      auto it = ledger_position.find({bot->name(), p.symbol});
      if (it == ledger_position.end()) continue;
      bool still_open = false;
      for (const Found& f : positions) still_open |= f.bot == bot.get() && f.position.symbol == p.symbol;
      if (still_open) continue;
      if (auto r = ledger.release(PositionId{it->second}, signed_gross(p), p.exit_fees); !r) {
        return make_error(r.error().code, "{}: releasing the ledger position of {}: {}", bot->name(), p.symbol, r.error().message);
      }
      ledger_position.erase(it);
      fix(fmt::format("{}: position in {} had closed ({} exited) but the ledger still held it: released with PnL {}", bot->name(),
                      p.symbol, p.exited, signed_gross(p) - p.exit_fees));
    }
  }
  for (Found& f : positions) {
    JournalPosition& p = f.position;
    const std::int64_t venue_q = venue_net.contains(p.symbol) ? venue_net[p.symbol] : 0;
    if (venue_q != journal_net[p.symbol]) {
      claims.claim("reconcile", p.symbol);
      fix(fmt::format("{}: {} held {} {} per the journal but the venue holds {}: not resumed, the symbol is left alone",
                      f.bot->name(), p.symbol, p.quantity, to_string(p.side), Quantity::from_raw(venue_q)));
      continue;
    }
    Position pos;
    pos.symbol = p.symbol;
    pos.side = p.side;
    pos.quantity = p.quantity;
    pos.initial_quantity = p.entered;
    pos.entry_price = p.entry_price;
    pos.entry_notional = notional(p.entry_price, p.entered);
    pos.entry_fees = p.entry_fees;
    pos.realized_gross = signed_gross(p);
    pos.exit_fees = p.exit_fees;
    pos.exit_notional = p.exit_notional;
    pos.stop_loss = p.stop_loss;
    pos.take_profit = p.take_profit;
    pos.opened_at = p.opened;
    pos.entry_bar = p.entry_bar;
    pos.entry_reason = "restored after a restart";
    pos.last_price = p.entry_price;
    if (auto it = ledger_position.find({f.bot->name(), p.symbol}); it != ledger_position.end()) {
      pos.ledger_id = PositionId{it->second};
      ledger_position.erase(it);
    } else {
      // Filled while the engine was down (its reservation was reaped): book it now.
      auto reservation = ledger.reserve(f.bot->name(), p.symbol, pos.entry_notional + p.entry_fees);
      if (!reservation) {
        claims.claim("reconcile", p.symbol);
        fix(fmt::format("{}: {} {} {} filled while the engine was down, but the ledger refuses it ({}): not resumed",
                        f.bot->name(), p.symbol, p.quantity, to_string(p.side), reservation.error().message));
        continue;
      }
      auto id = reservation->commit(pos.entry_notional, p.entry_fees);
      if (!id) return std::unexpected(id.error());
      pos.ledger_id = *id;
      fix(fmt::format("{}: {} {} {} filled while the engine was down: booked in the ledger", f.bot->name(), p.symbol, p.quantity,
                      to_string(p.side)));
    }
    if (auto ok = f.bot->trader().restore_position(std::move(pos)); !ok) {
      fix(fmt::format("{}: {}: not resumed", f.bot->name(), ok.error().message));
      continue;
    }
    fix(fmt::format("{}: resumed {} {} {} at {}", f.bot->name(), to_string(p.side), p.quantity, p.symbol, p.entry_price));
  }
  // Ledger positions of this account's bots that no journal position backs (a journal lost).
  for (const auto& [key, id] : ledger_position) {
    if (std::find(bots_.begin(), bots_.end(), key.first) == bots_.end()) continue;
    fix(fmt::format("{}: the ledger holds a position in {} that neither the journal nor the venue backs: left for `twinstar "
                    "capital` to settle",
                    key.first, key.second));
  }
  for (const auto& [symbol, q] : venue_net) {
    if (journal_net.contains(symbol)) continue;
    claims.claim("reconcile", symbol);
    fix(fmt::format("account {}: the venue holds {} {} that no bot of this engine opened: left alone, no bot trades it",
                    acct, Quantity::from_raw(q < 0 ? -q : q), symbol));
  }
  return {};
}

// The feed's consumer: every candle into the store, closed ones on to the bots.
class EngineSink final : public feed::CandleConsumer {
 public:
  EngineSink(store::CandleStore& store, TradingLoop& loop, std::function<void(std::string_view)> notice)
      : store_(store), loop_(loop), notice_(std::move(notice)) {}
  void on_candle(const SeriesKey& key, const Candle& candle) override {
    if (auto ok = store_.append(key, candle); !ok) {
      spdlog::warn("store refused {} {}: {}", key.symbol, format_iso8601(candle.open_time), ok.error().message);
    }
    if (candle.closed) loop_.post_candle(key, candle);
  }
  void on_refused(const SeriesKey& key, std::string_view reason) override {
    if (notice_) {
      notice_(fmt::format("feed: {} refused {} {} ({}): its bots get no candles for it until the next reconnect",
                          key.exchange, key.symbol, key.interval, reason));
    }
  }

 private:
  store::CandleStore& store_;
  TradingLoop& loop_;
  std::function<void(std::string_view)> notice_;
};

}  // namespace

Result<std::unique_ptr<venue::VenueTrading>> make_venue_trading(const AccountEndpoint& a, std::shared_ptr<VenueLimiter> limiter,
                                                                Clock& clock, std::size_t connections) {
  if (a.exchange == Exchange::bybit) {
    venue::bybit::BybitTradingOptions o;
    o.rest_url = a.rest_url;
    o.private_ws_url = a.private_ws_url;
    o.trade_ws_url = a.trade_ws_url;
    o.api_key = a.api_key;
    o.api_secret = a.api_secret;
    o.http_connections = connections;
    auto t = venue::bybit::BybitTrading::create(std::move(o), std::move(limiter), clock);
    if (!t) return std::unexpected(t.error());
    return std::unique_ptr<venue::VenueTrading>(std::move(*t));
  }
  if (a.exchange == Exchange::binance && a.market == Market::linear) {
    venue::binance::BinanceTradingOptions o;
    o.rest_url = a.rest_url;
    o.private_ws_base = a.private_ws_url;
    o.api_key = a.api_key;
    o.api_secret = a.api_secret;
    o.http_connections = connections;
    auto t = venue::binance::BinanceUsdmTrading::create(std::move(o), std::move(limiter), clock);
    if (!t) return std::unexpected(t.error());
    return std::unique_ptr<venue::VenueTrading>(std::move(*t));
  }
  return make_error(ErrorCode::config_error, "account {}: live trading on {} {} is not supported (Bybit, Binance USDⓈ-M)", a.name,
                    to_string(a.exchange), to_string(a.market));
}

Status run_live_engine(const LiveEngineOptions& options, std::stop_token stop,
                       const std::function<void(const EngineStatus&)>& report) {
  if (options.clock == nullptr) return make_error(ErrorCode::invalid_argument, "run_live_engine: no clock");
  Clock& clock = *options.clock;
  if (options.bots.empty()) return make_error(ErrorCode::config_error, "config: no [[bots]] to run");
  if (auto ok = validate_bots(options.bots, "config"); !ok) return ok;
  if (auto ok = validate_bots_against_capital(options.bots, options.capital, "config"); !ok) return ok;
  std::map<std::string, const AccountEndpoint*> accounts;
  for (const auto& a : options.accounts) accounts[a.name] = &a;
  for (const auto& b : options.bots) {
    auto it = accounts.find(b.account);
    if (it == accounts.end()) return make_error(ErrorCode::config_error, "bot {}: no [[accounts]] entry named {}", b.name, b.account);
    if (it->second->exchange != b.exchange || it->second->market != b.market) {
      return make_error(ErrorCode::config_error, "bot {}: trades {} {} but account {} is {} {}", b.name, to_string(b.exchange),
                        to_string(b.market), b.account, to_string(it->second->exchange), to_string(it->second->market));
    }
  }

  // This process's share of each venue's rate budget, claimed on the host (budget_share.hpp):
  // two engines on one account cannot both take all of it.
  std::vector<BudgetShareClaim> share_claims;
  {
    std::set<std::string> presets;
    for (const auto& a : options.accounts) presets.insert(std::string(default_preset_name(a.exchange, a.market)));
    for (const auto& name : presets) {
      Ratio share = Ratio::from_units(1);
      for (const auto& rl : options.rate_limits) {
        if (rl.preset == name && rl.share) share = *rl.share;
      }
      auto claim = BudgetShareClaim::claim(options.data_dir / "ratelimit", name, share,
                                           fmt::format("twinstar run (pid {})", ::getpid()));
      if (!claim) return make_error(claim.error().code, "rate budget of {}: {}", name, claim.error().message);
      share_claims.push_back(std::move(*claim));
    }
  }

  // Shared services.
  RateLimiterRegistry limiters(clock);
  if (auto ok = configure_rate_limits(limiters, options.rate_limits, "config"); !ok) return ok;
  std::error_code ec;
  for (const char* dir : {"capital", "state"}) {
    std::filesystem::create_directories(options.data_dir / dir, ec);
    if (ec) return make_error(ErrorCode::io_error, "cannot create {}: {}", (options.data_dir / dir).string(), ec.message());
  }
  auto ledger = CapitalLedger::open(
      options.data_dir / "capital" / (std::string(to_string(options.capital.exchange)) + ".ledger.sqlite"),
      ledger_options(options.capital), clock);
  if (!ledger) return std::unexpected(ledger.error());
  auto journal = OrderJournal::open(options.data_dir / "state" / "orders.sqlite");
  if (!journal) return std::unexpected(journal.error());
  std::set<SeriesKey> watched;
  for (const auto& b : options.bots) {
    for (const auto& s : b.symbols) {
      auto symbol = Symbol::parse(s);
      if (!symbol) return make_error(ErrorCode::config_error, "bot {}: bad symbol '{}': {}", b.name, s, symbol.error().message);
      watched.insert(SeriesKey{b.exchange, b.market, *symbol, b.interval});
    }
  }
  store::StoreOptions store_options;
  store_options.data_dir = options.data_dir;
  store_options.max_resident_series = std::max(store_options.max_resident_series, 2 * watched.size());
  auto candles = store::CandleStore::open(store_options, clock);
  if (!candles) return std::unexpected(candles.error());

  TradingLoop loop(clock, RealClock::instance());

  // Accounts: trading adapters, time sync, sessions.
  std::map<std::string, std::unique_ptr<AccountSession>> sessions;
  std::map<std::string, std::shared_ptr<VenueLimiter>> account_limiters;
  for (const auto& b : options.bots) {
    if (sessions.contains(b.account)) continue;
    const AccountEndpoint& a = *accounts.at(b.account);
    auto limiter = limiters.limiter(a.exchange, a.name);
    if (!limiter) return std::unexpected(limiter.error());
    auto trading = make_venue_trading(a, *limiter, clock, std::max<std::size_t>(1, options.senders_per_account));
    if (!trading) return std::unexpected(trading.error());
    auto offset = with_retries([&] { return (*trading)->sync_time(); });
    if (!offset) return make_error(offset.error().code, "account {}: {}", a.name, offset.error().message);
    account_limiters[a.name] = *limiter;
    sessions[a.name] = std::make_unique<AccountSession>(a, std::move(*trading), **journal, clock, options);
  }

  // Bots, each sending through its account's session.
  SymbolClaims claims;
  std::vector<std::unique_ptr<Bot>> bots;
  std::map<std::string, std::vector<std::string>> bots_of_account;
  for (const auto& c : options.bots) {
    auto bot = make_bot(c, *ledger, *sessions.at(c.account), clock, claims);
    if (!bot) return std::unexpected(bot.error());
    if (options.on_trade) (*bot)->trader().on_trade = options.on_trade;
    bots_of_account[c.account].push_back(c.name);
    bots.push_back(std::move(*bot));
  }
  for (auto& [name, session] : sessions) session->set_bots(bots_of_account[name]);

  // What the venue accepts per symbol, asked once per account and symbol (a symbol added at run
  // time is vetted by check_listed, then set up by watch: one request). Any thread.
  std::mutex rules_mutex;
  std::map<std::string, venue::InstrumentRules> rules_cache;  // "<account> <symbol>"; guarded by rules_mutex
  auto rules_of = [&](AccountSession& session, const SeriesKey& key) -> Result<venue::InstrumentRules> {
    const std::string k = fmt::format("{} {}", session.endpoint().name, key.symbol);
    {
      std::lock_guard lock(rules_mutex);
      if (auto it = rules_cache.find(k); it != rules_cache.end()) return it->second;
    }
    auto rules = with_retries([&] { return session.trading().instrument_rules(key.market, key.symbol); });
    if (rules && rules->trading) {  // a halted symbol is asked again next time
      std::lock_guard lock(rules_mutex);
      rules_cache.insert_or_assign(k, *rules);
    }
    return rules;
  };
  // The rules of a symbol the venue lists and trades; `halted` is the error code otherwise.
  auto tradable_rules = [&](AccountSession& session, const SeriesKey& key, ErrorCode halted) -> Result<venue::InstrumentRules> {
    auto rules = rules_of(session, key);
    if (rules && !rules->trading) return make_error(halted, "{} is listed but not trading", key.symbol);
    return rules;
  };
  // A symbol the venue does not list fails here, before any order.
  auto learn_rules = [&](Bot& bot, AccountSession& session, const SeriesKey& key) -> Status {
    auto rules = tradable_rules(session, key, ErrorCode::config_error);
    if (!rules) return make_error(rules.error().code, "bot {}: {}", bot.name(), rules.error().message);
    bot.trader().set_symbol_lot(key.symbol, rules->qty_step, rules->min_notional);
    return {};
  };
  for (std::size_t i = 0; i < bots.size(); ++i) {
    for (const SeriesKey& key : bots[i]->subscriptions()) {
      if (auto ok = learn_rules(*bots[i], *sessions.at(options.bots[i].account), key); !ok) return ok;
    }
  }

  // History: recent closed candles of every watched series, into the store and the strategies.
  // A symbol the venue does not list fails here, before any order.
  std::map<std::pair<Exchange, Market>, std::unique_ptr<feed::KlineFetcher>> fetchers;
  std::map<std::pair<Exchange, Market>, const AccountEndpoint*> public_endpoint;
  for (const auto& a : options.accounts) public_endpoint.try_emplace({a.exchange, a.market}, &a);
  std::mutex fetch_mutex;  // fetchers are one-thread-at-a-time; control jobs may fetch too
  auto history_of = [&](const SeriesKey& key) -> Result<std::vector<Candle>> {
    std::lock_guard lock(fetch_mutex);
    auto& fetcher = fetchers[{key.exchange, key.market}];
    if (!fetcher) {
      const AccountEndpoint& a = *public_endpoint.at({key.exchange, key.market});
      auto limiter = limiters.limiter(a.exchange, "public");
      if (!limiter) return std::unexpected(limiter.error());
      auto f = feed::KlineFetcher::create(a.exchange, a.market, a.rest_url, *limiter, clock);
      if (!f) return std::unexpected(f.error());
      fetcher = std::move(*f);
    }
    const Timestamp current_open = interval_floor(key.interval, clock.now());
    const Timestamp from = current_open - interval_length(key.interval) * static_cast<std::int64_t>(options.warmup_candles);
    auto got = fetcher->fetch_all(key, floor_ms(from), floor_ms(current_open), stop);
    if (!got) return make_error(got.error().code, "{} {} {}: {}", to_string(key.exchange), key.symbol, key.interval, got.error().message);
    std::erase_if(*got, [](const Candle& c) { return !c.closed; });
    return got;
  };
  auto warm = [&](Bot& bot, const SeriesKey& key, bool into_store) -> Status {
    auto history = history_of(key);
    if (!history) return std::unexpected(history.error());
    for (const Candle& c : *history) {
      if (into_store) (void)(*candles)->append(key, c);
      bot.warm_up(key, c);
    }
    return {};
  };
  {
    std::set<SeriesKey> stored;
    for (auto& bot : bots) {
      for (const SeriesKey& key : bot->subscriptions()) {
        if (auto ok = warm(*bot, key, stored.insert(key).second); !ok) return make_error(ok.error().code, "bot {}: {}", bot->name(), ok.error().message);
      }
      bot->flush();
    }
  }

  // Reconcile before anything trades.
  std::vector<std::string> fixes;
  for (auto& [name, session] : sessions) {
    if (auto ok = session->reconcile(bots, *ledger, claims, fixes); !ok) return ok;
  }
  if (options.on_notice) {
    if (fixes.empty()) options.on_notice("reconcile: journal, ledger and venue agree; nothing to fix");
    for (const auto& f : fixes) options.on_notice("reconcile: " + f);
  }

  for (auto& bot : bots) loop.add_bot(std::move(bot));
  bots.clear();

  // One market feed per venue and market, every watched series subscribed once.
  auto sink = std::make_shared<EngineSink>(**candles, loop, [&options](std::string_view text) {
    spdlog::warn("{}", text);
    if (options.on_notice) options.on_notice(text);
  });
  std::map<std::pair<Exchange, Market>, std::unique_ptr<feed::MarketFeed>> feeds;
  std::set<SeriesKey> subscribed;
  auto subscribe = [&](const SeriesKey& key) -> Status {
    if (!subscribed.insert(key).second) return {};
    auto& f = feeds[{key.exchange, key.market}];
    if (!f) {
      const AccountEndpoint& a = *public_endpoint.at({key.exchange, key.market});
      feed::FeedOptions fo;
      fo.exchange = a.exchange;
      fo.market = a.market;
      fo.endpoints = {a.rest_url, a.public_ws_url};
      fo.last_stored = feed::last_stored_in(**candles);
      fo.stale_after = options.feed_stale_after;
      auto created = feed::MarketFeed::create(std::move(fo), limiters, clock);
      if (!created) return std::unexpected(created.error());
      f = std::move(*created);
      if (auto ok = f->start(); !ok) return ok;
    }
    auto id = f->subscribe(key.symbol, key.interval, sink);
    if (!id) return std::unexpected(id.error());
    return {};
  };
  for (const SeriesKey& key : watched) {
    if (auto ok = subscribe(key); !ok) return ok;
  }

  auto status = [&] {
    EngineStatus s;
    s.sim_time = clock.now();
    s.capital = ledger->stats();
    if (!account_limiters.empty()) s.limiter = account_limiters.begin()->second->stats().summary();
    s.data = (*candles)->get_stats();
    FeedSummary fs;
    for (const auto& [k, f] : feeds) {
      const auto st = f->stats();
      fs.connections += st.connections_open;
      fs.reconnects += st.reconnects;
      fs.closed_candles += st.closed_candles;
      fs.gaps += st.gaps;
      fs.gap_candles_filled += st.gap_candles_filled;
      fs.queue_depth += st.queue.depth;
      s.gaps += st.venue_gap_candles;
    }
    s.feed = fs;
    for (const auto& [n, session] : sessions) {
      s.orders += session->orders();
      s.fills += session->fills();
      s.limiter_refusals += session->refusals();
      s.candle_to_order_p50_ns = std::max(s.candle_to_order_p50_ns, session->candle_to_order().quantile_ns(0.5));
      s.candle_to_order_p99_ns = std::max(s.candle_to_order_p99_ns, session->candle_to_order().quantile_ns(0.99));
    }
    for (const auto& bot : loop.bots()) s.bots.push_back(bot_status(*bot));
    return s;
  };

  auto config_of = [&](const Bot& bot) -> const BotConfig& {
    for (const auto& c : options.bots) {
      if (c.name == bot.name()) return c;
    }
    return options.bots.front();  // unreachable: every bot came from a config entry
  };
  class Host final : public BotControl::Host {
   public:
    std::function<EngineStatus()> status_fn;
    std::function<Status(const SeriesKey&)> listed_fn;
    std::function<Status(Bot&, const std::vector<SeriesKey>&)> watch_fn;
    store::CandleStore* store = nullptr;
    EngineStatus status() override { return status_fn(); }
    Status check_listed(const SeriesKey& key) override { return listed_fn(key); }
    void watch(Bot& bot, const std::vector<SeriesKey>& added) override {
      if (auto ok = watch_fn(bot, added); !ok) spdlog::error("bot {}: watching new symbols: {}", bot.name(), ok.error().message);
    }
    void rewarm(Bot& bot) override {
      for (const SeriesKey& key : bot.subscriptions()) {
        auto snap = store->snapshot(key);
        if (!snap) continue;
        for (const Candle& c : snap->closed) bot.warm_up(key, c);
      }
    }
  } host;
  host.status_fn = status;
  host.store = candles->get();
  host.listed_fn = [&](const SeriesKey& key) -> Status {
    for (auto& [name, session] : sessions) {
      if (session->endpoint().exchange != key.exchange || session->endpoint().market != key.market) continue;
      auto rules = tradable_rules(*session, key, ErrorCode::invalid_argument);
      if (!rules) return std::unexpected(rules.error());
      return {};
    }
    return make_error(ErrorCode::invalid_argument, "no account trades {} {}", to_string(key.exchange), to_string(key.market));
  };
  host.watch_fn = [&](Bot& bot, const std::vector<SeriesKey>& added) -> Status {
    AccountSession& session = *sessions.at(config_of(bot).account);
    for (const SeriesKey& key : added) {
      (void)learn_rules(bot, session, key);  // check_listed() has vetted it already
      if (auto ok = warm(bot, key, true); !ok) return ok;
      if (auto ok = subscribe(key); !ok) return ok;
    }
    loop.refresh_routes();
    return {};
  };
  BotControl control(loop.bots(), host);

  for (auto& [name, session] : sessions) session->attach(loop);
  loop.start();
  for (auto& [name, session] : sessions) session->start();

  const Timestamp trading_start = clock.now();
  const Timestamp end = options.duration ? trading_start + *options.duration : Timestamp::max();
  Timestamp next_report = trading_start + options.report_every;
  auto next_flush = std::chrono::steady_clock::now() + options.flush_every;
  constexpr auto kCheckpointEvery = std::chrono::seconds(1);
  auto next_checkpoint = std::chrono::steady_clock::now() + kCheckpointEvery;
  auto report_now = [&] {
    if (!report) return;
    EngineStatus s;
    if (loop.call([&] { s = status(); })) report(s);
  };
  report_now();
  while (!stop.stop_requested() && clock.now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (options.mailbox != nullptr && options.mailbox->depth() > 0) {
      (void)loop.call([&] { options.mailbox->run_pending(control); }, std::chrono::seconds(30));
    }
    if (std::chrono::steady_clock::now() >= next_flush) {
      if (auto flushed = (*candles)->flush(); !flushed) spdlog::error("candle flush failed: {}", flushed.error().message);
      // The store's periodic journal merge runs DuckDB, whose freed buffers stay in glibc's
      // arenas; handing them back keeps resident memory flat over days.
      ::malloc_trim(0);
      next_flush = std::chrono::steady_clock::now() + options.flush_every;
    }
    if (std::chrono::steady_clock::now() >= next_checkpoint) {  // here, not inline in a sender's write
      if (auto ok = (*journal)->checkpoint(); !ok) spdlog::warn("{}", ok.error().message);
      next_checkpoint = std::chrono::steady_clock::now() + kCheckpointEvery;
    }
    if (clock.now() >= next_report) {
      report_now();
      next_report += options.report_every;
    }
  }

  // Stop: no new signals, optionally flatten, let in-flight orders settle, then persist.
  if (options.mailbox != nullptr) options.mailbox->close();
  // Closes every position without an exit in flight; repeated while settling, since an entry
  // in flight at the stop may fill (and an exit may be refused) afterwards.
  auto close_all = [&] {
    bool open = false;
    for (auto& bot : loop.bots()) {
      std::vector<Symbol> held;
      for (const auto& [symbol, p] : bot->trader().positions()) {
        open = true;
        if (!p.exit_order) held.push_back(symbol);
      }
      for (const Symbol& s : held) (void)bot->trader().close(s, OrderPurpose::end_of_run);
    }
    return open;
  };
  (void)loop.call([&] {
    for (auto& bot : loop.bots()) bot->stop();
    if (options.close_on_stop) (void)close_all();
  });
  const auto settle_until = std::chrono::steady_clock::now() + options.settle_timeout;
  for (;;) {
    std::size_t in_flight = 0;
    for (auto& [n, session] : sessions) in_flight += session->in_flight();
    bool exits_pending = false;
    if (options.close_on_stop) {
      (void)loop.call([&] { exits_pending = close_all(); });
    }
    if ((in_flight == 0 && !exits_pending) || std::chrono::steady_clock::now() >= settle_until) {
      if (in_flight > 0 && options.on_notice) {
        options.on_notice(fmt::format("stop: {} order(s) still in flight after {} ms; the next start reconciles them", in_flight,
                                      options.settle_timeout.count()));
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& [k, f] : feeds) f->stop();
  for (auto& [n, session] : sessions) session->stop();
  report_now();
  loop.stop();
  if (auto flushed = (*candles)->flush(); !flushed) return std::unexpected(flushed.error());
  return {};
}

}  // namespace twinstar
