// Crash: a child process streams ledger operations and reports each acknowledged change
// through a pipe; the test kills it with SIGKILL at random points, many times. After each
// kill the file must open, equal its journal replay, keep every invariant, and contain
// every change the child acknowledged.

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <random>
#include <sstream>

#include <sqlite3.h>

#include <gtest/gtest.h>

#include "capital/ledger.hpp"
#include "capital/sqlite_journal.hpp"
#include "capital_test_support.hpp"

namespace twinstar {
namespace {

using namespace std::chrono_literals;

struct ChildRun {
  std::vector<std::pair<std::int64_t, std::string>> acknowledged;
  bool was_ready = false;
};

// Starts a streaming child, reads its acknowledgements until `kill_after` has passed (counted
// from its "ready" line when `after_ready`, else from its start), kills it with SIGKILL, then
// drains what it wrote before dying.
ChildRun run_and_kill(const std::filesystem::path& path, std::uint64_t seed, std::chrono::milliseconds kill_after,
                      bool after_ready) {
  ChildRun run;
  int fds[2];
  if (::pipe(fds) != 0) return run;
  const pid_t child = testing::spawn_helper({"stream", path.string(), std::to_string(seed)}, fds[1]);
  ::close(fds[1]);
  std::string buffer;
  auto consume = [&](bool final) {
    std::size_t start = 0;
    for (std::size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string line = buffer.substr(start, nl - start);
      if (line == "ready") {
        run.was_ready = true;
        continue;
      }
      std::istringstream in(line);
      std::int64_t seq = 0;
      std::string op;
      if (in >> seq >> op) run.acknowledged.emplace_back(seq, op);
    }
    buffer.erase(0, start);
    if (final && !buffer.empty()) ADD_FAILURE() << "torn acknowledgement: " << buffer;
  };
  // The kill deadline is real time on purpose: it picks a random instant of a real process.
  using Steady = std::chrono::steady_clock;
  auto deadline = Steady::now() + (after_ready ? std::chrono::milliseconds(60'000) : kill_after);
  bool counting_from_ready = !after_ready;
  char chunk[4096];
  while (Steady::now() < deadline) {
    if (!counting_from_ready && run.was_ready) {
      deadline = Steady::now() + kill_after;
      counting_from_ready = true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count()))) <= 0) continue;
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;  // the child ended by itself: its error is on stderr
    buffer.append(chunk, static_cast<std::size_t>(n));
    consume(false);
  }
  ::kill(child, SIGKILL);
  testing::wait_exit_code(child);
  for (ssize_t n; (n = ::read(fds[0], chunk, sizeof chunk)) > 0;) buffer.append(chunk, static_cast<std::size_t>(n));
  consume(true);
  ::close(fds[0]);
  return run;
}

TEST(LedgerCrash, killing_a_writer_at_random_points_loses_no_acknowledged_change) {
  testing::TempDir dir;
  const auto path = dir / "crash.ledger.sqlite";
  const LedgerOptions o = testing::shared_test_options();
  ManualClock clock;
  // Lives through every crash and follows the file incrementally.
  auto observer = CapitalLedger::open(path, o, clock).value();
  std::mt19937_64 rng(20240601);
  const int kills = static_cast<int>(std::max<std::int64_t>(testing::scaled(40), 12));
  std::map<std::int64_t, std::string> acknowledged;
  int kills_mid_stream = 0;

  for (int i = 0; i < kills; ++i) {
    // Every fifth kill counts from the start, so it may land while the child is still opening
    // (replay, registration, reaping); the others land in its stream of changes.
    const bool after_ready = i % 5 != 0;
    const auto after = std::chrono::milliseconds(std::uniform_int_distribution<int>(0, after_ready ? 80 : 150)(rng));
    const ChildRun run = run_and_kill(path, 500 + static_cast<std::uint64_t>(i), after, after_ready);
    if (after_ready) {
      EXPECT_TRUE(run.was_ready) << "the child never started";
    }
    for (const auto& [seq, op] : run.acknowledged) acknowledged[seq] = op;
    if (!run.acknowledged.empty()) ++kills_mid_stream;

    SCOPED_TRACE(fmt::format("kill {} after {} ms, {} acknowledged", i, after.count(), run.acknowledged.size()));
    // Reopen: the dead child's reservations are cancelled through the journal.
    auto reopened = CapitalLedger::open(path, o, clock);
    ASSERT_TRUE(reopened) << reopened.error().message;
    const LedgerState replayed = replay_journal(path).value();
    EXPECT_EQ(reopened->state(), replayed);
    ASSERT_TRUE(observer.refresh());
    EXPECT_EQ(observer.state(), replayed);
    EXPECT_EQ(replayed.reserved(), Money::zero()) << "a dead process's reservation leaked";

    const auto rows = testing::all_rows(observer);
    EXPECT_EQ(testing::journal_violation(rows, o), "");
    std::map<std::int64_t, std::string> written;
    for (const auto& r : rows) written[r.seq] = std::string(to_string(r.op));
    for (const auto& [seq, op] : acknowledged) {
      auto it = written.find(seq);
      ASSERT_NE(it, written.end()) << "acknowledged change " << seq << " (" << op << ") is not in the journal";
      EXPECT_EQ(it->second, op) << "seq " << seq;
    }
    if (HasFailure()) return;
  }
  EXPECT_GE(kills_mid_stream, kills / 2) << "most kills should interrupt a stream of changes";
  RecordProperty("acknowledged_changes", static_cast<int>(acknowledged.size()));
  RecordProperty("kills", kills);
  EXPECT_GT(acknowledged.size(), 100u);
}

// The ledger's VFS holds a WAL frame header back until its page follows. A commit that
// overwrote frames it had already written (a transaction larger than the page cache) ends by
// rewriting frame headers in place; none of those may still be held when COMMIT returns, or
// a crash right after would leave a broken checksum and lose the whole transaction.
TEST(LedgerCrash, a_commit_that_rewrote_its_own_wal_frames_survives_a_crash_right_after) {
  testing::TempDir dir;
  const auto path = dir / "spill.sqlite";
  const char* vfs = detail::ledger_vfs();
  ASSERT_NE(vfs, nullptr);
  constexpr int kRows = 400;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs);
    // A 10-page cache: the inserts spill frames mid-transaction, the update rewrites one.
    const std::string sql = fmt::format(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=10;"
        "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB); BEGIN;"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})"
        "  INSERT INTO t SELECT i, zeroblob(3000) FROM n;"
        "UPDATE t SET v = x'01' WHERE k = 1; COMMIT;",
        kRows);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    ::_exit(rc == SQLITE_OK ? 0 : 3);  // no close, no checkpoint: as if killed once acknowledged
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);  // plain VFS: recovers the WAL
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*), (SELECT hex(v) FROM t WHERE k = 1) FROM t", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), kRows);
  const auto* first = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
  EXPECT_STREQ(first == nullptr ? "" : first, "01");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
}  // namespace twinstar
