#include "app/data_command.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include <fmt/core.h>

#include "core/clock.hpp"
#include "core/json_writer.hpp"
#include "store/candle_archive.hpp"
#include "store/csv_import.hpp"
#include "store/integrity.hpp"
#include "store/resample.hpp"

namespace twinstar {

namespace {

namespace fs = std::filesystem;
using namespace twinstar::store;

template <class T>
T value_or_fail(Result<T> r) {
  if (!r) fail(r.error().code == ErrorCode::unavailable ? 3 : 1, r.error().message);
  return std::move(*r);
}

std::unique_ptr<CandleArchive> open_archive(const AppOptions& options, bool writer) {
  return value_or_fail(CandleArchive::open(options.config().data_dir, ArchiveOptions{store::Durability::fsync, writer, 0}));
}

// The series selection shared by several commands.
struct SeriesArgs {
  std::string exchange;
  std::string market;
  std::string symbol;
  std::string interval;

  void add(CLI::App* cmd, bool required) {
    auto* e = cmd->add_option("--exchange", exchange, "bybit, binance, okx or bitget");
    auto* s = cmd->add_option("--symbol", symbol, "Instrument, e.g. BTCUSDT");
    auto* i = cmd->add_option("--interval", interval, "1m, 5m, 15m, 1h, 4h, 1d, ...");
    cmd->add_option("--market", market, "spot or linear (default: linear on bybit, spot elsewhere)");
    if (required) {
      e->required();
      s->required();
      i->required();
    }
  }
  Exchange parsed_exchange() const { return value_or_fail(parse_exchange(exchange)); }
  Market parsed_market(Exchange e) const {
    if (market.empty()) return e == Exchange::bybit ? Market::linear : Market::spot;
    return value_or_fail(parse_market(market));
  }
  SeriesKey key() const {
    const Exchange e = parsed_exchange();
    return SeriesKey{e, parsed_market(e), value_or_fail(Symbol::parse(symbol)), value_or_fail(parse_interval(interval))};
  }
  // Whether a listed series passes the (optional) filters.
  bool matches(const SeriesKey& k) const {
    if (!exchange.empty() && fmt::format("{}", k.exchange) != exchange) return false;
    if (!market.empty() && fmt::format("{}", k.market) != market) return false;
    if (!symbol.empty() && k.symbol.view() != symbol) return false;
    if (!interval.empty()) {
      auto i = parse_interval(interval);
      if (!i || *i != k.interval) return false;
    }
    return true;
  }
};

std::string iso(TimestampMs t) { return format_iso8601(t); }

std::vector<Candle> to_candles(const std::vector<StoredCandle>& rows) {
  std::vector<Candle> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.to_candle());
  return out;
}

SeriesFiles files_or_fail(CandleArchive& archive, const SeriesKey& key) {
  auto f = value_or_fail(archive.files_of(key));
  if (f.parts.empty()) fail(1, fmt::format("{}: no such series in {}", describe(key), archive.candles_root().string()));
  return f;
}

std::vector<Candle> read_series_or_fail(CandleArchive& archive, const SeriesKey& key) {
  const SeriesFiles f = files_or_fail(archive, key);
  auto r = value_or_fail(archive.read(std::span(&f, 1), 0));
  for (const auto& e : r.errors) fmt::print(stderr, "warning: skipped unreadable {}: {}\n", e.path.string(), e.message);
  return to_candles(r.series[0].candles);
}

// ---- import-csv ----------------------------------------------------------------------------

struct ImportArgs {
  std::vector<std::string> files;
  SeriesArgs series;
  bool drop_open_last = false;
  std::string as_of;
};

void run_import(const AppOptions& options, const ImportArgs& args) {
  const Clock& clock = RealClock::instance();  // the app is where the clock is chosen
  const Exchange exchange = args.series.parsed_exchange();
  const Market market = args.series.parsed_market(exchange);
  CsvImportOptions csv;
  if (!args.series.symbol.empty()) csv.symbol = value_or_fail(Symbol::parse(args.series.symbol));
  if (!args.series.interval.empty()) csv.interval = value_or_fail(parse_interval(args.series.interval));
  csv.drop_open_last = args.drop_open_last;
  const Timestamp now = args.as_of.empty() ? clock.now() : value_or_fail(parse_iso8601(args.as_of));
  auto archive = open_archive(options, true);
  int failed = 0;
  for (const auto& file : args.files) {
    // Progress on stderr at most once a second, with the rate so far.
    const auto started = clock.now();
    auto last_report = started;
    auto progress = [&](std::size_t rows, std::size_t done, std::size_t total) {
      const auto now_p = clock.now();
      if (now_p - last_report < std::chrono::seconds(1)) return;
      last_report = now_p;
      const double secs = std::chrono::duration<double>(now_p - started).count();
      fmt::print(stderr, "{}: {} rows ({:.0f}%), {:.0f} rows/s\n", file, rows, 100.0 * static_cast<double>(done) / std::max<std::size_t>(total, 1),
                 secs > 0 ? static_cast<double>(rows) / secs : 0.0);
    };
    auto parsed = read_candle_csv(file, csv, now, progress);
    if (!parsed) {
      fmt::print(stderr, "error: {} (file not imported)\n", parsed.error().message);
      ++failed;
      continue;
    }
    const SeriesKey key{exchange, market, parsed->symbol, parsed->interval};
    auto imported = import_candles(*archive, key, parsed->candles);
    if (!imported) {
      fmt::print(stderr, "error: {}: {} (file not imported)\n", file, imported.error().message);
      ++failed;
      continue;
    }
    fmt::print("{}: {} ({} layout; symbol from {}, interval from {}): {} rows, {} new, {} already stored", file,
               describe(key), to_string(parsed->layout), parsed->symbol_from, parsed->interval_from, parsed->rows,
               imported->written, imported->already_stored);
    if (parsed->rounded_values > 0) fmt::print(", {} volumes rounded to 8 places", parsed->rounded_values);
    fmt::print("\n");
    if (parsed->open_last) {
      fmt::print("  last row {} not imported: still open ({})\n", iso(parsed->open_last->open_time), parsed->open_last_reason);
    }
  }
  if (failed > 0) {
    fmt::print(stderr, "{} of {} files failed; the others were imported\n", failed, args.files.size());
    throw CommandFailed{1};
  }
}

// ---- ls ---------------------------------------------------------------------------------------

void run_ls(const AppOptions& options, const SeriesArgs& filter, bool json) {
  auto archive = open_archive(options, false);
  auto all = value_or_fail(archive->list());
  std::vector<SeriesFiles> chosen;
  for (auto& s : all) {
    if (filter.matches(s.key)) chosen.push_back(std::move(s));
  }
  auto rows = value_or_fail(archive->read(chosen, 0));
  JsonWriter w;
  if (json) w.begin_object().key("series").begin_array();
  else fmt::print("{:<9} {:<7} {:<14} {:<4} {:>9}  {:<24} {:<24} {:>5} {:>10}\n", "exchange", "market", "symbol", "int", "candles", "first", "last", "files", "bytes");
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const auto& s = chosen[i];
    const auto& c = rows.series[i].candles;
    const std::string first = c.empty() ? "" : iso(from_epoch_ms(c.front().open_time_ms));
    const std::string last = c.empty() ? "" : iso(from_epoch_ms(c.back().open_time_ms));
    if (json) {
      w.begin_object()
          .field("exchange", fmt::format("{}", s.key.exchange))
          .field("market", fmt::format("{}", s.key.market))
          .field("symbol", s.key.symbol.str())
          .field("interval", fmt::format("{}", s.key.interval))
          .field("candles", static_cast<std::uint64_t>(c.size()))
          .field("first", first)
          .field("last", last)
          .field("files", static_cast<std::uint64_t>(s.parts.size()))
          .field("bytes", static_cast<std::uint64_t>(s.bytes))
          .end_object();
    } else {
      fmt::print("{:<9} {:<7} {:<14} {:<4} {:>9}  {:<24} {:<24} {:>5} {:>10}\n", s.key.exchange, s.key.market, s.key.symbol,
                 s.key.interval, c.size(), first, last, s.parts.size(), s.bytes);
    }
  }
  if (json) {
    w.end_array().key("unreadable").begin_array();
    for (const auto& e : rows.errors) w.begin_object().field("file", e.path.string()).field("error", e.message).end_object();
    w.end_array().end_object();
    fmt::print("{}\n", w.str());
  } else {
    for (const auto& e : rows.errors) fmt::print(stderr, "unreadable: {}: {}\n", e.path.string(), e.message);
  }
}

