// The analyser stage without its sockets: it turns the tracer's stream (hello, raw records,
// losses, end) into the event stream of docs/events.md, in order: `sandbox` first, then one
// event per record, each followed by the `alert` events it triggered, `gap` events where
// records were lost, and `summary` last, exactly once. Alerts come from the built-in
// analysers (builtin_analyzer.h; today the reporting rules, rules_analyzer.h). Each (rule,
// subject) pair alerts once per run, where the subject is the path, address or program (the
// syscall name when there is none), and at most kMaxAlerts built-in alerts are written per
// run, so that a loop cannot flood the outputs. Events accumulate in a batch that the caller
// sends and clears (one batch per input message is the intended rhythm). Single-threaded;
// never throws.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analyzer/builtin_analyzer.h"
#include "analyzer/event_writer.h"
#include "analyzer/summary.h"
#include "analyzer/working_dirs.h"
#include "common/analysis_config.h"
#include "common/wire/records.h"

namespace sandtrace::analyzer {

inline constexpr char kTracerStage[] = "tracer->analyzer";
inline constexpr size_t kMaxAlerts = 10000;

class Analyzer : private AlertSink {
 public:
  // Configured with DefaultAnalysisConfig(): the built-in rules, home and cwd unknown.
  Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Replaces the rules and the facts they use (the wrapper's --config file). Call it before
  // the first record. `config` should be valid (as DecodeAnalysisConfig returns it); a rule
  // or glob that is not is left out.
  void Configure(const AnalysisConfig& config);

  // An alert a plug-in analyser raised (its event is forwarded by the caller, not written
  // here): counted in the summary's `alert_count` and listed in `suspicious_activity`, with
  // `subject` under "address" when it looks like one ("@name", "host:port", an IPv4 address)
  // and under "path" otherwise; an empty subject is left out. Ignored after the summary.
  void AddExternalAlert(int32_t pid, std::string_view rule, std::string_view severity,
                        std::string_view subject, std::string_view syscall);

  // Also prints every high or critical alert on `out` (one line, control characters escaped),
  // for runs without a terminal view. Null: no notices.
  void SetAlertNotices(std::FILE* out) { notices_ = out; }
  std::FILE* alert_notices() const { return notices_; }

  // The external analysers' states, for the summary (call before OnEnd).
  void SetPluginStatuses(std::vector<PluginStatus> statuses);

  // The run's hello: writes the `sandbox` event. A second hello is ignored (returns false).
  bool OnHello(const wire::Hello& hello);

  // One raw record -> its event(s). Ignored after the summary.
  void OnRecord(const wire::RawRecord& record);
  void OnRecords(const std::vector<wire::RawRecord>& records);

  // Records lost before this stage: a `gap` event, counted in the summary.
  void OnLoss(uint64_t lost_records, uint64_t lost_messages, uint64_t now_ns);

  // The tracer's end: writes the `summary` event. Later calls are ignored.
  void OnEnd(const wire::End& end);

  // No end will come (the stage is stopping): writes the summary with outcome `aborted` and
  // exit code 1, and returns the End to forward to the sinks.
  wire::End Abort(uint64_t now_ns, const std::string& detail);

  bool finished() const { return finished_; }
  const std::string& run_id() const { return hello_.run_id; }

  // The pending batch.
  EventWriter& events() { return events_; }

 private:
  void EnsureSandbox(uint64_t ts_ns);
  void OnSyscall(const wire::SyscallRecord& record);
  void OnSpawn(const wire::SpawnRecord& record);
  void OnExec(const wire::ExecRecord& record);
  void OnExit(const wire::ExitRecord& record);
  // The built-in analysers' look at one syscall event, just written.
  void AnalyseSyscall(const wire::SyscallRecord& record, std::string_view name, Category category,
                      const DecodedArgs& decoded);
  // The view analysers get: the path arguments resolved against the working directory.
  SyscallView ViewOf(const wire::SyscallRecord& record, std::string_view name, Category category,
                     const DecodedArgs& decoded);
  // AlertSink: dedupes, caps, writes the alert event and adds it to the summary.
  void Alert(const AlertFacts& alert) override;
  // Name and category of a number outside the table, computed once and kept (for the first
  // kMaxOtherNumbers distinct numbers; later ones are computed on every call).
  const SyscallInfo& OtherSyscall(int64_t nr);

  EventWriter events_;
  SummaryBuilder summary_;
  wire::Hello hello_;
  bool sandbox_written_ = false;
  bool hello_seen_ = false;
  bool root_spawn_seen_ = false;
  bool finished_ = false;
  // argv (items separated by '\0') of each thread's latest execve/execveat, until its exec
  // record arrives.
  std::unordered_map<int32_t, std::string> pending_argv_;
  struct OtherSyscallInfo {
    std::string name;
    SyscallInfo info;  // info.name refers to name
  };
  std::unordered_map<int64_t, OtherSyscallInfo> other_syscalls_;
  OtherSyscallInfo uncached_;

  std::vector<std::unique_ptr<BuiltinAnalyzer>> builtins_;
  std::vector<bool> every_call_;  // by number: some built-in analyser sees every call
  WorkingDirs dirs_;
  std::string path_scratch_, path2_scratch_;
  bool command_exec_seen_ = false;
  // The (rule, subject) pairs that alerted, the built-in alerts written, the timestamp of the
  // event being analysed, and scratch space for keys and messages.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, Hash, std::equal_to<>> alerted_;
  size_t alerts_written_ = 0;
  uint64_t alert_ts_ns_ = 0;
  std::string alert_key_, alert_message_;
  std::string policy_;                 // named in the `sandbox` event
  std::FILE* notices_ = nullptr;       // SetAlertNotices
  std::vector<PluginStatus> plugins_;  // the summary's `analyzers`
};

// "!! alert [high] RULE: MESSAGE (pid N)" on `out` for a high or critical alert, as the
// terminal view prints it; nothing for other severities.
void PrintAlertNotice(std::FILE* out, std::string_view rule, std::string_view severity,
                      std::string_view message, int32_t pid);

// CLOCK_REALTIME in nanoseconds.
uint64_t NowNs();

}  // namespace sandtrace::analyzer
