// The analyser stage without its sockets: it turns the tracer's stream (hello, raw records,
// losses, end) into the event stream of docs/events.md, in order: `sandbox` first, then one
// event per record, `gap` events where records were lost, and `summary` last, exactly once.
// Events accumulate in a batch that the caller sends and clears (one batch per input message
// is the intended rhythm). Single-threaded; never throws.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzer/event_writer.h"
#include "analyzer/summary.h"
#include "common/wire/records.h"

namespace sandtrace::analyzer {

inline constexpr char kTracerStage[] = "tracer->analyzer";

class Analyzer {
 public:
  Analyzer() = default;
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

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
};

// CLOCK_REALTIME in nanoseconds.
uint64_t NowNs();

}  // namespace sandtrace::analyzer
