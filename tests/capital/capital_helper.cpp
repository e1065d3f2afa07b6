// A second process for the capital tests:
//   capital_helper hammer <ledger> <seed> <ops>   random operations, then settle; exit 0 when all went as expected
//   capital_helper stream <ledger> <seed>         random operations until killed; prints "<seq> <op>" after each
//                                                  acknowledged (committed) change, then flushes
//   capital_helper hold <ledger> <bot> <symbol> <amount>   reserves, prints "<seq>", then waits to be killed

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "capital/ledger.hpp"
#include "capital_workload.hpp"
#include "core/clock.hpp"

namespace {

using namespace twinstar;

// Unbuffered, so an acknowledgement the parent reads really was made before the kill.
void say(const std::string& line) {
  const std::string out = line + "\n";
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, out.data() + done, out.size() - done);
    if (n <= 0) std::_Exit(3);
    done += static_cast<std::size_t>(n);
  }
}

int fail(const std::string& what) {
  std::fprintf(stderr, "capital_helper: %s\n", what.c_str());
  return 1;
}

int hammer(const std::string& path, std::uint64_t seed, std::int64_t ops) {
  auto ledger = CapitalLedger::open(path, testing::shared_test_options(), RealClock::instance());
  if (!ledger) return fail(ledger.error().message);
  testing::RandomWorkload work(*ledger, seed);
  for (std::int64_t i = 0; i < ops; ++i) {
    auto r = work.step();
    if (!r) return fail(fmt::format("op {}: {}", i, r.error().message));
  }
  if (auto s = work.finish(); !s) return fail(s.error().message);
  return 0;
}

int stream(const std::string& path, std::uint64_t seed) {
  auto ledger = CapitalLedger::open(path, testing::shared_test_options(), RealClock::instance());
  if (!ledger) return fail(ledger.error().message);
  say("ready");
  testing::RandomWorkload work(*ledger, seed);
  for (;;) {
    auto r = work.step();
    if (!r) return fail(r.error().message);
    if (*r) say(fmt::format("{} {}", (*r)->seq, to_string((*r)->op)));
  }
}

int hold(const std::string& path, const std::string& bot, const std::string& symbol, const std::string& amount) {
  auto ledger = CapitalLedger::open(path, testing::shared_test_options(), RealClock::instance());
  if (!ledger) return fail(ledger.error().message);
  auto r = ledger->reserve(bot, std::string_view(symbol), Money::parse(amount).value());
  if (!r) return fail(r.error().message);
  say(std::to_string(r->id().value));
  for (;;) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "hammer" && argc == 5) return hammer(argv[2], std::stoull(argv[3]), std::stoll(argv[4]));
  if (mode == "stream" && argc == 4) return stream(argv[2], std::stoull(argv[3]));
  if (mode == "hold" && argc == 6) return hold(argv[2], argv[3], argv[4], argv[5]);
  std::fprintf(stderr, "usage: capital_helper hammer|stream|hold ...\n");
  return 2;
}
