#pragma once
// Helpers for store tests: a temporary folder, the shared data folder, small candle makers.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>

#include "core/candle.hpp"
#include "core/ids.hpp"

namespace twinstar::store::testing {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("twinstar-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
             std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::filesystem::path shared_data_dir() { return std::filesystem::path(TWINSTAR_SHARED_DATA_DIR); }
inline bool shared_data_present() { return std::filesystem::is_directory(shared_data_dir() / "binance-spot-1h"); }

#define TWINSTAR_REQUIRE_SHARED_DATA()                                                                   \
  do {                                                                                                   \
    if (!::twinstar::store::testing::shared_data_present()) {                                            \
      GTEST_SKIP() << "SKIPPED LOUDLY: shared market data absent at "                                    \
                   << ::twinstar::store::testing::shared_data_dir().string()                             \
                   << " — this test proves nothing without it";                                          \
    }                                                                                                    \
  } while (0)

inline SeriesKey key(std::string_view symbol, Interval interval = Interval::m15, Exchange ex = Exchange::bybit,
                     Market market = Market::linear) {
  return SeriesKey{ex, market, *Symbol::parse(symbol), interval};
}

// A closed candle at `index` intervals after 2024-01-01T00:00Z, values derived from index and seed.
inline Candle candle_at(std::int64_t index, Interval interval = Interval::m15, std::int64_t seed = 0, bool closed = true) {
  const auto len = std::chrono::duration_cast<std::chrono::milliseconds>(interval_length(interval)).count();
  const std::int64_t base = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
  const std::int64_t p = 4'200'000'000'000 + (index * 7919 + seed * 104729) % 100'000'000'000;
  Candle c;
  c.open_time = from_epoch_ms(base + index * len);
  c.open = Price::from_raw(p);
  c.high = Price::from_raw(p + 5'000'000'000);
  c.low = Price::from_raw(p - 5'000'000'000);
  c.close = Price::from_raw(p + 1'234'567);
  c.volume = Quantity::from_raw(123'456'789 + index);
  c.turnover = Money::from_raw(987'654'321'000 + index * 3 + seed);
  c.closed = closed;
  return c;
}

}  // namespace twinstar::store::testing
