// `sandtrace query DB 'SQL'` and `sandtrace query DB --report NAME`: read-only SQL over a
// database written by the SQLite sink (sinks/sqlite_schema.h), printed in one of four formats.
// The database is opened with SQLITE_OPEN_READONLY, so no statement can change it. Reports are
// the SELECTs of sinks/sqlite_reports.h; a run is named by a unique prefix of its id, and a
// report about one run defaults to the latest run (docs/queries.md).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "common/result.h"

namespace sandtrace::cli {

enum class QueryFormat {
  kList,   // sqlite3's default: a|b|c, NULL as empty, no header
  kCsv,    // RFC 4180: a header line, fields quoted when needed, CRLF line ends
  kJson,   // one JSON object per line, keys = column names, SQL types kept
  kTable,  // aligned columns under a header, numbers right-aligned
};

struct QueryOptions {
  std::string database;
  std::string sql;                // the SQL, when no report is asked for
  std::string report;             // --report NAME
  std::string run;                // --run ID (a unique prefix), empty = the latest run
  std::vector<std::string> runs;  // RUN_A RUN_B of --report diff
  QueryFormat format = QueryFormat::kList;
  bool format_given = false;  // reports default to a table, SQL to the list format
  bool help = false;
};

// Parses the arguments after `query`. Errors are usage errors (exit 2).
Result<QueryOptions> ParseQueryOptions(const std::vector<std::string>& args);

const char* QueryUsage();

// Runs the query or report and writes its rows to `out`. Fails on a missing or unreadable
// database, an SQL error (SQLite's text in the message), an unknown or ambiguous run.
Status RunQuery(const QueryOptions& options, FILE* out);

// Formats rows as they come: Begin once, Row for each row, End once. Values arrive as the
// SQLite type (SQLITE_INTEGER, ...) and the text SQLite gives for them.
class RowFormatter {
 public:
  struct Cell {
    int type;
    std::string text;
  };

  RowFormatter(QueryFormat format, std::string* out) : format_(format), out_(out) {}
  void Begin(std::vector<std::string> columns);
  void Row(const std::vector<Cell>& row);
  void End();

 private:
  void AppendTable();

  QueryFormat format_;
  std::string* out_;
  std::vector<std::string> columns_;
  std::vector<std::vector<Cell>> held_;  // the table format needs every row for the widths
};

}  // namespace sandtrace::cli
