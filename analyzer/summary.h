// Accumulates the figures of the run's `summary` event (docs/events.md) while the analyser
// turns records into events: syscall and error counts per syscall, denials, processes and
// threads, the files a run touched, its network attempts, the alerts raised (built-in rules
// and plug-ins: `alert_count` and `suspicious_activity`) and the records the pipeline lost. Lists are capped so that a pathological run cannot
// exhaust the analyser's memory; the caps are far above what a normal run produces.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "analyzer/decoder.h"
#include "analyzer/syscall_table.h"

namespace sandtrace::analyzer {

inline constexpr size_t kMaxFilesAccessed = 10000;
inline constexpr size_t kMaxNetworkAttempts = 10000;
inline constexpr size_t kMaxSuspicious = 10000;
// Distinct numbers outside the syscall table that are counted one by one; calls to further
// ones are counted together under kOtherNumbersName.
inline constexpr size_t kMaxOtherNumbers = 65536;
inline constexpr char kOtherNumbersName[] = "syscall_other";

struct NetworkAttempt {
  int32_t pid = 0;
  std::string syscall;
  SocketAddress addr;
  bool success = false;
};

// One alert as `suspicious_activity` lists it.
struct SuspiciousAccess {
  int32_t pid = 0;
  std::string rule;
  std::string severity;
  std::string subject_key;  // "path", "address" or "" (no subject)
  std::string subject;
  std::string syscall;
};

// How an external analyser (plug-in) fared, for the summary's `analyzers` list.
struct PluginStatus {
  std::string command;
  std::string state;  // "ok", or what went wrong ("exited with status 3", "killed by SEGV")
  uint64_t events = 0;    // events forwarded to the outputs
  uint64_t rejected = 0;  // objects refused (not a map, a reserved event_type, ...)
};

struct SyscallCount {
  std::string name;
  uint64_t calls = 0;
  uint64_t failures = 0;
};

// What the summary needs to know about one syscall event.
struct SyscallFacts {
  int64_t nr = 0;
  std::string_view name;
  int32_t pid = 0;
  bool success = true;
  bool denied = false;
  const DecodedArgs* decoded = nullptr;
};

class SummaryBuilder {
 public:
  SummaryBuilder();

  // Counts one syscall event.
  void AddSyscall(const SyscallFacts& facts);
  // Counts a traced process (thread group) or thread; the root counts as a process.
  void AddProcess() {
    ++processes_;
    ++threads_;
  }
  void AddThread() { ++threads_; }
  // Counts records lost in the pipeline.
  void AddLost(uint64_t records) { lost_records_ += records; }
  // Counts one alert event of the stream and lists it (the first kMaxSuspicious).
  void AddAlert(SuspiciousAccess alert);

  uint64_t total_syscalls() const { return total_; }
  uint64_t unique_syscalls() const;
  uint64_t denied_count() const { return denied_; }
  uint64_t process_count() const { return processes_; }
  uint64_t thread_count() const { return threads_; }
  uint64_t gaps() const { return lost_records_; }
  uint64_t alert_count() const { return alerts_; }
  const std::vector<std::string>& files_accessed() const { return files_; }
  const std::vector<NetworkAttempt>& network_attempts() const { return network_; }
  const std::vector<SuspiciousAccess>& suspicious_activity() const { return suspicious_; }
  // Every syscall made at least once, most frequent first (ties by name).
  std::vector<SyscallCount> SyscallCounts() const;

 private:
  struct Counts {
    uint64_t calls = 0;
    uint64_t failures = 0;
  };
  // Heterogeneous lookup: a string_view finds a std::string without copying it.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using StringSet = std::unordered_set<std::string, Hash, std::equal_to<>>;

  Counts& CountsOf(int64_t nr) {
    if (FindSyscall(nr) != nullptr) return table_counts_[static_cast<size_t>(nr)];
    return OtherCountsOf(nr);
  }
  Counts& OtherCountsOf(int64_t nr);  // numbers outside the table
  void AddPath(std::string_view path);

  uint64_t total_ = 0;
  uint64_t denied_ = 0;
  uint64_t processes_ = 0;
  uint64_t threads_ = 0;
  uint64_t lost_records_ = 0;
  std::vector<Counts> table_counts_;        // by number, for numbers in the table
  std::map<int64_t, Counts> other_counts_;  // numbers outside the table
  Counts overflow_counts_;                  // numbers beyond kMaxOtherNumbers of those
  std::vector<std::string> files_;
  StringSet seen_files_;
  std::vector<NetworkAttempt> network_;
  uint64_t alerts_ = 0;
  std::vector<SuspiciousAccess> suspicious_;
};

}  // namespace sandtrace::analyzer
