#include "config/config.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace twinstar {

namespace {

// Walks a parsed TOML document, turning every problem into "file:line: key: rule, got value".
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  std::unexpected<Error> fail(const toml::node* node, std::string_view key, std::string_view rule,
                              std::string_view got = {}) const {
    std::string where = source_;
    if (node != nullptr && node->source().begin.line > 0) where += fmt::format(":{}", node->source().begin.line);
    if (got.empty()) return make_error(ErrorCode::config_error, "{}: {} {}", where, key, rule);
    return make_error(ErrorCode::config_error, "{}: {} {}, got {}", where, key, rule, got);
  }

  // Rejects keys the schema does not know, so a typo is an error and not a silently ignored setting.
  Status only_keys(const toml::table& table, std::string_view prefix, std::initializer_list<std::string_view> known) const {
    for (const auto& [key, node] : table) {
      bool ok = false;
      for (auto k : known) ok = ok || key.str() == k;
      if (!ok) {
        std::string list;
        for (auto k : known) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
        return fail(&node, join(prefix, key.str()), fmt::format("is not a known setting (known: {})", list));
      }
    }
    return {};
  }

  static std::string join(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : fmt::format("{}.{}", prefix, key);
  }

  static std::string show(const toml::node& node) {
    std::ostringstream out;
    node.visit([&](const auto& n) {
      if constexpr (toml::is_string<decltype(n)>) {
        out << '"' << n.get() << '"';
      } else {
        out << n;
      }
    });
    return out.str();
  }

  Result<std::string> string(const toml::node& node, std::string_view key) const {
    if (auto s = node.as_string()) return s->get();
    return fail(&node, key, "must be a string", show(node));
  }

  Result<bool> boolean(const toml::node& node, std::string_view key) const {
    if (auto b = node.as_boolean()) return b->get();
    return fail(&node, key, "must be true or false", show(node));
  }

  Result<std::int64_t> integer(const toml::node& node, std::string_view key, std::int64_t min) const {
    auto i = node.as_integer();
    if (!i) return fail(&node, key, "must be an integer", show(node));
    if (i->get() < min) return fail(&node, key, fmt::format("must be at least {}", min), show(node));
    return i->get();
  }

  // Decimals come as strings (exact), integers, or floats (rounded to 8 places).
  template <class D>
  Result<D> decimal(const toml::node& node, std::string_view key) const {
    Result<D> value = std::unexpected(Error{});
    if (auto s = node.as_string()) value = D::parse(s->get());
    else if (auto i = node.as_integer()) value = D::parse(std::to_string(i->get()));
    else if (auto f = node.as_floating_point()) value = D::from_double(f->get());
    else return fail(&node, key, "must be a number or a decimal string", show(node));
    if (!value) return fail(&node, key, "must be a decimal number with at most 8 decimal places", show(node));
    return value;
  }

  Result<Money> positive_money(const toml::node& node, std::string_view key) const {
    auto m = decimal<Money>(node, key);
    if (!m) return m;
    if (!m->is_positive()) return fail(&node, key, "must be greater than 0", show(node));
    return m;
  }

  Result<Ratio> ratio(const toml::node& node, std::string_view key, bool allow_one = true) const {
    auto r = decimal<Ratio>(node, key);
    if (!r) return r;
    const Ratio one = Ratio::from_units(1);
    if (!r->is_positive() || *r > one || (!allow_one && *r == one)) {
      return fail(&node, key, allow_one ? "must be in (0, 1]" : "must be in (0, 1)", show(node));
    }
    return r;
  }

