#include "app/capital_command.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include <fmt/core.h>

#include "capital/ledger.hpp"
#include "core/clock.hpp"
#include "core/json_writer.hpp"

namespace twinstar {

namespace {

LedgerOptions options_or_fail(const EngineConfig& config) {
  auto o = ledger_options_from(config.capital);
  if (!o) fail(2, o.error().message);
  return *o;
}

// Exact parse of a positive amount; errors name the flag and the value.
Money parse_amount(const std::string& flag, const std::string& text) {
  auto m = Money::parse(text);
  if (!m) fail(1, fmt::format("{}: \"{}\" is not a decimal amount: {}", flag, text, m.error().message));
  if (!m->is_positive()) fail(1, fmt::format("{}: the amount must be > 0, got {}", flag, text));
  return *m;
}

std::string no_ledger_hint(const std::filesystem::path& path) {
  return fmt::format("no capital ledger at {}; create one with `twinstar capital init --amount 10000`", path.string());
}

CapitalLedger open_existing(const EngineConfig& config) {
  LedgerOptions o = options_or_fail(config);
  o.create_if_missing = false;
  const auto path = ledger_path(config);
  auto ledger = CapitalLedger::open(path, o, RealClock::instance());
  if (!ledger) fail(1, ledger.error().code == ErrorCode::not_found ? no_ledger_hint(path) : ledger.error().message);
  return std::move(*ledger);
}

void write_stats_json(JsonWriter& w, const EngineConfig& config, const std::filesystem::path& path,
                      const LedgerStats& s) {
  w.begin_object();
  // The original state file's keys first: exchange, total_capital, initial_capital,
  // locked_capital {symbol: amount}, stats, daily_pnl, last_update.
  w.field("exchange", to_string(config.capital.exchange));
  w.field("ledger", path.string());
  w.field("total_capital", s.equity);
  w.field("initial_capital", s.initial_capital);
  w.key("locked_capital").begin_object();
  for (const auto& [symbol, amount] : s.locked_by_symbol) w.field(symbol.view(), amount);
  w.end_object();
  w.key("stats").begin_object();
  w.field("total_capital", s.equity);
  w.field("initial_capital", s.initial_capital);
  w.field("available_capital", s.available);
  w.field("locked_capital", s.locked);
  w.field("allocation_ratio", s.allocation_ratio);
  w.key("locked_symbols").begin_array();
  for (const auto& [symbol, amount] : s.locked_by_symbol) w.value(symbol.view());
  w.end_array();
  w.field("total_pnl", s.total_pnl);
  w.field("realized_pnl", s.realized_pnl);
  w.field("unrealized_pnl", s.unrealized_pnl);
  w.field("fees", s.fees);
  w.field("roi", s.roi);
  w.field("max_drawdown", s.max_drawdown);
  w.field("peak_capital", s.peak_equity);
  w.field("open_reservations", s.open_reservations);
  w.field("open_positions", s.open_positions);
  w.end_object();
  w.key("daily_pnl").begin_object();
  for (const auto& [day, pnl] : s.daily_pnl) w.field(day, pnl);
  w.end_object();
  w.field("last_update", format_iso8601(s.last_update));
  w.field("last_seq", s.last_seq);
  w.field("peak", s.peak_equity);
  w.field("drawdown", s.drawdown);
  w.field("max_drawdown", s.max_drawdown);
  w.field("cap", s.cap);
  w.field("available_capital", s.available);
  w.field("reserved", s.reserved);
  w.field("committed", s.committed);
  w.field("deposits", s.deposits);
  w.field("withdrawals", s.withdrawals);
  w.field("today_pnl", s.today_pnl);
  w.key("bots").begin_object();
  for (const auto& [bot, u] : s.by_bot) {
    w.key(bot).begin_object();
    w.field("reserved", u.reserved);
    w.field("committed", u.committed);
    w.field("reservations", u.reservations);
    w.field("positions", u.positions);
    w.end_object();
  }
  w.end_object();
  w.end_object();
}

void print_stats_text(const EngineConfig& config, const std::filesystem::path& path, const LedgerStats& s,
                      const LedgerOptions& o) {
  fmt::print("capital ledger    {} ({})\n", path.string(), config.capital.exchange);
  fmt::print("total capital     {}  (initial {}, deposits {}, withdrawals {})\n", s.equity, s.initial_capital,
             s.deposits, s.withdrawals);
  fmt::print("allocation cap    {}  ({} of total capital)\n", s.cap, o.max_allocation_ratio);
  fmt::print("available         {}\n", s.available);
  fmt::print("locked            {}  (reserved {}, committed {}; allocation ratio {})\n", s.locked, s.reserved,
             s.committed, s.allocation_ratio);
  fmt::print("pnl               total {}  (realized {}, fees {}, unrealized {}); roi {}\n", s.total_pnl,
             s.realized_pnl, s.fees, s.unrealized_pnl, s.roi);
  fmt::print("peak              {}  (drawdown {}, max drawdown {})\n", s.peak_equity, s.drawdown, s.max_drawdown);
  fmt::print("today (UTC)       {}\n", s.today_pnl);
  if (!s.locked_by_symbol.empty()) {
    fmt::print("locked by symbol\n");
    for (const auto& [symbol, amount] : s.locked_by_symbol) fmt::print("  {:<24}{}\n", symbol, amount);
  }
  if (!s.by_bot.empty()) {
    fmt::print("by bot\n");
    for (const auto& [bot, u] : s.by_bot) {
      fmt::print("  {:<24}reserved {} ({}), committed {} ({})\n", bot, u.reserved, u.reservations, u.committed,
                 u.positions);
    }
  }
  if (!s.daily_pnl.empty()) {
    fmt::print("daily pnl (UTC, last 7 days with activity)\n");
    auto it = s.daily_pnl.end();
    for (int n = 0; n < 7 && it != s.daily_pnl.begin(); ++n) --it;
    for (; it != s.daily_pnl.end(); ++it) fmt::print("  {}  {}\n", it->first, it->second);
  }
  fmt::print("last update       {} (journal seq {})\n", format_iso8601(s.last_update), s.last_seq);
}

void show(const AppOptions& options, bool json) {
  const EngineConfig& config = options.config();
  const LedgerOptions o = options_or_fail(config);
  const auto path = ledger_path(config);
  // Read-only: a report never writes (reservations of dead processes are cancelled by the
  // next process that opens the ledger for writing).
  auto state = replay_journal(path);
  if (!state) fail(1, state.error().code == ErrorCode::not_found ? no_ledger_hint(path) : state.error().message);
  const LedgerStats s = make_stats(*state, o, Money::zero(), RealClock::instance().now());
  if (json) {
    JsonWriter w;
    write_stats_json(w, config, path, s);
    fmt::print("{}\n", w.str());
  } else {
    print_stats_text(config, path, s, o);
  }
}

void history(const AppOptions& options, std::size_t limit, bool json) {
  const EngineConfig& config = options.config();
  const auto path = ledger_path(config);
  auto rows = read_journal(path, limit);
  if (!rows) fail(1, rows.error().code == ErrorCode::not_found ? no_ledger_hint(path) : rows.error().message);
  if (json) {
    JsonWriter w;
    w.begin_array();
    for (const JournalEntry& e : *rows) {
      w.begin_object();
      w.field("seq", e.seq);
      w.field("time", format_iso8601(e.time));
      w.field("op", to_string(e.op));
      w.field("bot", e.bot);
      w.field("symbol", e.symbol.view());
      w.field("ref", e.ref);
      w.field("amount", e.amount);
      w.field("pnl", e.pnl);
      w.field("fees", e.fees);
      w.end_object();
    }
    w.end_array();
    fmt::print("{}\n", w.str());
    return;
  }
  fmt::print("{:>8}  {:<24}  {:<8}  {:<12}  {:<12}  {:>8}  {:>18}  {:>14}  {:>10}\n", "seq", "time (UTC)", "op", "bot",
             "symbol", "ref", "amount", "pnl", "fees");
  for (const JournalEntry& e : *rows) {
    auto shown = [](Money m) { return m.is_zero() ? std::string() : m.to_string(); };
    fmt::print("{:>8}  {:<24}  {:<8}  {:<12}  {:<12}  {:>8}  {:>18}  {:>14}  {:>10}\n", e.seq, format_iso8601(e.time),
               to_string(e.op), e.bot, e.symbol, e.ref == 0 ? std::string() : std::to_string(e.ref), shown(e.amount),
               shown(e.pnl), shown(e.fees));
  }
}

void init(const AppOptions& options, const std::string& amount_text, bool force) {
  const EngineConfig& config = options.config();
  const Money amount = parse_amount("--amount", amount_text);
  const auto path = ledger_path(config);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) fail(1, fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
    LedgerOptions o = options_or_fail(config);
    o.initial_capital = amount;
    auto ledger = CapitalLedger::open(path, o, RealClock::instance());
    if (!ledger) fail(1, ledger.error().message);
    fmt::print("created capital ledger {} with {}\n", path.string(), amount);
    return;
  }
  // An existing ledger, with its history, is never reset silently.
  auto existing = replay_journal(path);
  if (!existing) fail(1, existing.error().message);
  if (!force) {
    fail(1, fmt::format("capital ledger {} already exists (journal seq {}, total capital {}); pass --force to start over "
                     "with {} (its history stays in the journal)",
                     path.string(), existing->last_seq(), existing->equity(), amount));
  }
  CapitalLedger ledger = open_existing(config);
  if (auto s = ledger.init(amount); !s) fail(1, s.error().message);
  fmt::print("re-initialised capital ledger {} with {} (was {}; history kept, journal seq {})\n", path.string(), amount,
             existing->equity(), ledger.last_seq());
}

void flow(const AppOptions& options, const std::string& amount_text, bool deposit) {
  const Money amount = parse_amount("--amount", amount_text);
  CapitalLedger ledger = open_existing(options.config());
  if (auto s = deposit ? ledger.deposit(amount) : ledger.withdraw(amount); !s) fail(1, s.error().message);
  const auto s = ledger.stats();
  fmt::print("{} {}: total capital {}, available {}\n", deposit ? "deposited" : "withdrew", amount, s.equity,
             s.available);
}

}  // namespace

