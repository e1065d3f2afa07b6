#pragma once
// The store invariant every engine run ends on: each series on disk is gap-free, duplicate-free
// and passes the integrity check. Shared by the paper and the live engine's tests.

#include <cstddef>
#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "store/candle_archive.hpp"
#include "store/integrity.hpp"

namespace twinstar::testing {

inline void expect_store_clean(const std::filesystem::path& dir, std::size_t series_count, std::size_t min_candles = 0) {
  store::ArchiveOptions ao;
  ao.writer = false;
  auto archive = store::CandleArchive::open(dir, ao);
  ASSERT_TRUE(archive) << archive.error().message;
  auto listed = (*archive)->list();
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), series_count);
  auto read = (*archive)->read(*listed);
  ASSERT_TRUE(read);
  EXPECT_TRUE(read->errors.empty());
  for (const auto& series : read->series) {
    std::vector<Candle> candles;
    for (const auto& c : series.candles) candles.push_back(c.to_candle());
    const auto report = store::check_series(series.key, candles);
    EXPECT_TRUE(report.gaps.empty()) << series.key.symbol << " " << report.gaps.size() << " gaps";
    EXPECT_TRUE(report.clean()) << series.key.symbol;
    EXPECT_EQ(series.duplicate_rows + series.conflicting_rows, 0u) << series.key.symbol;
    EXPECT_GE(candles.size(), min_candles) << series.key.symbol;
  }
}

}  // namespace twinstar::testing