  Result<Duration> duration(const toml::node& node, std::string_view key) const {
    auto s = node.as_string();
    if (!s) return fail(&node, key, "must be a duration string such as \"5s\" or \"1m\"", show(node));
    auto d = parse_duration(s->get());
    if (!d) return fail(&node, key, "must be a positive duration such as \"500ms\", \"5s\", \"1m\"", show(node));
    return d;
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

#define TRY_ASSIGN(target, expr)              \
  do {                                        \
    auto _r = (expr);                         \
    if (!_r) return std::unexpected(_r.error()); \
    target = std::move(*_r);                  \
  } while (0)
#define TRY(expr)                             \
  do {                                        \
    auto _r = (expr);                         \
    if (!_r) return std::unexpected(_r.error()); \
  } while (0)

const toml::table* table_of(const Reader& r, const toml::node& node, std::string_view key, Error& error) {
  auto t = node.as_table();
  if (!t) error = r.fail(&node, key, "must be a table", Reader::show(node)).error();
  return t;
}

Status read_money_map(const Reader& r, const toml::node& node, std::string_view key, std::map<std::string, Money>& out,
                      bool symbols) {
  Error error;
  auto table = table_of(r, node, key, error);
  if (!table) return std::unexpected(error);
  for (const auto& [name, value] : *table) {
    const std::string full = Reader::join(key, name.str());
    if (symbols) {
      auto sym = Symbol::parse(name.str());
      if (!sym) return r.fail(&value, full, "is not a valid symbol (A-Z, 0-9, '-', '_', '/'; at most 23 characters)");
      TRY_ASSIGN(out[sym->str()], r.positive_money(value, full));
    } else {
      TRY_ASSIGN(out[std::string(name.str())], r.positive_money(value, full));
    }
  }
  return {};
}

Status read_capital(const Reader& r, const toml::table& t, CapitalConfig& c) {
  TRY(r.only_keys(t, "capital", {"exchange", "initial_capital", "max_allocation_ratio", "per_symbol_cap", "per_bot_cap",
                                 "daily_loss_limit", "max_drawdown"}));
  for (const auto& [k, node] : t) {
    const std::string key = Reader::join("capital", k.str());
    const auto name = k.str();
    if (name == "exchange") {
      std::string s;
      TRY_ASSIGN(s, r.string(node, key));
      auto e = parse_exchange(s);
      if (!e) return r.fail(&node, key, "must be one of bybit, binance, okx, bitget", Reader::show(node));
      c.exchange = *e;
    } else if (name == "initial_capital") {
      TRY_ASSIGN(c.initial_capital, r.positive_money(node, key));
    } else if (name == "max_allocation_ratio") {
      TRY_ASSIGN(c.max_allocation_ratio, r.ratio(node, key));
    } else if (name == "per_symbol_cap") {
      TRY(read_money_map(r, node, key, c.per_symbol_cap, true));
    } else if (name == "per_bot_cap") {
      TRY(read_money_map(r, node, key, c.per_bot_cap, false));
    } else if (name == "daily_loss_limit") {
      TRY_ASSIGN(c.daily_loss_limit, r.positive_money(node, key));
    } else if (name == "max_drawdown") {
      TRY_ASSIGN(c.max_drawdown, r.ratio(node, key, false));
    }
  }
  return {};
}

Status read_rate_limit(const Reader& r, const toml::table& t, std::string_view prefix, RateLimitConfig& c) {
  TRY(r.only_keys(t, prefix, {"preset", "safety_margin", "share", "buckets"}));
  if (auto preset = t.get("preset")) {
    TRY_ASSIGN(c.preset, r.string(*preset, Reader::join(prefix, "preset")));
  } else {
    return r.fail(nullptr, Reader::join(prefix, "preset"), "is required (bybit, binance_spot, binance_usdm, okx, bitget)");
  }
  if (auto margin = t.get("safety_margin")) {
    TRY_ASSIGN(c.safety_margin, r.ratio(*margin, Reader::join(prefix, "safety_margin")));
  }
  if (auto share = t.get("share")) {
    TRY_ASSIGN(c.share, r.ratio(*share, Reader::join(prefix, "share")));
  }
  if (auto buckets = t.get("buckets")) {
    const std::string bkey = Reader::join(prefix, "buckets");
    Error error;
    auto bt = table_of(r, *buckets, bkey, error);
    if (!bt) return std::unexpected(error);
    for (const auto& [name, node] : *bt) {
      const std::string key = Reader::join(bkey, name.str());
      auto b = table_of(r, node, key, error);
      if (!b) return std::unexpected(error);
      TRY(r.only_keys(*b, key, {"limit", "window", "strict"}));
      BucketOverride o;
      if (auto v = b->get("limit")) TRY_ASSIGN(o.limit, r.integer(*v, Reader::join(key, "limit"), 1));
      if (auto v = b->get("window")) TRY_ASSIGN(o.window, r.duration(*v, Reader::join(key, "window")));
      if (auto v = b->get("strict")) TRY_ASSIGN(o.strict, r.boolean(*v, Reader::join(key, "strict")));
      c.buckets[std::string(name.str())] = o;
    }
  }
  return {};
}

Status read_account(const Reader& r, const toml::table& t, std::string_view prefix, AccountConfig& a) {
  TRY(r.only_keys(t, prefix, {"name", "exchange", "market", "endpoint", "api_key_env", "api_secret_env", "key_file", "order_entry"}));
  for (const auto& [k, node] : t) {
    const std::string key = Reader::join(prefix, k.str());
    std::string value;
    TRY_ASSIGN(value, r.string(node, key));
    const auto name = k.str();
    if (name == "name") {
      if (value.empty()) return r.fail(&node, key, "must not be empty");
      a.name = value;
    } else if (name == "exchange") {
      auto e = parse_exchange(value);
      if (!e) return r.fail(&node, key, "must be one of bybit, binance, okx, bitget", Reader::show(node));
      a.exchange = *e;
    } else if (name == "market") {
      auto m = parse_market(value);
      if (!m) return r.fail(&node, key, "must be spot or linear", Reader::show(node));
      a.market = *m;
    } else if (name == "endpoint") {
      a.endpoint = value;
    } else if (name == "api_key_env") {
      a.api_key_env = value;
    } else if (name == "api_secret_env") {
      a.api_secret_env = value;
    } else if (name == "key_file") {
      a.key_file = value;
    } else if (name == "order_entry") {
      if (value != "websocket" && value != "rest") return r.fail(&node, key, "must be websocket or rest", Reader::show(node));
      a.order_entry = value;
    }
  }
  if (!a.key_file.empty() && (!a.api_key_env.empty() || !a.api_secret_env.empty())) {
    return r.fail(&t, prefix, "must name either key_file or api_key_env/api_secret_env, not both");
  }
  return {};
}

Result<std::vector<std::string>> string_list(const Reader& r, const toml::node& node, std::string_view key) {
  auto array = node.as_array();
  if (!array) return r.fail(&node, key, "must be an array of strings", Reader::show(node));
  std::vector<std::string> out;
  for (const auto& element : *array) {
    auto s = element.as_string();
    if (!s) return r.fail(&element, key, "must contain only strings", Reader::show(element));
    out.push_back(s->get());
  }
  return out;
}

Status read_sizing(const Reader& r, const toml::node& node, std::string_view key, SizingConfig& c) {
  Error error;
  auto t = table_of(r, node, key, error);
  if (!t) return std::unexpected(error);
  TRY(r.only_keys(*t, key, {"mode", "amount", "fraction", "risk_fraction", "lot_size", "min_notional"}));
  if (auto v = t->get("mode")) {
    TRY_ASSIGN(c.mode, r.string(*v, Reader::join(key, "mode")));
    if (c.mode != "fixed_quote" && c.mode != "percent_available" && c.mode != "risk") {
      return r.fail(v, Reader::join(key, "mode"), "must be fixed_quote, percent_available or risk", Reader::show(*v));
    }
  }
  if (auto v = t->get("amount")) TRY_ASSIGN(c.amount, r.positive_money(*v, Reader::join(key, "amount")));
  if (auto v = t->get("fraction")) TRY_ASSIGN(c.fraction, r.ratio(*v, Reader::join(key, "fraction")));
  if (auto v = t->get("risk_fraction")) TRY_ASSIGN(c.risk_fraction, r.ratio(*v, Reader::join(key, "risk_fraction")));
  if (auto v = t->get("lot_size")) {
    TRY_ASSIGN(c.lot_size, r.template decimal<Quantity>(*v, Reader::join(key, "lot_size")));
    if (!c.lot_size.is_positive()) return r.fail(v, Reader::join(key, "lot_size"), "must be greater than 0", Reader::show(*v));
  }
  if (auto v = t->get("min_notional")) TRY_ASSIGN(c.min_notional, r.template decimal<Money>(*v, Reader::join(key, "min_notional")));
  return {};
}

Status read_bot(const Reader& r, const toml::table& t, std::string_view prefix, BotConfig& b) {
  TRY(r.only_keys(t, prefix, {"name", "kind", "account", "exchange", "market", "interval", "symbol", "symbols", "strategy",
                              "params", "sizing", "max_positions", "allow_short", "trade_symbols_of_other_bots"}));
  b.line = static_cast<int>(t.source().begin.line);
  for (const auto& [k, node] : t) {
    const std::string key = Reader::join(prefix, k.str());
    const auto name = k.str();
    if (name == "name" || name == "kind" || name == "account" || name == "strategy" || name == "exchange" ||
        name == "market" || name == "interval" || name == "symbol") {
      std::string v;
      TRY_ASSIGN(v, r.string(node, key));
      if (name == "name") {
        // Client ids are "<name>-<run nonce>-<n>" and venues allow 36 characters of [A-Za-z0-9_-].
        if (v.empty() || v.size() > 16 || v.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != std::string::npos) {
          return r.fail(&node, key, "must be 1 to 16 letters, digits or _ (it prefixes every order id)", Reader::show(node));
        }
        b.name = v;
      } else if (name == "kind") {
        if (v != "single" && v != "multi") return r.fail(&node, key, "must be single or multi", Reader::show(node));
        b.kind = v;
      } else if (name == "account") {
        b.account = v;
      } else if (name == "strategy") {
        b.strategy = v;
      } else if (name == "exchange") {
        auto e = parse_exchange(v);
        if (!e) return r.fail(&node, key, "must be one of bybit, binance, okx, bitget", Reader::show(node));
        b.exchange = *e;
      } else if (name == "market") {
        auto m = parse_market(v);
        if (!m) return r.fail(&node, key, "must be spot or linear", Reader::show(node));
        b.market = *m;
      } else if (name == "interval") {
        auto i = parse_interval(v);
        if (!i) return r.fail(&node, key, "must be an interval such as 1m, 15m, 1h, 4h, 1d", Reader::show(node));
        b.interval = *i;
      } else {
        b.symbols = {v};
      }
    } else if (name == "symbols") {
      TRY_ASSIGN(b.symbols, string_list(r, node, key));
    } else if (name == "params") {
      Error error;
      auto pt = table_of(r, node, key, error);
      if (!pt) return std::unexpected(error);
      for (const auto& [pk, pv] : *pt) {
        auto num = pv.value<double>();
        if (!num) return r.fail(&pv, Reader::join(key, pk.str()), "must be a number", Reader::show(pv));
        b.params[std::string(pk.str())] = *num;
      }
    } else if (name == "sizing") {
      TRY(read_sizing(r, node, key, b.sizing));
    } else if (name == "max_positions") {
      std::int64_t n = 0;
      TRY_ASSIGN(n, r.integer(node, key, 1));
      b.max_positions = static_cast<std::size_t>(n);
    } else if (name == "allow_short") {
      TRY_ASSIGN(b.allow_short, r.boolean(node, key));
    } else if (name == "trade_symbols_of_other_bots") {
      TRY_ASSIGN(b.trade_symbols_of_other_bots, r.boolean(node, key));
    }
  }
  if (b.name.empty()) return r.fail(&t, Reader::join(prefix, "name"), "is required");
  if (b.symbols.empty()) return r.fail(&t, prefix, b.kind == "single" ? "needs symbol = \"...\"" : "needs symbols = [\"...\", ...]");
  if (b.kind == "single" && b.symbols.size() != 1) return r.fail(&t, prefix, "is a single bot: give exactly one symbol");
  for (const auto& sym : b.symbols) {
    if (!Symbol::parse(sym)) return r.fail(&t, Reader::join(prefix, "symbols"), "has an invalid symbol", fmt::format("\"{}\"", sym));
  }
  return {};
}

Status read_backtest(const Reader& r, const toml::table& t, BacktestConfig& c) {
  TRY(r.only_keys(t, "backtest", {"from", "to", "trade_from", "market_fill", "exits", "both_touched", "size_at", "commission",
                                  "slippage", "slippage_pct", "end", "risk_free_rate"}));
  auto one_of = [&](const toml::node& node, const std::string& key, std::string& out,
                    std::initializer_list<std::string_view> allowed) -> Status {
    TRY_ASSIGN(out, r.string(node, key));
    for (auto a : allowed) {
      if (out == a) return {};
    }
    std::string list;
    for (auto a : allowed) list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
    return r.fail(&node, key, fmt::format("must be one of {}", list), Reader::show(node));
  };
  for (const auto& [k, node] : t) {
    const std::string key = Reader::join("backtest", k.str());
    const auto name = k.str();
    if (name == "from" || name == "to" || name == "trade_from") {
      std::string v;
      TRY_ASSIGN(v, r.string(node, key));
      auto ts = parse_iso8601(v);
      if (!ts) return r.fail(&node, key, "must be a date such as \"2023-01-31\" or \"2023-01-31T12:00:00Z\"", Reader::show(node));
      (name == "from" ? c.from : name == "to" ? c.to : c.trade_from) = *ts;
    } else if (name == "market_fill") {
      TRY(one_of(node, key, c.market_fill, {"next_open", "signal_close"}));
    } else if (name == "exits") {
      TRY(one_of(node, key, c.exits, {"at_level", "next_open"}));
    } else if (name == "both_touched") {
      TRY(one_of(node, key, c.both_touched, {"stop_first", "take_profit_first"}));
    } else if (name == "size_at") {
      TRY(one_of(node, key, c.size_at, {"fill", "signal"}));
    } else if (name == "end") {
      TRY(one_of(node, key, c.end, {"close", "report_open"}));
    } else if (name == "commission") {
      TRY_ASSIGN(c.commission, r.template decimal<Ratio>(node, key));
      if (c.commission.is_negative() || c.commission >= Ratio::from_units(1)) {
        return r.fail(&node, key, "must be in [0, 1)", Reader::show(node));
      }
    } else if (name == "slippage") {
      TRY_ASSIGN(c.slippage, r.template decimal<Price>(node, key));
      if (c.slippage.is_negative()) return r.fail(&node, key, "must not be negative", Reader::show(node));
    } else if (name == "slippage_pct") {
      TRY_ASSIGN(c.slippage_pct, r.template decimal<Ratio>(node, key));
      if (c.slippage_pct.is_negative() || c.slippage_pct >= Ratio::from_units(1)) {
        return r.fail(&node, key, "must be in [0, 1)", Reader::show(node));
      }
    } else if (name == "risk_free_rate") {
      auto v = node.value<double>();
      if (!v || *v <= -1 || *v >= 1) return r.fail(&node, key, "must be a number in (-1, 1)", Reader::show(node));
      c.risk_free_rate = *v;
    }
  }
  if (c.from && c.to && *c.to <= *c.from) return r.fail(&t, "backtest.to", "must be after backtest.from");
  if (c.trade_from && ((c.from && *c.trade_from < *c.from) || (c.to && *c.trade_from >= *c.to))) {
    return r.fail(&t, "backtest.trade_from", "must be within [backtest.from, backtest.to)");
  }
  return {};
}

template <class Fn>
Status read_array_of_tables(const Reader& r, const toml::node& node, std::string_view key, Fn&& fn) {
  auto array = node.as_array();
  if (!array || !array->is_array_of_tables()) {
    return r.fail(&node, key, fmt::format("must be an array of tables ([[{}]])", key));
  }
  std::size_t index = 0;
  for (const auto& element : *array) {
    TRY(fn(*element.as_table(), fmt::format("{}[{}]", key, index++)));
  }
  return {};
}

}  // namespace

Status validate_instance_name(std::string_view name) {
  const auto ok_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; };
  if (name.empty() || name.size() > 32 || name[0] == '-' || name[0] == '_' || !std::all_of(name.begin(), name.end(), ok_char)) {
    return make_error(ErrorCode::invalid_argument, "must be 1-32 of a-z, 0-9, '-', '_', starting with a letter or digit");
  }
  return {};
}

