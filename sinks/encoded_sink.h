// An optional second face of a Sink: taking an event as its MessagePack encoding, exactly the
// bytes the analyser sent, instead of a msgpack::object tree. The EventStream uses it for every
// event but the summary when the sink implements it (the JSONL sink transcodes the bytes
// straight to JSON), which spares unpacking each batch into objects.
#pragma once

#include <string_view>

#include "common/result.h"

namespace sandtrace::sinks {

class EncodedSink {
 public:
  virtual ~EncodedSink() = default;

  // Takes one event: `event` is one well-formed MessagePack map (checked by the caller) whose
  // "event_type" is a non-empty string; valid only during the call. The output must be the
  // same as Sink::Write of the unpacked map.
  virtual Status WriteEncoded(std::string_view event) = 0;
};

}  // namespace sandtrace::sinks
