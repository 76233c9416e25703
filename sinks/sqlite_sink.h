// The SQLite output (SPEC section 4; schema in sqlite_schema.h). Each run appends to the
// database, never truncates it: the `sandbox` event inserts the run row, the `summary` event
// completes it, every syscall event becomes exactly one `syscalls` row. WAL mode, prepared
// statements, one write transaction per received batch (BEGIN IMMEDIATE, so concurrent runs
// wait for each other up to kBusyTimeoutMs instead of failing). Problems with the file (not a
// database, read-only, newer schema) are found by Open, before the run starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/result.h"
#include "sinks/sink.h"
#include "sinks/sqlite_db.h"

namespace sandtrace::sinks {

inline constexpr int kBusyTimeoutMs = 10000;
inline constexpr int kCommitIntervalMs = 250;
inline constexpr int64_t kCommitRows = 10000;
// Page cache of the connection (SQLite's default is 2 MiB); the indexes of a long run are hot.
inline constexpr int kCacheKiB = 32 * 1024;

class SqliteSink : public Sink {
 public:
  // Opens or creates the database at `path`, creates the schema and prepares the statements.
  static Result<std::unique_ptr<SqliteSink>> Open(const std::string& path);

  Status Write(const msgpack::object& event) override;
  Status Flush() override;
  Status Idle() override;
  Status Close() override;

 private:
  struct Statements {
    Statement insert_run;
    Statement finish_run;
    Statement insert_syscall;
    Statement insert_process;
    Statement set_exec;
    Statement insert_exec;
    Statement set_end;
    Statement insert_alert;
    Statement insert_gap;
  };

  explicit SqliteSink(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  Status Prepare();
  Status Begin();
  Status Commit();
  Status StartRun(const msgpack::object* sandbox);
  Status InsertSyscall(const msgpack::object& event);
  Status UpdateProcess(const msgpack::object& event);
  Result<int64_t> ProcessRow(const msgpack::object& event, int64_t pid);
  Status InsertAlert(const msgpack::object& event);
  Status InsertGap(const msgpack::object& event);
  Status FinishRun(const msgpack::object& summary);

  std::unique_ptr<Database> db_;
  Statements sql_;
  bool in_transaction_ = false;
  int64_t rows_in_transaction_ = 0;
  std::chrono::steady_clock::time_point transaction_start_;
  std::string run_id_;
  int64_t seq_ = 0;
  std::unordered_map<int64_t, int64_t> process_rows_;  // live pid -> rowid in processes
};

}  // namespace sandtrace::sinks
