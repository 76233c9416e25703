// The SQLite sink on real database files in a temporary directory.
#include "sinks/sqlite_sink.h"

#include <gtest/gtest.h>

#include <thread>

#include "sinks/event_stream.h"
#include "sinks/sqlite_db.h"
#include "sinks/sqlite_schema.h"
#include "tests/sinks/test_events.h"

namespace sandtrace::sinks {
namespace {

using testing::Array;
using testing::BatchMessage;
using testing::EndMessage;
using testing::Value;

const std::string kRunA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kRunB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

class SqliteSinkTest : public ::testing::Test {
 protected:
  // Feeds `batches` through an EventStream into a freshly opened sink, as one sink process.
  void Record(const std::vector<std::vector<Value>>& batches, bool end = true) {
    Result<std::unique_ptr<SqliteSink>> sink = SqliteSink::Open(path_);
    ASSERT_TRUE(sink.ok()) << sink.error().message();
    EventStream stream(sink->get(), [](const std::string&) {});
    uint64_t seq = 0;
    uint64_t index = 0;
    for (const std::vector<Value>& batch : batches) {
      Status s = stream.Deliver(BatchMessage(batch, seq++, index));
      ASSERT_TRUE(s.ok()) << s.error().message();
      index += batch.size();
    }
    if (end) {
      ASSERT_TRUE(stream.Deliver(EndMessage(seq, index)).ok());
    }
    Status finished = stream.Finish("terminated before the end of the event stream");
    ASSERT_TRUE(finished.ok()) << finished.error().message();
  }

  // Rows of `sql` as "a|b|c" strings (NULL as empty).
  std::vector<std::string> Query(const std::string& sql) {
    std::vector<std::string> rows;
    Result<std::unique_ptr<Database>> db = Database::Open(path_);
    EXPECT_TRUE(db.ok());
    if (!db) return rows;
    Result<Statement> query = (*db)->Prepare(sql);
    EXPECT_TRUE(query.ok()) << query.error().message();
    if (!query) return rows;
    for (;;) {
      Result<bool> row = query->Step();
      EXPECT_TRUE(row.ok());
      if (!row || !*row) break;
      std::string line;
      for (int c = 0; c < query->ColumnCount(); ++c) {
        if (c > 0) line += "|";
        line += query->ColumnText(c);
      }
      rows.push_back(line);
    }
    return rows;
  }

  static std::vector<Value> RunA() {
    return {
        testing::SandboxEvent(kRunA),
        testing::ExecEvent(100, "/usr/bin/curl", Array{"curl", "https://example.com"}),
        testing::OpenatEvent(100, "/etc/passwd", "O_RDONLY|O_CLOEXEC", 3, "file_read"),
        testing::OpenatEvent(100, "/tmp/out", "O_WRONLY|O_CREAT|O_TRUNC", 4, "file_write"),
        testing::ConnectEvent(100, "10.0.0.1", 443, -111),
        testing::SpawnEvent(101, 100),
        testing::SyscallEvent(101, "kexec_load", "system", -1, "deny", {}, "EPERM"),
        testing::AlertEvent(100, "ssh_keys", "high"),
        testing::ExitedEvent(101, 3),
        testing::SignaledEvent(100, "SIGKILL"),
        testing::SummaryEvent(kRunA, 4, 137),
    };
  }

