#include "sinks/sqlite_sink.h"

#include <sys/random.h>

#include <string_view>

#include "sinks/event_fields.h"
#include "sinks/sqlite_schema.h"

namespace sandtrace::sinks {
namespace {

constexpr char kInsertRun[] =
    "INSERT INTO runs (run_id, host, command, executable, policy, start, trace_only, "
    "follow_forks, layers, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'running')";
constexpr char kFinishRun[] =
    "UPDATE runs SET end = ?2, duration_ms = ?3, exit_code = ?4, outcome = ?5, timed_out = ?6, "
    "interrupted = ?7, total_syscalls = ?8, unique_syscalls = ?9, denied_count = ?10, "
    "process_count = ?11, thread_count = ?12, gaps = ?13, incomplete = ?14, summary = ?15, "
    "alert_count = ?16 "
    "WHERE run_id = ?1";
constexpr char kInsertSyscall[] =
    "INSERT INTO syscalls (run_id, seq, timestamp, pid, tgid, syscall, syscall_nr, category, "
    "action, return_value, success, error, duration_us, returned, arg0, arg1, arg2, arg3, arg4, "
    "arg5, path, decoded) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
    "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)";
constexpr char kInsertProcess[] =
    "INSERT INTO processes (run_id, pid, tgid, ppid, thread, spawn_time, spawn_seq) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kInsertExec[] =
    "INSERT INTO execs (run_id, process, pid, seq, timestamp, comm, path, argv) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr char kSetExec[] =
    "UPDATE processes SET comm = ?2, path = ?3, argv = ?4, exec_time = ?5 WHERE rowid = ?1";
constexpr char kSetEnd[] =
    "UPDATE processes SET end_time = ?2, exit_code = ?3, signal = ?4, core_dumped = ?5 "
    "WHERE rowid = ?1";
constexpr char kInsertAlert[] =
    "INSERT INTO alerts (run_id, timestamp, rule, severity, message, pid, event) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kInsertGap[] =
    "INSERT INTO gaps (run_id, timestamp, stage, lost_records, lost_messages) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

// 32 hex digits, for a run whose `sandbox` event never arrived.
std::string RandomRunId() {
  unsigned char bytes[16] = {};
  // Without entropy the id is still unique enough within one database: the time is in it.
  if (getrandom(bytes, sizeof bytes, 0) != sizeof bytes) {
    const std::string now = NowTimestamp();
    for (size_t i = 0; i < now.size(); ++i) bytes[i % sizeof bytes] ^= now[i];
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 0xf]);
  }
  return id;
}

}  // namespace

Result<std::shared_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  Result<std::unique_ptr<Database>> db = Database::Open(path);
  if (!db) return db.error();
  std::shared_ptr<SqliteStore> store(new SqliteStore(std::move(*db)));
  Database* d = store->db();
  if (Status s = d->Exec("PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs), "busy_timeout");
      !s) {
    return s.error();
  }
  if (Status s = d->Exec("PRAGMA journal_mode = WAL", "enabling WAL"); !s) {
    if ((d->last_error_code() & 0xff) == SQLITE_NOTADB) {
      return PlainError(path + " exists but is not a SQLite database");
    }
    return s.error();
  }
  if (Status s = d->Exec("PRAGMA synchronous = NORMAL", "synchronous"); !s) return s.error();
  if (Status s = d->Exec("PRAGMA cache_size = -" + std::to_string(kCacheKiB), "cache_size"); !s) {
    return s.error();
  }
  if (Status s = EnsureSchema(d); !s) return s.error();
  if (Status s = store->Prepare(); !s) return s.error();
  return store;
}

