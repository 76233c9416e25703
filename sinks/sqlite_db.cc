#include "sinks/sqlite_db.h"

#include <unistd.h>

#include <cerrno>

#include "sinks/json_writer.h"

namespace sandtrace::sinks {
namespace {

// The first words of a statement, to say which one failed without quoting all of it.
std::string_view Head(std::string_view sql) {
  const size_t end = sql.find_first_of("(\n");
  return sql.substr(0, end == std::string_view::npos ? sql.size() : end);
}

}  // namespace

Statement::Statement(Statement&& other) noexcept { *this = std::move(other); }

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    bind_error_ = other.bind_error_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void Statement::BindNull(int index) {
  if (int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) bind_error_ = rc;
}

void Statement::BindInt(int index, int64_t value) {
  if (int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) bind_error_ = rc;
}

void Statement::BindText(int index, std::string_view text) {
  const int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) bind_error_ = rc;
}

void Statement::Bind(int index, const msgpack::object* value) {
  if (value == nullptr) return BindNull(index);
  switch (value->type) {
    case msgpack::type::NIL:
      return BindNull(index);
    case msgpack::type::BOOLEAN:
      return BindInt(index, value->via.boolean ? 1 : 0);
    case msgpack::type::POSITIVE_INTEGER:
      return BindInt(index, static_cast<int64_t>(value->via.u64));
    case msgpack::type::NEGATIVE_INTEGER:
      return BindInt(index, value->via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      if (int rc = sqlite3_bind_double(stmt_, index, value->via.f64); rc != SQLITE_OK) {
        bind_error_ = rc;
      }
      return;
    case msgpack::type::STR:
      return BindText(index, {value->via.str.ptr, value->via.str.size});
    case msgpack::type::BIN:
      return BindText(index, {value->via.bin.ptr, value->via.bin.size});
    default:
      break;
  }
  if (json_used_ >= kJsonColumns) {  // more JSON columns than scratch buffers: a programming error
    bind_error_ = SQLITE_RANGE;
    return;
  }
  std::string& json = json_scratch_[json_used_++];
  json.clear();
  AppendJson(*value, &json);
  BindText(index, json);
}

Status Statement::Run() {
  Result<bool> stepped = Step();
  Reset();
  if (!stepped) return stepped.error();
  return {};
}

Result<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    const int rc = bind_error_;
    bind_error_ = SQLITE_OK;
    return db_->MakeError(std::string("binding ") + std::string(Head(sqlite3_sql(stmt_))) + ": " +
                          sqlite3_errstr(rc));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return StepError();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  json_used_ = 0;
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string Statement::ColumnName(int column) const {
  const char* name = sqlite3_column_name(stmt_, column);
  return name != nullptr ? name : "";
}

Error Statement::StepError() const { return db_->MakeError(Head(sqlite3_sql(stmt_))); }

Result<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  sqlite3* handle = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &handle,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Database> db(new Database(handle, path));
  if (rc != SQLITE_OK) return db->MakeError("cannot open the database");
  // SQLite silently falls back to read-only access for a write-protected file.
  if (sqlite3_db_readonly(handle, "main") == 1) {
    return Error{EACCES, "sqlite " + path + ": the database is read-only"};
  }
  return db;
}

Result<std::unique_ptr<Database>> Database::OpenReadOnly(const std::string& path) {
  if (access(path.c_str(), F_OK) != 0) return ErrnoError("sqlite " + path);
  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &handle,
                                 SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Database> db(new Database(handle, path));
  if (rc != SQLITE_OK) return db->MakeError("cannot open the database");
  return db;
}

Database::~Database() { sqlite3_close_v2(db_); }

Status Database::Exec(const std::string& sql, std::string_view what) {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return MakeError(what);
  }
  return {};
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return MakeError("preparing " + std::string(Head(sql)));
  return Statement(stmt, this);
}

Result<Statement> Database::PrepareNext(std::string_view* sql) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc =
      sqlite3_prepare_v2(db_, sql->data(), static_cast<int>(sql->size()), &stmt, &tail);
  if (rc != SQLITE_OK) return MakeError("preparing " + std::string(Head(*sql)));
  sql->remove_prefix(tail != nullptr ? static_cast<size_t>(tail - sql->data()) : sql->size());
  return Statement(stmt, this);
}

Result<int64_t> Database::QueryInt(const std::string& sql) {
  Result<Statement> query = Prepare(sql);
  if (!query) return query.error();
  Result<bool> row = query->Step();
  if (!row) return row.error();
  if (!*row) return MakeError(sql + ": no row");
  return query->ColumnInt(0);
}

Error Database::MakeError(std::string_view what) const {
  const char* message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
  return Error{0, "sqlite " + path_ + ": " + std::string(what) + ": " + message};
}

}  // namespace sandtrace::sinks
