#include "store/csv_import.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace twinstar::store {

namespace fs = std::filesystem;

namespace {

enum class Role : std::uint8_t { none, time, open, high, low, close, volume, close_time, turnover, ticker };

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void split(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    out.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}

Role role_of(const std::string& name, std::size_t column) {
  if (name == "open_time" || name == "date" || name == "timestamp" || name == "time" || name == "datetime" ||
      name == "open time" || name == "date_time" || (name.empty() && column == 0)) {
    return Role::time;
  }
  if (name == "open") return Role::open;
  if (name == "high") return Role::high;
  if (name == "low") return Role::low;
  if (name == "close") return Role::close;
  if (name == "volume") return Role::volume;
  if (name == "close_time" || name == "close time") return Role::close_time;
  if (name == "quote_volume" || name == "turnover" || name == "quote_asset_volume" || name == "quote asset volume") return Role::turnover;
  if (name == "ticker" || name == "symbol") return Role::ticker;
  return Role::none;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<TimestampMs> parse_time(std::string_view text) {
  if (all_digits(text)) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc()) return make_error(ErrorCode::parse_error, "'{}' is out of range", text);
    // Epoch seconds, milliseconds (Binance) or microseconds (Binance dumps since 2025).
    if (text.size() >= 15) return from_epoch_ms(n / 1000);
    if (text.size() >= 12) return from_epoch_ms(n);
    return from_epoch_ms(n * 1000);
  }
  auto t = parse_iso8601(text);
  if (!t) return std::unexpected(t.error());
  return floor_ms(*t);
}

std::int64_t length_ms(Interval i) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(interval_length(i)).count();
}

TimestampMs next_open(Interval i, TimestampMs t) { return floor_ms(interval_next(i, Timestamp(t))); }

std::optional<Interval> interval_of_length(std::int64_t ms) {
  for (Interval i : kAllIntervals) {
    if (i != Interval::mo1 && length_ms(i) == ms) return i;
  }
  if (ms >= 28LL * 86'400'000 && ms <= 31LL * 86'400'000) return Interval::mo1;
  return std::nullopt;
}

struct RawRow {
  Candle candle;
  std::optional<TimestampMs> close_time;
  std::size_t line = 0;
};

}  // namespace

std::string_view to_string(CsvLayout layout) noexcept {
  switch (layout) {
    case CsvLayout::binance_kline: return "binance_kline";
    case CsvLayout::date_ohlcv: return "date_ohlcv";
    case CsvLayout::timestamp_ohlcv: return "timestamp_ohlcv";
    case CsvLayout::open_close_time: return "open_close_time";
    case CsvLayout::generic: return "generic";
  }
  return "?";
}

FileNameHints hints_from_file_name(const fs::path& file) {
  FileNameHints h;
  std::vector<std::string> tokens;
  std::string cur;
  for (char c : file.stem().string()) {
    if (c == '_' || c == '-' || c == ' ' || c == '.') {
      if (!cur.empty()) tokens.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) tokens.push_back(std::move(cur));
  if (tokens.empty()) return h;
  const std::string& first = tokens[0];
  const bool upper = std::all_of(first.begin(), first.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)); });
  if (upper && first.size() >= 2 && std::isupper(static_cast<unsigned char>(first[0]))) {
    if (auto s = Symbol::parse(first)) h.symbol = *s;
  }
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    // A number followed by a unit: "1h", "15m", "240m", "1d"; a bare "2023" is a year, not minutes.
    if (t.size() < 2 || !std::isdigit(static_cast<unsigned char>(t[0])) || std::isdigit(static_cast<unsigned char>(t.back()))) continue;
    if (auto iv = parse_interval(t)) {
      h.interval = *iv;
      break;
    }
  }
  return h;
}

