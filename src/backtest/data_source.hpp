#pragma once
// Where a backtest's candles come from: the twinstar store (what the bots saw) or CSV files
// read by the same importer as `twinstar data import-csv`.

#include <filesystem>
#include <optional>
#include <vector>

#include "backtest/engine.hpp"

namespace twinstar {

struct TimeRange {
  std::optional<Timestamp> from;  // inclusive
  std::optional<Timestamp> to;    // exclusive
};

// skip: volume and turnover are left zero, not decoded (a fifth of a read's time). No strategy,
// bot or fill rule of the backtest reads them.
enum class VolumeColumns : std::uint8_t { read, skip };

// Reads every candle of `keys` from <data_dir>/candles within `range`, read-only (running
// engines may be writing it). Errors: a series missing from the store (names it and
// lists what the store has), an empty range, unreadable files.
Result<std::vector<SeriesData>> load_from_store(const std::filesystem::path& data_dir, const std::vector<SeriesKey>& keys,
                                                const TimeRange& range, VolumeColumns volumes = VolumeColumns::read);

// Reads CSV files (symbol and interval from the file name or a column unless given).
Result<std::vector<SeriesData>> load_from_csv(const std::vector<std::filesystem::path>& files, Exchange exchange,
                                              Market market, std::optional<Interval> interval, const TimeRange& range,
                                              Timestamp now);

}  // namespace twinstar
