#include "cli/query.h"

#include <algorithm>
#include <string_view>

#include "sinks/json_writer.h"
#include "sinks/sqlite_db.h"
#include "sinks/sqlite_reports.h"
#include "sinks/text_escape.h"

namespace sandtrace::cli {
namespace {

using sinks::Database;
using sinks::Statement;

constexpr char kUsage[] = R"(usage: sandtrace query [--format FORMAT] DB 'SQL'
       sandtrace query [--format FORMAT] DB --report NAME [--run RUN]
       sandtrace query [--format FORMAT] DB --report diff RUN_A RUN_B

Runs read-only SQL over a database written by `sandtrace run -o FILE.db` (docs/queries.md).

Options:
  --format F     list (a|b|c, the default for SQL), table (the default for reports), csv, json
                 (one object per line)
  --report NAME  runs           every run: command, start, duration, exit code, syscalls, alerts
                 files-written  paths a run wrote, created or removed
                 network        which processes connected where
                 alerts         the alerts of a run
                 diff           what differs between RUN_A and RUN_B
  --run RUN      the run of a report (a unique prefix of its id); default: the latest run
  -h, --help     this text

Exit status: 0 on success, 2 on a usage error, a missing database, an SQL error or an unknown
run.
)";

constexpr size_t kFlushBytes = 64 * 1024;

Result<QueryFormat> ParseFormat(const std::string& name) {
  if (name == "list") return QueryFormat::kList;
  if (name == "csv") return QueryFormat::kCsv;
  if (name == "json") return QueryFormat::kJson;
  if (name == "table") return QueryFormat::kTable;
  return PlainError("query: unknown --format '" + name + "' (list, table, csv or json)");
}

bool IsNumber(int type) { return type == SQLITE_INTEGER || type == SQLITE_FLOAT; }

// Code points, for column widths (continuation bytes do not count).
size_t DisplayWidth(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

// Text for the terminal: a value with control characters or invalid UTF-8 is escaped the way
// the terminal view escapes it, anything else is shown as it is.
std::string TerminalText(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t length = sinks::Utf8SequenceLength(std::string_view(text).substr(i));
    const bool c1 = c == 0xc2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) < 0xa0;  // U+0080..U+009F
    if (length == 0 || c < 0x20 || c == 0x7f || c1) {
      std::string escaped;
      sinks::AppendEscaped(text, sinks::EscapeMode::kTerminal, &escaped);
      return escaped;
    }
    i += length;
  }
  return text;
}

void AppendCsvField(const std::string& text, std::string* out) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    *out += text;
    return;
  }
  out->push_back('"');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// The run id that `prefix` names, or the latest run's when it is empty.
Result<std::string> ResolveRun(Database* db, const std::string& prefix) {
  Result<Statement> query =
      prefix.empty()
          ? db->Prepare("SELECT run_id FROM runs ORDER BY start DESC, rowid DESC LIMIT 1")
          : db->Prepare("SELECT run_id FROM runs WHERE substr(run_id, 1, length(?1)) = ?1 "
                        "ORDER BY rowid LIMIT 2");
  if (!query) return query.error();
  if (!prefix.empty()) query->BindText(1, prefix);
  std::vector<std::string> ids;
  for (;;) {
    Result<bool> row = query->Step();
    if (!row) return row.error();
    if (!*row) break;
    ids.push_back(query->ColumnText(0));
  }
  if (ids.empty()) {
    if (prefix.empty()) return PlainError(db->path() + ": the database has no runs");
    return PlainError(db->path() + ": no run id starts with '" + prefix + "'");
  }
  if (ids.size() > 1) {
    return PlainError(db->path() + ": run id prefix '" + prefix + "' is ambiguous (" + ids[0] +
                      ", " + ids[1] + ", ...)");
  }
  return ids[0];
}