// ---- check ------------------------------------------------------------------------------------

void run_check(const AppOptions& options, const SeriesArgs& filter, bool json) {
  auto archive = open_archive(options, false);
  auto all = value_or_fail(archive->list());
  std::vector<SeriesFiles> chosen;
  for (auto& s : all) {
    if (filter.matches(s.key)) chosen.push_back(std::move(s));
  }
  auto rows = value_or_fail(archive->read(chosen, 0, /*dedupe=*/false));
  bool problems = !rows.errors.empty();
  JsonWriter w;
  if (json) w.begin_object().key("series").begin_array();
  for (const auto& s : rows.series) {
    const IntegrityReport r = check_series(s.key, to_candles(s.candles));
    problems = problems || !r.clean();
    if (json) {
      w.begin_object()
          .field("exchange", fmt::format("{}", s.key.exchange))
          .field("market", fmt::format("{}", s.key.market))
          .field("symbol", s.key.symbol.str())
          .field("interval", fmt::format("{}", s.key.interval))
          .field("candles", static_cast<std::uint64_t>(r.candles))
          .field("first", r.first ? iso(*r.first) : "")
          .field("last", r.last ? iso(*r.last) : "")
          .field("missing", r.missing)
          .key("gaps")
          .begin_array();
      for (const auto& g : r.gaps) w.begin_object().field("from", iso(g.from)).field("missing", g.missing).end_object();
      w.end_array().key("duplicates").begin_array();
      for (const auto& d : r.duplicates) {
        w.begin_object().field("open_time", iso(d.open_time)).field("copies", static_cast<std::uint64_t>(d.copies)).field("identical", d.identical).end_object();
      }
      w.end_array().key("violations").begin_array();
      for (const auto& v : r.violations) w.begin_object().field("open_time", iso(v.open_time)).field("what", v.what).end_object();
      w.end_array().key("misaligned").begin_array();
      for (const auto& t : r.misaligned) w.value(iso(t));
      w.end_array().key("out_of_order").begin_array();
      for (const auto& t : r.out_of_order) w.value(iso(t));
      w.end_array().end_object();
    } else {
      fmt::print("{}: {} candles {} .. {}; {} gaps ({} missing), {} duplicates, {} OHLC violations, {} misaligned\n",
                 describe(s.key), r.candles, r.first ? iso(*r.first) : "-", r.last ? iso(*r.last) : "-", r.gaps.size(),
                 r.missing, r.duplicates.size(), r.violations.size(), r.misaligned.size());
      for (const auto& g : r.gaps) fmt::print("  gap from {}: {} missing\n", iso(g.from), g.missing);
      for (const auto& d : r.duplicates) fmt::print("  duplicate {} x{}{}\n", iso(d.open_time), d.copies, d.identical ? "" : " (values differ)");
      for (const auto& v : r.violations) fmt::print("  violation {}: {}\n", iso(v.open_time), v.what);
      for (const auto& t : r.misaligned) fmt::print("  misaligned {}\n", iso(t));
    }
  }
  if (json) {
    w.end_array().key("unreadable").begin_array();
    for (const auto& e : rows.errors) w.begin_object().field("file", e.path.string()).field("error", e.message).end_object();
    w.end_array().field("clean", !problems).end_object();
    fmt::print("{}\n", w.str());
  } else {
    for (const auto& e : rows.errors) fmt::print("unreadable {}: {}\n", e.path.string(), e.message);
  }
  // Gaps alone are the exchange's own history; duplicates, violations and unreadable files are not.
  if (problems) throw CommandFailed{1};
}

