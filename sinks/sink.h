// The interface of an output: the JSONL file, the SQLite database, the terminal view. A sink
// sees the events of one run in stream order (docs/events.md): `sandbox` first, `summary` last
// and exactly once (the EventStream guarantees both, synthesising a summary if the analyser's
// never came). Sinks never throw; an Error ends their output but not the pipeline.
#pragma once

#include <msgpack.hpp>

#include "common/result.h"

namespace sandtrace::sinks {

class Sink {
 public:
  virtual ~Sink() = default;

  // The sink has reported itself ready and the run is about to start: the moment to change
  // what is on disk (an existing output is emptied only once the run goes ahead). Errors end
  // the sink like any other.
  virtual Status Begin() { return {}; }
  // Takes one event map. `event` is valid only during the call.
  virtual Status Write(const msgpack::object& event) = 0;
  // End of a received batch: make what was written so far visible (write out, commit). A sink
  // may defer this for throughput, but only until the next Idle or Close.
  virtual Status Flush() = 0;
  // No message arrived for a while (~100 ms): nothing written may stay pending any longer.
  virtual Status Idle() { return {}; }
  // End of the stream, after the summary: finish the output and release it.
  virtual Status Close() = 0;
};

}  // namespace sandtrace::sinks