Result<CsvCandles> read_candle_csv(const fs::path& file, const CsvImportOptions& options, Timestamp now,
                                   const CsvProgress& progress) {
  const std::string name = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(ErrorCode::io_error, "{}: cannot open for reading", name);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (text.empty()) return make_error(ErrorCode::parse_error, "{}: empty file", name);

  CsvCandles out;
  out.file = file;
  std::vector<std::string_view> fields;
  std::vector<Role> roles;
  std::vector<std::string> column_names;

  std::size_t pos = 0;
  std::size_t line_no = 0;
  auto next_line = [&](std::string_view& line) {
    if (pos >= text.size()) return false;
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    line = std::string_view(text).substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    ++line_no;
    return true;
  };

  std::string_view line;
  if (!next_line(line)) return make_error(ErrorCode::parse_error, "{}: empty file", name);
  if (line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF) line.remove_prefix(3);  // UTF-8 BOM
  split(line, fields);
  bool headerless = all_digits(fields[0]);
  if (headerless) {
    // Binance's dump without its header row.
    static const char* kKline[] = {"open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                                   "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"};
    if (fields.size() != 12) {
      return make_error(ErrorCode::parse_error, "{}:1: no header row and {} columns; only Binance's 12-column kline dump may omit the header", name, fields.size());
    }
    for (const char* n : kKline) column_names.emplace_back(n);
  } else {
    for (auto f : fields) column_names.push_back(lower(f));
  }
  for (std::size_t i = 0; i < column_names.size(); ++i) {
    Role r = role_of(column_names[i], i);
    if (r != Role::none && std::find(roles.begin(), roles.end(), r) != roles.end()) r = Role::none;  // first wins
    roles.push_back(r);
  }
  auto col = [&](Role r) -> std::optional<std::size_t> {
    auto it = std::find(roles.begin(), roles.end(), r);
    if (it == roles.end()) return std::nullopt;
    return static_cast<std::size_t>(it - roles.begin());
  };
  for (Role r : {Role::time, Role::open, Role::high, Role::low, Role::close}) {
    if (!col(r)) {
      return make_error(ErrorCode::parse_error,
                        "{}:1: header '{}' lacks a {} column; expected e.g. open_time/date/timestamp,open,high,low,close,volume",
                        name, line, r == Role::time ? "time" : r == Role::open ? "open" : r == Role::high ? "high" : r == Role::low ? "low" : "close");
    }
  }
  const std::string& time_name = column_names[*col(Role::time)];
  if (col(Role::turnover) && col(Role::close_time)) out.layout = CsvLayout::binance_kline;
  else if (time_name == "date") out.layout = CsvLayout::date_ohlcv;
  else if (time_name == "timestamp") out.layout = CsvLayout::timestamp_ohlcv;
  else if (time_name == "open_time" && col(Role::close_time)) out.layout = CsvLayout::open_close_time;
  else out.layout = CsvLayout::generic;

  // Symbol: flag, then file name, then a column (checked on every row below).
  const FileNameHints hints = hints_from_file_name(file);
  std::optional<Symbol> symbol = options.symbol;
  out.symbol_from = "--symbol";
  if (!symbol && hints.symbol) {
    symbol = hints.symbol;
    out.symbol_from = "file name";
  }

  std::vector<RawRow> rows;
  rows.reserve(text.size() / 60);
  if (headerless) {
    pos = 0;
    line_no = 0;
  }
  const std::size_t n_cols = column_names.size();
  auto bad = [&](std::string_view what) { return make_error(ErrorCode::parse_error, "{}:{}: {}", name, line_no, what); };
  while (next_line(line)) {
    if (line.empty() || trim(line).empty()) continue;
    split(line, fields);
    if (fields.size() != n_cols) {
      return bad(fmt::format("expected {} fields as in the header, got {}{}", n_cols, fields.size(),
                             fields.size() < n_cols ? " (truncated row?)" : ""));
    }
    RawRow row;
    row.line = line_no;
    const auto time_field = fields[*col(Role::time)];
    auto t = parse_time(time_field);
    if (!t) return bad(fmt::format("column {}: cannot read '{}' as a time ({})", column_names[*col(Role::time)], time_field, t.error().message));
    row.candle.open_time = *t;
    auto price = [&](Role r, Price& dst) -> Status {
      const auto f = fields[*col(r)];
      if (f.empty()) return bad(fmt::format("column {} is empty", column_names[*col(r)]));
      auto p = Price::parse(f);
      if (!p) return bad(fmt::format("column {}: '{}' is not a decimal with at most 8 places ({})", column_names[*col(r)], f, p.error().message));
      dst = *p;
      return {};
    };
    if (auto s = price(Role::open, row.candle.open); !s) return std::unexpected(s.error());
    if (auto s = price(Role::high, row.candle.high); !s) return std::unexpected(s.error());
    if (auto s = price(Role::low, row.candle.low); !s) return std::unexpected(s.error());
    if (auto s = price(Role::close, row.candle.close); !s) return std::unexpected(s.error());
    if (auto c = col(Role::volume)) {
      const auto f = fields[*c];
      auto v = Quantity::parse(f);
      if (!v) {
        // Volumes some tools computed in floating point carry more places: round those, count them.
        v = Quantity::parse_rounded(f);
        if (!v) return bad(fmt::format("column {}: '{}' is not a decimal ({})", column_names[*c], f, v.error().message));
        ++out.rounded_values;
      }
      row.candle.volume = *v;
    }
    if (auto c = col(Role::turnover)) {
      const auto f = fields[*c];
      auto v = Money::parse(f);
      if (!v) {
        v = Money::parse_rounded(f);  // venue-computed; may carry more than 8 places
        if (!v) return bad(fmt::format("column {}: '{}' is not a decimal ({})", column_names[*c], f, v.error().message));
        ++out.rounded_values;
      }
      row.candle.turnover = *v;
    }
    if (auto c = col(Role::close_time)) {
      auto ct = parse_time(fields[*c]);
      if (!ct) return bad(fmt::format("column {}: cannot read '{}' as a time ({})", column_names[*c], fields[*c], ct.error().message));
      row.close_time = *ct;
    }
    if (auto c = col(Role::ticker)) {
      auto s = Symbol::parse(fields[*c]);
      if (!s) return bad(fmt::format("column {}: '{}' is not a symbol ({})", column_names[*c], fields[*c], s.error().message));
      if (!symbol) {
        symbol = *s;
        out.symbol_from = "column " + column_names[*c];
      } else if (*s != *symbol) {
        return bad(fmt::format("{} {} does not match the file's symbol {} (from {}): mislabelled row or file",
                               column_names[*c], *s, *symbol, out.symbol_from));
      }
    }
    row.candle.closed = true;
    if (auto s = check_ohlc(row.candle); !s) return bad(s.error().message);
    if (!rows.empty() && row.candle.open_time <= rows.back().candle.open_time) {
      return bad(fmt::format("open time {} is not after the previous row's {} (line {}): rows {} ",
                             format_iso8601(row.candle.open_time), format_iso8601(rows.back().candle.open_time),
                             rows.back().line, row.candle.open_time == rows.back().candle.open_time ? "duplicated" : "out of order"));
    }
    rows.push_back(row);
    if (progress && rows.size() % 16384 == 0) progress(rows.size(), pos, text.size());
  }
  if (progress) progress(rows.size(), text.size(), text.size());
  if (rows.empty()) return make_error(ErrorCode::parse_error, "{}: no data rows", name);
  if (!symbol) {
    return make_error(ErrorCode::parse_error, "{}: cannot tell the symbol from the file name or a ticker column; pass --symbol", name);
  }
  out.symbol = *symbol;
  out.rows = rows.size();

  // Interval: flag, then file name, then close_time, then the smallest spacing between rows.
  std::optional<Interval> interval = options.interval;
  out.interval_from = "--interval";
  if (!interval && hints.interval) {
    interval = hints.interval;
    out.interval_from = "file name";
  }
  if (!interval && rows[0].close_time) {
    interval = interval_of_length(to_epoch_ms(*rows[0].close_time) - to_epoch_ms(rows[0].candle.open_time) + 1);
    out.interval_from = "close_time";
  }
  std::int64_t min_spacing = INT64_MAX;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    min_spacing = std::min(min_spacing, to_epoch_ms(rows[i].candle.open_time) - to_epoch_ms(rows[i - 1].candle.open_time));
  }
  if (!interval && min_spacing != INT64_MAX) {
    interval = interval_of_length(min_spacing);
    out.interval_from = "row spacing";
  }
  if (!interval) return make_error(ErrorCode::parse_error, "{}: cannot tell the interval from the file name, close_time or row spacing; pass --interval", name);
  out.interval = *interval;

  const bool monthly = out.interval == Interval::mo1;
  const std::int64_t len = length_ms(out.interval);
  if (!monthly && rows.size() >= 3 && min_spacing > len) {
    return make_error(ErrorCode::parse_error, "{}: rows are at least {} apart but the interval is {} (from {}): mislabelled file?",
                      name, format_duration(std::chrono::milliseconds(min_spacing)), out.interval, out.interval_from);
  }
  for (const auto& r : rows) {
    line_no = r.line;
    const TimestampMs t = r.candle.open_time;
    if (!monthly && floor_ms(interval_floor(out.interval, Timestamp(t))) != t) {
      return bad(fmt::format("open time {} is not on a {} boundary (interval from {}): wrong interval or shifted times",
                             format_iso8601(t), out.interval, out.interval_from));
    }
    if (r.close_time && !monthly && (*r.close_time <= t || to_epoch_ms(*r.close_time) >= to_epoch_ms(t) + len)) {
      return bad(fmt::format("close time {} is outside the {} candle opening at {}", format_iso8601(*r.close_time), out.interval, format_iso8601(t)));
    }
  }

  out.candles.reserve(rows.size());
  for (const auto& r : rows) out.candles.push_back(r.candle);
  // The last row may be a candle the venue was still updating when the file was written.
  const RawRow& last = rows.back();
  std::string reason;
  if (options.drop_open_last) {
    reason = "--drop-open-last";
  } else if (last.close_time && Timestamp(*last.close_time) >= now) {
    reason = fmt::format("its close time {} is not before now ({})", format_iso8601(*last.close_time), format_iso8601(now));
  } else if (Timestamp(next_open(out.interval, last.candle.open_time)) > now) {
    reason = fmt::format("its {} interval had not ended at {}", out.interval, format_iso8601(now));
  }
  if (!reason.empty()) {
    out.open_last = out.candles.back();
    out.open_last->closed = false;
    out.open_last_reason = std::move(reason);
    out.candles.pop_back();
  }
  return out;
}

