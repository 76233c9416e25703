// Timestamps for records: one vDSO call per reading. Wall-clock (CLOCK_REALTIME) times are
// derived from CLOCK_MONOTONIC with an offset fixed at start, so durations never go backwards.
#pragma once

#include <time.h>

#include <cstdint>

namespace sandtrace::tracer {

class Clock {
 public:
  Clock() { offset_ns_ = Read(CLOCK_REALTIME) - Read(CLOCK_MONOTONIC); }
  uint64_t MonotonicNs() const { return Read(CLOCK_MONOTONIC); }
  uint64_t ToRealtimeNs(uint64_t mono_ns) const { return mono_ns + offset_ns_; }
  uint64_t RealtimeNs() const { return ToRealtimeNs(MonotonicNs()); }

 private:
  static uint64_t Read(clockid_t id) {
    timespec ts;
    clock_gettime(id, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
  }
  uint64_t offset_ns_ = 0;
};

}  // namespace sandtrace::tracer