Result<LedgerOptions> ledger_options_from(const CapitalConfig& c) {
  LedgerOptions o;
  o.initial_capital = c.initial_capital;
  o.max_allocation_ratio = c.max_allocation_ratio;
  for (const auto& [name, cap] : c.per_symbol_cap) {
    auto symbol = Symbol::parse(name);
    if (!symbol) {
      return make_error(ErrorCode::config_error, "capital.per_symbol_cap: invalid symbol \"{}\": {}", name,
                        symbol.error().message);
    }
    o.per_symbol_cap[*symbol] = cap;
  }
  for (const auto& [bot, cap] : c.per_bot_cap) o.per_bot_cap[bot] = cap;
  o.daily_loss_limit = c.daily_loss_limit;
  o.max_drawdown = c.max_drawdown;
  if (auto s = validate(o); !s) return make_error(ErrorCode::config_error, "capital: {}", s.error().message);
  return o;
}

std::filesystem::path ledger_path(const EngineConfig& config) {
  return std::filesystem::path(config.data_dir) / "capital" /
         (std::string(to_string(config.capital.exchange)) + ".ledger.sqlite");
}

void add_capital_command(CLI::App& root, AppOptions& options) {
  auto* cmd = root.add_subcommand("capital", "Inspect and fund the capital ledger every bot reserves from");
  cmd->require_subcommand(1);

  auto* show_cmd = cmd->add_subcommand("show", "Capital, allocation, PnL, drawdown and what each symbol and bot holds");
  auto json_show = std::make_shared<bool>(false);
  show_cmd->add_flag("--json", *json_show, "Print JSON (the original state file's keys, amounts as exact strings)");
  show_cmd->callback([&options, json_show] { show(options, *json_show); });

  auto* history_cmd = cmd->add_subcommand("history", "The newest journal rows: every change to the ledger, oldest first");
  auto limit = std::make_shared<std::size_t>(20);
  auto json_history = std::make_shared<bool>(false);
  history_cmd->add_option("--limit", *limit, "How many rows (default 20)")->check(CLI::PositiveNumber)->type_name("N");
  history_cmd->add_flag("--json", *json_history, "Print a JSON array");
  history_cmd->callback([&options, limit, json_history] { history(options, *limit, *json_history); });

  auto* init_cmd = cmd->add_subcommand("init", "Create the ledger with an initial capital (or, with --force, start over)");
  auto init_amount = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  init_cmd->add_option("--amount", *init_amount, "Initial capital, e.g. 10000 or 2500.50")->required()->type_name("X");
  init_cmd->add_flag("--force", *force,
                     "Start an existing ledger over (refused while reservations or positions are open; the history "
                     "stays in the journal)");
  init_cmd->callback([&options, init_amount, force] { init(options, *init_amount, *force); });

  auto* deposit_cmd = cmd->add_subcommand("deposit", "Record money added to the account");
  auto deposit_amount = std::make_shared<std::string>();
  deposit_cmd->add_option("--amount", *deposit_amount, "Amount, e.g. 500")->required()->type_name("X");
  deposit_cmd->callback([&options, deposit_amount] { flow(options, *deposit_amount, true); });

  auto* withdraw_cmd = cmd->add_subcommand(
      "withdraw", "Record money taken out (refused if it would leave less than what is reserved and committed)");
  auto withdraw_amount = std::make_shared<std::string>();
  withdraw_cmd->add_option("--amount", *withdraw_amount, "Amount, e.g. 500")->required()->type_name("X");
  withdraw_cmd->callback([&options, withdraw_amount] { flow(options, *withdraw_amount, false); });
}

}  // namespace twinstar
