// `sandtrace query`: option parsing, the four row formats, and the reports' SQL over a database
// filled with hand-written rows (no tracer).
#include "cli/query.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "sinks/sqlite_db.h"
#include "sinks/sqlite_schema.h"
#include "tests/support/temp_dir.h"

namespace sandtrace::cli {
namespace {

using Cell = RowFormatter::Cell;

std::string Format(QueryFormat format, const std::vector<std::string>& columns,
                   const std::vector<std::vector<Cell>>& rows) {
  std::string out;
  RowFormatter formatter(format, &out);
  formatter.Begin(columns);
  for (const auto& row : rows) formatter.Row(row);
  formatter.End();
  return out;
}

const std::vector<std::vector<Cell>> kRows = {
    {{SQLITE_INTEGER, "1"}, {SQLITE_TEXT, "a,b \"c\""}, {SQLITE_NULL, ""}},
    {{SQLITE_INTEGER, "22"}, {SQLITE_TEXT, "line\nbreak"}, {SQLITE_FLOAT, "1.5"}},
};

TEST(QueryFormatTest, ListIsSqlite3Default) {
  EXPECT_EQ(Format(QueryFormat::kList, {"n", "s", "x"}, kRows),
            "1|a,b \"c\"|\n22|line\nbreak|1.5\n");
}

TEST(QueryFormatTest, CsvQuotesPerRfc4180) {
  EXPECT_EQ(Format(QueryFormat::kCsv, {"n", "s", "x"}, kRows),
            "n,s,x\r\n1,\"a,b \"\"c\"\"\",\r\n22,\"line\nbreak\",1.5\r\n");
}

TEST(QueryFormatTest, JsonKeepsTypes) {
  EXPECT_EQ(Format(QueryFormat::kJson, {"n", "s", "x"}, kRows),
            "{\"n\":1,\"s\":\"a,b \\\"c\\\"\",\"x\":null}\n"
            "{\"n\":22,\"s\":\"line\\nbreak\",\"x\":1.5}\n");
}

TEST(QueryFormatTest, TableAlignsAndEscapes) {
  EXPECT_EQ(Format(QueryFormat::kTable, {"n", "s", "x"}, kRows),
            "n   s            x\n"
            "--  -----------  ---\n"
            " 1  a,b \"c\"\n"
            "22  line\\nbreak  1.5\n");
}

TEST(QueryOptionsTest, SqlAndReports) {
  Result<QueryOptions> sql = ParseQueryOptions({"t.db", "SELECT 1", "--format=csv"});
  ASSERT_TRUE(sql.ok()) << sql.error().message();
  EXPECT_EQ(sql->database, "t.db");
  EXPECT_EQ(sql->sql, "SELECT 1");
  EXPECT_EQ(sql->format, QueryFormat::kCsv);

  Result<QueryOptions> report = ParseQueryOptions({"t.db", "--report", "alerts", "--run", "ab"});
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->report, "alerts");
  EXPECT_EQ(report->run, "ab");
  EXPECT_EQ(report->format, QueryFormat::kTable);

  Result<QueryOptions> diff = ParseQueryOptions({"t.db", "--report", "diff", "a", "b"});
  ASSERT_TRUE(diff.ok()) << diff.error().message();
  EXPECT_EQ(diff->runs, (std::vector<std::string>{"a", "b"}));

