#include "tracer/stop_crowd.h"

namespace sandtrace::tracer {

int StopCrowd::Distinct() const {
  int distinct = 0;
  for (size_t i = 0; i < kWindow; ++i) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) seen = window_[j] == window_[i];
    if (!seen) ++distinct;
  }
  return distinct;
}

}  // namespace sandtrace::tracer
