#pragma once
// Move-only RAII owners for DuckDB C API handles, and checked helpers around duckdb_query.
// Every duckdb_state is checked; every result, appender and chunk is destroyed on all paths.

#include <duckdb.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"

namespace twinstar::store {

class DuckDatabase;
class DuckConnection;

// One query result. Thread: the owning thread only.
class DuckResult {
 public:
  DuckResult() = default;
  DuckResult(const DuckResult&) = delete;
  DuckResult& operator=(const DuckResult&) = delete;
  DuckResult(DuckResult&& o) noexcept : result_(o.result_), valid_(std::exchange(o.valid_, false)) {}
  DuckResult& operator=(DuckResult&& o) noexcept {
    if (this != &o) {
      reset();
      result_ = o.result_;
      valid_ = std::exchange(o.valid_, false);
    }
    return *this;
  }
  ~DuckResult() { reset(); }

  duckdb_result* get() noexcept { return &result_; }
  std::size_t column_count() { return duckdb_column_count(&result_); }
  std::string_view column_name(std::size_t i) { return duckdb_column_name(&result_, i); }
  duckdb_type column_type(std::size_t i) { return duckdb_column_type(&result_, i); }
  // A streaming result reports failures while chunks are fetched: after fetch_chunk returns
  // an empty chunk, this is the error that ended it (empty when the result was complete).
  std::string_view error() {
    const char* e = duckdb_result_error(&result_);
    std::string_view v = e != nullptr ? std::string_view(e) : std::string_view();
    if (auto p = v.find("\n\nLINE "); p != std::string_view::npos) v = v.substr(0, p);
    return v;
  }
  // Rows changed by INSERT/UPDATE/DELETE/COPY.
  std::int64_t rows_changed() { return static_cast<std::int64_t>(duckdb_rows_changed(&result_)); }

 private:
  friend class DuckConnection;
  void reset() noexcept {
    if (valid_) duckdb_destroy_result(&result_);
    valid_ = false;
  }
  duckdb_result result_{};
  bool valid_ = false;
};

// A fetched chunk of a result (owned).
class DuckChunk {
 public:
  DuckChunk() = default;
  explicit DuckChunk(duckdb_data_chunk c) noexcept : chunk_(c) {}
  DuckChunk(const DuckChunk&) = delete;
  DuckChunk& operator=(const DuckChunk&) = delete;
  DuckChunk(DuckChunk&& o) noexcept : chunk_(std::exchange(o.chunk_, nullptr)) {}
  DuckChunk& operator=(DuckChunk&& o) noexcept {
    if (this != &o) {
      reset();
      chunk_ = std::exchange(o.chunk_, nullptr);
    }
    return *this;
  }
  ~DuckChunk() { reset(); }

  explicit operator bool() const noexcept { return chunk_ != nullptr; }
  duckdb_data_chunk get() const noexcept { return chunk_; }
  std::size_t size() const noexcept { return duckdb_data_chunk_get_size(chunk_); }
  duckdb_vector column(std::size_t i) const noexcept { return duckdb_data_chunk_get_vector(chunk_, i); }
  template <class T>
  T* data(std::size_t col) const noexcept {
    return static_cast<T*>(duckdb_vector_get_data(column(col)));
  }
  // nullptr when every row is valid.
  std::uint64_t* validity(std::size_t col) const noexcept { return duckdb_vector_get_validity(column(col)); }

 private:
  void reset() noexcept {
    if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
    chunk_ = nullptr;
  }
  duckdb_data_chunk chunk_ = nullptr;
};

// Next chunk of `r`, empty at the end.
inline DuckChunk fetch_chunk(DuckResult& r) { return DuckChunk(duckdb_fetch_chunk(*r.get())); }

class DuckLogicalType {
 public:
  explicit DuckLogicalType(duckdb_logical_type t) noexcept : type_(t) {}
  DuckLogicalType(const DuckLogicalType&) = delete;
  DuckLogicalType& operator=(const DuckLogicalType&) = delete;
  DuckLogicalType(DuckLogicalType&& o) noexcept : type_(std::exchange(o.type_, nullptr)) {}
  DuckLogicalType& operator=(DuckLogicalType&&) = delete;
  ~DuckLogicalType() {
    if (type_ != nullptr) duckdb_destroy_logical_type(&type_);
  }
  duckdb_logical_type get() const noexcept { return type_; }

