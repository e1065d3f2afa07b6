#pragma once
// `twinstar sim`: a local exchange that speaks Bybit's v5 REST and WebSocket protocol.
// One io thread runs everything: HTTP, WebSocket sessions and the market tick (a real-time
// timer that advances the market to the injected clock's now). See docs/SIM.md.

#include <cstdint>
#include <map>
#include <memory>
#include <expected>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "net/server.hpp"
#include "venue/sim/bybit_codec.hpp"
#include "venue/sim/exchange.hpp"
#include "venue/sim/json_in.hpp"
#include "venue/sim/market.hpp"
#include "venue/sim/rate_limits.hpp"
#include "venue/sim/sim_options.hpp"

namespace twinstar::venue::sim {

// The market source the options ask for: replay when options.replay is set, else synthetic
// starting at options.start (or `default_start`). Errors: the replay files' errors.
Result<std::unique_ptr<MarketSource>> make_market_source(const SimOptions& options, Timestamp default_start);

class SimServer final : public net::ServerHandler {
 public:
  // `clock` must outlive the server and should start at source->default_start().
  SimServer(SimOptions options, std::unique_ptr<MarketSource> source, Clock& clock);
  ~SimServer() override;

  // Binds (port 0: a free one) and starts the io thread. Errors: io_error.
  Status start();
  // Ends every connection and the io thread. Idempotent. Thread: not the io thread.
  void stop();
  std::uint16_t port() const noexcept { return server_.port(); }
  std::string rest_url() const;                      // http://127.0.0.1:P
  std::string ws_url(std::string_view path) const;   // ws://127.0.0.1:P/v5/public/linear ...
  const SimOptions& options() const noexcept { return options_; }
  std::string describe_market() const { return market_.source().describe(); }

  // net::ServerHandler (io thread)
  net::HttpResponse on_http(const net::HttpRequest& request) override;
  bool on_accept(std::string_view remote_ip) override;
  std::optional<net::HttpResponse> on_ws_upgrade(const net::HttpRequest& request) override;
  void on_ws_open(const std::shared_ptr<net::WsSession>& session) override;
  void on_ws_message(const std::shared_ptr<net::WsSession>& session, std::string_view text) override;
  void on_ws_close(const std::shared_ptr<net::WsSession>& session, std::string_view reason) override;

 private:
  struct WsState {
    std::shared_ptr<net::WsSession> session;
    WsChannel channel = WsChannel::linear;
    std::string conn_id;
    std::vector<std::string> topics;            // subscribed, in order
    std::optional<std::size_t> account;         // private: after a successful auth
    Timestamp last_activity{};
    Duration idle_limit{};
    Timestamp hold_until{};                     // stall fault: frames wait until then
    std::deque<std::pair<Timestamp, std::shared_ptr<const std::string>>> held;  // (release time, frame)
    std::size_t held_bytes = 0;
  };
  struct KlineTopic {
    WsChannel channel = WsChannel::linear;
    Interval interval = Interval::m1;
    std::string interval_text;
    std::size_t instrument = 0;
    std::string name;
    std::vector<std::uint64_t> sessions;
    Timestamp next_close{};
  };
  struct Counters {
    std::uint64_t rest_requests = 0, rest_public = 0, rest_private = 0, rest_not_found = 0;
    std::uint64_t kline_pushes = 0, kline_confirm_pushes = 0, private_pushes = 0, ws_replies = 0;
    std::uint64_t ws_errors = 0, ws_idle_closes = 0, ws_orders = 0;
    std::uint64_t fault_drop = 0, fault_stall = 0, fault_dup = 0, fault_delay = 0, fault_5xx = 0, fault_timeout = 0;
    std::uint64_t fault_refused = 0;
    std::map<int, std::uint64_t> auth_failures;  // retCode -> count
    std::map<int, std::uint64_t> ret_codes;      // every non-zero retCode answered
  };

  void on_tick();
  void run_periodic_faults(Timestamp prev, Timestamp now);
  void run_matching(Timestamp prev, Timestamp now);
  void push_kline_confirms(Timestamp now);
  void push_kline_updates(Timestamp now);
  void release_held(Timestamp now);
  void close_idle(Timestamp now);

  void deliver(WsState& s, const std::shared_ptr<const std::string>& frame, bool is_push);
  void send_now(WsState& s, const std::shared_ptr<const std::string>& frame);
  void reply(WsState& s, std::string frame) { ++counters_.ws_replies; deliver(s, std::make_shared<const std::string>(std::move(frame)), false); }
  void handle_subscribe(WsState& s, bool subscribe, const FlatJson& msg, std::optional<std::string_view> req_id);
  // The auth op's args [api_key, expires_ms, signature]: the account, or Bybit's retCode and text.
  struct AuthRefusal {
    int code = 0;
    std::string_view text;
  };
  std::expected<std::size_t, AuthRefusal> ws_auth_account(const FlatJson& msg) const;
  void handle_auth(WsState& s, const FlatJson& msg, std::optional<std::string_view> req_id);
  // /v5/trade: auth, ping, order.create and order.cancel (through route_authed, like REST).
  void handle_trade(WsState& s, const FlatJson& msg);
  void push_account_updates(const std::vector<AccountUpdate>& updates, Timestamp now);

  net::HttpResponse answer_http(const net::HttpRequest& request);  // on_http without the latency
  net::HttpResponse route_public(const net::HttpRequest& request, Timestamp now);
  net::HttpResponse route_private(const net::HttpRequest& request, Timestamp now);
  // A private request whose signature checked out, for `account`.
  net::HttpResponse route_authed(std::size_t account, const net::HttpRequest& request, Timestamp now);
  net::HttpResponse stats_response(Timestamp now);

  SimOptions options_;
  Clock& clock_;
  Market market_;
  Exchange exchange_;
  SimRateLimits limits_;
  net::Server server_;
  Timestamp started_at_{};
  Timestamp last_tick_{};
  Timestamp next_update_{};
  Timestamp refusing_until_{};
  std::uint64_t push_counter_ = 0;
  std::uint64_t rest_counter_ = 0;
  std::uint64_t push_id_counter_ = 0;
  std::unordered_map<std::uint64_t, WsState> ws_;        // by session id
  std::map<std::string, KlineTopic> kline_topics_;       // by channel prefix + topic name
  Counters counters_;
  std::vector<std::pair<Timestamp, Price>> points_scratch_;
};

}  // namespace twinstar::venue::sim