  testing::TempDir dir_;
  std::string path_ = dir_.File("trace.db");
};

TEST_F(SqliteSinkTest, TwoRunsAppendToOneDatabase) {
  Record({RunA()});
  Record({{testing::SandboxEvent(kRunB)},
          {testing::SyscallEvent(200, "read", "file_read", 5),
           testing::SyscallEvent(200, "write", "file_write", 5)},
          {testing::SummaryEvent(kRunB, 2)}});
  EXPECT_EQ(Query("SELECT run_id, outcome, total_syscalls, exit_code, incomplete FROM runs "
                  "ORDER BY run_id"),
            (std::vector<std::string>{kRunA + "|exited|4|137|0", kRunB + "|exited|2|0|0"}));
  EXPECT_EQ(Query("SELECT run_id, COUNT(*), MIN(seq), MAX(seq) FROM syscalls GROUP BY run_id "
                  "ORDER BY run_id"),
            (std::vector<std::string>{kRunA + "|4|1|4", kRunB + "|2|1|2"}));
  EXPECT_EQ(
      Query("SELECT host, command, executable, start, trace_only, json_array_length(layers),"
            " json_extract(summary, '$.event_type') FROM runs WHERE run_id = '" +
            kRunA + "'"),
      (std::vector<std::string>{
          R"(testhost|["/bin/true","--flag"]|/usr/bin/true|2026-11-28T22:40:39.000000Z|0|8|summary)"}));
  EXPECT_EQ(Query("PRAGMA user_version"),
            (std::vector<std::string>{std::to_string(kSchemaVersion)}));
  EXPECT_EQ(Query("PRAGMA journal_mode"), (std::vector<std::string>{"wal"}));
}

TEST_F(SqliteSinkTest, SyscallColumns) {
  Record({RunA()});
  EXPECT_EQ(Query("SELECT seq, pid, tgid, syscall, syscall_nr, category, action, return_value, "
                  "success, error, duration_us, returned, path FROM syscalls ORDER BY seq"),
            (std::vector<std::string>{
                "1|100|100|openat|257|file_read|allow|3|1||42|1|/etc/passwd",
                "2|100|100|openat|257|file_write|allow|4|1||42|1|/tmp/out",
                "3|100|100|connect|257|network|allow|-111|0|ECONNREFUSED|42|1|",
                "4|101|101|kexec_load|257|system|deny|-1|0|EPERM|42|1|",
            }));
  // Raw arguments >= 2^63 are stored as their two's-complement int64.
  EXPECT_EQ(Query("SELECT arg0, arg1, arg5 FROM syscalls WHERE seq = 1"),
            (std::vector<std::string>{"0|140234567|-1"}));
  EXPECT_EQ(Query("SELECT decoded FROM syscalls WHERE seq = 1"),
            (std::vector<std::string>{
                R"({"dirfd":"AT_FDCWD","path":"/etc/passwd","flags":"O_RDONLY|O_CLOEXEC"})"}));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM syscalls WHERE decoded IS NULL"),
            (std::vector<std::string>{"1"}));
}

TEST_F(SqliteSinkTest, ViewsAnswerTheUsualQuestions) {
  Record({RunA()});
  EXPECT_EQ(Query("SELECT run_id, path, pid, syscall FROM files_written"),
            (std::vector<std::string>{kRunA + "|/tmp/out|100|openat"}));
  EXPECT_EQ(Query("SELECT path FROM files_read"), (std::vector<std::string>{"/etc/passwd"}));
  EXPECT_EQ(Query("SELECT pid, comm, syscall, family, address, port, success "
                  "FROM network_connections"),
            (std::vector<std::string>{"100|curl|connect|AF_INET|10.0.0.1|443|0"}));
  EXPECT_EQ(Query("SELECT pid, ppid, comm, path, exit_code, signal FROM process_tree ORDER BY pid"),
            (std::vector<std::string>{"100||curl|/usr/bin/curl||SIGKILL", "101|100|||3|"}));
  EXPECT_EQ(Query("SELECT syscall, count, errors FROM syscall_counts ORDER BY syscall"),
            (std::vector<std::string>{"connect|1|1", "kexec_load|1|1", "openat|2|0"}));
  EXPECT_EQ(Query("SELECT syscall, action FROM denied_syscalls"),
            (std::vector<std::string>{"kexec_load|deny"}));
  EXPECT_EQ(Query("SELECT rule, severity, pid, json_extract(event, '$.syscall') FROM alerts"),
            (std::vector<std::string>{"ssh_keys|high|100|openat"}));
  EXPECT_EQ(Query("SELECT argv FROM processes WHERE pid = 100"),
            (std::vector<std::string>{R"(["curl","https://example.com"])"}));
}

TEST_F(SqliteSinkTest, FilesConnectionsAndExecHistory) {
  Record({RunA()});
  EXPECT_EQ(Query("SELECT path, first_seq, syscalls, written, read, metadata FROM files "
                  "ORDER BY path"),
            (std::vector<std::string>{"/etc/passwd|1|1|0|1|0", "/tmp/out|2|1|1|0|0"}));
  EXPECT_EQ(Query("SELECT pid, comm, syscall, family, address, port, success FROM connections"),
            (std::vector<std::string>{"100|curl|connect|AF_INET|10.0.0.1|443|0"}));
  EXPECT_EQ(Query("SELECT e.pid, e.seq, e.comm, e.path, e.argv, p.pid FROM execs e "
                  "JOIN processes p ON p.rowid = e.process"),
            (std::vector<std::string>{
                R"(100|0|curl|/usr/bin/curl|["curl","https://example.com"]|100)"}));
  EXPECT_EQ(Query("SELECT pid, spawn_seq FROM processes ORDER BY pid"),
            (std::vector<std::string>{"100|0", "101|3"}));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name = 'alert_count'"),
            (std::vector<std::string>{"1"}));
}

// A database of schema version 1 gets the new columns and views and keeps its rows.
// A pid used twice in one run (two processes, one after the other): each connection names the
// program that made it, not the last one to have had the pid.
TEST_F(SqliteSinkTest, ConnectionsNameTheProcessOfTheirTimeDespitePidReuse) {
  Record({{testing::SandboxEvent(kRunA), testing::ExecEvent(100, "/bin/sh", Array{"sh"}),
           testing::SpawnEvent(200, 100), testing::ExecEvent(200, "/usr/bin/curl", Array{"curl"}),
           testing::ConnectEvent(200, "10.0.0.1", 443, 0), testing::ExitedEvent(200, 0),
           testing::SpawnEvent(200, 100), testing::ExecEvent(200, "/usr/bin/wget", Array{"wget"}),
           testing::ConnectEvent(200, "10.0.0.2", 80, 0), testing::ExitedEvent(200, 0),
           testing::SummaryEvent(kRunA, 2)}});
  EXPECT_EQ(Query("SELECT address, comm FROM connections ORDER BY seq"),
            (std::vector<std::string>{"10.0.0.1|curl", "10.0.0.2|wget"}));
  EXPECT_EQ(Query("SELECT address, comm FROM network_connections ORDER BY timestamp, address"),
            (std::vector<std::string>{"10.0.0.1|curl", "10.0.0.2|wget"}));
}

TEST_F(SqliteSinkTest, AVersion1DatabaseIsUpgraded) {
  {
    Result<std::unique_ptr<Database>> db = Database::Open(path_);
    ASSERT_TRUE(db.ok());
    const char* v1 = R"sql(
      CREATE TABLE runs (run_id TEXT PRIMARY KEY, host TEXT, command TEXT, executable TEXT,
        policy TEXT, start TEXT, end TEXT, duration_ms INTEGER, exit_code INTEGER, outcome TEXT,
        timed_out INTEGER, interrupted INTEGER, trace_only INTEGER, follow_forks INTEGER,
        total_syscalls INTEGER, unique_syscalls INTEGER, denied_count INTEGER,
        process_count INTEGER, thread_count INTEGER, gaps INTEGER,
        incomplete INTEGER NOT NULL DEFAULT 0, layers TEXT, summary TEXT);
      CREATE TABLE processes (run_id TEXT NOT NULL, pid INTEGER NOT NULL, tgid INTEGER,
        ppid INTEGER, thread INTEGER, comm TEXT, path TEXT, argv TEXT, spawn_time TEXT,
        exec_time TEXT, end_time TEXT, exit_code INTEGER, signal TEXT, core_dumped INTEGER);
      INSERT INTO runs (run_id, outcome) VALUES ('old', 'exited');
      CREATE VIEW files_written AS SELECT 'stale' AS run_id;
      PRAGMA user_version = 1;
    )sql";
    ASSERT_TRUE((*db)->Exec(v1, "v1 schema").ok());
  }
  Record({RunA()});
  EXPECT_EQ(Query("PRAGMA user_version"),
            (std::vector<std::string>{std::to_string(kSchemaVersion)}));
  EXPECT_EQ(Query("SELECT run_id, alert_count FROM runs ORDER BY rowid"),
            (std::vector<std::string>{"old|", kRunA + "|"}));
  EXPECT_EQ(Query("SELECT run_id, path FROM files_written"),
            (std::vector<std::string>{kRunA + "|/tmp/out"}));
  EXPECT_EQ(Query("SELECT COUNT(*) FROM processes WHERE spawn_seq IS NOT NULL"),
            (std::vector<std::string>{"2"}));
  // Version 3's collector tables exist too.
  EXPECT_EQ(Query("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('streams', "
                  "'collector_files')"),
            (std::vector<std::string>{"2"}));
}

// Commits are deferred for throughput, but a pause in the stream makes everything visible to
// readers (a user querying the database during a long run).
TEST_F(SqliteSinkTest, RowsBecomeVisibleWhenTheStreamPauses) {
  Result<std::unique_ptr<SqliteSink>> sink = SqliteSink::Open(path_);
  ASSERT_TRUE(sink.ok());
  for (const Value& event :
       {testing::SandboxEvent(kRunA), testing::SyscallEvent(1, "read", "file_read", 1)}) {
    ASSERT_TRUE((*sink)->Write(testing::ToObject(event).get()).ok());
  }
  EXPECT_EQ(Query("SELECT COUNT(*) FROM syscalls"), (std::vector<std::string>{"0"}));
  ASSERT_TRUE((*sink)->Idle().ok());
  EXPECT_EQ(Query("SELECT COUNT(*) FROM syscalls"), (std::vector<std::string>{"1"}));
  EXPECT_EQ(Query("SELECT outcome FROM runs"), (std::vector<std::string>{"running"}));
  ASSERT_TRUE((*sink)->Close().ok());
}

TEST_F(SqliteSinkTest, GapsAndFallbackSummaryAreRecorded) {
  Record({{testing::SandboxEvent(kRunA), testing::GapEvent("tracer->analyzer", 7, 1),
           testing::SyscallEvent(10, "read", "file_read", 1)}},
         /*end=*/false);
  EXPECT_EQ(Query("SELECT stage, lost_records, lost_messages FROM gaps"),
            (std::vector<std::string>{"tracer->analyzer|7|1"}));
  EXPECT_EQ(Query("SELECT outcome, exit_code, total_syscalls, gaps, incomplete FROM runs"),
            (std::vector<std::string>{"aborted|1|1|7|1"}));
}

TEST_F(SqliteSinkTest, EventsBeforeAnySandboxEventStillGetARun) {
  Record({{testing::SyscallEvent(10, "read", "file_read", 1)}}, /*end=*/true);
  const std::vector<std::string> runs = Query("SELECT length(run_id), total_syscalls FROM runs");
  EXPECT_EQ(runs, (std::vector<std::string>{"32|1"}));
}

TEST_F(SqliteSinkTest, AFileThatIsNoDatabaseIsRejectedAtOpen) {
  {
    FILE* f = fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("this is a JSONL trace, not a database\n{\"event_type\":\"sandbox\"}\n", f);
    fclose(f);
  }
  Result<std::unique_ptr<SqliteSink>> sink = SqliteSink::Open(path_);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.error().message().find(path_), std::string::npos) << sink.error().message();
  EXPECT_NE(sink.error().message().find("not a SQLite database"), std::string::npos);
  EXPECT_EQ(testing::ReadFile(path_).substr(0, 9), "this is a");  // left untouched
}

TEST_F(SqliteSinkTest, AnUnopenablePathIsRejectedAtOpen) {
  const std::string bad = dir_.File("no-such-dir/trace.db");
  Result<std::unique_ptr<SqliteSink>> sink = SqliteSink::Open(bad);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.error().message().find(bad), std::string::npos);
}

TEST_F(SqliteSinkTest, ANewerSchemaIsRefused) {
  {
    Result<std::unique_ptr<Database>> db = Database::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 99", "stamp").ok());
  }
  Result<std::unique_ptr<SqliteSink>> sink = SqliteSink::Open(path_);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.error().message().find("schema version 99"), std::string::npos);
}

TEST_F(SqliteSinkTest, ARunIdIsRecordedOnlyOnce) {
  Record({{testing::SandboxEvent(kRunA)}});
  Result<std::unique_ptr<SqliteSink>> sink = SqliteSink::Open(path_);
  ASSERT_TRUE(sink.ok());
  msgpack::object_handle sandbox = testing::ToObject(testing::SandboxEvent(kRunA));
  Status s = (*sink)->Write(sandbox.get());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("already recorded"), std::string::npos);
}

// Two runs writing the same database at the same time: BEGIN IMMEDIATE plus the busy timeout
// serialise their transactions instead of failing either.
TEST_F(SqliteSinkTest, ConcurrentRunsBothComplete) {
  Record({{testing::SandboxEvent("00000000000000000000000000000000")}});  // create the schema
  auto run = [this](const std::string& run_id) {
    std::vector<std::vector<Value>> batches{{testing::SandboxEvent(run_id)}};
    for (int b = 0; b < 40; ++b) {
      batches.push_back(std::vector<Value>(50, testing::SyscallEvent(7, "read", "file_read", 1)));
    }
    batches.push_back({testing::SummaryEvent(run_id, 2000)});
    Record(batches);
  };
  std::thread a(run, kRunA);
  std::thread b(run, kRunB);
  a.join();
  b.join();
  EXPECT_EQ(Query("SELECT run_id, COUNT(*) FROM syscalls GROUP BY run_id ORDER BY run_id"),
            (std::vector<std::string>{kRunA + "|2000", kRunB + "|2000"}));
}

}  // namespace
}  // namespace sandtrace::sinks
