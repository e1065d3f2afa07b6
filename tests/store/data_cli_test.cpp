// `twinstar data ...` end to end: the real binary on a temporary data folder.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "store_test_util.hpp"

namespace twinstar::store {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

struct Run {
  int exit_code = -1;
  std::string output;
};

Run shell(const std::string& command) {
  const std::string cmd = command + " 2>&1";
  Run r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

Run twinstar(const std::string& args) { return shell(std::string(TWINSTAR_BINARY_DIR) + "/twinstar " + args); }

#define REQUIRE_DATA_COMMAND()                                                                        \
  do {                                                                                                \
    if (twinstar("data --help").exit_code != 0) {                                                     \
      GTEST_SKIP() << "SKIPPED LOUDLY: " << TWINSTAR_BINARY_DIR << "/twinstar has no `data` command " \
                   << "(main.cpp does not call add_data_command yet)";                                \
    }                                                                                                 \
  } while (0)

TEST(DataCli, a_bad_file_is_rejected_with_file_and_line_and_the_good_one_is_imported) {
  REQUIRE_DATA_COMMAND();
  TempDir dir;
  const fs::path good = dir.path() / "BTCUSDT_1h.csv";
  const fs::path bad = dir.path() / "ETHUSDT_1h.csv";
  std::ofstream(good) << "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,1.5,2,1,1.75,100,BTCUSDT\n"
                         "2021-04-04 21:00:00,1.75,2,1,1.5,100,BTCUSDT\n";
  std::ofstream(bad) << "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,1.5,2,1,1.75,100,ETHUSDT\n"
                        "2021-04-04 21:00:00,1.5,2,1,oops,100,ETHUSDT\n";
  const std::string data = " --data-dir " + (dir.path() / "d").string();
  auto r = twinstar("data import-csv " + good.string() + " " + bad.string() + " --exchange binance" + data);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(bad.string() + ":3: column close: 'oops'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 rows, 2 new"), std::string::npos) << r.output;
  auto ls = twinstar("data ls --json" + data);
  EXPECT_EQ(ls.exit_code, 0) << ls.output;
  EXPECT_NE(ls.output.find("\"symbol\":\"BTCUSDT\""), std::string::npos) << ls.output;
  EXPECT_EQ(ls.output.find("ETHUSDT"), std::string::npos) << "nothing of the bad file may be imported: " << ls.output;
  // Importing the same file again stores nothing twice.
  auto again = twinstar("data import-csv " + good.string() + " --exchange binance" + data);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("0 new, 2 already stored"), std::string::npos) << again.output;
}

TEST(DataCli, a_relative_data_dir_that_does_not_exist_yet_is_created) {
  REQUIRE_DATA_COMMAND();
  TempDir dir;
  const fs::path csv = dir.path() / "BTCUSDT_1h.csv";
  std::ofstream(csv) << "date,open,high,low,close,volume\n2021-04-04 20:00:00,1.5,2,1,1.75,100\n";
  // `--data-dir fresh` from the folder above it: the new folder's parent is the working directory.
  auto r = shell("cd " + dir.path().string() + " && " + TWINSTAR_BINARY_DIR +
                 "/twinstar data --data-dir fresh import-csv --exchange binance " + csv.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 rows, 1 new"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("cannot open to sync"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir.path() / "fresh" / "candles"));
}

TEST(DataCli, check_finds_the_real_binance_outages_and_names_a_corrupt_file) {
  REQUIRE_DATA_COMMAND();
  TWINSTAR_REQUIRE_SHARED_DATA();
  TempDir dir;
  const std::string data = " --data-dir " + (dir.path() / "d").string();
  const fs::path spot = testing::shared_data_dir() / "binance-spot-1h";
  auto imp = twinstar("data import-csv " + (spot / "BTCUSDT_1h.csv").string() + " " + (spot / "SOLUSDT_1h.csv").string() +
                      " --exchange binance" + data);
  ASSERT_EQ(imp.exit_code, 0) << imp.output;
  auto check = twinstar("data check --json --symbol BTCUSDT" + data);
  EXPECT_EQ(check.exit_code, 0) << check.output;  // gaps alone are the exchange's own history
  for (const char* gap : {R"({"from":"2021-04-20T02:00:00.000Z","missing":2})", R"({"from":"2021-04-25T05:00:00.000Z","missing":3})",
                          R"({"from":"2021-08-13T02:00:00.000Z","missing":4})", R"({"from":"2021-09-29T07:00:00.000Z","missing":2})",
                          R"({"from":"2023-03-24T13:00:00.000Z","missing":1})"}) {
    EXPECT_NE(check.output.find(gap), std::string::npos) << gap << " not in " << check.output.substr(0, 2000);
  }
  EXPECT_NE(check.output.find("\"missing\":12"), std::string::npos);

  // Scribble over one SOLUSDT file: check names it and fails; BTCUSDT is still listed and queryable.
  fs::path victim;
  for (const auto& e : fs::recursive_directory_iterator(dir.path() / "d" / "candles")) {
    if (e.path().extension() == ".parquet" && e.path().string().find("SOLUSDT") != std::string::npos) victim = e.path();
  }
  ASSERT_FALSE(victim.empty());
  std::ofstream(victim, std::ios::trunc) << "not parquet";
  auto bad = twinstar("data check" + data);
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("unreadable " + victim.string()), std::string::npos) << bad.output;
  auto ls = twinstar("data ls" + data);
  EXPECT_EQ(ls.exit_code, 0) << ls.output;
  EXPECT_NE(ls.output.find("BTCUSDT"), std::string::npos);
  auto sql = twinstar("data sql \"SELECT count(*) AS n FROM candles WHERE symbol = 'BTCUSDT'\"" + data);
  EXPECT_EQ(sql.exit_code, 0) << sql.output;
  EXPECT_NE(sql.output.find("n\n23988"), std::string::npos) << sql.output;
}

TEST(DataCli, resample_and_export_round_trip_exact_decimals) {
  REQUIRE_DATA_COMMAND();
  TempDir dir;
  const fs::path csv = dir.path() / "XYZUSDT_5m.csv";
  std::ofstream(csv) << "timestamp,open,high,low,close,volume\n"
                        "2025-04-03 17:00:00+00:00,1.00000001,2,0.5,1.5,10.12345678\n"
                        "2025-04-03 17:05:00+00:00,1.5,3,1,2,1\n"
                        "2025-04-03 17:10:00+00:00,2,2.5,0.25,1.25,2\n"
                        "2025-04-03 17:15:00+00:00,1.25,1.5,1,1.5,3\n";
  const std::string data = " --data-dir " + (dir.path() / "d").string();
  ASSERT_EQ(twinstar("data import-csv " + csv.string() + " --exchange bybit" + data).exit_code, 0);
  auto rs = twinstar("data resample --exchange bybit --symbol XYZUSDT --interval 5m --to 15m" + data);
  EXPECT_EQ(rs.exit_code, 0) << rs.output;
  EXPECT_NE(rs.output.find("partial last bucket is not written"), std::string::npos) << rs.output;
  auto ex = twinstar("data export --csv --exchange bybit --symbol XYZUSDT --interval 15m" + data);
  EXPECT_EQ(ex.exit_code, 0) << ex.output;
  EXPECT_NE(ex.output.find("2025-04-03T17:00:00.000Z,1.00000001,3,0.25,1.25,13.12345678,0"), std::string::npos) << ex.output;
}

}  // namespace
}  // namespace twinstar::store
