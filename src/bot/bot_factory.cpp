#include "bot/bot_factory.hpp"

#include <set>

namespace twinstar {

namespace {

std::string where(const BotConfig& b, const std::string& source = {}) {
  return source.empty() ? fmt::format("bot {}", b.name) : fmt::format("{}:{}: bot {}", source, b.line, b.name);
}

}  // namespace

LedgerOptions ledger_options(const CapitalConfig& c) {
  LedgerOptions o;
  o.initial_capital = c.initial_capital;
  o.max_allocation_ratio = c.max_allocation_ratio;
  for (const auto& [s, cap] : c.per_symbol_cap) o.per_symbol_cap[*Symbol::parse(s)] = cap;  // validated by config
  for (const auto& [b, cap] : c.per_bot_cap) o.per_bot_cap[b] = cap;
  o.daily_loss_limit = c.daily_loss_limit;
  o.max_drawdown = c.max_drawdown;
  return o;
}

Result<TraderOptions> trader_options(const BotConfig& b) {
  TraderOptions o;
  o.bot = b.name;
  o.allow_short = b.allow_short;
  o.max_positions = b.max_positions;
  const SizingConfig& s = b.sizing;
  if (s.mode == "fixed_quote") {
    o.sizing.mode = SizingMode::fixed_quote;
  } else if (s.mode == "percent_available") {
    o.sizing.mode = SizingMode::percent_available;
  } else if (s.mode == "risk") {
    o.sizing.mode = SizingMode::risk;
  } else {
    return make_error(ErrorCode::config_error, "{}: unknown sizing mode {}", where(b), s.mode);
  }
  o.sizing.fixed_amount = s.amount;
  o.sizing.fraction = s.fraction;
  o.sizing.risk_fraction = s.risk_fraction;
  o.sizing.lot_size = s.lot_size;
  o.sizing.min_notional = s.min_notional;
  return o;
}

Result<std::unique_ptr<Bot>> make_bot(const BotConfig& b, CapitalLedger& ledger, OrderGateway& gateway, Clock& clock,
                                      SymbolClaims& claims) {
  auto options = trader_options(b);
  if (!options) return std::unexpected(options.error());
  auto strategy = make_strategy(b.strategy, b.params);
  if (!strategy) return make_error(ErrorCode::config_error, "{}: {}", where(b), strategy.error().message);
  std::vector<Symbol> symbols;
  for (const auto& s : b.symbols) {
    auto sym = Symbol::parse(s);
    if (!sym) return make_error(ErrorCode::config_error, "{}: {}", where(b), sym.error().message);
    symbols.push_back(*sym);
  }
  SymbolClaims* claim_book = b.trade_symbols_of_other_bots ? nullptr : &claims;
  if (b.kind == "single") {
    return std::unique_ptr<Bot>(std::make_unique<SingleBot>(SeriesKey{b.exchange, b.market, symbols.front(), b.interval},
                                                            std::move(*strategy), std::move(*options), ledger, gateway,
                                                            clock, claim_book));
  }
  return std::unique_ptr<Bot>(std::make_unique<MultiTrader>(b.exchange, b.market, b.interval, std::move(symbols),
                                                            std::move(*strategy), std::move(*options), ledger, gateway,
                                                            clock, claim_book));
}

Status validate_bots(const std::vector<BotConfig>& bots, const std::string& source) {
  std::set<std::string> single_symbols;
  for (const BotConfig& b : bots) {
    if (auto s = make_strategy(b.strategy, b.params); !s) {
      return make_error(ErrorCode::config_error, "{}: {}", where(b, source), s.error().message);
    }
    if (auto o = trader_options(b); !o) return std::unexpected(o.error());
    if (b.kind == "single") {
      const auto key = fmt::format("{}/{}/{}", b.exchange, b.market, b.symbols.front());
      if (!single_symbols.insert(key).second) {
        return make_error(ErrorCode::config_error, "{}: another single bot already trades {} on {} {}", where(b, source),
                          b.symbols.front(), b.exchange, b.market);
      }
    }
  }
  return {};
}

Status validate_bots_against_capital(const std::vector<BotConfig>& bots, const CapitalConfig& capital,
                                     const std::string& source) {
  const Money allocatable = apply_ratio(capital.initial_capital, capital.max_allocation_ratio);
  for (const BotConfig& b : bots) {
    if (b.sizing.mode != "fixed_quote") continue;  // the other modes size within what is available
    auto options = trader_options(b);
    if (!options) return std::unexpected(options.error());
    const Money needed = b.sizing.amount + apply_ratio(b.sizing.amount, options->reserve_buffer, Rounding::up);
    if (needed > allocatable) {
      return make_error(ErrorCode::config_error,
                        "{}: each entry reserves {} (sizing.amount {} + {} buffer), more than the allocation cap {} "
                        "(capital.initial_capital {} x max_allocation_ratio {})",
                        where(b, source), needed, b.sizing.amount, options->reserve_buffer, allocatable,
                        capital.initial_capital, capital.max_allocation_ratio);
    }
    if (auto cap = capital.per_bot_cap.find(b.name); cap != capital.per_bot_cap.end() && needed > cap->second) {
      return make_error(ErrorCode::config_error, "{}: each entry reserves {}, more than capital.per_bot_cap.{} = {}",
                        where(b, source), needed, b.name, cap->second);
    }
    for (const auto& symbol : b.symbols) {
      if (auto cap = capital.per_symbol_cap.find(symbol); cap != capital.per_symbol_cap.end() && needed > cap->second) {
        return make_error(ErrorCode::config_error, "{}: each entry reserves {}, more than capital.per_symbol_cap.{} = {}",
                          where(b, source), needed, symbol, cap->second);
      }
    }
  }
  return {};
}

}  // namespace twinstar
