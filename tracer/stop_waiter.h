// Waiting for the next ptrace stop: poll briefly, then sleep.
//
// A tracee that stops wakes its tracer, and the tracer's resume wakes the tracee. When the
// tracer sleeps in waitpid() its CPU goes idle, and on a virtual machine waking an idle vCPU
// costs far more than the stop itself (a halt and an interrupt through the hypervisor). Most
// stops of a busy tracee follow the last resume within microseconds, so the tracer first polls
// (waitpid with WNOHANG) for up to kPollNs and sleeps only when nothing came. Like an adaptive
// mutex it stops polling where polling does not pay: after a poll that found nothing the next
// 2^k - 1 waits sleep at once (k: consecutive empty polls, at most kMaxBackoff), and a caller
// that knows the tracee it just resumed will block (execve, wait4, poll, ...) says so with
// SleepNext().
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstdint>

namespace sandtrace::tracer {

struct StopWaiterStats {
  uint64_t waits = 0;
  uint64_t polled_hits = 0;    // a poll found the stop
  uint64_t polled_misses = 0;  // polled for kPollNs, then slept
  uint64_t slept = 0;          // slept at once (backing off, or SleepNext)
};

// Source: pid_t Poll(int* status) (waitpid WNOHANG), pid_t Sleep(int* status) (blocking
// waitpid), uint64_t NowNs() (monotonic), bool Interrupted() (a signal handler set a flag the
// loop must see). Poll and Sleep return what waitpid returns.
template <typename Source>
class StopWaiter {
 public:
  static constexpr uint64_t kPollNs = 8'000;
  static constexpr int kMaxBackoff = 6;

  explicit StopWaiter(Source* source) : source_(source) {}

  // The next Wait sleeps without polling.
  void SleepNext() { sleep_next_ = true; }

  // Like waitpid(-1, status, __WALL). While polling it fails with EINTR as soon as
  // source->Interrupted(), as a sleeping waitpid would; the caller then checks its flags.
  pid_t Wait(int* status) {
    ++stats_.waits;
    if (sleep_next_ || skip_ > 0) {
      if (!sleep_next_) --skip_;
      sleep_next_ = false;
      ++stats_.slept;
      return source_->Sleep(status);
    }
    const uint64_t start = source_->NowNs();
    do {
      const pid_t got = source_->Poll(status);
      if (got != 0) {
        misses_ = 0;
        ++stats_.polled_hits;
        return got;
      }
      if (source_->Interrupted()) {
        errno = EINTR;
        return -1;
      }
    } while (source_->NowNs() - start < kPollNs);
    if (misses_ < kMaxBackoff) ++misses_;
    skip_ = (1 << misses_) - 1;
    ++stats_.polled_misses;
    return source_->Sleep(status);
  }

  const StopWaiterStats& stats() const { return stats_; }

 private:
  Source* source_;
  bool sleep_next_ = false;
  int misses_ = 0;  // consecutive polls that found nothing
  int skip_ = 0;    // waits left that sleep at once
  StopWaiterStats stats_;
};

}  // namespace sandtrace::tracer
