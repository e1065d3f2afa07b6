#pragma once
// Shared pieces of the capital tests: temp folders, the options the multi-process tests
// agree on, invariant checks, and how to start the helper process.

#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "capital/ledger.hpp"

extern char** environ;

namespace twinstar::testing {

// Fewer operations under sanitizers (which are 5-20x slower); TWINSTAR_CAPITAL_SCALE overrides.
inline std::int64_t scaled(std::int64_t full) {
  if (const char* env = std::getenv("TWINSTAR_CAPITAL_SCALE")) {
    const double f = std::atof(env);
    if (f > 0) return std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(full) * f));
  }
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  return std::max<std::int64_t>(1, full / 10);
#else
  return full;
#endif
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "twinstar-capital-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline Symbol sym(std::string_view s) { return Symbol::parse(s).value(); }
inline Money money(std::string_view s) { return Money::parse(s).value(); }

inline const std::vector<std::string>& test_bots() {
  static const std::vector<std::string> bots = {"main", "multi", "scalper"};
  return bots;
}
inline const std::vector<Symbol>& test_symbols() {
  static const std::vector<Symbol> symbols = {sym("BTCUSDT"), sym("ETHUSDT"), sym("SOLUSDT"), sym("ADAUSDT")};
  return symbols;
}

// What the contention, two-process and crash tests use, in every process.
inline LedgerOptions shared_test_options() {
  LedgerOptions o;
  o.initial_capital = Money::from_units(10'000);
  o.per_symbol_cap[sym("BTCUSDT")] = Money::from_units(3'000);
  o.per_symbol_cap[sym("ETHUSDT")] = Money::from_units(2'500);
  o.per_bot_cap["scalper"] = Money::from_units(2'000);
  o.busy_timeout = std::chrono::milliseconds(20'000);
  return o;
}

// Empty when `s` keeps every invariant under `o`; otherwise what broke.
inline std::string invariant_violation(const LedgerState& s, const LedgerOptions& o) {
  const Money cap = apply_ratio(s.equity(), o.max_allocation_ratio);
  if (s.locked() > cap) return fmt::format("seq {}: locked {} > cap {}", s.last_seq(), s.locked(), cap);
  Money reserved, committed;
  std::map<Symbol, Money> by_symbol;
  std::map<std::string, Money> by_bot;
  for (const auto& [id, r] : s.reservations()) {
    reserved += r.amount;
    by_symbol[r.symbol] += r.amount;
    by_bot[r.bot] += r.amount;
  }
  for (const auto& [id, p] : s.positions()) {
    committed += p.amount;
    by_symbol[p.symbol] += p.amount;
    by_bot[p.bot] += p.amount;
  }
  if (reserved != s.reserved()) return fmt::format("seq {}: reserved {} != sum {}", s.last_seq(), s.reserved(), reserved);
  if (committed != s.committed()) {
    return fmt::format("seq {}: committed {} != sum {}", s.last_seq(), s.committed(), committed);
  }
  for (const auto& [symbol, amount] : by_symbol) {
    if (s.locked_for_symbol(symbol) != amount) return fmt::format("seq {}: {} locked mismatch", s.last_seq(), symbol);
    if (auto it = o.per_symbol_cap.find(symbol); it != o.per_symbol_cap.end() && amount > it->second) {
      return fmt::format("seq {}: {} locked {} > symbol cap {}", s.last_seq(), symbol, amount, it->second);
    }
  }
  for (const auto& [symbol, amount] : s.locked_by_symbol()) {
    if (!amount.is_zero() && !by_symbol.contains(symbol)) {
      return fmt::format("seq {}: {} shows {} locked with nothing open", s.last_seq(), symbol, amount);
    }
  }
  for (const auto& [bot, amount] : by_bot) {
    if (s.locked_for_bot(bot) != amount) return fmt::format("seq {}: bot {} locked mismatch", s.last_seq(), bot);
    if (auto it = o.per_bot_cap.find(bot); it != o.per_bot_cap.end() && amount > it->second) {
      return fmt::format("seq {}: bot {} locked {} > bot cap {}", s.last_seq(), bot, amount, it->second);
    }
  }
  const Money equity = s.initial_capital() + s.deposits() - s.withdrawals() + s.realized_pnl() - s.fees();
  if (equity != s.equity()) return fmt::format("seq {}: equity {} != parts {}", s.last_seq(), s.equity(), equity);
  return {};
}

// Replays `rows` one at a time, checking the invariants after every row: no prefix of the
// journal ever over-allocates. Empty when all hold.
inline std::string journal_violation(const std::vector<JournalEntry>& rows, const LedgerOptions& o) {
  LedgerState s;
  std::int64_t expected_seq = 0;
  for (const JournalEntry& e : rows) {
    if (e.seq != ++expected_seq) return fmt::format("journal seq {} where {} was expected", e.seq, expected_seq);
    if (auto st = s.apply(e); !st) return fmt::format("row {}: {}", e.seq, st.error().message);
    if (auto v = invariant_violation(s, o); !v.empty()) return v;
  }
  return {};
}

inline std::vector<JournalEntry> all_rows(const CapitalLedger& ledger) {
  return ledger.history(std::numeric_limits<std::size_t>::max()).value();
}

#ifdef TWINSTAR_CAPITAL_HELPER
// Starts the helper executable with `args`; stdout goes to `stdout_fd` when >= 0.
inline pid_t spawn_helper(const std::vector<std::string>& args, int stdout_fd = -1) {
  std::vector<std::string> argv_s = {TWINSTAR_CAPITAL_HELPER};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

inline int wait_exit_code(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
#endif

}  // namespace twinstar::testing
