// The SQLite schema of sandtrace (SPEC section 4). One database file holds many runs; every
// table carries run_id. PRAGMA user_version holds kSchemaVersion; a database stamped with a
// newer version is refused rather than written in a format this build does not know.
//
// Tables
//   runs       one row per run: inserted at the `sandbox` event (outcome "running"),
//              completed at the `summary` event. command and layers are JSON text, summary is
//              the whole summary event as JSON, incomplete = 1 for a fallback summary.
//   processes  one row per traced thread/process (pid = thread id): spawn, exec (the last
//              one), exit. A reused pid gets a new row, so the row's rowid is the process key
//              that survives pid reuse; spawn_seq = the run's syscall rows before it appeared.
//   execs      one row per successful exec: process = the processes rowid, seq = the run's
//              syscall rows before it, comm, path, argv (JSON) of the new program.
//   syscalls   one row per syscall event, seq = 1, 2, ... in stream order within the run.
//              arg0..arg5 are INTEGER: raw values >= 2^63 are stored as their two's-complement
//              int64 (e.g. 0xffffffffffffffff reads back as -1; `arg0 & 0xffffffff` works).
//              path is args.decoded.path, decoded the JSON text of args.decoded (or NULL).
//   alerts     reporting rules that fired; event is the triggering event as JSON.
//   gaps       records lost between two pipeline stages (empty in a healthy run).
//   streams    `sandtrace collect` only: per published run, the next message it expects
//              (next_seq, next_index) and whether the run's stream ended (finished); written
//              in the same transaction as the rows, so after a restart the collector knows
//              exactly what it has and what publishers must resend.
//   collector_files  `sandtrace collect` only: the size of each JSONL output at the last
//              commit; a restarted collector cuts the file back to it (the rest is resent).
// Indexes: syscalls(run_id, syscall) (also serves run_id alone), syscalls(run_id, pid),
//   syscalls(path), syscalls(run_id, seq) WHERE category = 'network', processes(run_id, pid),
//   execs(run_id, process), execs(path), runs(start), alerts(run_id), alerts(rule), gaps(run_id).
// Views: files (one row per run and path: first access, read/written/metadata flags, counts),
//   connections (connect/bind/sendto/sendmsg with an address), files_written (also opens with
//   a write flag), files_read, network_connections, process_tree, syscall_counts,
//   denied_syscalls.
// Versions: 2 had no streams and collector_files (created when missing). 1 had no execs, runs.alert_count, processes.spawn_seq, files, connections, and
//   files_written only had the file_write category. A version-1 database is upgraded in place
//   (columns added, views created afresh) by the first run that writes to it.
#pragma once

#include "common/result.h"
#include "sinks/sqlite_db.h"

namespace sandtrace::sinks {

inline constexpr int kSchemaVersion = 3;

// Creates what is missing of the schema in one write transaction and stamps user_version.
// Fails on a newer schema version or when the database cannot be written.
Status EnsureSchema(Database* db);

}  // namespace sandtrace::sinks