// ---- resample / export / sql / compact ------------------------------------------------------

void run_resample(const AppOptions& options, const SeriesArgs& series, const std::string& to, bool dry_run) {
  const SeriesKey from_key = series.key();
  const Interval to_interval = value_or_fail(parse_interval(to));
  auto archive = open_archive(options, !dry_run);
  const auto fine = read_series_or_fail(*archive, from_key);
  auto r = value_or_fail(resample(fine, from_key.interval, to_interval));
  std::vector<Candle> closed = r.candles;
  if (!closed.empty() && !closed.back().closed) closed.pop_back();
  SeriesKey to_key = from_key;
  to_key.interval = to_interval;
  fmt::print("{} -> {}: {} candles ({} buckets with missing {} candles){}\n", describe(from_key), describe(to_key), closed.size(),
             r.incomplete, from_key.interval, r.last_partial ? "; the partial last bucket is not written" : "");
  if (dry_run) return;
  auto imported = value_or_fail(import_candles(*archive, to_key, closed));
  fmt::print("{} new, {} already stored\n", imported.written, imported.already_stored);
}

void run_export(const AppOptions& options, const SeriesArgs& series, const std::string& out, const std::string& from, const std::string& to) {
  const SeriesKey key = series.key();
  auto archive = open_archive(options, false);
  const auto candles = read_series_or_fail(*archive, key);
  std::optional<TimestampMs> lo, hi;
  if (!from.empty()) lo = floor_ms(value_or_fail(parse_iso8601(from)));
  if (!to.empty()) hi = floor_ms(value_or_fail(parse_iso8601(to)));
  std::ofstream file;
  if (!out.empty()) {
    file.open(out, std::ios::trunc);
    if (!file) fail(1, fmt::format("{}: cannot open for writing", out));
  }
  std::string buf = "open_time,open,high,low,close,volume,turnover\n";
  std::size_t n = 0;
  for (const auto& c : candles) {
    if ((lo && c.open_time < *lo) || (hi && c.open_time >= *hi)) continue;
    buf += fmt::format("{},{},{},{},{},{},{}\n", iso(c.open_time), c.open.to_string(), c.high.to_string(), c.low.to_string(),
                       c.close.to_string(), c.volume.to_string(), c.turnover.to_string());
    ++n;
    if (buf.size() > (1 << 16)) {
      if (out.empty()) std::fwrite(buf.data(), 1, buf.size(), stdout); else file << buf;
      buf.clear();
    }
  }
  if (out.empty()) std::fwrite(buf.data(), 1, buf.size(), stdout); else file << buf;
  if (!out.empty()) fmt::print(stderr, "{}: {} candles written to {}\n", describe(key), n, out);
}