Status SqliteStore::Prepare() {
  const std::pair<Statement*, const char*> all[] = {
      {&sql_.insert_run, kInsertRun},
      {&sql_.finish_run, kFinishRun},
      {&sql_.insert_syscall, kInsertSyscall},
      {&sql_.insert_process, kInsertProcess},
      {&sql_.set_exec, kSetExec},
      {&sql_.insert_exec, kInsertExec},
      {&sql_.set_end, kSetEnd},
      {&sql_.insert_alert, kInsertAlert},
      {&sql_.insert_gap, kInsertGap},
  };
  for (const auto& [statement, sql] : all) {
    Result<Statement> prepared = db_->Prepare(sql);
    if (!prepared) return prepared.error();
    *statement = std::move(*prepared);
  }
  return {};
}

Status SqliteStore::Begin() {
  if (in_transaction_) return {};
  if (Status s = db_->Exec("BEGIN IMMEDIATE", "BEGIN IMMEDIATE"); !s) return s;
  in_transaction_ = true;
  rows_ = 0;
  transaction_start_ = std::chrono::steady_clock::now();
  return {};
}

Status SqliteStore::Commit() {
  if (!in_transaction_) return {};
  in_transaction_ = false;
  rows_ = 0;
  return db_->Exec("COMMIT", "COMMIT");
}

Result<std::unique_ptr<SqliteSink>> SqliteSink::Open(const std::string& path) {
  Result<std::shared_ptr<SqliteStore>> store = SqliteStore::Open(path);
  if (!store) return store.error();
  return std::unique_ptr<SqliteSink>(new SqliteSink(std::move(*store), true));
}

std::unique_ptr<SqliteSink> SqliteSink::InStore(std::shared_ptr<SqliteStore> store,
                                                std::string run_id, std::string host) {
  std::unique_ptr<SqliteSink> sink(new SqliteSink(std::move(store), false));
  sink->fallback_run_id_ = std::move(run_id);
  sink->fallback_host_ = std::move(host);
  return sink;
}

Status SqliteSink::Resume(const std::string& run_id) {
  Database* db = store_->db();
  Result<Statement> last = db->Prepare("SELECT COALESCE(MAX(seq), 0) FROM syscalls WHERE run_id = ?1");
  if (!last) return last.error();
  last->BindText(1, run_id);
  Result<bool> row = last->Step();
  if (!row) return row.error();
  seq_ = *row ? last->ColumnInt(0) : 0;
  // The live processes: rows without an end, the latest row of a pid winning.
  Result<Statement> live = db->Prepare(
      "SELECT pid, rowid FROM processes WHERE run_id = ?1 AND end_time IS NULL ORDER BY rowid");
  if (!live) return live.error();
  live->BindText(1, run_id);
  process_rows_.clear();
  for (;;) {
    Result<bool> more = live->Step();
    if (!more) return more.error();
    if (!*more) break;
    process_rows_[live->ColumnInt(0)] = live->ColumnInt(1);
  }
  run_id_ = run_id;
  return {};
}

Status SqliteSink::Write(const msgpack::object& event) {
  if (commits_ && store_->in_transaction() && store_->rows() >= kCommitRows) {
    if (Status s = store_->Commit(); !s) return s;
  }
  if (Status s = store_->Begin(); !s) return s;
  store_->CountRow();
  const std::string_view type = EventType(event);
  if (type == "sandbox") {
    if (!run_id_.empty()) return {};  // a repeated sandbox event adds nothing
    return StartRun(&event);
  }
  if (run_id_.empty()) {
    if (Status s = StartRun(nullptr); !s) return s;
  }
  if (type == "syscall") return InsertSyscall(event);
  if (type == "process") return UpdateProcess(event);
  if (type == "alert") return InsertAlert(event);
  if (type == "gap") return InsertGap(event);
  if (type == "summary") return FinishRun(event);
  return {};  // an event type of a newer analyser: JSONL keeps it, the schema has no place
}

Status SqliteSink::Flush() {
  if (!commits_) return {};
  if (store_->rows() < kCommitRows && store_->age() < std::chrono::milliseconds(kCommitIntervalMs)) {
    return {};
  }
  return store_->Commit();
}

