// Property test: random operation sequences against a plain reference model written here,
// independently of the ledger. After every step the ledger's report must equal the model's.

#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "capital/ledger.hpp"
#include "capital_test_support.hpp"

namespace twinstar {
namespace {

using testing::money;
using testing::sym;

// Integers in units of 1e-8, maps, and the rules as the design states them.
struct Model {
  struct Held {
    std::string bot;
    Symbol symbol;
    std::int64_t amount;
  };

  LedgerOptions options;
  std::int64_t seq = 0;
  std::int64_t initial = 0, deposits = 0, withdrawals = 0, realized = 0, fees = 0, peak = 0;
  Ratio max_dd;
  std::map<std::int64_t, Held> reservations;
  std::map<std::int64_t, Held> positions;
  std::map<std::int32_t, std::int64_t> daily;

  std::int64_t equity() const { return initial + deposits - withdrawals + realized - fees; }
  std::int64_t reserved() const {
    std::int64_t t = 0;
    for (const auto& [id, r] : reservations) t += r.amount;
    return t;
  }
  std::int64_t committed() const {
    std::int64_t t = 0;
    for (const auto& [id, p] : positions) t += p.amount;
    return t;
  }
  std::int64_t cap() const { return apply_ratio(Money::from_raw(equity()), options.max_allocation_ratio).raw(); }
  std::int64_t locked_where(auto pred) const {
    std::int64_t t = 0;
    for (const auto& [id, r] : reservations) t += pred(r) ? r.amount : 0;
    for (const auto& [id, p] : positions) t += pred(p) ? p.amount : 0;
    return t;
  }
  Ratio drawdown() const {
    if (peak <= 0 || equity() >= peak) return Ratio::zero();
    return ratio_of(Money::from_raw(peak - equity()), Money::from_raw(peak)).value();
  }
  void equity_changed() {
    peak = std::max(peak, equity());
    max_dd = std::max(max_dd, drawdown());
  }
  static std::int32_t day(Timestamp t) {
    return static_cast<std::int32_t>(std::chrono::floor<std::chrono::days>(t).time_since_epoch().count());
  }

  void init(std::int64_t amount) {
    ++seq;
    initial = peak = amount;
    deposits = withdrawals = realized = fees = 0;
    max_dd = Ratio::zero();
    daily.clear();
  }

  std::optional<ErrorCode> reserve(const std::string& bot, const Symbol& s, std::int64_t amount, Timestamp now) {
    if (amount <= 0) return ErrorCode::invalid_argument;
    if (options.daily_loss_limit) {
      const auto it = daily.find(day(now));
      if (it != daily.end() && it->second <= -options.daily_loss_limit->raw()) return ErrorCode::limit_exceeded;
    }
    if (options.max_drawdown && drawdown() >= *options.max_drawdown) return ErrorCode::limit_exceeded;
    if (reserved() + committed() + amount > cap()) return ErrorCode::insufficient_capital;
    if (auto it = options.per_symbol_cap.find(s);
        it != options.per_symbol_cap.end() && locked_where([&](const Held& h) { return h.symbol == s; }) + amount > it->second.raw()) {
      return ErrorCode::limit_exceeded;
    }
    if (auto it = options.per_bot_cap.find(bot);
        it != options.per_bot_cap.end() && locked_where([&](const Held& h) { return h.bot == bot; }) + amount > it->second.raw()) {
      return ErrorCode::limit_exceeded;
    }
    reservations[++seq] = Held{bot, s, amount};
    return std::nullopt;
  }

  std::optional<ErrorCode> commit(std::int64_t id, std::int64_t used, std::int64_t fee, Timestamp now) {
    auto it = reservations.find(id);
    if (it == reservations.end()) return ErrorCode::conflict;
    if (used <= 0 || used + std::max<std::int64_t>(fee, 0) > it->second.amount) return ErrorCode::invalid_argument;
    positions[++seq] = Held{it->second.bot, it->second.symbol, used};
    reservations.erase(it);
    if (fee != 0) {
      fees += fee;
      daily[day(now)] -= fee;
      equity_changed();
    }
    return std::nullopt;
  }

  std::optional<ErrorCode> cancel(std::int64_t id) {
    if (reservations.erase(id) == 0) return ErrorCode::conflict;
    ++seq;
    return std::nullopt;
  }

