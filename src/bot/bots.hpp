#pragma once
// The two kinds of bot. Both are single-threaded event handlers over the shared Trader
// lifecycle: the live engine calls them from its trading thread, the backtest from its loop.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bot/trader.hpp"
#include "strategy/strategy.hpp"

namespace twinstar {

enum class BotState : std::uint8_t { running, paused, stopped };
std::string_view to_string(BotState s) noexcept;

// What every bot exposes to the engine.
class Bot {
 public:
  virtual ~Bot() = default;
  virtual const std::string& name() const noexcept = 0;
  // The series this bot needs candles for.
  virtual std::vector<SeriesKey> subscriptions() const = 0;
  // A candle of a subscribed series; closed candles drive signals, open ones only move stops.
  virtual void on_candle(const SeriesKey& key, const Candle& candle) = 0;
  virtual void on_order_update(const OrderUpdate& update) = 0;
  virtual void on_time(Timestamp now) = 0;
  virtual Trader& trader() noexcept = 0;
  virtual const Trader& trader() const noexcept = 0;
  virtual std::size_t warmup() const noexcept = 0;
  // Acts on anything collected but not yet acted on (a MultiTrader's unfinished round).
  virtual void flush() {}
  // History for the strategy only (start-up, or after new parameters): no signal is acted on
  // and positions are not marked, so old candles never trigger a stop.
  virtual void warm_up(const SeriesKey& key, const Candle& closed) = 0;
  // The strategy in force (for every symbol of a MultiTrader).
  virtual const Strategy& strategy() const noexcept = 0;
  // Replaces the strategy (new parameters): its state starts fresh, so the caller warms it up
  // again. Positions keep their levels.
  virtual void set_strategy(std::unique_ptr<Strategy> strategy) = 0;
  BotState state() const noexcept { return state_; }
  // Paused: no new entries; open positions keep their stops. Stopped: the same, for good.
  void pause() { if (state_ == BotState::running) state_ = BotState::paused; }
  void resume() { if (state_ == BotState::paused) state_ = BotState::running; }
  void stop() { state_ = BotState::stopped; }

 protected:
  BotState state_ = BotState::running;
};

// One symbol, one strategy, acting on every closed candle as it arrives (the original UnifiedBot).
class SingleBot final : public Bot {
 public:
  SingleBot(SeriesKey series, std::unique_ptr<Strategy> strategy, TraderOptions options, CapitalLedger& ledger,
            OrderGateway& gateway, Clock& clock, SymbolClaims* claims = nullptr);
  const std::string& name() const noexcept override { return trader_.options().bot; }
  std::vector<SeriesKey> subscriptions() const override { return {series_}; }
  void on_candle(const SeriesKey& key, const Candle& candle) override;
  void on_order_update(const OrderUpdate& update) override { trader_.on_order_update(update); }
  void on_time(Timestamp now) override { trader_.on_time(now); }
  Trader& trader() noexcept override { return trader_; }
  const Trader& trader() const noexcept override { return trader_; }
  std::size_t warmup() const noexcept override { return strategy_->warmup(); }
  void warm_up(const SeriesKey& key, const Candle& closed) override;
  const Strategy& strategy() const noexcept override { return *strategy_; }
  void set_strategy(std::unique_ptr<Strategy> strategy) override { strategy_ = std::move(strategy); }

 private:
  SeriesKey series_;
  std::unique_ptr<Strategy> strategy_;
  Trader trader_;
};

struct RoundReport {
  TimestampMs open_time{};
  std::size_t symbols_reported = 0;
  std::size_t signals = 0;
  std::vector<std::string> entered;  // client ids
  std::vector<std::string> skipped;  // "SYMBOL: why"
};

// Many symbols, one strategy: collects the signals of one closed-candle round (all symbols'
// candles with the same open time), ranks them by strength and acts on the best, up to
// max_positions, never two positions in one symbol, never a symbol another bot holds.
class MultiTrader final : public Bot {
 public:
  MultiTrader(Exchange exchange, Market market, Interval interval, std::vector<Symbol> symbols,
              std::unique_ptr<Strategy> prototype, TraderOptions options, CapitalLedger& ledger, OrderGateway& gateway,
              Clock& clock, SymbolClaims* claims = nullptr, Duration round_grace = std::chrono::seconds(5));
  MultiTrader(const MultiTrader&) = delete;  // cursor_ points into watched_
  MultiTrader& operator=(const MultiTrader&) = delete;
  const std::string& name() const noexcept override { return trader_.options().bot; }
  std::vector<SeriesKey> subscriptions() const override;
  void on_candle(const SeriesKey& key, const Candle& candle) override;
  void on_order_update(const OrderUpdate& update) override { trader_.on_order_update(update); }
  // Finishes a round whose slowest symbols are more than round_grace late.
  void on_time(Timestamp now) override;
  Trader& trader() noexcept override { return trader_; }
  const Trader& trader() const noexcept override { return trader_; }
  std::size_t warmup() const noexcept override { return prototype_->warmup(); }
  void warm_up(const SeriesKey& key, const Candle& closed) override;
  const Strategy& strategy() const noexcept override { return *prototype_; }
  void set_strategy(std::unique_ptr<Strategy> strategy) override;

  // Replaces the watch list: new symbols start with fresh strategy state; dropped ones get no
  // new entries (an open position there keeps its stops until it closes).
  void set_symbols(std::vector<Symbol> symbols);
  std::vector<Symbol> symbols() const;
  SeriesKey key_of(const Symbol& symbol) const { return SeriesKey{exchange_, market_, symbol, interval_}; }
  // Ends the current round now (the backtest calls it at the end of the data).
  void finish_round();
  void flush() override { finish_round(); }
  const RoundReport& last_round() const noexcept { return last_round_; }

 private:
  Exchange exchange_;
  Market market_;
  Interval interval_;
  std::unique_ptr<Strategy> prototype_;
  struct Watched {
    std::unique_ptr<Strategy> strategy;
    bool reported = false;  // in the current round
  };
  std::map<Symbol, Watched> watched_;
  // Where the next candle's symbol usually is: a round's candles arrive in symbol order (the
  // feed's and the backtest's), so one comparison replaces a tree search. Reset with watched_.
  std::map<Symbol, Watched>::iterator cursor_ = watched_.end();
  Trader trader_;
  Duration round_grace_;
  std::optional<TimestampMs> round_open_;
  std::optional<TimestampMs> finished_round_;  // the newest round acted on: older candles are late
  std::size_t reported_ = 0;                   // symbols reported in the current round
  std::vector<Signal> round_signals_;
  RoundReport last_round_;
};

}  // namespace twinstar