Result<EngineConfig> parse_config(std::string_view toml_text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return make_error(ErrorCode::config_error, "{}:{}: {}", source_name, e.source().begin.line, e.description());
  }
  Reader r(source_name);
  EngineConfig config;
  config.source = source_name;
  TRY(r.only_keys(root, "", {"data_dir", "instance", "log_level", "capital", "rate_limits", "accounts", "bots", "backtest"}));
  for (const auto& [k, node] : root) {
    const auto name = k.str();
    const std::string key(name);
    if (name == "data_dir") {
      TRY_ASSIGN(config.data_dir, r.string(node, key));
      if (config.data_dir.empty()) return r.fail(&node, key, "must not be empty");
    } else if (name == "instance") {
      TRY_ASSIGN(config.instance, r.string(node, key));
      if (auto ok = validate_instance_name(config.instance); !ok) return r.fail(&node, key, ok.error().message, Reader::show(node));
    } else if (name == "log_level") {
      TRY_ASSIGN(config.log_level, r.string(node, key));
      static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
      if (!levels.contains(config.log_level)) {
        return r.fail(&node, key, "must be one of trace, debug, info, warn, error, critical, off", Reader::show(node));
      }
    } else if (name == "capital") {
      Error error;
      auto t = table_of(r, node, key, error);
      if (!t) return std::unexpected(error);
      TRY(read_capital(r, *t, config.capital));
    } else if (name == "rate_limits") {
      TRY(read_array_of_tables(r, node, key, [&](const toml::table& t, const std::string& prefix) -> Status {
        RateLimitConfig c;
        TRY(read_rate_limit(r, t, prefix, c));
        for (const auto& other : config.rate_limits) {
          if (other.preset == c.preset) return r.fail(&t, prefix, "repeats preset", fmt::format("\"{}\"", c.preset));
        }
        config.rate_limits.push_back(std::move(c));
        return {};
      }));
    } else if (name == "bots") {
      TRY(read_array_of_tables(r, node, key, [&](const toml::table& t, const std::string& prefix) -> Status {
        BotConfig b;
        TRY(read_bot(r, t, prefix, b));
        for (const auto& other : config.bots) {
          if (other.name == b.name) return r.fail(&t, prefix, "repeats bot name", fmt::format("\"{}\"", b.name));
        }
        config.bots.push_back(std::move(b));
        return {};
      }));
    } else if (name == "backtest") {
      Error error;
      auto t = table_of(r, node, key, error);
      if (!t) return std::unexpected(error);
      TRY(read_backtest(r, *t, config.backtest));
    } else if (name == "accounts") {
      TRY(read_array_of_tables(r, node, key, [&](const toml::table& t, const std::string& prefix) -> Status {
        AccountConfig a;
        TRY(read_account(r, t, prefix, a));
        for (const auto& other : config.accounts) {
          if (other.name == a.name) return r.fail(&t, prefix, "repeats account name", fmt::format("\"{}\"", a.name));
        }
        config.accounts.push_back(std::move(a));
        return {};
      }));
    }
  }
  return config;
}

Result<EngineConfig> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io_error, "{}: cannot read the config file ({})", path, std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

}  // namespace twinstar
