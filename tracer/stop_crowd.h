// Tells, from the order in which traced tasks stop, whether the tracer takes turns with one or
// two running tasks (one busy program; a shell and the command it waits for) or with a crowd
// (three or more threads or processes stopping in turn).
//
// The tracer runs raised above the command when it may (tracer.cc). That pays when it takes
// turns with one task: raised, it gets the CPU at once when that task stops. With a crowd it
// preempts a running tracee at nearly every stop instead of taking several stops in one turn:
// on the benchmark VM, 4 threads used about 5 % more CPU raised, with no gain in wall time
// (docs/benchmarks.md). So the tracer drops the raise while the stops are crowded.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace sandtrace::tracer {

class StopCrowd {
 public:
  // Stops per look, and how many distinct tasks among them are still "few".
  static constexpr size_t kWindow = 16;
  static constexpr int kFew = 2;
  // Crowded looks in a row before the stops count as crowded. One look across a shell's
  // fork is not a crowd: the exiting child, the shell and its next child.
  static constexpr int kCrowdedLooks = 2;

  // Notes a stop of task `tid`. True when crowded() changed with it.
  bool Note(pid_t tid) {
    window_[filled_++] = tid;
    if (filled_ < kWindow) return false;
    filled_ = 0;
    crowded_looks_ = Distinct() > kFew ? crowded_looks_ + 1 : 0;
    const bool crowded = crowded_looks_ >= kCrowdedLooks;
    if (crowded == crowded_) return false;
    crowded_ = crowded;
    return true;
  }

  bool crowded() const { return crowded_; }

 private:
  int Distinct() const;

  pid_t window_[kWindow] = {};
  size_t filled_ = 0;
  int crowded_looks_ = 0;
  bool crowded_ = false;
};

}  // namespace sandtrace::tracer
