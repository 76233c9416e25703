// MessagePack object -> JSON text, on the hot path of the JSONL sink (one call per event).
// Integers stay exact (int64 and uint64, raw syscall arguments can be >= 2^63), map keys keep
// their order, strings are escaped per RFC 8259 and always come out as valid UTF-8: a byte
// that is not part of a valid UTF-8 sequence is written as the text \xNN (see text_escape.h).
// BIN and EXT values are written as strings in the same way. NaN and infinities, which JSON
// cannot express, become null; so does anything nested deeper than kMaxJsonDepth. A map key
// that is not a string is written as the string of its JSON, in which a key of that kind is
// "null" (so that text stays as long as its MessagePack, give or take escapes).
#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string>
#include <string_view>

#include "sinks/json_key_cache.h"
#include "sinks/text_buffer.h"

namespace sandtrace::sinks {

inline constexpr int kMaxJsonDepth = 64;

// Appends the JSON text of `object` (no trailing newline) to `out`. The TextBuffer overload
// is the fast one (no zero-filling of the reserved room).
void AppendJson(const msgpack::object& object, TextBuffer* out);
void AppendJson(const msgpack::object& object, std::string* out);

// Told the entries of a top-level map as it is transcoded: for each key that is a MessagePack
// str and that the visitor wants, the bytes from the start of its value to the end of the input
// (the value and whatever follows it). The JSONL sink's EventStream reads the few fields it
// counts this way, in the same pass as the transcoding.
class MapEntryVisitor {
 public:
  virtual ~MapEntryVisitor() = default;
  // What the visitor wants of `key`'s entries: 0 for nothing, otherwise a tag of its own that
  // Entry gets back. It must depend on the key alone, and be the same for every visitor passed
  // with one JsonKeyCache: the cache remembers the answer.
  virtual uint8_t Interest(std::string_view key) const = 0;
  virtual void Entry(uint8_t interest, std::string_view key, const char* value,
                     const char* end) = 0;
};

// The same text straight from the MessagePack encoding of the first value in `msgpack` (others
// may follow it: the rest of a batch), without building an object tree; only a value with a
// map key that is neither str nor bin is unpacked first. When the value is a map, `visitor`
// (may be null) is told its entries. `keys` (may be null) remembers key texts from one call to
// the next. Returns the number of bytes the value took, or 0 when it is malformed or cut;
// `out` then holds a partial text after its former contents.
size_t AppendFirstJsonFromMsgpack(std::string_view msgpack, TextBuffer* out,
                                  MapEntryVisitor* visitor, JsonKeyCache* keys = nullptr);

// Appends `bytes` as a quoted, escaped JSON string to `out`.
void AppendJsonString(std::string_view bytes, TextBuffer* out);
void AppendJsonString(std::string_view bytes, std::string* out);

// The JSON text of `object` as a new string.
std::string ToJson(const msgpack::object& object);

}  // namespace sandtrace::sinks
