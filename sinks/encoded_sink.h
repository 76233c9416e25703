// An optional second face of a Sink: taking events as their MessagePack encoding, exactly the
// bytes the analyser sent, instead of a msgpack::object tree. The EventStream uses it for every
// event but the summary when the sink implements it (the JSONL sink transcodes the bytes
// straight to JSON), which spares unpacking each batch into objects; and it reads the fields it
// counts in the same pass (MapEntryVisitor).
//
// What the sink appends stays pending, cut back at will, until Sink::Flush: the stream takes
// back an event it does not pass on (the summary, an event without event_type) or a whole batch
// that turns out malformed part-way.
#pragma once

#include <cstddef>
#include <string_view>

#include "sinks/json_writer.h"

namespace sandtrace::sinks {

class EncodedSink {
 public:
  virtual ~EncodedSink() = default;

  // Appends the event that `bytes` starts with (one MessagePack value, followed by the rest of
  // its batch), telling `visitor` the entries of its map. The output must be the same as
  // Sink::Write of the unpacked value. Returns the bytes the event took, 0 when it is malformed
  // or cut (the pending output is then unspecified past where it stood). The sink may remember
  // the visitor's Interest in a key from one event to the next.
  virtual size_t AppendEncoded(std::string_view bytes, MapEntryVisitor* visitor) = 0;
  // How much output is pending; CutPending(n) drops whatever was appended after it was n.
  virtual size_t pending() const = 0;
  virtual void CutPending(size_t pending) = 0;
};

}  // namespace sandtrace::sinks
