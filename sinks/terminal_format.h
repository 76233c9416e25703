// Text of the terminal view (sandtrace-sink-term), one function per event kind, strace-like:
//   [pid  1234] openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3  file_read
//   [pid  1234] connect(3, {AF_INET 10.0.0.1:443}) = -1 ECONNREFUSED  network
//   [pid  1234] +++ exited with 0 +++
// Everything that came from the tracee (paths, argv, comm) is escaped for the terminal
// (text_escape.h), so a hostile file name cannot move the cursor or change colours. With
// `color` false the output holds no escape sequence at all.
#pragma once

#include <msgpack.hpp>
#include <string>

namespace sandtrace::sinks {

struct TerminalStyle {
  bool color = false;
  bool full = false;  // verbosity 3: no abbreviation of long strings/lists, durations shown
};

// Each appends one or more complete lines (ending in '\n') to `out`.
void FormatSyscall(const msgpack::object& event, const TerminalStyle& style, std::string* out);
void FormatProcess(const msgpack::object& event, const TerminalStyle& style, std::string* out);
void FormatSandbox(const msgpack::object& event, const TerminalStyle& style, std::string* out);
void FormatAlert(const msgpack::object& event, const TerminalStyle& style, std::string* out);
void FormatGap(const msgpack::object& event, const TerminalStyle& style, std::string* out);
void FormatSummary(const msgpack::object& event, const TerminalStyle& style, std::string* out);

}  // namespace sandtrace::sinks