  std::optional<ErrorCode> release(std::int64_t id, std::int64_t pnl, std::int64_t fee, Timestamp now) {
    if (positions.erase(id) == 0) return ErrorCode::not_found;
    ++seq;
    realized += pnl;
    fees += fee;
    daily[day(now)] += pnl - fee;
    equity_changed();
    return std::nullopt;
  }

  std::optional<ErrorCode> flow(bool deposit, std::int64_t amount) {
    if (amount <= 0) return ErrorCode::invalid_argument;
    if (deposit) {
      deposits += amount;
      peak += amount;
    } else {
      if (amount > equity()) return ErrorCode::insufficient_capital;
      if (reserved() + committed() >
          apply_ratio(Money::from_raw(equity() - amount), options.max_allocation_ratio).raw()) {
        return ErrorCode::insufficient_capital;
      }
      withdrawals += amount;
      peak -= amount;
    }
    ++seq;
    equity_changed();
    return std::nullopt;
  }

  std::optional<ErrorCode> reinit(std::int64_t amount) {
    if (amount <= 0) return ErrorCode::invalid_argument;
    if (!reservations.empty() || !positions.empty()) return ErrorCode::conflict;
    init(amount);
    return std::nullopt;
  }

  void expect_matches(const LedgerStats& s, Timestamp now, const std::string& where) const {
    SCOPED_TRACE(where);
    EXPECT_EQ(s.last_seq, seq);
    EXPECT_EQ(s.equity.raw(), equity());
    EXPECT_EQ(s.initial_capital.raw(), initial);
    EXPECT_EQ(s.deposits.raw(), deposits);
    EXPECT_EQ(s.withdrawals.raw(), withdrawals);
    EXPECT_EQ(s.realized_pnl.raw(), realized);
    EXPECT_EQ(s.fees.raw(), fees);
    EXPECT_EQ(s.reserved.raw(), reserved());
    EXPECT_EQ(s.committed.raw(), committed());
    EXPECT_EQ(s.available.raw(), cap() - reserved() - committed());
    EXPECT_EQ(s.peak_equity.raw(), peak);
    EXPECT_EQ(s.drawdown, drawdown());
    EXPECT_EQ(s.max_drawdown, max_dd);
    EXPECT_EQ(s.open_reservations, static_cast<std::int64_t>(reservations.size()));
    EXPECT_EQ(s.open_positions, static_cast<std::int64_t>(positions.size()));
    std::map<std::string, Money> days;
    for (const auto& [d, pnl] : daily) days[format_utc_date(Timestamp(std::chrono::days(d)))] = Money::from_raw(pnl);
    EXPECT_EQ(s.daily_pnl, days);
    EXPECT_EQ(s.today_pnl.raw(), daily.contains(day(now)) ? daily.at(day(now)) : 0);
    std::map<Symbol, Money> by_symbol;
    for (const auto& [id, r] : reservations) by_symbol[r.symbol] += Money::from_raw(r.amount);
    for (const auto& [id, p] : positions) by_symbol[p.symbol] += Money::from_raw(p.amount);
    EXPECT_EQ(s.locked_by_symbol, by_symbol);
  }
};

LedgerOptions model_options() {
  LedgerOptions o;
  o.initial_capital = money("10000");
  o.max_allocation_ratio = Ratio::parse("0.75").value();
  o.per_symbol_cap[sym("BTCUSDT")] = money("3000");
  o.per_bot_cap["scalper"] = money("1500");
  o.daily_loss_limit = money("400");
  o.max_drawdown = Ratio::parse("0.2").value();
  return o;
}

std::optional<ErrorCode> code_of(const auto& result) {
  if (result) return std::nullopt;
  return result.error().code;
}

// Runs `steps` random operations on the ledgers (one model: several ledgers are instances on
// one file, each step on a random one) and the model, comparing after each. Counts outcomes
// ("reserve ok", "reserve limit_exceeded", ...) into `outcomes`.
void run_against_model(const std::vector<CapitalLedger*>& ledgers, ManualClock& clock, std::uint64_t seed, int steps,
                       std::map<std::string, int>& outcomes) {
  std::mt19937_64 rng(seed);
  auto pick = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
  const bool shared = ledgers.size() > 1;
  Model model{ledgers[0]->options()};
  model.init(ledgers[0]->options().initial_capital.raw());
  model.expect_matches(ledgers[0]->stats(), clock.now(), "start");

  struct Handle {
    Reservation r;
    std::int64_t id;
  };
  std::vector<Handle> handles;           // open, and sometimes settled ones kept to misuse
  std::vector<std::int64_t> positions;   // includes released ones, to release twice
  const auto& bots = testing::test_bots();
  const auto& symbols = testing::test_symbols();

  for (int step = 0; step < steps; ++step) {
    // With one ledger no extra draw, so the single-ledger seeds walk the same paths as before.
    CapitalLedger& ledger = shared ? *ledgers[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(ledgers.size()) - 1))]
                                   : *ledgers[0];
    const int dice = static_cast<int>(pick(0, 99));
    std::string what;
    std::optional<ErrorCode> last_code;
    const Timestamp now = clock.now();
    if (dice < 30) {
      const std::string bot = bots[static_cast<std::size_t>(pick(0, 2))];
      const Symbol s = symbols[static_cast<std::size_t>(pick(0, 3))];
      std::int64_t amount = pick(1, 2'500) * kDecimalScale + pick(0, kDecimalScale - 1);
      if (pick(0, 30) == 0) amount = -pick(0, kDecimalScale);  // zero or negative
      what = fmt::format("reserve {} {} {}", bot, s, Money::from_raw(amount));
      auto r = ledger.reserve(bot, s, Money::from_raw(amount));
      ASSERT_EQ(code_of(r), model.reserve(bot, s, amount, now)) << what << ": " << (r ? "" : r.error().message);
      last_code = code_of(r);
      if (r) handles.push_back(Handle{std::move(*r), model.seq});
    } else if (dice < 50 && !handles.empty()) {
      auto& h = handles[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(handles.size()) - 1))];
      const std::int64_t reserved = h.r.amount().raw();
      const std::int64_t fee = pick(-reserved / 500, reserved / 100);
      std::int64_t used = pick(1, reserved);  // sometimes used + fee is too much
      if (pick(0, 20) == 0) used = reserved + 1;
      what = fmt::format("commit {} used {} fee {}", h.id, Money::from_raw(used), Money::from_raw(fee));
      auto p = h.r.commit(Money::from_raw(used), Money::from_raw(fee));
      ASSERT_EQ(code_of(p), model.commit(h.id, used, fee, now)) << what << ": " << (p ? "" : p.error().message);
      last_code = code_of(p);
      if (p) positions.push_back(p->value);
    } else if (dice < 58 && !handles.empty()) {
      auto& h = handles[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(handles.size()) - 1))];
      what = fmt::format("cancel {}", h.id);
      auto s = h.r.cancel();
      ASSERT_EQ(code_of(s), model.cancel(h.id)) << what;
      last_code = code_of(s);
    } else if (dice < 63 && !handles.empty()) {
      const auto i = static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(handles.size()) - 1));
      const std::int64_t id = handles[i].id;
      what = fmt::format("drop {}", id);
      const bool was_active = handles[i].r.active();
      handles.erase(handles.begin() + static_cast<std::ptrdiff_t>(i));  // an active one cancels itself
      if (was_active) {
        ASSERT_EQ(model.cancel(id), std::nullopt) << what;
      }
    } else if (dice < 83 && !positions.empty()) {
      const std::int64_t id = positions[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(positions.size()) - 1))];
      const std::int64_t size = model.positions.contains(id) ? model.positions.at(id).amount : kDecimalScale;
      const std::int64_t pnl = pick(-size, size);  // big losses too: facts are never refused
      const std::int64_t fee = pick(-size / 1000, size / 100);
      what = fmt::format("release {} pnl {} fee {}", id, Money::from_raw(pnl), Money::from_raw(fee));
      auto s = ledger.release(PositionId{id}, Money::from_raw(pnl), Money::from_raw(fee));
      ASSERT_EQ(code_of(s), model.release(id, pnl, fee, now)) << what;
      last_code = code_of(s);
    } else if (dice < 90) {
      const bool deposit = pick(0, 1) == 0;
      std::int64_t amount = pick(1, 4'000) * kDecimalScale + pick(0, 99);
      if (pick(0, 30) == 0) amount = 0;
      what = fmt::format("{} {}", deposit ? "deposit" : "withdraw", Money::from_raw(amount));
      auto s = deposit ? ledger.deposit(Money::from_raw(amount)) : ledger.withdraw(Money::from_raw(amount));
      ASSERT_EQ(code_of(s), model.flow(deposit, amount)) << what << ": " << (s ? "" : s.error().message);
      last_code = code_of(s);
    } else if (dice < 98) {
      clock.advance(std::chrono::minutes(pick(0, 30 * 60)));
      continue;
    } else {
      const std::int64_t amount = pick(0, 20'000) * kDecimalScale;
      what = fmt::format("init {}", Money::from_raw(amount));
      auto s = ledger.init(Money::from_raw(amount));
      ASSERT_EQ(code_of(s), model.reinit(amount)) << what;
      last_code = code_of(s);
    }
    ++outcomes[what.substr(0, what.find(' ')) + " " + std::string(last_code ? to_string(*last_code) : "ok")];
    // Another instance's report lags until it looks at the file: refresh now and then only, so
    // that most changes run on an instance that has not read the other's rows yet. Every
    // outcome above is still checked against the model.
    const bool compare = !shared || pick(0, 3) == 0;
    if (shared && compare) {
      ASSERT_TRUE(ledger.refresh()) << what;
    }
    if (compare) model.expect_matches(ledger.stats(), clock.now(), fmt::format("step {} seed {}: {}", step, seed, what));
    if (::testing::Test::HasFailure()) return;
    if (handles.size() > 24) std::erase_if(handles, [](const Handle& h) { return !h.r.active(); });
    if (positions.size() > 64) std::erase_if(positions, [&](std::int64_t id) { return !model.positions.contains(id); });
  }
}

