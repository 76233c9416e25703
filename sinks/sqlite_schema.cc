#include "sinks/sqlite_schema.h"

#include <string>

#include "sinks/sqlite_reports.h"

namespace sandtrace::sinks {
namespace {

constexpr char kTables[] = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  host TEXT,
  command TEXT,
  executable TEXT,
  policy TEXT,
  start TEXT,
  end TEXT,
  duration_ms INTEGER,
  exit_code INTEGER,
  outcome TEXT,
  timed_out INTEGER,
  interrupted INTEGER,
  trace_only INTEGER,
  follow_forks INTEGER,
  total_syscalls INTEGER,
  unique_syscalls INTEGER,
  denied_count INTEGER,
  process_count INTEGER,
  thread_count INTEGER,
  gaps INTEGER,
  alert_count INTEGER,
  incomplete INTEGER NOT NULL DEFAULT 0,
  layers TEXT,
  summary TEXT
);
CREATE TABLE IF NOT EXISTS processes (
  run_id TEXT NOT NULL,
  pid INTEGER NOT NULL,
  tgid INTEGER,
  ppid INTEGER,
  thread INTEGER,
  comm TEXT,
  path TEXT,
  argv TEXT,
  spawn_time TEXT,
  exec_time TEXT,
  end_time TEXT,
  exit_code INTEGER,
  signal TEXT,
  core_dumped INTEGER,
  spawn_seq INTEGER
);
CREATE TABLE IF NOT EXISTS execs (
  run_id TEXT NOT NULL,
  process INTEGER NOT NULL,
  pid INTEGER,
  seq INTEGER,
  timestamp TEXT,
  comm TEXT,
  path TEXT,
  argv TEXT
);
CREATE TABLE IF NOT EXISTS syscalls (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  timestamp TEXT,
  pid INTEGER,
  tgid INTEGER,
  syscall TEXT,
  syscall_nr INTEGER,
  category TEXT,
  action TEXT,
  return_value INTEGER,
  success INTEGER,
  error TEXT,
  duration_us INTEGER,
  returned INTEGER,
  arg0 INTEGER, arg1 INTEGER, arg2 INTEGER, arg3 INTEGER, arg4 INTEGER, arg5 INTEGER,
  path TEXT,
  decoded TEXT
);
CREATE TABLE IF NOT EXISTS alerts (
  run_id TEXT NOT NULL,
  timestamp TEXT,
  rule TEXT,
  severity TEXT,
  message TEXT,
  pid INTEGER,
  event TEXT
);
CREATE TABLE IF NOT EXISTS gaps (
  run_id TEXT NOT NULL,
  timestamp TEXT,
  stage TEXT,
  lost_records INTEGER,
  lost_messages INTEGER
);
CREATE INDEX IF NOT EXISTS syscalls_run_syscall ON syscalls(run_id, syscall);
CREATE TABLE IF NOT EXISTS streams (
  run_id TEXT PRIMARY KEY,
  host TEXT,
  next_seq INTEGER NOT NULL,
  next_index INTEGER NOT NULL,
  finished INTEGER NOT NULL DEFAULT 0,
  updated TEXT
);
CREATE TABLE IF NOT EXISTS collector_files (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS syscalls_run_pid ON syscalls(run_id, pid);
CREATE INDEX IF NOT EXISTS syscalls_path ON syscalls(path);
CREATE INDEX IF NOT EXISTS processes_run_pid ON processes(run_id, pid);
CREATE INDEX IF NOT EXISTS syscalls_run_network ON syscalls(run_id, seq)
  WHERE category = 'network';
CREATE INDEX IF NOT EXISTS execs_run_process ON execs(run_id, process);
CREATE INDEX IF NOT EXISTS execs_path ON execs(path);
CREATE INDEX IF NOT EXISTS runs_start ON runs(start);
CREATE INDEX IF NOT EXISTS alerts_run ON alerts(run_id);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule);
CREATE INDEX IF NOT EXISTS gaps_run ON gaps(run_id);
)sql";

// Columns added after version 1, for ALTER TABLE on an older database.
struct AddedColumn {
  const char* table;
  const char* column;
  const char* type;
};
constexpr AddedColumn kAddedColumns[] = {
    {"runs", "alert_count", "INTEGER"},
    {"processes", "spawn_seq", "INTEGER"},
};

// Every view, dropped and created again when the schema version changes (views hold no data).
constexpr const char* kViewNames[] = {"files_written", "files_read", "network_connections",
                                      "process_tree", "syscall_counts", "denied_syscalls",
                                      "files", "connections"};