Status SqliteSink::Idle() { return commits_ ? store_->Commit() : Status{}; }

Status SqliteSink::Close() {
  Status committed = commits_ ? store_->Commit() : Status{};
  store_.reset();
  process_rows_.clear();
  return committed;
}

Status SqliteSink::StartRun(const msgpack::object* sandbox) {
  static const msgpack::object kNil;
  const msgpack::object& e = sandbox != nullptr ? *sandbox : kNil;
  run_id_ = std::string(TextField(e, "run_id"));
  if (run_id_.empty()) run_id_ = fallback_run_id_;
  if (run_id_.empty()) run_id_ = RandomRunId();
  Statement& s = store_->sql().insert_run;
  s.BindText(1, run_id_);
  if (sandbox == nullptr && !fallback_host_.empty()) {
    s.BindText(2, fallback_host_);
  } else {
    s.Bind(2, Field(e, "host"));
  }
  s.Bind(3, Field(e, "command"));
  s.Bind(4, Field(e, "executable"));
  s.Bind(5, Field(e, "policy"));
  s.Bind(6, Field(e, "timestamp"));
  s.Bind(7, Field(e, "trace_only"));
  s.Bind(8, Field(e, "follow_forks"));
  s.Bind(9, Field(e, "layers"));
  Status inserted = s.Run();
  if (!inserted && (store_->db()->last_error_code() & 0xff) == SQLITE_CONSTRAINT) {
    return PlainError("sqlite " + store_->db()->path() + ": run " + run_id_ + " is already recorded");
  }
  return inserted;
}

Status SqliteSink::InsertSyscall(const msgpack::object& e) {
  Statement& s = store_->sql().insert_syscall;
  s.BindText(1, run_id_);
  s.BindInt(2, ++seq_);
  s.Bind(3, Field(e, "timestamp"));
  s.Bind(4, Field(e, "pid"));
  s.Bind(5, Field(e, "tgid"));
  s.Bind(6, Field(e, "syscall"));
  s.Bind(7, Field(e, "syscall_nr"));
  s.Bind(8, Field(e, "category"));
  s.Bind(9, Field(e, "action"));
  s.Bind(10, Field(e, "return_value"));
  s.Bind(11, Field(e, "success"));
  s.Bind(12, Field(e, "error"));
  s.Bind(13, Field(e, "duration_us"));
  s.Bind(14, Field(e, "returned"));
  const msgpack::object* args = Field(e, "args");
  const msgpack::object* raw = args != nullptr ? Field(*args, "raw") : nullptr;
  const bool has_raw = raw != nullptr && raw->type == msgpack::type::ARRAY;
  for (uint32_t i = 0; i < 6; ++i) {
    s.Bind(15 + static_cast<int>(i),
           has_raw && i < raw->via.array.size ? &raw->via.array.ptr[i] : nullptr);
  }
  const msgpack::object* decoded = args != nullptr ? Field(*args, "decoded") : nullptr;
  s.Bind(21, decoded != nullptr ? Field(*decoded, "path") : nullptr);
  s.Bind(22, decoded);
  return s.Run();
}

Result<int64_t> SqliteSink::ProcessRow(const msgpack::object& e, int64_t pid) {
  if (auto it = process_rows_.find(pid); it != process_rows_.end()) return it->second;
  // First sight of this pid (the root process, or a spawn the sink never saw).
  Statement& s = store_->sql().insert_process;
  const bool spawn = TextField(e, "action") == "spawn";
  s.BindText(1, run_id_);
  s.BindInt(2, pid);
  s.BindInt(3, IntField(e, "tgid", pid));
  s.Bind(4, Field(e, "ppid"));
  s.BindInt(5, BoolField(e, "thread") ? 1 : 0);
  s.Bind(6, spawn ? Field(e, "timestamp") : nullptr);
  s.BindInt(7, seq_);
  if (Status inserted = s.Run(); !inserted) return inserted.error();
  const int64_t row = store_->db()->last_insert_rowid();
  process_rows_[pid] = row;
  return row;
}

