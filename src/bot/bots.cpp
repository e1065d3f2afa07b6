#include "bot/bots.hpp"

#include <algorithm>

namespace twinstar {

std::string_view to_string(BotState s) noexcept {
  switch (s) {
    case BotState::running: return "running";
    case BotState::paused: return "paused";
    case BotState::stopped: return "stopped";
  }
  return "?";
}

SingleBot::SingleBot(SeriesKey series, std::unique_ptr<Strategy> strategy, TraderOptions options, CapitalLedger& ledger,
                     OrderGateway& gateway, Clock& clock, SymbolClaims* claims)
    : series_(std::move(series)), strategy_(std::move(strategy)), trader_(std::move(options), ledger, gateway, clock, claims) {}

void SingleBot::on_candle(const SeriesKey& key, const Candle& candle) {
  if (key != series_) return;
  trader_.on_candle(key.symbol, candle);
  if (!candle.closed) return;
  // The strategy sees every closed candle, paused or not, so its state stays current.
  auto signal = strategy_->on_candle(key.symbol, candle);
  if (signal && state_ == BotState::running) (void)trader_.on_signal(*signal);
}

void SingleBot::warm_up(const SeriesKey& key, const Candle& closed) {
  if (key == series_ && closed.closed) (void)strategy_->on_candle(key.symbol, closed);
}

MultiTrader::MultiTrader(Exchange exchange, Market market, Interval interval, std::vector<Symbol> symbols,
                         std::unique_ptr<Strategy> prototype, TraderOptions options, CapitalLedger& ledger,
                         OrderGateway& gateway, Clock& clock, SymbolClaims* claims, Duration round_grace)
    : exchange_(exchange), market_(market), interval_(interval), prototype_(std::move(prototype)),
      trader_(std::move(options), ledger, gateway, clock, claims), round_grace_(round_grace) {
  set_symbols(std::move(symbols));
}

std::vector<SeriesKey> MultiTrader::subscriptions() const {
  std::vector<SeriesKey> out;
  for (const auto& [symbol, w] : watched_) out.push_back(SeriesKey{exchange_, market_, symbol, interval_});
  return out;
}

std::vector<Symbol> MultiTrader::symbols() const {
  std::vector<Symbol> out;
  for (const auto& [symbol, w] : watched_) out.push_back(symbol);
  return out;
}

void MultiTrader::set_symbols(std::vector<Symbol> symbols) {
  std::map<Symbol, Watched> next;
  for (const Symbol& s : symbols) {
    auto it = watched_.find(s);
    next[s] = it != watched_.end() ? std::move(it->second) : Watched{prototype_->clone_fresh(), false};
  }
  watched_ = std::move(next);
  cursor_ = watched_.begin();
  // A dropped symbol's pending signal is void.
  std::erase_if(round_signals_, [&](const Signal& s) { return !watched_.contains(s.symbol); });
  reported_ = 0;
  for (const auto& [symbol, w] : watched_) reported_ += w.reported;
}

void MultiTrader::on_candle(const SeriesKey& key, const Candle& candle) {
  if (key.exchange != exchange_ || key.market != market_ || key.interval != interval_) return;
  // Stops are watched for every held symbol, even one dropped from the list.
  trader_.on_candle(key.symbol, candle);
  auto it = cursor_ != watched_.end() && cursor_->first == key.symbol ? cursor_ : watched_.find(key.symbol);
  if (it == watched_.end() || !candle.closed) return;
  cursor_ = std::next(it) != watched_.end() ? std::next(it) : watched_.begin();
  auto signal = it->second.strategy->on_candle(key.symbol, candle);
  // A late candle of a round already acted on still moves the strategy's indicators (or they
  // would skip a bar), but its signal comes too late to act on.
  if (finished_round_ && candle.open_time <= *finished_round_) return;
  if (round_open_ && candle.open_time > *round_open_) finish_round();
  if (!round_open_) round_open_ = candle.open_time;
  if (candle.open_time < *round_open_) return;  // behind the round in progress: too late as well
  if (!it->second.reported) {
    it->second.reported = true;
    ++reported_;
  }
  if (signal) round_signals_.push_back(*signal);
  if (reported_ == watched_.size()) finish_round();
}

void MultiTrader::warm_up(const SeriesKey& key, const Candle& closed) {
  if (key.exchange != exchange_ || key.market != market_ || key.interval != interval_ || !closed.closed) return;
  if (auto it = watched_.find(key.symbol); it != watched_.end()) (void)it->second.strategy->on_candle(key.symbol, closed);
}

void MultiTrader::set_strategy(std::unique_ptr<Strategy> strategy) {
  prototype_ = std::move(strategy);
  for (auto& [symbol, w] : watched_) w.strategy = prototype_->clone_fresh();
  round_signals_.clear();  // computed with the old parameters
}

void MultiTrader::on_time(Timestamp now) {
  trader_.on_time(now);
  // The round's candles close at open + interval; the slowest may be round_grace late.
  if (round_open_ && now >= interval_next(interval_, Timestamp(*round_open_)) + round_grace_) {
    finish_round();
  }
}

void MultiTrader::finish_round() {
  if (!round_open_) return;
  RoundReport report;
  report.open_time = *round_open_;
  report.symbols_reported = reported_;
  report.signals = round_signals_.size();
  // Strongest first; ties by symbol so the order never depends on arrival.
  std::sort(round_signals_.begin(), round_signals_.end(), [](const Signal& a, const Signal& b) {
    return a.strength != b.strength ? a.strength > b.strength : a.symbol < b.symbol;
  });
  // A paused bot still closes; the rest go to the trader together (one ledger transaction).
  std::erase_if(round_signals_, [&](const Signal& s) {
    if (state_ == BotState::running || trader_.has_position(s.symbol)) return false;
    report.skipped.push_back(fmt::format("{}: bot {}", s.symbol, to_string(state_)));
    return true;
  });
  auto results = trader_.on_signals(round_signals_);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i]) {
      report.entered.push_back(*results[i]);
    } else {
      report.skipped.push_back(fmt::format("{}: {}", round_signals_[i].symbol, results[i].error().message));
    }
  }
  last_round_ = std::move(report);
  round_signals_.clear();
  for (auto& [symbol, w] : watched_) w.reported = false;
  reported_ = 0;
  finished_round_ = round_open_;
  round_open_.reset();
}

}  // namespace twinstar