TEST(LedgerModel, in_memory_ledger_matches_the_reference_model_after_every_step) {
  const int steps = static_cast<int>(testing::scaled(4'000));
  std::map<std::string, int> outcomes;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    ManualClock clock;
    LedgerOptions o = model_options();
    o.keep_journal = true;
    auto ledger = CapitalLedger::in_memory(o, clock).value();
    run_against_model({&ledger}, clock, seed, steps, outcomes);
    ASSERT_FALSE(HasFailure()) << "seed " << seed;
    EXPECT_EQ(replay_journal(testing::all_rows(ledger)).value(), ledger.state()) << "seed " << seed;
  }
  // The random walk reached every rule, not just the happy path.
  for (const char* outcome : {"reserve ok", "reserve insufficient_capital", "reserve limit_exceeded",
                              "reserve invalid_argument", "commit ok", "commit invalid_argument", "commit conflict",
                              "cancel ok", "cancel conflict", "drop ok", "release ok", "release not_found",
                              "deposit ok", "withdraw ok", "withdraw insufficient_capital", "init conflict"}) {
    EXPECT_GT(outcomes[outcome], 0) << outcome;
  }
  std::string summary;
  for (const auto& [k, n] : outcomes) summary += fmt::format("{}={} ", k, n);
  RecordProperty("outcomes", summary);
}

TEST(LedgerModel, durable_ledger_matches_the_reference_model_and_its_replay) {
  testing::TempDir dir;
  const auto path = dir / "model.ledger.sqlite";
  ManualClock clock;
  LedgerState before;
  {
    auto ledger = CapitalLedger::open(path, model_options(), clock).value();
    std::map<std::string, int> outcomes;
    run_against_model({&ledger}, clock, 99, static_cast<int>(testing::scaled(1'500)), outcomes);
    ASSERT_FALSE(HasFailure());
    before = ledger.state();
    EXPECT_EQ(replay_journal(path).value(), before);
  }
  EXPECT_EQ(CapitalLedger::open(path, model_options(), clock).value().state(), before);
}

// Two instances on one file (the two-process path in one process), changes alternating at
// random: each must read the other's rows before it checks a change (an instance skips that
// read only when SQLite's data version shows no other writer), so every outcome equals the
// one model's.
TEST(LedgerModel, two_instances_on_one_file_match_one_reference_model) {
  testing::TempDir dir;
  const auto path = dir / "model2.ledger.sqlite";
  ManualClock clock;
  std::map<std::string, int> outcomes;
  auto a = CapitalLedger::open(path, model_options(), clock).value();
  auto b = CapitalLedger::open(path, model_options(), clock).value();
  run_against_model({&a, &b}, clock, 7, static_cast<int>(testing::scaled(1'500)), outcomes);
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(a.refresh());
  ASSERT_TRUE(b.refresh());
  EXPECT_EQ(a.state(), b.state());
  EXPECT_EQ(replay_journal(path).value(), a.state());
  EXPECT_GT(outcomes["reserve ok"], 0);
  EXPECT_GT(outcomes["reserve insufficient_capital"] + outcomes["reserve limit_exceeded"], 0);
}

}  // namespace
}  // namespace twinstar