Result<ImportResult> import_candles(CandleArchive& archive, const SeriesKey& key, std::span<const Candle> candles) {
  ImportResult result;
  auto files = archive.files_of(key);
  if (!files) return std::unexpected(files.error());
  std::vector<StoredCandle> stored;
  if (!files->parts.empty()) {
    auto r = archive.read(std::span(&*files, 1), 0);
    if (!r) return std::unexpected(r.error());
    if (!r->errors.empty()) {
      return make_error(ErrorCode::io_error, "{}: cannot check for stored duplicates: {}: {}", describe(key),
                        r->errors[0].path.string(), r->errors[0].message);
    }
    stored = std::move(r->series[0].candles);
  }
  SeriesBatch batch{key, {}};
  batch.candles.reserve(candles.size());
  std::size_t conflicts = 0;
  std::optional<std::pair<StoredCandle, StoredCandle>> first_conflict;
  auto it = stored.begin();
  for (const Candle& c : candles) {
    const StoredCandle sc = StoredCandle::from(c);
    it = std::lower_bound(it, stored.end(), sc.open_time_ms, [](const StoredCandle& a, std::int64_t t) { return a.open_time_ms < t; });
    if (it != stored.end() && it->open_time_ms == sc.open_time_ms) {
      if (*it == sc) {
        ++result.already_stored;
      } else {
        if (!first_conflict) first_conflict = std::make_pair(*it, sc);
        ++conflicts;
      }
      continue;
    }
    batch.candles.push_back(sc);
  }
  if (conflicts > 0) {
    const auto& [a, b] = *first_conflict;
    return make_error(ErrorCode::conflict,
                      "{}: {} candles differ from stored ones; first at {} (stored close {}, new close {}); nothing imported",
                      describe(key), conflicts, format_iso8601(from_epoch_ms(a.open_time_ms)),
                      Price::from_raw(a.close).to_string(), Price::from_raw(b.close).to_string());
  }
  if (!batch.candles.empty()) {
    auto w = archive.write(std::span(&batch, 1));
    if (!w) return std::unexpected(w.error());
  }
  result.written = batch.candles.size();
  return result;
}

}  // namespace twinstar::store
