#include "observe/control_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_client.hpp"

namespace twinstar::observe {
namespace {

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("twinstar-control-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ControlServerTest, get_is_open_post_needs_the_token_and_unknown_paths_are_404) {
  ControlServer server({.state_dir = dir_, .engine_name = "test"});
  int pauses = 0;
  server.get("/status", [](const net::HttpRequest&) { return control_ok(R"({"ok":true})"); });
  server.post("/bots/pause", [&](const net::HttpRequest& r) {
    ++pauses;
    return control_ok(fmt::format(R"({{"ok":true,"body":"{}"}})", r.body));
  });
  ASSERT_TRUE(server.start());

  auto endpoint = find_control_endpoint(dir_);
  ASSERT_TRUE(endpoint) << endpoint.error().message;
  EXPECT_EQ(endpoint->port, server.port());
  EXPECT_EQ(endpoint->pid, ::getpid());
  EXPECT_EQ(endpoint->engine_name, "test");
  EXPECT_EQ(endpoint->token, server.token());
  struct stat st{};
  ASSERT_EQ(::stat((dir_ / "control.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  testing::HttpClient client(server.port());
  auto status = client.get("/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(status->body, R"({"ok":true})");

  auto refused = client.request("POST", "/bots/pause", "single");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  auto wrong = client.request("POST", "/bots/pause", "single", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(pauses, 0);
  auto accepted = client.request("POST", "/bots/pause", "single", {{"Authorization", "Bearer " + endpoint->token}});
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 200);
  EXPECT_EQ(accepted->body, R"({"ok":true,"body":"single"})");
  EXPECT_EQ(pauses, 1);

  auto missing = client.get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("no such endpoint: /nope"), std::string::npos);
  auto wrong_method = client.get("/bots/pause");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);

  server.stop();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "control.json"));
  auto gone = find_control_endpoint(dir_);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::not_found);
}

TEST_F(ControlServerTest, a_second_engine_on_the_same_directory_is_refused_and_a_stale_file_is_ignored) {
  std::filesystem::create_directories(dir_);
  // A control file left by a process that has exited: pid 0x7ffffffe is never alive.
  {
    std::ofstream(dir_ / "control.json") << R"({"port":1,"pid":2147483646,"engine":"old"})";
  }
  auto stale = find_control_endpoint(dir_);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::not_found);
  EXPECT_NE(stale.error().message.find("has exited"), std::string::npos);

  ControlServer first({.state_dir = dir_, .engine_name = "first"});
  ASSERT_TRUE(first.start());
  // A control file naming a live process other than us: pid 1 is always alive.
  { std::ofstream(dir_ / "control.json") << R"({"port":9,"pid":1,"engine":"other"})"; }
  ControlServer second({.state_dir = dir_, .engine_name = "second"});
  auto refused = second.start();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::unavailable);
  EXPECT_NE(refused.error().message.find("pid 1"), std::string::npos) << refused.error().message;
}

TEST_F(ControlServerTest, a_damaged_control_file_is_named) {
  std::filesystem::create_directories(dir_);
  { std::ofstream(dir_ / "control.json") << "garbage"; }
  auto damaged = find_control_endpoint(dir_);
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code, ErrorCode::parse_error);
  EXPECT_NE(damaged.error().message.find("control.json"), std::string::npos);
}

}  // namespace
}  // namespace twinstar::observe
