// Result<T>: the one error convention of sandtrace. A function that can fail returns either a
// value or an Error carrying the errno (0 when none applies) and a context string naming the
// operation, e.g. "ptrace(PTRACE_GETEVENTMSG, pid=123)". Library exceptions are converted to
// Error at one adapter per library and never cross a module boundary.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace sandtrace {

struct Error {
  int code = 0;         // errno value, or 0 for errors that are not system errors
  std::string context;  // what was being done

  // "context: strerror(code)" or just the context when code is 0.
  std::string message() const {
    if (code == 0) return context;
    return context + ": " + std::strerror(code);
  }
};

// Error from the current errno, e.g. Error FromErrno("open(/x)").
inline Error ErrnoError(std::string context) { return Error{errno, std::move(context)}; }
inline Error PlainError(std::string context) { return Error{0, std::move(context)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(state_); }
  const T& value() const { return std::get<0>(state_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace sandtrace
