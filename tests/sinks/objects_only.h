// A sink seen only as a Sink: an EventStream in front of it hands it unpacked objects even when
// the sink is also an EncodedSink. Tests compare the two paths through one JSONL sink with it.
#pragma once

#include "sinks/sink.h"

namespace sandtrace::sinks::testing {

class ObjectsOnly : public Sink {
 public:
  explicit ObjectsOnly(Sink* sink) : sink_(sink) {}
  Status Write(const msgpack::object& event) override { return sink_->Write(event); }
  Status Flush() override { return sink_->Flush(); }
  Status Close() override { return sink_->Close(); }

 private:
  Sink* sink_;
};

}  // namespace sandtrace::sinks::testing
