// Read access to the fields of one event map (docs/events.md) without copying: look-ups by
// key return views into the MessagePack zone, valid while the event is. Absent keys and values
// of the wrong type read as the fallback, so a sink never throws on a malformed event. Also
// the timestamp format every event uses (RFC 3339 UTC with microseconds and "Z").
#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace sandtrace::sinks {

// The value stored under `key` in `map`, or nullptr when `map` is no map or lacks the key.
const msgpack::object* Field(const msgpack::object& map, std::string_view key);

// STR or BIN bytes of `object`, or `fallback` for other types.
std::string_view AsText(const msgpack::object* object, std::string_view fallback = "");
// Integer value of `object` (uint64 above INT64_MAX wraps to its two's complement), or nullopt.
std::optional<int64_t> AsInt(const msgpack::object* object);
std::optional<bool> AsBool(const msgpack::object* object);

inline std::string_view TextField(const msgpack::object& map, std::string_view key,
                                  std::string_view fallback = "") {
  return AsText(Field(map, key), fallback);
}
inline int64_t IntField(const msgpack::object& map, std::string_view key, int64_t fallback = 0) {
  return AsInt(Field(map, key)).value_or(fallback);
}
inline bool BoolField(const msgpack::object& map, std::string_view key, bool fallback = false) {
  return AsBool(Field(map, key)).value_or(fallback);
}

// The event's "event_type" ("" when missing).
inline std::string_view EventType(const msgpack::object& event) {
  return TextField(event, "event_type");
}

// "2026-11-28T22:40:39.123456Z" for `unix_ns` nanoseconds since the epoch.
std::string FormatTimestamp(uint64_t unix_ns);
// The current CLOCK_REALTIME time in that format.
std::string NowTimestamp();
// Nanoseconds since the epoch of such a timestamp (fraction optional), or nullopt.
std::optional<uint64_t> ParseTimestamp(std::string_view text);

}  // namespace sandtrace::sinks
