// The named reports of `sandtrace query DB --report NAME` (docs/queries.md): each one is a single
// read-only SELECT over the schema of sqlite_schema.h, with ?1 = the run id (?2 = the second run
// of `diff`). They use the tables only, not the views, so they also read databases written by
// older versions of the schema. Reports are data: adding one is adding a row to kReports.
#pragma once

#include <string_view>

namespace sandtrace::sinks {

// A path-carrying syscall that modifies the file system: the file_write category (write,
// unlink, rename, truncate, ...), directory creation and removal, and an open with a write
// flag (open's category is file_read whatever its flags). Used by the `files` view as well.
#define SANDTRACE_SQL_WRITES_FILE                                                         \
  "(category = 'file_write' OR syscall IN ('mkdir', 'mkdirat', 'rmdir') OR "              \
  "(syscall IN ('open', 'openat', 'openat2') AND "                                        \
  "(json_extract(decoded, '$.flags') LIKE '%O_WRONLY%' OR "                               \
  "json_extract(decoded, '$.flags') LIKE '%O_RDWR%' OR "                                  \
  "json_extract(decoded, '$.flags') LIKE '%O_CREAT%' OR "                                 \
  "json_extract(decoded, '$.flags') LIKE '%O_TRUNC%')))"

// A column of the process that made syscall `s`: the latest processes row of its tgid that
// had appeared before the call (spawn_seq < s.seq), so a pid reused later in the run names
// the right program.
#define SANDTRACE_SQL_PROCESS_OF(column)                                                   \
  "(SELECT p." column " FROM processes p WHERE p.run_id = s.run_id AND p.pid = s.tgid "    \
  "AND coalesce(p.spawn_seq, 0) < s.seq ORDER BY p.rowid DESC LIMIT 1)"

// Syscalls whose address argument says where a process connected or sent to (or bound).
#define SANDTRACE_SQL_NETWORK_ATTEMPT                                                     \
  "(category = 'network' AND syscall IN ('connect', 'bind', 'sendto', 'sendmsg', "        \
  "'sendmmsg') AND json_type(decoded, '$.addr') = 'object')"

enum class ReportArgs {
  kNone,     // every run (runs)
  kOneRun,   // ?1 = --run, default the latest run
  kTwoRuns,  // ?1 = RUN_A, ?2 = RUN_B (diff)
};

struct Report {
  std::string_view name;
  ReportArgs args;
  std::string_view description;
  std::string_view sql;
};

inline constexpr Report kReports[] = {
    {"runs", ReportArgs::kNone,
     "every run: command, start, duration, exit code, outcome, syscalls, alerts",
     "SELECT r.run_id, (SELECT group_concat(value, ' ') FROM json_each(r.command)) AS command, "
     "r.start, r.duration_ms, r.exit_code, r.outcome, r.total_syscalls AS syscalls, "
     "(SELECT COUNT(*) FROM alerts a WHERE a.run_id = r.run_id) AS alerts "
     "FROM runs r ORDER BY r.start, r.rowid"},
    {"files-written", ReportArgs::kOneRun,
     "paths the run created, wrote, truncated, renamed or removed; failed attempts included",
     "SELECT path, COUNT(*) AS syscalls, SUM(success = 0) AS failed, "
     "group_concat(DISTINCT syscall) AS how, group_concat(DISTINCT tgid) AS processes "
     "FROM syscalls WHERE run_id = ?1 AND path IS NOT NULL AND " SANDTRACE_SQL_WRITES_FILE
     " GROUP BY path ORDER BY MIN(seq)"},
    {"network", ReportArgs::kOneRun,
     "which processes connected (sent, bound) where, and whether it worked",
     "SELECT s.tgid AS pid, "
     SANDTRACE_SQL_PROCESS_OF("comm") " AS comm, " SANDTRACE_SQL_PROCESS_OF("path") " AS exe, "
     "s.syscall, json_extract(s.decoded, '$.addr.family') AS family, "
     "json_extract(s.decoded, '$.addr.address') AS address, "
     "json_extract(s.decoded, '$.addr.port') AS port, "
     "CASE WHEN s.success THEN 'ok' ELSE coalesce(s.error, 'failed') END AS result, "
     "COUNT(*) AS count "
     "FROM syscalls s WHERE s.run_id = ?1 AND " SANDTRACE_SQL_NETWORK_ATTEMPT
     " GROUP BY pid, comm, exe, s.syscall, family, address, port, result ORDER BY MIN(s.seq)"},
    {"alerts", ReportArgs::kOneRun, "the alerts of the run, in order",
     "SELECT timestamp, severity, rule, pid, message FROM alerts WHERE run_id = ?1 "
     "ORDER BY rowid"},
    {"diff", ReportArgs::kTwoRuns,
     "RUN_A RUN_B: syscall counts that differ; files, network destinations and alerts of only "
     "one run (columns run_a and run_b are counts)",
     "WITH "
     "sc AS (SELECT run_id, syscall AS item, COUNT(*) AS n FROM syscalls "
     "WHERE run_id IN (?1, ?2) GROUP BY run_id, syscall), "
     "fi AS (SELECT run_id, path AS item, COUNT(*) AS n FROM syscalls "
     "WHERE run_id IN (?1, ?2) AND path IS NOT NULL GROUP BY run_id, path), "
     "ne AS (SELECT run_id, json_extract(decoded, '$.addr.family') || ' ' || "
     "coalesce(json_extract(decoded, '$.addr.address'), '') || "
     "coalesce(':' || json_extract(decoded, '$.addr.port'), '') AS item, COUNT(*) AS n "
     "FROM syscalls WHERE run_id IN (?1, ?2) AND " SANDTRACE_SQL_NETWORK_ATTEMPT
     " GROUP BY run_id, item), "
     "al AS (SELECT run_id, severity || ' ' || rule || ': ' || message AS item, COUNT(*) AS n "
     "FROM alerts WHERE run_id IN (?1, ?2) GROUP BY run_id, item), "
     "side AS (SELECT 1 AS k, 'syscall' AS kind, * FROM sc UNION ALL "
     "SELECT 2, 'file', * FROM fi UNION ALL SELECT 3, 'network', * FROM ne UNION ALL "
     "SELECT 4, 'alert', * FROM al), "
     "pairs AS (SELECT k, kind, item, SUM(CASE WHEN run_id = ?1 THEN n ELSE 0 END) AS run_a, "
     "SUM(CASE WHEN run_id = ?2 THEN n ELSE 0 END) AS run_b FROM side GROUP BY k, kind, item) "
     "SELECT kind, item, run_a, run_b FROM pairs "
     "WHERE (k = 1 AND run_a <> run_b) OR (k > 1 AND (run_a = 0 OR run_b = 0)) "
     "ORDER BY k, item"},
};

// The report named `name`, or nullptr.
inline const Report* FindReport(std::string_view name) {
  for (const Report& report : kReports) {
    if (report.name == name) return &report;
  }
  return nullptr;
}

}  // namespace sandtrace::sinks
