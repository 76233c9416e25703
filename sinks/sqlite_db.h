// A thin RAII layer over the SQLite C API for the SQLite sink: one connection and its prepared
// statements. Every failure comes back as a sandtrace::Error that names the database file and
// what was being done, e.g. "sqlite /tmp/t.db: INSERT INTO syscalls: database is locked".
// Statement::Bind takes MessagePack values straight from an event map, so the sink can copy
// fields into columns without converting them first.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <msgpack.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace sandtrace::sinks {

class Database;

class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  // Binds parameter `index` (1-based). Text is not copied: it must stay valid until Run/Step.
  void BindNull(int index);
  void BindInt(int index, int64_t value);
  void BindText(int index, std::string_view text);
  // NULL for nullptr and nil, INTEGER for integers (uint64 above INT64_MAX as its two's
  // complement) and booleans (0/1), REAL for floats, TEXT for strings and bytes, and JSON
  // text for arrays and maps (kept alive in this statement until the next Run/Step).
  void Bind(int index, const msgpack::object* value);

  // Executes a statement that returns no rows, then resets it for the next use.
  Status Run();
  // Steps a query: true while there is a row. Reset() before re-using it.
  Result<bool> Step();
  void Reset();
  int ColumnCount() const { return sqlite3_column_count(stmt_); }
  int64_t ColumnInt(int column) const;
  // The column as text; "" for NULL.
  std::string ColumnText(int column) const;
  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL of the current row.
  int ColumnType(int column) const { return sqlite3_column_type(stmt_, column); }
  std::string ColumnName(int column) const;
  // False for a statement that was only whitespace or comments (nothing to step).
  bool empty() const { return stmt_ == nullptr; }

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, const Database* db) : stmt_(stmt), db_(db) {}
  Error StepError() const;

  sqlite3_stmt* stmt_ = nullptr;
  const Database* db_ = nullptr;
  int bind_error_ = SQLITE_OK;
  static constexpr int kJsonColumns = 4;  // most JSON-valued parameters in one statement
  std::string json_scratch_[kJsonColumns];
  int json_used_ = 0;
};

class Database {
 public:
  // Opens (creating if missing) `path` for reading and writing, for use by one thread. Fails when
  // the file cannot be opened or only read-only access is possible.
  static Result<std::unique_ptr<Database>> Open(const std::string& path);
  // Opens an existing database read-only (SQLITE_OPEN_READONLY): every statement that would
  // write fails. A missing file is an ENOENT error, never created.
  static Result<std::unique_ptr<Database>> OpenReadOnly(const std::string& path);
  ~Database();

  // Runs one or more statements that return no rows.
  Status Exec(const std::string& sql, std::string_view what);
  Result<Statement> Prepare(std::string_view sql);
  // Prepares the first statement of `*sql` and advances `*sql` past it, for running a script
  // one statement at a time. The result is empty() when only whitespace or comments were left.
  Result<Statement> PrepareNext(std::string_view* sql);
  // A single integer from a query such as "PRAGMA user_version".
  Result<int64_t> QueryInt(const std::string& sql);
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  // The extended result code of the last failure (e.g. SQLITE_NOTADB).
  int last_error_code() const { return sqlite3_errcode(db_); }
  const std::string& path() const { return path_; }

  // Error{0, "sqlite PATH: WHAT: <sqlite message>"}.
  Error MakeError(std::string_view what) const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
};

}  // namespace sandtrace::sinks
