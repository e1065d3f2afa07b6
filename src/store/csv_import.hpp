#pragma once
// Reads candle CSV files in the layouts found in the wild (and in ../shared/data):
//   binance_kline   Binance's 12-column kline dump: open_time,open,high,low,close,volume,close_time,
//                   quote_volume,... (epoch ms or µs; with or without the header row)
//   date_ohlcv      date,open,high,low,close,volume[,ticker] with naive UTC text
//   timestamp_ohlcv timestamp,open,high,low,close,volume with ISO text and a UTC offset
//   open_close_time open_time,open,high,low,close,volume,close_time[,...] with ISO text in any
//                   offset (local offsets that change with daylight saving are honoured)
//   generic         ,Open,High,Low,Close,Volume (first column the date/time; names case-insensitive)
// Any bad row aborts the whole file (nothing of it is imported); the error names file:line
// and what is wrong. Other files are unaffected.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "store/candle_archive.hpp"

namespace twinstar::store {

enum class CsvLayout : std::uint8_t { binance_kline, date_ohlcv, timestamp_ohlcv, open_close_time, generic };
std::string_view to_string(CsvLayout layout) noexcept;

struct CsvImportOptions {
  std::optional<Symbol> symbol;      // else from the file name, else a ticker/symbol column
  std::optional<Interval> interval;  // else from the file name, else close_time, else row spacing
  bool drop_open_last = false;       // the last row is still open whatever its times say
};

struct CsvCandles {
  std::filesystem::path file;
  CsvLayout layout = CsvLayout::generic;
  Symbol symbol;
  Interval interval = Interval::m1;
  std::string symbol_from;    // "--symbol", "file name", "column ticker"
  std::string interval_from;  // "--interval", "file name", "close_time", "row spacing"
  std::vector<Candle> candles;     // closed, ascending, unique
  std::optional<Candle> open_last; // the last row, not imported: it had not closed
  std::string open_last_reason;
  std::size_t rows = 0;            // data rows read
  std::size_t rounded_values = 0;  // volumes/turnovers with more than 8 places, rounded half-even
                                   // (prices never are: more than 8 places in a price is an error)
};

// Called every few thousand rows.
using CsvProgress = std::function<void(std::size_t rows, std::size_t bytes_done, std::size_t bytes_total)>;

// Reads and validates one file. `now` decides whether the last row can have closed
// (open_time + interval > now, or close_time >= now, means still open).
// Errors: io_error (cannot read), parse_error "FILE:LINE: what is wrong".
Result<CsvCandles> read_candle_csv(const std::filesystem::path& file, const CsvImportOptions& options, Timestamp now,
                                   const CsvProgress& progress = {});

// Symbol and interval a file name implies ("BTCUSDT_1h.csv", "BTCUSDT-1h-2023-01.csv", "ADAUSDT_240m.csv").
struct FileNameHints {
  std::optional<Symbol> symbol;
  std::optional<Interval> interval;
};
FileNameHints hints_from_file_name(const std::filesystem::path& file);

struct ImportResult {
  std::size_t written = 0;         // new candles persisted
  std::size_t already_stored = 0;  // identical candles already in the store (skipped)
};

// Persists imported candles, skipping those already stored identically.
// Errors: conflict (a stored candle with the same open time differs; nothing written), io_error.
Result<ImportResult> import_candles(CandleArchive& archive, const SeriesKey& key, std::span<const Candle> candles);

}  // namespace twinstar::store