Status SqliteSink::UpdateProcess(const msgpack::object& e) {
  const int64_t pid = IntField(e, "pid", -1);
  const std::string_view action = TextField(e, "action");
  if (action == "spawn") process_rows_.erase(pid);  // a reused pid starts a new row
  Result<int64_t> row = ProcessRow(e, pid);
  if (!row) return row.error();
  if (action == "exec") {
    const int64_t former = IntField(e, "former_pid", pid);
    if (former != pid) process_rows_.erase(former);  // that thread became `pid`
    Statement& s = store_->sql().set_exec;
    s.BindInt(1, *row);
    s.Bind(2, Field(e, "comm"));
    s.Bind(3, Field(e, "path"));
    s.Bind(4, Field(e, "argv"));
    s.Bind(5, Field(e, "timestamp"));
    if (Status updated = s.Run(); !updated) return updated;
    Statement& x = store_->sql().insert_exec;
    x.BindText(1, run_id_);
    x.BindInt(2, *row);
    x.BindInt(3, pid);
    x.BindInt(4, seq_);
    x.Bind(5, Field(e, "timestamp"));
    x.Bind(6, Field(e, "comm"));
    x.Bind(7, Field(e, "path"));
    x.Bind(8, Field(e, "argv"));
    return x.Run();
  }
  if (action == "exited" || action == "signaled") {
    Statement& s = store_->sql().set_end;
    s.BindInt(1, *row);
    s.Bind(2, Field(e, "timestamp"));
    s.Bind(3, Field(e, "exit_code"));
    s.Bind(4, Field(e, "signal"));
    s.Bind(5, Field(e, "core_dumped"));
    process_rows_.erase(pid);
    return s.Run();
  }
  return {};
}

Status SqliteSink::InsertAlert(const msgpack::object& e) {
  Statement& s = store_->sql().insert_alert;
  s.BindText(1, run_id_);
  s.Bind(2, Field(e, "timestamp"));
  s.Bind(3, Field(e, "rule"));
  s.Bind(4, Field(e, "severity"));
  s.Bind(5, Field(e, "message"));
  s.Bind(6, Field(e, "pid"));
  s.Bind(7, Field(e, "event"));
  return s.Run();
}

Status SqliteSink::InsertGap(const msgpack::object& e) {
  Statement& s = store_->sql().insert_gap;
  s.BindText(1, run_id_);
  s.Bind(2, Field(e, "timestamp"));
  s.Bind(3, Field(e, "stage"));
  s.Bind(4, Field(e, "lost_records"));
  s.Bind(5, Field(e, "lost_messages"));
  return s.Run();
}

Status SqliteSink::FinishRun(const msgpack::object& e) {
  Statement& s = store_->sql().finish_run;
  s.BindText(1, run_id_);
  s.Bind(2, Field(e, "timestamp"));
  s.Bind(3, Field(e, "duration_ms"));
  s.Bind(4, Field(e, "exit_code"));
  s.Bind(5, Field(e, "outcome"));
  s.Bind(6, Field(e, "timed_out"));
  s.Bind(7, Field(e, "interrupted"));
  s.Bind(8, Field(e, "total_syscalls"));
  s.Bind(9, Field(e, "unique_syscalls"));
  s.Bind(10, Field(e, "denied_count"));
  s.Bind(11, Field(e, "process_count"));
  s.Bind(12, Field(e, "thread_count"));
  s.Bind(13, Field(e, "gaps"));
  s.BindInt(14, BoolField(e, "incomplete") ? 1 : 0);
  s.Bind(15, &e);
  s.Bind(16, Field(e, "alert_count"));
  return s.Run();
}

}  // namespace sandtrace::sinks
