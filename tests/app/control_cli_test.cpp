// `twinstar status` and `twinstar bot ...` against a real running `twinstar demo` process:
// the control endpoint on loopback, the token, and run-time changes applied between events.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "run_command.hpp"

namespace twinstar::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class DemoProcess : public ChildProcess {
 public:
  explicit DemoProcess(const fs::path& dir)
      : ChildProcess({"demo", "--data-dir=" + dir.string(), "--speed", "120", "--report-every", "24h", "--symbols", "40"},
                     (dir / "demo.log").string()),
        dir_(dir) {}
  // Waits (bounded) until the engine answers `status`.
  bool wait_ready(std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (fs::exists(dir_ / "state" / "control.json") && status().exit_code == 0) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }
  CommandResult status() const { return run_twinstar("status --data-dir=" + dir_.string() + " --json"); }
  CommandResult bot(const std::string& args) const { return run_twinstar("bot " + args + " --data-dir=" + dir_.string()); }
  // SIGINT, then wait (bounded) for the exit code.
  int interrupt(std::chrono::seconds limit) {
    kill(SIGINT);
    return wait_exit(limit);
  }

 private:
  fs::path dir_;
};

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("twinstar-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(ControlCli, status_and_bot_commands_steer_a_running_demo) {
  const auto dir = fresh_dir("control-cli");
  {
    auto none = run_twinstar("status --data-dir=" + dir.string());
    EXPECT_EQ(none.exit_code, 1) << none.output;
    EXPECT_NE(none.output.find("no running engine"), std::string::npos) << none.output;
  }
  DemoProcess demo(dir);
  ASSERT_GT(demo.pid(), 0);
  ASSERT_TRUE(demo.wait_ready(120s)) << "demo did not publish its control endpoint";

  auto s = demo.status();
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_NE(s.output.find(R"("name":"single")"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find(R"("name":"multi")"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find(R"("symbols":30)"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find(R"("equity":")"), std::string::npos) << "amounts are exact strings: " << s.output;

  auto text = run_twinstar("status --data-dir=" + dir.string());
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("capital"), std::string::npos) << text.output;

  auto paused = demo.bot("pause multi");
  ASSERT_EQ(paused.exit_code, 0) << paused.output;
  s = demo.status();
  EXPECT_NE(s.output.find(R"("name":"multi","kind":"multi","state":"paused")"), std::string::npos) << s.output;
  ASSERT_EQ(demo.bot("resume multi").exit_code, 0);
  s = demo.status();
  EXPECT_NE(s.output.find(R"("name":"multi","kind":"multi","state":"running")"), std::string::npos) << s.output;

  auto removed = demo.bot("symbols multi --remove ETHUSDT,SOLUSDT");
  ASSERT_EQ(removed.exit_code, 0) << removed.output;
  EXPECT_EQ(removed.output.find("ETHUSDT"), std::string::npos) << removed.output;
  auto added = demo.bot("symbols multi --add ETHUSDT");
  ASSERT_EQ(added.exit_code, 0) << added.output;
  EXPECT_NE(added.output.find("ETHUSDT"), std::string::npos) << added.output;
  EXPECT_EQ(added.output.find("SOLUSDT"), std::string::npos) << added.output;

  // Refusals are clear and change nothing.
  auto unlisted = demo.bot("symbols multi --add NOPEUSDT,XRPUSDT");
  EXPECT_EQ(unlisted.exit_code, 1) << unlisted.output;
  EXPECT_NE(unlisted.output.find("does not list NOPEUSDT"), std::string::npos) << unlisted.output;
  auto single = demo.bot("symbols single --add ETHUSDT");
  EXPECT_EQ(single.exit_code, 1);
  EXPECT_NE(single.output.find("SingleBot"), std::string::npos) << single.output;
  auto unknown = demo.bot("pause nobody");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("no bot named nobody"), std::string::npos) << unknown.output;
  auto bad_param = demo.bot("params single fast=0");
  EXPECT_EQ(bad_param.exit_code, 1) << bad_param.output;
  s = demo.status();
  EXPECT_NE(s.output.find(R"("symbols":29)"), std::string::npos) << "the refused change left the list alone: " << s.output;

  auto params = demo.bot("params single fast=7");
  ASSERT_EQ(params.exit_code, 0) << params.output;
  s = demo.status();
  EXPECT_NE(s.output.find(R"("fast":7)"), std::string::npos) << s.output;

  ASSERT_EQ(demo.bot("stop single").exit_code, 0);
  s = demo.status();
  EXPECT_NE(s.output.find(R"("name":"single","kind":"single","state":"stopped")"), std::string::npos) << s.output;

  EXPECT_EQ(demo.interrupt(60s), 0) << "SIGINT stops the demo cleanly";
  EXPECT_FALSE(fs::exists(dir / "state" / "control.json")) << "the endpoint is withdrawn on exit";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace twinstar::testing
