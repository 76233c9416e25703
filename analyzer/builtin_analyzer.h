// Built-in analysers: code inside the analyser stage that watches the decoded stream and raises
// alerts. The Analyzer calls each one with a view of every syscall that has a path, an address
// or an argv, or was denied (plus every call of the numbers it asks for), and with every exec.
// An analyser raises an alert through its AlertSink; the Analyzer writes the `alert` event
// right after the event that triggered it (docs/events.md), deduplicates and caps alerts, and
// adds them to the summary. Analysers run on the stage's thread, once per call: they must be
// cheap on the common path (no allocation) and must not keep the views.
#pragma once

#include <cstdint>
#include <string_view>

#include "analyzer/decoder.h"
#include "analyzer/syscall_table.h"
#include "common/wire/records.h"

namespace sandtrace::analyzer {

// One syscall event as analysers see it. Views point into the record or the Analyzer's
// scratch space and are valid during the call only.
struct SyscallView {
  const wire::SyscallRecord* record = nullptr;
  std::string_view name;
  Category category = Category::kOther;  // effective: an open for writing is kFileWrite
  const DecodedArgs* decoded = nullptr;
  bool success = true;
  bool denied = false;
  // The path arguments, absolute and normalised (no ".", "..", "//") when the analyser could
  // resolve them against the process's working directory or AT_FDCWD; otherwise as passed,
  // with `*_resolved` false. Empty when absent (or empty, as with AT_EMPTY_PATH).
  std::string_view path, path2;
  bool path_resolved = false, path2_resolved = false;
};

// One successful exec (the `process` exec event).
struct ExecView {
  const wire::ExecRecord* record = nullptr;
  std::string_view path;      // the new program, normalised
  bool command_exec = false;  // the command's own first exec, which the wrapper started
};

// What the subject of an alert is: the summary writes it under "path" or "address".
enum class SubjectKind : uint8_t { kNone, kPath, kAddress };

struct AlertFacts {
  std::string_view rule;      // rule id
  std::string_view severity;  // low | medium | high | critical
  std::string_view message;   // the rule's text; the Analyzer appends syscall and subject
  SubjectKind subject_kind = SubjectKind::kNone;
  std::string_view subject;   // path, "address:port" or program; may be empty
  std::string_view syscall;   // "openat", "connect", "execve", ...
  int32_t pid = 0;
};

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  // Raises one alert for the event being analysed. The sink decides whether it is written
  // (deduplication, cap); the facts' views need only live during the call.
  virtual void Alert(const AlertFacts& alert) = 0;
};

class BuiltinAnalyzer {
 public:
  virtual ~BuiltinAnalyzer() = default;

  // A short stable name ("rules").
  virtual std::string_view name() const = 0;
  // True when OnSyscall must also see calls of `nr` (in the syscall table) that have no path,
  // address or argv and were not denied. Asked once per number at configuration time.
  virtual bool WantsEveryCall(int64_t /*nr*/) const { return false; }
  virtual void OnSyscall(const SyscallView& call, AlertSink& sink) = 0;
  virtual void OnExec(const ExecView& exec, AlertSink& sink) = 0;
};

}  // namespace sandtrace::analyzer
