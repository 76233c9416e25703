// EventWriter::WriteSummary: the `summary` event, the largest and rarest one (once per run).
#include <algorithm>
#include <vector>

#include "analyzer/event_writer.h"
#include "analyzer/names.h"

namespace sandtrace::analyzer {

void EventWriter::WriteSummary(const SummaryBuilder& summary, const SummaryContext& context,
                               const wire::End& end) {
  const uint64_t duration_ns = end.end_ns > context.start_ns ? end.end_ns - context.start_ns : 0;
  buffer_.Map(21);
  Fixed<"event_type">(buffer_);
  Fixed<"summary">(buffer_);
  Fixed<"timestamp">(buffer_);
  Timestamp(end.end_ns);
  Fixed<"run_id">(buffer_);
  Str(context.run_id);
  Fixed<"total_syscalls">(buffer_);
  buffer_.Uint(summary.total_syscalls());
  Fixed<"unique_syscalls">(buffer_);
  buffer_.Uint(summary.unique_syscalls());
  Fixed<"duration_ms">(buffer_);
  buffer_.Uint(duration_ns / 1000000);
  Fixed<"exit_code">(buffer_);
  buffer_.Int(end.exit_code);
  Fixed<"outcome">(buffer_);
  Str(wire::OutcomeName(end.outcome));
  Fixed<"denied_count">(buffer_);
  buffer_.Uint(summary.denied_count());
  Fixed<"process_count">(buffer_);
  buffer_.Uint(summary.process_count());
  Fixed<"thread_count">(buffer_);
  buffer_.Uint(summary.thread_count());
  Fixed<"timed_out">(buffer_);
  buffer_.Bool(end.outcome == wire::Outcome::kTimedOut);
  Fixed<"interrupted">(buffer_);
  buffer_.Bool(end.outcome == wire::Outcome::kInterrupted);

  Fixed<"files_accessed">(buffer_);
  buffer_.Array(static_cast<uint32_t>(summary.files_accessed().size()));
  for (const std::string& path : summary.files_accessed()) Str(path);

  Fixed<"network_attempts">(buffer_);
  buffer_.Array(static_cast<uint32_t>(summary.network_attempts().size()));
  for (const NetworkAttempt& attempt : summary.network_attempts()) {
    buffer_.Map(6);
    Fixed<"pid">(buffer_);
    buffer_.Int(attempt.pid);
    Fixed<"syscall">(buffer_);
    Str(attempt.syscall);
    Fixed<"family">(buffer_);
    Str(FamilyName(attempt.addr.family));
    Fixed<"address">(buffer_);
    Str(attempt.addr.address);
    Fixed<"port">(buffer_);
    buffer_.Int(attempt.addr.port);
    Fixed<"success">(buffer_);
    buffer_.Bool(attempt.success);
  }

  Fixed<"alert_count">(buffer_);
  buffer_.Uint(summary.alert_count());
  Fixed<"suspicious_activity">(buffer_);
  buffer_.Array(static_cast<uint32_t>(summary.suspicious_activity().size()));
  for (const SuspiciousAccess& alert : summary.suspicious_activity()) {
    const bool subject = !alert.subject_key.empty();
    buffer_.Map(4 + subject);
    Fixed<"pid">(buffer_);
    buffer_.Int(alert.pid);
    Fixed<"rule">(buffer_);
    Str(alert.rule);
    Fixed<"severity">(buffer_);
    Str(alert.severity);
    if (subject) {
      Str(alert.subject_key);
      Str(alert.subject);
    }
    Fixed<"syscall">(buffer_);
    Str(alert.syscall);
  }

  std::vector<SyscallCount> counts = summary.SyscallCounts();
  Fixed<"syscall_counts">(buffer_);
  buffer_.Map(static_cast<uint32_t>(counts.size()));
  for (const SyscallCount& count : counts) {
    Str(count.name);
    buffer_.Uint(count.calls);
  }
  std::erase_if(counts, [](const SyscallCount& c) { return c.failures == 0; });
  std::stable_sort(counts.begin(), counts.end(), [](const SyscallCount& a, const SyscallCount& b) {
    return a.failures > b.failures;
  });
  Fixed<"error_counts">(buffer_);
  buffer_.Map(static_cast<uint32_t>(counts.size()));
  for (const SyscallCount& count : counts) {
    Str(count.name);
    buffer_.Uint(count.failures);
  }
  Fixed<"gaps">(buffer_);
  buffer_.Uint(summary.gaps());
  Fixed<"analyzers">(buffer_);
  const uint32_t plugins = context.plugins ? static_cast<uint32_t>(context.plugins->size()) : 0;
  buffer_.Array(plugins);
  for (uint32_t i = 0; i < plugins; ++i) {
    const PluginStatus& plugin = (*context.plugins)[i];
    buffer_.Map(4);
    Fixed<"command">(buffer_);
    Str(plugin.command);
    Fixed<"state">(buffer_);
    Str(plugin.state);
    Fixed<"events">(buffer_);
    buffer_.Uint(plugin.events);
    Fixed<"rejected">(buffer_);
    buffer_.Uint(plugin.rejected);
  }
  ++count_;
}

}  // namespace sandtrace::analyzer