  EXPECT_FALSE(ParseQueryOptions({}).ok());
  EXPECT_FALSE(ParseQueryOptions({"t.db"}).ok());
  EXPECT_FALSE(ParseQueryOptions({"t.db", "SELECT 1", "--format", "xml"}).ok());
  EXPECT_FALSE(ParseQueryOptions({"t.db", "--report", "nope"}).ok());
  EXPECT_FALSE(ParseQueryOptions({"t.db", "--report", "diff", "a"}).ok());
  EXPECT_FALSE(ParseQueryOptions({"t.db", "--report", "runs", "--run", "a"}).ok());
  EXPECT_FALSE(ParseQueryOptions({"t.db", "SELECT 1", "--run", "a"}).ok());
}

class QueryReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    path_ = dir_.File("t.db");
    Result<std::unique_ptr<sinks::Database>> db = sinks::Database::Open(path_);
    ASSERT_TRUE(db.ok()) << db.error().message();
    ASSERT_TRUE(sinks::EnsureSchema(db->get()).ok());
    const char* rows = R"sql(
      INSERT INTO runs (run_id, command, start, total_syscalls) VALUES
        ('aaaa1111', '["sh","-c","x"]', '2024-01-01T00:00:00Z', 3),
        ('aaaa2222', '["sh","-c","y"]', '2024-01-02T00:00:00Z', 2);
      INSERT INTO processes (run_id, pid, tgid, comm, path) VALUES
        ('aaaa1111', 10, 10, 'curl', '/usr/bin/curl');
      INSERT INTO syscalls (run_id, seq, pid, tgid, syscall, category, success, error, path,
                            decoded) VALUES
        ('aaaa1111', 1, 10, 10, 'openat', 'file_read', 1, NULL, '/tmp/out',
         '{"path":"/tmp/out","flags":"O_WRONLY|O_CREAT|O_TRUNC"}'),
        ('aaaa1111', 2, 10, 10, 'openat', 'file_read', 1, NULL, '/etc/passwd',
         '{"path":"/etc/passwd","flags":"O_RDONLY"}'),
        ('aaaa1111', 3, 10, 10, 'connect', 'network', 0, 'ECONNREFUSED', NULL,
         '{"fd":3,"addr":{"family":"AF_INET","address":"127.0.0.1","port":9}}'),
        ('aaaa2222', 1, 20, 20, 'openat', 'file_read', 1, NULL, '/etc/passwd',
         '{"path":"/etc/passwd","flags":"O_RDONLY"}'),
        ('aaaa2222', 2, 20, 20, 'unlink', 'file_write', 0, 'ENOENT', '/tmp/gone',
         '{"path":"/tmp/gone"}');
      INSERT INTO alerts (run_id, rule, severity, message, pid) VALUES
        ('aaaa2222', 'sensitive_file', 'high', 'x: unlink /tmp/gone', 20);
    )sql";
    ASSERT_TRUE((*db)->Exec(rows, "filling").ok());
  }
  // The output of `sandtrace query DB ARGS... --format list`, or "error: MESSAGE".
  std::string Query(std::vector<std::string> args) {
    args.insert(args.begin(), path_);
    args.push_back("--format=list");
    Result<QueryOptions> options = ParseQueryOptions(args);
    if (!options) return "usage: " + options.error().message();
    char* text = nullptr;
    size_t size = 0;
    FILE* out = open_memstream(&text, &size);
    Status s = RunQuery(*options, out);
    fclose(out);
    std::string result(text, size);
    free(text);
    return s ? result : "error: " + s.error().message();
  }

  test_support::TempDir dir_{"/tmp/query_test.XXXXXX"};
  std::string path_;
};

TEST_F(QueryReportTest, RunsAndLatestRun) {
  EXPECT_EQ(Query({"--report", "runs"}),
            "aaaa1111|sh -c x|2024-01-01T00:00:00Z||||3|0\n"
            "aaaa2222|sh -c y|2024-01-02T00:00:00Z||||2|1\n");
  EXPECT_EQ(Query({"--report", "alerts"}), "|high|sensitive_file|20|x: unlink /tmp/gone\n");
  EXPECT_EQ(Query({"--report", "alerts", "--run", "aaaa1"}), "");
}

TEST_F(QueryReportTest, FilesWrittenCountsWriteOpens) {
  EXPECT_EQ(Query({"--report", "files-written", "--run", "aaaa1"}), "/tmp/out|1|0|openat|10\n");
  EXPECT_EQ(Query({"--report", "files-written"}), "/tmp/gone|1|1|unlink|20\n");
}

TEST_F(QueryReportTest, Network) {
  EXPECT_EQ(Query({"--report", "network", "--run", "aaaa1111"}),
            "10|curl|/usr/bin/curl|connect|AF_INET|127.0.0.1|9|ECONNREFUSED|1\n");
}

TEST_F(QueryReportTest, Diff) {
  EXPECT_EQ(Query({"--report", "diff", "aaaa1", "aaaa2"}),
            "syscall|connect|1|0\n"
            "syscall|openat|2|1\n"
            "syscall|unlink|0|1\n"
            "file|/tmp/gone|0|1\n"
            "file|/tmp/out|1|0\n"
            "network|AF_INET 127.0.0.1:9|1|0\n"
            "alert|high sensitive_file: x: unlink /tmp/gone|0|1\n");
}

TEST_F(QueryReportTest, Errors) {
  EXPECT_EQ(Query({"--report", "alerts", "--run", "aaaa"}).rfind("error: ", 0), 0u);
  EXPECT_NE(Query({"--report", "alerts", "--run", "aaaa"}).find("ambiguous"), std::string::npos);
  EXPECT_NE(Query({"--report", "alerts", "--run", "b"}).find("no run id starts with 'b'"),
            std::string::npos);
  EXPECT_NE(Query({"SELECT nope FROM runs"}).find("no such column: nope"), std::string::npos);
  EXPECT_NE(Query({"DELETE FROM runs"}).find("readonly"), std::string::npos);
  EXPECT_EQ(Query({"SELECT COUNT(*) FROM runs; SELECT 'x' -- done"}), "2\nx\n");
  Result<QueryOptions> missing = ParseQueryOptions({dir_.File("missing.db"), "SELECT 1"});
  ASSERT_TRUE(missing.ok());
  Status s = RunQuery(*missing, stdout);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ENOENT);
  EXPECT_EQ(access(dir_.File("missing.db").c_str(), F_OK), -1) << "never created";
}

}  // namespace
}  // namespace sandtrace::cli