void print_result(DuckResult& r, bool csv) {
  const std::size_t cols = r.column_count();
  const char sep = csv ? ',' : '\t';
  std::string line;
  for (std::size_t c = 0; c < cols; ++c) {
    if (c > 0) line.push_back(sep);
    line += r.column_name(c);
  }
  fmt::print("{}\n", line);
  while (true) {
    DuckChunk chunk = fetch_chunk(r);
    if (!chunk || chunk.size() == 0) break;
    for (std::size_t row = 0; row < chunk.size(); ++row) {
      line.clear();
      for (std::size_t c = 0; c < cols; ++c) {
        if (c > 0) line.push_back(sep);
        std::uint64_t* valid = chunk.validity(c);
        if (valid != nullptr && !duckdb_validity_row_is_valid(valid, row)) {
          line += csv ? "" : "NULL";
          continue;
        }
        auto* s = chunk.data<duckdb_string_t>(c) + row;
        std::string_view v(duckdb_string_t_data(s), duckdb_string_t_length(*s));
        if (csv && v.find_first_of(",\"\n") != std::string_view::npos) {
          line.push_back('"');
          for (char ch : v) {
            if (ch == '"') line.push_back('"');
            line.push_back(ch);
          }
          line.push_back('"');
        } else {
          line += v;
        }
      }
      fmt::print("{}\n", line);
    }
  }
}

void run_sql(const AppOptions& options, const std::string& query, bool csv) {
  auto archive = open_archive(options, false);
  // Every column as DuckDB's own text (exact decimals, UTC timestamps).
  std::string q = query;
  while (!q.empty() && (q.back() == ';' || q.back() == ' ' || q.back() == '\n')) q.pop_back();
  auto wrapped = archive->sql(fmt::format("SELECT COLUMNS(*)::VARCHAR FROM ({})", q));
  if (wrapped) {
    print_result(*wrapped, csv);
    return;
  }
  auto plain = archive->sql(q);  // not a SELECT (e.g. DESCRIBE candles): run as written
  if (!plain) fail(1, fmt::format("sql: {}", wrapped.error().message));
  const std::size_t cols = plain->column_count();
  const auto rows = duckdb_row_count(plain->get());
  for (std::size_t c = 0; c < cols; ++c) fmt::print("{}{}", c ? (csv ? "," : "\t") : "", plain->column_name(c));
  fmt::print("\n");
  for (idx_t row = 0; row < rows; ++row) {
    for (std::size_t c = 0; c < cols; ++c) {
      char* v = duckdb_value_varchar(plain->get(), c, row);
      fmt::print("{}{}", c ? (csv ? "," : "\t") : "", v != nullptr ? v : "NULL");
      duckdb_free(v);
    }
    fmt::print("\n");
  }
}

void run_compact(const AppOptions& options) {
  auto archive = open_archive(options, true);
  auto r = value_or_fail(archive->compact(2));
  fmt::print("compacted {} periods: {} files merged into {}, {} duplicate rows dropped\n", r.periods, r.files_removed,
             r.files_written, r.duplicates_dropped);
  for (const auto& e : r.errors) fmt::print(stderr, "skipped {}: {}\n", e.path.string(), e.message);
  if (!r.errors.empty()) throw CommandFailed{1};
}

}  // namespace

