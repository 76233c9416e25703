// Waiting for the next ptrace stop: poll briefly, then sleep.
//
// A tracee that stops wakes its tracer, and the tracer's resume wakes the tracee. When the
// tracer sleeps in waitpid() its CPU goes idle, and on a virtual machine waking an idle vCPU
// costs far more than the stop itself (a halt and an interrupt through the hypervisor). Most
// stops of a busy tracee follow the last resume within microseconds, so the tracer first polls
// (waitpid with WNOHANG) for up to kPollNs and sleeps only when nothing came.
//
// Polling only pays where the stop usually comes in time, and that depends on what the tracee
// was resumed into: the exit of a getppid comes at once, the exit of an mmap or the next
// syscall after an execve seldom within kPollNs. So the caller names that "kind" (it uses a
// syscall number for the syscall's exit, another range for the user code after a syscall),
// and each kind keeps a score: a poll that finds the stop raises it (up to kMaxScore), one that
// finds nothing lowers it. A kind at 0 sleeps at once, but polls every kProbeEvery-th wait to
// notice a change. Kinds the caller knows to block (the exits of execve, wait4, poll, ...) are
// marked with AlwaysSleep() and never poll.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstdint>

namespace sandtrace::tracer {

// Source: pid_t Poll(int* status) (waitpid WNOHANG), pid_t Sleep(int* status) (blocking
// waitpid), uint64_t NowNs() (monotonic), bool Interrupted() (a signal handler set a flag the
// loop must see). Poll and Sleep return what waitpid returns.
template <typename Source>
class StopWaiter {
 public:
  static constexpr uint64_t kPollNs = 8'000;
  static constexpr uint32_t kKinds = 2048;
  static constexpr uint8_t kMaxScore = 3;
  static constexpr uint8_t kProbeEvery = 16;

  explicit StopWaiter(Source* source) : source_(source) {}

  // Waits for `kind` (taken modulo kKinds) sleep without polling.
  void AlwaysSleep(uint32_t kind) { kinds_[kind % kKinds].always_sleep = true; }

  // Like waitpid(-1, status, __WALL), for a stop expected from a tracee resumed into `kind`
  // (taken modulo kKinds). While polling it fails with EINTR as soon as source->Interrupted(),
  // as a sleeping waitpid would; the caller then checks its flags.
  pid_t Wait(int* status, uint32_t kind) {
    Kind& k = kinds_[kind % kKinds];
    if (k.always_sleep || (k.score == 0 && ++k.since_probe < kProbeEvery)) {
      return source_->Sleep(status);
    }
    k.since_probe = 0;
    const uint64_t start = source_->NowNs();
    do {
      const pid_t got = source_->Poll(status);
      if (got != 0) {
        if (got > 0 && k.score < kMaxScore) ++k.score;
        return got;
      }
      if (source_->Interrupted()) {
        errno = EINTR;
        return -1;
      }
    } while (source_->NowNs() - start < kPollNs);
    if (k.score > 0) --k.score;
    return source_->Sleep(status);
  }

 private:
  struct Kind {
    uint8_t score = 1;        // polls first
    uint8_t since_probe = 0;  // waits slept at once since the last poll, at score 0
    bool always_sleep = false;
  };

  Source* source_;
  Kind kinds_[kKinds];
};

}  // namespace sandtrace::tracer
