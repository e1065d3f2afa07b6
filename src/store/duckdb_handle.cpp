#include "store/duckdb_handle.hpp"

namespace twinstar::store {

namespace {

// DuckDB appends the offending SQL with a caret ("\n\nLINE 1: ..."); the first part is the message.
std::string clean(const char* msg) {
  if (msg == nullptr) return "unknown DuckDB error";
  std::string m(msg);
  if (auto p = m.find("\n\nLINE "); p != std::string::npos) m.resize(p);
  return m;
}

}  // namespace

std::string DuckAppender::error_message() const {
  duckdb_error_data err = duckdb_appender_error_data(appender_);
  std::string msg = err != nullptr && duckdb_error_data_message(err) != nullptr ? duckdb_error_data_message(err)
                                                                                : "unknown appender error";
  if (err != nullptr) duckdb_destroy_error_data(&err);
  return msg;
}

Status DuckAppender::append(duckdb_data_chunk chunk) {
  if (duckdb_append_data_chunk(appender_, chunk) == DuckDBError) {
    return make_error(ErrorCode::io_error, "duckdb append: {}", error_message());
  }
  return {};
}

Status DuckAppender::close() {
  if (duckdb_appender_close(appender_) == DuckDBError) {
    return make_error(ErrorCode::io_error, "duckdb appender close: {}", error_message());
  }
  return {};
}

Result<DuckResult> DuckConnection::query(const std::string& sql) {
  DuckResult r;
  const duckdb_state state = duckdb_query(connection_, sql.c_str(), &r.result_);
  r.valid_ = true;  // duckdb_destroy_result is required even after an error
  if (state == DuckDBError) {
    return make_error(ErrorCode::io_error, "{}", clean(duckdb_result_error(&r.result_)));
  }
  return r;
}

Result<DuckResult> DuckConnection::query_streaming(const std::string& sql) {
  duckdb_prepared_statement prepared = nullptr;
  struct PreparedGuard {
    duckdb_prepared_statement& p;
    ~PreparedGuard() { duckdb_destroy_prepare(&p); }  // the result outlives the statement
  } guard{prepared};
  if (duckdb_prepare(connection_, sql.c_str(), &prepared) == DuckDBError) {
    return make_error(ErrorCode::io_error, "{}", clean(prepared != nullptr ? duckdb_prepare_error(prepared) : nullptr));
  }
  DuckResult r;
  const duckdb_state state = duckdb_execute_prepared_streaming(prepared, &r.result_);
  r.valid_ = true;
  if (state == DuckDBError) {
    return make_error(ErrorCode::io_error, "{}", clean(duckdb_result_error(&r.result_)));
  }
  return r;
}

Status DuckConnection::execute(const std::string& sql) {
  auto r = query(sql);
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<DuckAppender> DuckConnection::appender(const char* table) {
  DuckAppender a;
  if (duckdb_appender_create(connection_, nullptr, table, &a.appender_) == DuckDBError) {
    std::string msg = a.appender_ != nullptr ? a.error_message() : "cannot create appender";
    return make_error(ErrorCode::io_error, "duckdb appender on {}: {}", table, msg);
  }
  return a;
}

Result<DuckDatabase> DuckDatabase::open_in_memory(int threads, const std::string& memory_limit) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) return make_error(ErrorCode::io_error, "duckdb: cannot create config");
  struct ConfigGuard {
    duckdb_config& c;
    ~ConfigGuard() { duckdb_destroy_config(&c); }
  } guard{config};
  auto set = [&](const char* name, const std::string& value) -> Status {
    if (duckdb_set_config(config, name, value.c_str()) == DuckDBError) {
      return make_error(ErrorCode::io_error, "duckdb: cannot set {}={}", name, value);
    }
    return {};
  };
  if (threads > 0) {
    if (auto s = set("threads", std::to_string(threads)); !s) return std::unexpected(s.error());
  }
  if (!memory_limit.empty()) {
    if (auto s = set("memory_limit", memory_limit); !s) return std::unexpected(s.error());
  }
  // The store reads each file once: DuckDB's cache of file contents would only hold memory.
  if (auto s = set("enable_external_file_cache", "false"); !s) return std::unexpected(s.error());
  DuckDatabase db;
  char* err = nullptr;
  if (duckdb_open_ext(nullptr, &db.db_, config, &err) == DuckDBError) {
    std::string msg = err != nullptr ? err : "unknown error";
    if (err != nullptr) duckdb_free(err);
    return make_error(ErrorCode::io_error, "duckdb open: {}", msg);
  }
  return db;
}

Result<DuckConnection> DuckDatabase::connect() {
  DuckConnection c;
  if (duckdb_connect(db_, &c.connection_) == DuckDBError) return make_error(ErrorCode::io_error, "duckdb: cannot connect");
  // TIMESTAMPTZ values print in UTC whatever the host's zone. The setting needs the ICU
  // extension; without it DuckDB already prints UTC, so a failure here is harmless.
  duckdb_result r;
  (void)duckdb_query(c.connection_, "SET TimeZone='UTC'", &r);
  duckdb_destroy_result(&r);
  return c;
}

std::string sql_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace twinstar::store
