// The ptrace loop, in the manner of `strace -f`: follows every process and thread (fork, vfork,
// clone, clone3), records one SyscallRecord per syscall entry (completed at its exit stop, or
// when the thread dies or is superseded by an execve), spawn/exec/exit records, passes signals
// through unchanged, and holds group-stops (tracees are seized, so PTRACE_LISTEN works). Stop requests (timeout,
// SIGINT/SIGTERM/SIGHUP to the tracer) kill the whole tree, which is then reaped to the end.
#pragma once

#include <sys/ptrace.h>
#include <sys/types.h>

#include <cstdint>
#include <unordered_map>

#include "common/wire/records.h"
#include "launcher/seccomp_filter.h"
#include "tracer/clock.h"
#include "tracer/publisher.h"

namespace sandtrace::tracer {

// A set of syscall numbers, tested once per syscall entry.
class SyscallSet {
 public:
  void Set(int32_t nr) {
    if (nr >= 0 && nr < kSize) bits_[nr / 64] |= 1ull << (nr % 64);
  }
  bool Has(int32_t nr) const { return nr >= 0 && nr < kSize && (bits_[nr / 64] >> (nr % 64)) & 1; }

 private:
  static constexpr int32_t kSize = 1024;
  uint64_t bits_[kSize / 64] = {};
};

struct LoopOptions {
  bool follow_forks = true;
  int timeout_s = 30;  // 0: no limit
  // Enforcing without --allow-exec: any execve after the command's own fails with EPERM.
  bool deny_later_execs = false;
  // Enforcing: fork/vfork/clone fail with EAGAIN (recorded as `deny`) while this many threads
  // and processes are traced. Unlike RLIMIT_NPROC this also holds for a sandboxed root.
  size_t max_tasks = 0;  // 0: no limit
  // The seccomp program the command runs under: syscalls it denies are marked `deny`.
  const launcher::SeccompProgram* seccomp = nullptr;
  // Enforcing with a policy allow_exec list: Landlock refuses other programs with EACCES; the
  // tracer reports such an execve as EPERM + `deny`, as deny_later_execs would.
  bool landlock_exec_denials = false;
  // Syscalls the policy lists as log_only: recorded with action `log_only` (unless denied).
  SyscallSet log_only;
  // --trace: the command runs under a SECCOMP_RET_TRACE pre-filter. Tracees run with
  // PTRACE_CONT and stop only at the seccomp stop of a selected syscall (its entry), then at
  // its exit (PTRACE_SYSCALL for that one call).
  bool seccomp_stops = false;
};

// Why the loop killed the tree (kNone: it did not).
enum class KillReason { kNone, kTimeout, kSignal, kPublishFailed, kRootGone, kAttachFailed };

struct LoopResult {
  bool root_reaped = false;
  int root_status = 0;  // waitpid status of the root
  KillReason kill_reason = KillReason::kNone;
  int stop_signal = 0;  // the signal sandtrace received, for kSignal
  Error publish_error;  // for kPublishFailed and kAttachFailed
};

// Installs the tracer's handlers: SIGINT/SIGTERM/SIGHUP request a stop; SIGALRM ticks every
// 100 ms so a blocked waitpid() wakes up to check the timeout. Call before Run().
void InstallStopHandlers();

// Stops the 100 ms tick (after Run(): nothing is left to time out).
void StopTicks();

// Makes the next tick come after `ns` (then every 100 ms again).
void TickIn(uint64_t ns);

class PtraceLoop {
 public:
  PtraceLoop(Publisher* publisher, const Clock* clock, LoopOptions options);

  // `root` is a child that stopped itself with SIGSTOP after PTRACE_TRACEME, and whose stop the
  // caller already collected (AwaitCommandStop); `init` is the sandbox's PID 1 (killing it kills
  // every sandboxed process). Sets options, resumes the root, traces until no traced process
  // is left, and kills what is left then (the init, untraced leftovers of --follow-forks=false).
  LoopResult Run(pid_t root, pid_t init);

  // Waits until every child left after Run() is reaped, killing stragglers again on each tick.
  // Nothing of it goes into the trace: the caller sends the end of the trace first.
  void ReapRest();

 private:
  struct Tracee {
    pid_t tid = 0;
    pid_t tgid = 0;
    bool in_syscall = false;
    uint64_t entry_mono_ns = 0;
    uint64_t clone_flags = 0;          // flags of the clone/clone3 in progress
    int skip_errno = 0;                // the syscall in progress was cancelled by us: its errno
    wire::SyscallRecord pending;
    bool exec_pending = false;
    wire::ExecRecord exec;
  };

  void HandleExit(pid_t pid, int status);
  void HandleStop(pid_t pid, int status);
  void HandleSyscallStop(Tracee& t);
  void HandleNewChild(Tracee& parent, int event);
  void HandleExec(pid_t pid);
  Status Reattach(pid_t root, long options);
  void Cancel(Tracee& t, int error);
  Tracee& AddTracee(pid_t tid, pid_t tgid);
  void FinishPending(Tracee& t, bool returned, int64_t ret);
  void Resume(pid_t pid, int sig);
  void Resume(const Tracee& t, int sig);
  // PTRACE_SYSCALL, or PTRACE_CONT for a tracee outside a selected syscall under --trace.
  __ptrace_request ResumeRequest(bool in_syscall) const;
  void Publish(const auto& record);
  // `now_ns`: the caller's CLOCK_REALTIME reading, when it has one (the batch's age check).
  void Publish(const auto& record, uint64_t now_ns);
  // A failed publish (a record, a batch) ends the run: the error is kept, the tree killed.
  void CheckPublished(const Status& sent);
  // The batch holds a process event: it goes out within Publisher::kUrgentDelayNs.
  void PublishSoon();
  void Tick();
  // KillSandbox, then KillOrphans.
  void KillTree(KillReason reason);
  // Kills the init (and with it the sandbox's PID namespace) and every tracee.
  void KillSandbox(KillReason reason);
  // Kills every other child of ours, found by a scan of /proc (orphans re-parented to us).
  void KillOrphans();

  Publisher* publisher_;
  const Clock* clock_;
  LoopOptions options_;
  std::unordered_map<pid_t, Tracee> tracees_;
  pid_t root_ = 0;
  pid_t init_ = 0;
  bool command_exec_done_ = false;  // the command's own execve succeeded
  uint64_t deadline_mono_ns_ = 0;
  LoopResult result_;
};

}  // namespace sandtrace::tracer