 private:
  duckdb_logical_type type_ = nullptr;
};

// An appender on one table; flushed by close(), destroyed always.
class DuckAppender {
 public:
  DuckAppender() = default;
  DuckAppender(const DuckAppender&) = delete;
  DuckAppender& operator=(const DuckAppender&) = delete;
  DuckAppender(DuckAppender&& o) noexcept : appender_(std::exchange(o.appender_, nullptr)) {}
  DuckAppender& operator=(DuckAppender&& o) noexcept {
    if (this != &o) {
      reset();
      appender_ = std::exchange(o.appender_, nullptr);
    }
    return *this;
  }
  ~DuckAppender() { reset(); }

  // Errors: io_error with DuckDB's message (e.g. a type mismatch).
  Status append(duckdb_data_chunk chunk);
  // Flushes rows into the table. Errors: io_error.
  Status close();

 private:
  friend class DuckConnection;
  void reset() noexcept {
    if (appender_ != nullptr) duckdb_appender_destroy(&appender_);
    appender_ = nullptr;
  }
  std::string error_message() const;
  duckdb_appender appender_ = nullptr;
};

// One connection. Thread: one thread at a time (callers serialize).
class DuckConnection {
 public:
  DuckConnection() = default;
  DuckConnection(const DuckConnection&) = delete;
  DuckConnection& operator=(const DuckConnection&) = delete;
  DuckConnection(DuckConnection&& o) noexcept : connection_(std::exchange(o.connection_, nullptr)) {}
  DuckConnection& operator=(DuckConnection&& o) noexcept {
    if (this != &o) {
      reset();
      connection_ = std::exchange(o.connection_, nullptr);
    }
    return *this;
  }
  ~DuckConnection() { reset(); }

  // Runs `sql`, keeping the result. Errors: io_error carrying DuckDB's message.
  Result<DuckResult> query(const std::string& sql);
  // Runs `sql` as a streaming query: chunks are produced as they are fetched instead of the
  // whole result being materialised first (for large reads). Errors: io_error.
  Result<DuckResult> query_streaming(const std::string& sql);
  // Runs `sql`, discarding the result. Errors: io_error.
  Status execute(const std::string& sql);
  // Errors: io_error (no such table).
  Result<DuckAppender> appender(const char* table);
  duckdb_connection get() const noexcept { return connection_; }
  // Aborts a running query from another thread.
  void interrupt() noexcept { duckdb_interrupt(connection_); }

 private:
  friend class DuckDatabase;
  void reset() noexcept {
    if (connection_ != nullptr) duckdb_disconnect(&connection_);
    connection_ = nullptr;
  }
  duckdb_connection connection_ = nullptr;
};

// An in-process DuckDB database; in memory when path is empty.
class DuckDatabase {
 public:
  DuckDatabase() = default;
  DuckDatabase(const DuckDatabase&) = delete;
  DuckDatabase& operator=(const DuckDatabase&) = delete;
  DuckDatabase(DuckDatabase&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  DuckDatabase& operator=(DuckDatabase&& o) noexcept {
    if (this != &o) {
      reset();
      db_ = std::exchange(o.db_, nullptr);
    }
    return *this;
  }
  ~DuckDatabase() { reset(); }

  // `threads` 0 = DuckDB's default (one per core); `memory_limit` empty = DuckDB's default (80 %
  // of RAM), else e.g. "256MB". Errors: io_error (naming a setting DuckDB refused).
  static Result<DuckDatabase> open_in_memory(int threads = 0, const std::string& memory_limit = "");
  Result<DuckConnection> connect();

 private:
  void reset() noexcept {
    if (db_ != nullptr) duckdb_close(&db_);
    db_ = nullptr;
  }
  duckdb_database db_ = nullptr;
};

// 'text' as a SQL string literal (single quotes doubled).
std::string sql_quote(std::string_view text);

}  // namespace twinstar::store
