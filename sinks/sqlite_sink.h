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
// Bounded so that the sink stays under 64 MiB resident however long the run (32 MiB made it
// peak at about 70 MiB on a million syscalls; tests/integration/test_memory.py).
inline constexpr int kCacheKiB = 16 * 1024;

// One database connection with the sink's prepared statements and its write transaction. A
// local run's SqliteSink has its own; `sandtrace collect` shares one among all the runs it
// receives, so that one transaction covers every run's rows and commits are the collector's.
class SqliteStore {
 public:
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

  // Opens or creates the database at `path` (WAL), creates the schema, prepares the statements.
  static Result<std::shared_ptr<SqliteStore>> Open(const std::string& path);

  // Starts a write transaction unless one is open (BEGIN IMMEDIATE).
  Status Begin();
  Status Commit();
  bool in_transaction() const { return in_transaction_; }
  // Rows written and time elapsed in the open transaction.
  int64_t rows() const { return rows_; }
  std::chrono::steady_clock::duration age() const {
    return std::chrono::steady_clock::now() - transaction_start_;
  }
  void CountRow() { ++rows_; }

  Database* db() { return db_.get(); }
  Statements& sql() { return sql_; }

 private:
  explicit SqliteStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  Status Prepare();

  std::unique_ptr<Database> db_;
  Statements sql_;
  bool in_transaction_ = false;
  int64_t rows_ = 0;
  std::chrono::steady_clock::time_point transaction_start_;
};

class SqliteSink : public Sink {
 public:
  // A run with its own database connection, committing by itself: at most kCommitIntervalMs
  // or kCommitRows after a batch, at every pause and at the end.
  static Result<std::unique_ptr<SqliteSink>> Open(const std::string& path);
  // A run in a store shared with other runs: it writes into the store's open transaction and
  // never commits; the owner of the store does. `run_id` and `host` name the run when its
  // stream lacks the `sandbox` event (lost before the collector got it).
  static std::unique_ptr<SqliteSink> InStore(std::shared_ptr<SqliteStore> store,
                                             std::string run_id, std::string host);

  // Continues run `run_id`, already in the database (a collector that restarted): later
  // syscalls carry on its seq numbering and events of its live processes find their rows.
  Status Resume(const std::string& run_id);

  Status Write(const msgpack::object& event) override;
  Status Flush() override;
  Status Idle() override;
  Status Close() override;

 private:
  SqliteSink(std::shared_ptr<SqliteStore> store, bool commits)
      : store_(std::move(store)), commits_(commits) {}
  Status StartRun(const msgpack::object* sandbox);
  Status InsertSyscall(const msgpack::object& event);
  Status UpdateProcess(const msgpack::object& event);
  Result<int64_t> ProcessRow(const msgpack::object& event, int64_t pid);
  Status InsertAlert(const msgpack::object& event);
  Status InsertGap(const msgpack::object& event);
  Status FinishRun(const msgpack::object& summary);

  std::shared_ptr<SqliteStore> store_;
  bool commits_;
  std::string run_id_;
  std::string fallback_run_id_;  // when the sandbox event is missing
  std::string fallback_host_;
  int64_t seq_ = 0;
  std::unordered_map<int64_t, int64_t> process_rows_;  // live pid -> rowid in processes
};

}  // namespace sandtrace::sinks