// Steps `statement` to its end, formatting every row into `out` and flushing it to `file`.
Status PrintRows(Statement* statement, QueryFormat format, FILE* file) {
  std::string text;
  RowFormatter formatter(format, &text);
  std::vector<std::string> columns;
  for (int c = 0; c < statement->ColumnCount(); ++c) columns.push_back(statement->ColumnName(c));
  formatter.Begin(std::move(columns));
  std::vector<RowFormatter::Cell> row(static_cast<size_t>(statement->ColumnCount()));
  for (;;) {
    Result<bool> more = statement->Step();
    if (!more) return more.error();
    if (!*more) break;
    for (int c = 0; c < statement->ColumnCount(); ++c) {
      row[static_cast<size_t>(c)] = {statement->ColumnType(c), statement->ColumnText(c)};
    }
    formatter.Row(row);
    if (text.size() >= kFlushBytes) {
      fwrite(text.data(), 1, text.size(), file);
      text.clear();
    }
  }
  formatter.End();
  fwrite(text.data(), 1, text.size(), file);
  return {};
}

Status RunSql(Database* db, std::string_view sql, QueryFormat format, FILE* out) {
  while (!sql.empty()) {
    Result<Statement> statement = db->PrepareNext(&sql);
    if (!statement) return statement.error();
    if (statement->empty()) continue;
    if (Status s = PrintRows(&*statement, format, out); !s) return s;
  }
  return {};
}

Status RunReport(Database* db, const QueryOptions& options, FILE* out) {
  const sinks::Report* report = sinks::FindReport(options.report);
  if (report == nullptr) return PlainError("unknown report '" + options.report + "'");
  std::vector<std::string> runs;
  if (report->args == sinks::ReportArgs::kOneRun) {
    Result<std::string> run = ResolveRun(db, options.run);
    if (!run) return run.error();
    runs.push_back(*run);
  } else if (report->args == sinks::ReportArgs::kTwoRuns) {
    for (const std::string& prefix : options.runs) {
      Result<std::string> run = ResolveRun(db, prefix);
      if (!run) return run.error();
      runs.push_back(*run);
    }
  }
  Result<Statement> statement = db->Prepare(report->sql);
  if (!statement) return statement.error();
  for (size_t i = 0; i < runs.size(); ++i) statement->BindText(static_cast<int>(i) + 1, runs[i]);
  return PrintRows(&*statement, options.format, out);
}

}  // namespace

Result<QueryOptions> ParseQueryOptions(const std::vector<std::string>& args) {
  QueryOptions options;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](const std::string& flag) -> Result<std::string> {
      if (arg.rfind(flag + "=", 0) == 0) return arg.substr(flag.size() + 1);
      if (i + 1 >= args.size()) return PlainError("query: " + flag + " needs a value");
      return args[++i];
    };
    auto is = [&](const std::string& flag) { return arg == flag || arg.rfind(flag + "=", 0) == 0; };
    if (arg == "-h" || arg == "--help") {
      options.help = true;
    } else if (is("--format")) {
      Result<std::string> name = value("--format");
      if (!name) return name.error();
      Result<QueryFormat> format = ParseFormat(*name);
      if (!format) return format.error();
      options.format = *format;
      options.format_given = true;
    } else if (is("--report")) {
      Result<std::string> name = value("--report");
      if (!name) return name.error();
      options.report = *name;
    } else if (is("--run")) {
      Result<std::string> run = value("--run");
      if (!run) return run.error();
      if (run->empty()) return PlainError("query: --run needs a run id");
      options.run = *run;
    } else if (arg == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return PlainError("query: unknown option '" + arg + "'");
    } else {
      positional.push_back(arg);
    }
  }
  if (options.help) return options;
  if (positional.empty()) return PlainError("query: missing DB (see: sandtrace query --help)");
  options.database = positional[0];
  positional.erase(positional.begin());
  if (options.report.empty()) {
    if (positional.size() != 1) return PlainError("query: expected one SQL argument after DB");
    if (!options.run.empty()) return PlainError("query: --run only applies to --report");
    options.sql = positional[0];
    return options;
  }
  const sinks::Report* report = sinks::FindReport(options.report);
  if (report == nullptr) {
    return PlainError("query: unknown report '" + options.report +
                      "' (runs, files-written, network, alerts, diff)");
  }
  if (!options.format_given) options.format = QueryFormat::kTable;
  if (report->args == sinks::ReportArgs::kTwoRuns) {
    if (positional.size() != 2 || !options.run.empty()) {
      return PlainError("query: --report diff takes two runs: DB --report diff RUN_A RUN_B");
    }
    options.runs = positional;
    return options;
  }
  if (!positional.empty()) {
    return PlainError("query: --report " + options.report + " takes no SQL ('" + positional[0] +
                      "')");
  }
  if (report->args == sinks::ReportArgs::kNone && !options.run.empty()) {
    return PlainError("query: --report " + options.report + " takes no --run");
  }
  return options;
}

