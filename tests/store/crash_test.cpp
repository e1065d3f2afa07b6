// kill -9 a process in the middle of flushing, many times, at random points; after each kill:
// every Parquet file readable, every acknowledged candle present, no duplicate, no gap.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "store/candle_archive.hpp"
#include "store_test_util.hpp"

namespace twinstar::store {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

struct Child {
  pid_t pid = -1;
  int ack_fd = -1;
};

Child spawn(const fs::path& data_dir, unsigned seed) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const std::string fd = std::to_string(fds[1]);
    const std::string s = std::to_string(seed);
    ::execl(STORE_CRASH_CHILD, STORE_CRASH_CHILD, data_dir.c_str(), fd.c_str(), s.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  return Child{pid, fds[0]};
}

// Blocks until the child has acknowledged `flushes` flushes (5 lines each); keeps what it read.
void wait_for_acks(int fd, int flushes, std::string& data) {
  char buf[4096];
  while (static_cast<int>(std::count(data.begin(), data.end(), '\n')) < flushes * 5) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;  // the child died: the caller finds out
    data.append(buf, static_cast<std::size_t>(n));
  }
}

// Reads every acknowledgement the child managed to write before it died.
void collect_acks(int fd, std::string data, std::map<std::string, std::int64_t>& acked) {
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  std::istringstream in(data);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string sym;
    std::int64_t idx = -1;
    if (ls >> sym >> idx) acked[sym] = std::max(acked[sym], idx);  // a torn last line is simply not an ack
  }
}

TEST(StoreCrash, kill_9_during_flushes_never_tears_a_file_loses_an_acknowledged_candle_or_duplicates) {
  TempDir dir;
  std::mt19937 rng(20240607);
  std::map<std::string, std::int64_t> acked;
  constexpr int kKills = 30;
  int kills_mid_run = 0;
  for (int round = 0; round < kKills; ++round) {
    Child child = spawn(dir.path(), static_cast<unsigned>(rng()));
    ASSERT_GT(child.pid, 0);
    // Random kill point: after 0-3 acknowledged flushes of this run, plus 0-60 ms, so kills land
    // during start-up, recovery, appends, staging, renames and compaction alike.
    std::string early;
    wait_for_acks(child.ack_fd, std::uniform_int_distribution<int>(0, 3)(rng), early);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 60)(rng)));
    ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
    if (WIFSIGNALED(status)) {
      ++kills_mid_run;
    } else {
      FAIL() << "child exited by itself with status " << WEXITSTATUS(status) << " (see stderr)";
    }
    collect_acks(child.ack_fd, std::move(early), acked);

    // Inspect as a reader would, without the writer's clean-up.
    auto archive = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, false, 0});
    ASSERT_TRUE(archive) << archive.error().message;
    auto listed = (*archive)->list();
    ASSERT_TRUE(listed);
    auto rows = (*archive)->read(*listed, 0);
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_TRUE(rows->errors.empty()) << "round " << round << ": torn or unreadable file " << rows->errors[0].path
                                      << ": " << rows->errors[0].message;
    for (const auto& s : rows->series) {
      const std::string sym = s.key.symbol.str();
      EXPECT_EQ(s.duplicate_rows, 0u) << "round " << round << " " << sym;
      EXPECT_EQ(s.conflicting_rows, 0u) << "round " << round << " " << sym;
      const int seed = sym[0] - 'A';
      for (std::size_t i = 0; i < s.candles.size(); ++i) {
        ASSERT_EQ(s.candles[i].to_candle(), testing::candle_at(static_cast<std::int64_t>(i), Interval::m1, seed))
            << "round " << round << " " << sym << " candle " << i << ": gap, duplicate or corruption";
      }
      if (acked.count(sym)) {
        EXPECT_GE(static_cast<std::int64_t>(s.candles.size()) - 1, acked[sym])
            << "round " << round << " " << sym << ": an acknowledged candle is missing";
      }
    }
    for (const auto& [sym, idx] : acked) {
      const bool present = std::any_of(rows->series.begin(), rows->series.end(),
                                       [&](const SeriesRows& s) { return s.key.symbol.str() == sym; });
      EXPECT_TRUE(present || idx < 0) << sym << " acknowledged but absent";
    }
  }
  EXPECT_EQ(kills_mid_run, kKills);
  EXPECT_FALSE(acked.empty()) << "no flush ever completed: the test exercised nothing";
  std::int64_t total = 0;
  for (const auto& [sym, idx] : acked) total += idx + 1;
  RecordProperty("acknowledged_candles", std::to_string(total));
}

}  // namespace
}  // namespace twinstar::store