void add_data_command(CLI::App& root, AppOptions& options) {
  auto* data = root.add_subcommand("data", "The candle store: import, list, check, resample, export and query candles");
  data->require_subcommand(1);

  auto import_args = std::make_shared<ImportArgs>();
  auto* imp = data->add_subcommand("import-csv",
      "Import candle CSV files (Binance kline dumps, date/timestamp/open_time layouts, ',Open,High,Low,Close,Volume').\n"
      "Symbol and interval come from the flags, else the file name (BTCUSDT_1h.csv), else a column or the row spacing.\n"
      "A bad row rejects its whole file (error names file:line); other files are still imported.");
  imp->add_option("files", import_args->files, "CSV files")->required()->check(CLI::ExistingFile);
  import_args->series.add(imp, false);
  imp->get_option("--exchange")->required();
  imp->add_flag("--drop-open-last", import_args->drop_open_last, "Treat each file's last row as still open: do not import it");
  imp->add_option("--as-of", import_args->as_of, "When the files were written (ISO time; default now): a last row not ended by then is open");
  imp->callback([&options, import_args] { run_import(options, *import_args); });

  auto ls_args = std::make_shared<SeriesArgs>();
  auto ls_json = std::make_shared<bool>(false);
  auto* ls = data->add_subcommand("ls", "List stored series: range, candle count, files and bytes");
  ls_args->add(ls, false);
  ls->add_flag("--json", *ls_json, "Machine-readable output");
  ls->callback([&options, ls_args, ls_json] { run_ls(options, *ls_args, *ls_json); });

  auto check_args = std::make_shared<SeriesArgs>();
  auto check_json = std::make_shared<bool>(false);
  auto* check = data->add_subcommand("check",
      "List gaps (missing intervals), duplicates and OHLC violations per series.\n"
      "Exit 1 when duplicates, violations, misaligned rows or unreadable files are found (gaps alone: 0)");
  check_args->add(check, false);
  check->add_flag("--json", *check_json, "Machine-readable output");
  check->callback([&options, check_args, check_json] { run_check(options, *check_args, *check_json); });

  auto rs_args = std::make_shared<SeriesArgs>();
  auto rs_to = std::make_shared<std::string>();
  auto rs_dry = std::make_shared<bool>(false);
  auto* rs = data->add_subcommand("resample", "Build a coarser series from a finer one (the partial last bucket is not stored)");
  rs_args->add(rs, true);
  rs->add_option("--to", *rs_to, "Target interval, e.g. 15m")->required();
  rs->add_flag("--dry-run", *rs_dry, "Report without writing");
  rs->callback([&options, rs_args, rs_to, rs_dry] { run_resample(options, *rs_args, *rs_to, *rs_dry); });

  auto ex_args = std::make_shared<SeriesArgs>();
  auto ex_out = std::make_shared<std::string>();
  auto ex_from = std::make_shared<std::string>();
  auto ex_to = std::make_shared<std::string>();
  auto ex_csv = std::make_shared<bool>(true);
  auto* ex = data->add_subcommand("export", "Write one series as CSV (exact decimals, ISO UTC open times)");
  ex_args->add(ex, true);
  ex->add_flag("--csv", *ex_csv, "CSV output (the only format)");
  ex->add_option("--out", *ex_out, "File to write (default: stdout)");
  ex->add_option("--from", *ex_from, "First open time (ISO, inclusive)");
  ex->add_option("--to", *ex_to, "Last open time (ISO, exclusive)");
  // ex_csv is captured so the flag's storage outlives parsing (CLI11 writes it after this function returns).
  ex->callback([&options, ex_args, ex_out, ex_from, ex_to, ex_csv] {
    (void)ex_csv;
    run_export(options, *ex_args, *ex_out, *ex_from, *ex_to);
  });

  auto sql_query = std::make_shared<std::string>();
  auto sql_csv = std::make_shared<bool>(false);
  auto* sql = data->add_subcommand("sql",
      "Run a DuckDB query over the store; the view `candles` has exchange, market, symbol, \"interval\",\n"
      "open_time, open, high, low, close, volume, turnover. Example:\n"
      "  twinstar data sql \"SELECT symbol, count(*) FROM candles GROUP BY ALL\"");
  sql->add_option("query", *sql_query, "SQL text")->required();
  sql->add_flag("--csv", *sql_csv, "CSV instead of tab-separated output");
  sql->callback([&options, sql_query, sql_csv] { run_sql(options, *sql_query, *sql_csv); });

  auto* compact = data->add_subcommand("compact", "Merge each period's small part files into one (safe at any instant)");
  compact->callback([&options] { run_compact(options); });
}

}  // namespace twinstar