const char* QueryUsage() { return kUsage; }

Status RunQuery(const QueryOptions& options, FILE* out) {
  Result<std::unique_ptr<Database>> db = Database::OpenReadOnly(options.database);
  if (!db) return db.error();
  if (Status s = (*db)->Exec("PRAGMA busy_timeout = 10000", "busy_timeout"); !s) return s;
  Status result = options.report.empty() ? RunSql(db->get(), options.sql, options.format, out)
                                         : RunReport(db->get(), options, out);
  fflush(out);
  return result;
}

void RowFormatter::Begin(std::vector<std::string> columns) {
  columns_ = std::move(columns);
  if (format_ != QueryFormat::kCsv) return;
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (c > 0) out_->push_back(',');
    AppendCsvField(columns_[c], out_);
  }
  *out_ += "\r\n";
}

void RowFormatter::Row(const std::vector<Cell>& row) {
  switch (format_) {
    case QueryFormat::kList:
      for (size_t c = 0; c < row.size(); ++c) {
        if (c > 0) out_->push_back('|');
        *out_ += row[c].text;
      }
      out_->push_back('\n');
      return;
    case QueryFormat::kCsv:
      for (size_t c = 0; c < row.size(); ++c) {
        if (c > 0) out_->push_back(',');
        AppendCsvField(row[c].text, out_);
      }
      *out_ += "\r\n";
      return;
    case QueryFormat::kJson:
      out_->push_back('{');
      for (size_t c = 0; c < row.size(); ++c) {
        if (c > 0) out_->push_back(',');
        sinks::AppendJsonString(columns_[c], out_);
        out_->push_back(':');
        const Cell& cell = row[c];
        const bool finite = cell.text.find_first_of("IN") == std::string::npos;  // Inf, NaN
        if (cell.type == SQLITE_NULL || (cell.type == SQLITE_FLOAT && !finite)) {
          *out_ += "null";
        } else if (IsNumber(cell.type)) {
          *out_ += cell.text;
        } else {
          sinks::AppendJsonString(cell.text, out_);
        }
      }
      *out_ += "}\n";
      return;
    case QueryFormat::kTable:
      held_.push_back(row);
      for (Cell& cell : held_.back()) cell.text = TerminalText(cell.text);
      return;
  }
}

void RowFormatter::End() {
  if (format_ == QueryFormat::kTable) AppendTable();
}

void RowFormatter::AppendTable() {
  std::vector<size_t> widths;
  for (const std::string& name : columns_) widths.push_back(DisplayWidth(TerminalText(name)));
  for (const std::vector<Cell>& row : held_) {
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c].text));
    }
  }
  auto append_line = [&](auto cell_at) {
    std::string line;
    for (size_t c = 0; c < widths.size(); ++c) {
      const auto [text, right] = cell_at(c);
      const std::string pad(widths[c] - DisplayWidth(text), ' ');
      if (c > 0) line += "  ";
      line += right ? pad + text : text + (c + 1 < widths.size() ? pad : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    *out_ += line + "\n";
  };
  append_line([&](size_t c) { return std::pair<std::string, bool>(TerminalText(columns_[c]), false); });
  append_line([&](size_t c) { return std::pair<std::string, bool>(std::string(widths[c], '-'), false); });
  for (const std::vector<Cell>& row : held_) {
    append_line([&](size_t c) { return std::pair<std::string, bool>(row[c].text, IsNumber(row[c].type)); });
  }
  held_.clear();
}

}  // namespace sandtrace::cli
