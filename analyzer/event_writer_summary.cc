// EventWriter::WriteSummary: the `summary` event, the largest and rarest one (once per run).
#include <algorithm>
#include <vector>

#include "analyzer/event_writer.h"
#include "analyzer/names.h"

namespace sandtrace::analyzer {

void EventWriter::WriteSummary(const SummaryBuilder& summary, const SummaryContext& context,
                               const wire::End& end) {
  const uint64_t duration_ns = end.end_ns > context.start_ns ? end.end_ns - context.start_ns : 0;
  packer_.pack_map(21);
  Fixed<"event_type">();
  Fixed<"summary">();
  Fixed<"timestamp">();
  Timestamp(end.end_ns);
  Fixed<"run_id">();
  Str(context.run_id);
  Fixed<"total_syscalls">();
  packer_.pack_uint64(summary.total_syscalls());
  Fixed<"unique_syscalls">();
  packer_.pack_uint64(summary.unique_syscalls());
  Fixed<"duration_ms">();
  packer_.pack_uint64(duration_ns / 1000000);
  Fixed<"exit_code">();
  packer_.pack_int32(end.exit_code);
  Fixed<"outcome">();
  Str(wire::OutcomeName(end.outcome));
  Fixed<"denied_count">();
  packer_.pack_uint64(summary.denied_count());
  Fixed<"process_count">();
  packer_.pack_uint64(summary.process_count());
  Fixed<"thread_count">();
  packer_.pack_uint64(summary.thread_count());
  Fixed<"timed_out">();
  packer_.pack(end.outcome == wire::Outcome::kTimedOut);
  Fixed<"interrupted">();
  packer_.pack(end.outcome == wire::Outcome::kInterrupted);

  Fixed<"files_accessed">();
  packer_.pack_array(static_cast<uint32_t>(summary.files_accessed().size()));
  for (const std::string& path : summary.files_accessed()) Str(path);

  Fixed<"network_attempts">();
  packer_.pack_array(static_cast<uint32_t>(summary.network_attempts().size()));
  for (const NetworkAttempt& attempt : summary.network_attempts()) {
    packer_.pack_map(6);
    Fixed<"pid">();
    packer_.pack_int32(attempt.pid);
    Fixed<"syscall">();
    Str(attempt.syscall);
    Fixed<"family">();
    Str(FamilyName(attempt.addr.family));
    Fixed<"address">();
    Str(attempt.addr.address);
    Fixed<"port">();
    packer_.pack_int(attempt.addr.port);
    Fixed<"success">();
    packer_.pack(attempt.success);
  }

  Fixed<"alert_count">();
  packer_.pack_uint64(summary.alert_count());
  Fixed<"suspicious_activity">();
  packer_.pack_array(static_cast<uint32_t>(summary.suspicious_activity().size()));
  for (const SuspiciousAccess& alert : summary.suspicious_activity()) {
    const bool subject = !alert.subject_key.empty();
    packer_.pack_map(4 + subject);
    Fixed<"pid">();
    packer_.pack_int32(alert.pid);
    Fixed<"rule">();
    Str(alert.rule);
    Fixed<"severity">();
    Str(alert.severity);
    if (subject) {
      Str(alert.subject_key);
      Str(alert.subject);
    }
    Fixed<"syscall">();
    Str(alert.syscall);
  }

  std::vector<SyscallCount> counts = summary.SyscallCounts();
  Fixed<"syscall_counts">();
  packer_.pack_map(static_cast<uint32_t>(counts.size()));
  for (const SyscallCount& count : counts) {
    Str(count.name);
    packer_.pack_uint64(count.calls);
  }
  std::erase_if(counts, [](const SyscallCount& c) { return c.failures == 0; });
  std::stable_sort(counts.begin(), counts.end(), [](const SyscallCount& a, const SyscallCount& b) {
    return a.failures > b.failures;
  });
  Fixed<"error_counts">();
  packer_.pack_map(static_cast<uint32_t>(counts.size()));
  for (const SyscallCount& count : counts) {
    Str(count.name);
    packer_.pack_uint64(count.failures);
  }
  Fixed<"gaps">();
  packer_.pack_uint64(summary.gaps());
  Fixed<"analyzers">();
  const uint32_t plugins = context.plugins ? static_cast<uint32_t>(context.plugins->size()) : 0;
  packer_.pack_array(plugins);
  for (uint32_t i = 0; i < plugins; ++i) {
    const PluginStatus& plugin = (*context.plugins)[i];
    packer_.pack_map(4);
    Fixed<"command">();
    Str(plugin.command);
    Fixed<"state">();
    Str(plugin.state);
    Fixed<"events">();
    packer_.pack_uint64(plugin.events);
    Fixed<"rejected">();
    packer_.pack_uint64(plugin.rejected);
  }
  ++count_;
}

}  // namespace sandtrace::analyzer
