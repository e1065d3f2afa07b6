#include "engine/bot_control.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace twinstar {

BotStatus bot_status(const Bot& bot) {
  const Trader& t = bot.trader();
  BotStatus b;
  b.name = bot.name();
  b.kind = dynamic_cast<const MultiTrader*>(&bot) != nullptr ? "multi" : "single";
  b.state = std::string(to_string(bot.state()));
  for (const SeriesKey& key : bot.subscriptions()) b.symbols.push_back(key.symbol.str());
  b.params = bot.strategy().params();
  b.positions = t.positions().size();
  b.trades = t.trades().size();
  for (const auto& tr : t.trades()) b.realized_pnl += tr.pnl;
  if (const auto& sig = t.stats().last_signal) {
    b.last_signal = fmt::format("{} {} strength {:.2f} ({})", to_string(sig->side), sig->symbol, sig->strength, sig->reason);
  }
  b.last_refusal = t.stats().last_refusal;
  return b;
}

Result<Bot*> BotControl::find(std::string_view name) {
  for (auto& bot : bots_) {
    if (bot->name() == name) return bot.get();
  }
  return make_error(ErrorCode::not_found, "no bot named {}", name);
}

Status BotControl::pause(std::string_view name) {
  auto bot = find(name);
  if (!bot) return std::unexpected(bot.error());
  (*bot)->pause();
  return {};
}

Status BotControl::resume(std::string_view name) {
  auto bot = find(name);
  if (!bot) return std::unexpected(bot.error());
  (*bot)->resume();
  return {};
}

Status BotControl::stop_bot(std::string_view name) {
  auto bot = find(name);
  if (!bot) return std::unexpected(bot.error());
  (*bot)->stop();
  return {};
}

Result<std::vector<std::string>> BotControl::change_symbols(std::string_view name, SymbolChange change,
                                                            const std::vector<std::string>& symbols) {
  auto bot = find(name);
  if (!bot) return std::unexpected(bot.error());
  auto* multi = dynamic_cast<MultiTrader*>(*bot);
  if (multi == nullptr) return make_error(ErrorCode::invalid_argument, "bot {} is a SingleBot: its symbol is fixed", name);
  std::vector<Symbol> next = change == SymbolChange::set ? std::vector<Symbol>{} : multi->symbols();
  for (const auto& text : symbols) {
    auto symbol = Symbol::parse(text);
    if (!symbol) return make_error(ErrorCode::invalid_argument, "bad symbol '{}': {}", text, symbol.error().message);
    if (change == SymbolChange::remove) {
      std::erase(next, *symbol);
    } else if (std::find(next.begin(), next.end(), *symbol) == next.end()) {
      next.push_back(*symbol);
    }
  }
  const auto before = multi->subscriptions();
  std::vector<SeriesKey> added;
  for (const Symbol& s : next) {
    const SeriesKey key = multi->key_of(s);
    if (std::find(before.begin(), before.end(), key) == before.end()) added.push_back(key);
  }
  // Every new symbol is checked before anything changes: all or nothing.
  for (const SeriesKey& key : added) {
    if (auto listed = host_.check_listed(key); !listed) return std::unexpected(listed.error());
  }
  multi->set_symbols(next);
  host_.watch(*multi, added);
  std::vector<std::string> out;
  for (const Symbol& s : multi->symbols()) out.push_back(s.str());
  return out;
}

Status BotControl::set_params(std::string_view name, const std::map<std::string, double>& params) {
  auto bot = find(name);
  if (!bot) return std::unexpected(bot.error());
  StrategyParams merged = (*bot)->strategy().params();
  for (const auto& [k, v] : params) merged[k] = v;
  auto strategy = make_strategy((*bot)->strategy().name(), merged);
  if (!strategy) return std::unexpected(strategy.error());
  (*bot)->set_strategy(std::move(*strategy));
  host_.rewarm(**bot);
  return {};
}

}  // namespace twinstar