constexpr char kViews[] = R"sql(
CREATE VIEW IF NOT EXISTS files_written AS
  SELECT run_id, path, pid, syscall, success, timestamp FROM syscalls
  WHERE path IS NOT NULL AND )sql" SANDTRACE_SQL_WRITES_FILE R"sql(;
CREATE VIEW IF NOT EXISTS files AS
  SELECT run_id, path, MIN(seq) AS first_seq, MIN(timestamp) AS first_access,
    COUNT(*) AS syscalls, SUM(success = 0) AS failed,
    MAX(writes) AS written, MAX(category = 'file_read' AND NOT writes) AS read,
    MAX(category IN ('file_metadata', 'directory') AND NOT writes) AS metadata,
    group_concat(DISTINCT syscall) AS syscall_names, group_concat(DISTINCT tgid) AS pids
  FROM (SELECT *, )sql" SANDTRACE_SQL_WRITES_FILE R"sql( AS writes FROM syscalls
        WHERE path IS NOT NULL)
  GROUP BY run_id, path;
CREATE VIEW IF NOT EXISTS connections AS
  SELECT s.run_id, s.seq, s.timestamp, s.tgid AS pid, s.pid AS tid,
)sql" SANDTRACE_SQL_PROCESS_OF("comm") R"sql( AS comm,
    s.syscall,
    json_extract(s.decoded, '$.addr.family') AS family,
    json_extract(s.decoded, '$.addr.address') AS address,
    json_extract(s.decoded, '$.addr.port') AS port,
    s.success, s.error
  FROM syscalls s WHERE )sql" SANDTRACE_SQL_NETWORK_ATTEMPT R"sql(;
CREATE VIEW IF NOT EXISTS files_read AS
  SELECT run_id, path, pid, syscall, success, timestamp FROM syscalls
  WHERE category = 'file_read' AND path IS NOT NULL;
CREATE VIEW IF NOT EXISTS network_connections AS
  SELECT s.run_id, s.pid,
)sql" SANDTRACE_SQL_PROCESS_OF("comm") R"sql( AS comm,
    s.syscall,
    json_extract(s.decoded, '$.addr.family') AS family,
    json_extract(s.decoded, '$.addr.address') AS address,
    json_extract(s.decoded, '$.addr.port') AS port,
    s.success, s.error, s.timestamp
  FROM syscalls s
  WHERE s.category = 'network' AND json_type(s.decoded, '$.addr') = 'object';
CREATE VIEW IF NOT EXISTS process_tree AS
  SELECT run_id, pid, ppid, comm, path, exit_code, signal, spawn_time, end_time
  FROM processes WHERE thread IS NOT 1;
CREATE VIEW IF NOT EXISTS syscall_counts AS
  SELECT run_id, syscall, COUNT(*) AS count, SUM(success = 0) AS errors,
    SUM(action <> 'allow') AS not_allowed
  FROM syscalls GROUP BY run_id, syscall;
CREATE VIEW IF NOT EXISTS denied_syscalls AS
  SELECT run_id, seq, timestamp, pid, syscall, action, path, decoded FROM syscalls
  WHERE action <> 'allow';
)sql";

// Brings a version-1 (or new, empty) database to kSchemaVersion: missing columns are added and
// the views are created afresh.
Status Upgrade(Database* db) {
  for (const AddedColumn& added : kAddedColumns) {
    Result<int64_t> present = db->QueryInt(std::string("SELECT COUNT(*) FROM pragma_table_info('") +
                                           added.table + "') WHERE name = '" + added.column + "'");
    if (!present) return present.error();
    if (*present > 0) continue;
    const std::string alter = std::string("ALTER TABLE ") + added.table + " ADD COLUMN " +
                              added.column + " " + added.type;
    if (Status s = db->Exec(alter, alter); !s) return s;
  }
  for (const char* view : kViewNames) {
    if (Status s = db->Exec(std::string("DROP VIEW IF EXISTS ") + view, "dropping a view"); !s) {
      return s;
    }
  }
  return {};
}

}  // namespace

Status EnsureSchema(Database* db) {
  if (Status s = db->Exec("BEGIN IMMEDIATE", "locking the database"); !s) return s;
  auto fail = [db](Error error) -> Status {
    (void)db->Exec("ROLLBACK", "rollback");  // the error being returned says what went wrong
    return error;
  };
  Result<int64_t> version = db->QueryInt("PRAGMA user_version");
  if (!version) return fail(version.error());
  if (*version > kSchemaVersion) {
    return fail(PlainError("sqlite " + db->path() + ": schema version " + std::to_string(*version) +
                           " is newer than this sandtrace's (" + std::to_string(kSchemaVersion) +
                           ")"));
  }
  if (Status s = db->Exec(kTables, "creating the tables"); !s) return fail(s.error());
  if (*version != kSchemaVersion) {
    if (Status s = Upgrade(db); !s) return fail(s.error());
  }
  if (Status s = db->Exec(kViews, "creating the views"); !s) return fail(s.error());
  const std::string stamp = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  if (Status s = db->Exec(stamp, "stamping the schema version"); !s) return fail(s.error());
  return db->Exec("COMMIT", "committing the schema");
}

}  // namespace sandtrace::sinks
