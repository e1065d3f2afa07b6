#include "ratelimit/budget_share.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

namespace twinstar {
namespace {

class BudgetShareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("twinstar-shares-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

Ratio share(double x) { return Ratio::from_raw(static_cast<std::int64_t>(x * 1e8 + 0.5)); }

// A child process that claims `s` and then waits to be killed; returns its pid once it holds
// the claim (or -1 if the claim failed).
pid_t child_claiming(const std::filesystem::path& dir, std::string_view preset, Ratio s) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    auto claim = BudgetShareClaim::claim(dir, preset, s, "child");
    const char ok = claim ? '1' : '0';
    (void)::write(fds[1], &ok, 1);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  char ok = '0';
  (void)::read(fds[0], &ok, 1);
  ::close(fds[0]);
  if (ok != '1') {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
  return pid;
}

TEST_F(BudgetShareTest, live_processes_never_hold_more_than_the_whole_budget_and_a_dead_ones_share_comes_back) {
  const pid_t child = child_claiming(dir_, "bybit", share(0.5));
  ASSERT_GT(child, 0);

  auto too_much = BudgetShareClaim::claim(dir_, "bybit", share(0.6), "parent");
  ASSERT_FALSE(too_much);
  EXPECT_EQ(too_much.error().code, ErrorCode::limit_exceeded);
  EXPECT_NE(too_much.error().message.find(fmt::format("pid {} holds 0.5 (child)", child)), std::string::npos)
      << too_much.error().message;
  EXPECT_NE(too_much.error().message.find("0.5 is left"), std::string::npos) << too_much.error().message;

  auto half = BudgetShareClaim::claim(dir_, "bybit", share(0.5), "parent");
  ASSERT_TRUE(half) << half.error().message;
  auto holders = BudgetShareClaim::holders(dir_, "bybit");
  ASSERT_TRUE(holders);
  EXPECT_EQ(holders->size(), 2u);

  // Another preset is another budget.
  auto okx = BudgetShareClaim::claim(dir_, "okx", share(1.0), "parent");
  EXPECT_TRUE(okx);

  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  // The dead child's claim is dropped; this process's own claim is replaced, not added to.
  auto all = BudgetShareClaim::claim(dir_, "bybit", share(1.0), "parent again");
  ASSERT_TRUE(all) << all.error().message;
  holders = BudgetShareClaim::holders(dir_, "bybit");
  ASSERT_TRUE(holders);
  ASSERT_EQ(holders->size(), 1u);
  EXPECT_EQ(holders->front().pid, ::getpid());
  EXPECT_EQ(holders->front().label, "parent again");
}

TEST_F(BudgetShareTest, releasing_gives_the_share_back) {
  {
    auto claim = BudgetShareClaim::claim(dir_, "bitget", share(1.0), "first");
    ASSERT_TRUE(claim);
    EXPECT_EQ(child_claiming(dir_, "bitget", share(0.1)), -1);  // all of it is taken
  }
  auto holders = BudgetShareClaim::holders(dir_, "bitget");
  ASSERT_TRUE(holders);
  EXPECT_TRUE(holders->empty());
  const pid_t child = child_claiming(dir_, "bitget", share(0.1));
  EXPECT_GT(child, 0);
  if (child > 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  }
}

TEST_F(BudgetShareTest, bad_shares_and_names_are_refused) {
  EXPECT_EQ(BudgetShareClaim::claim(dir_, "bybit", Ratio{}, "x").error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(BudgetShareClaim::claim(dir_, "bybit", share(1.5), "x").error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(BudgetShareClaim::claim(dir_, "../etc", share(0.5), "x").error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace twinstar
