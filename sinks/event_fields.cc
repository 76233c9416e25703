#include "sinks/event_fields.h"

#include <time.h>

#include <cstdio>
#include <cstring>

#include "common/utc_time.h"

namespace sandtrace::sinks {

const msgpack::object* Field(const msgpack::object& map, std::string_view key) {
  if (map.type != msgpack::type::MAP) return nullptr;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object_kv& kv = map.via.map.ptr[i];
    // Size and first byte before memcmp: most keys of an event differ in one of them.
    if (kv.key.type == msgpack::type::STR && kv.key.via.str.size == key.size() &&
        (key.empty() || (kv.key.via.str.ptr[0] == key[0] &&
                         std::memcmp(kv.key.via.str.ptr, key.data(), key.size()) == 0))) {
      return &kv.val;
    }
  }
  return nullptr;
}

std::string_view AsText(const msgpack::object* object, std::string_view fallback) {
  if (object == nullptr) return fallback;
  if (object->type == msgpack::type::STR) {
    return std::string_view(object->via.str.ptr, object->via.str.size);
  }
  if (object->type == msgpack::type::BIN) {
    return std::string_view(object->via.bin.ptr, object->via.bin.size);
  }
  return fallback;
}

std::optional<int64_t> AsInt(const msgpack::object* object) {
  if (object == nullptr) return std::nullopt;
  if (object->type == msgpack::type::POSITIVE_INTEGER) {
    return static_cast<int64_t>(object->via.u64);
  }
  if (object->type == msgpack::type::NEGATIVE_INTEGER) return object->via.i64;
  return std::nullopt;
}

std::optional<bool> AsBool(const msgpack::object* object) {
  if (object == nullptr || object->type != msgpack::type::BOOLEAN) return std::nullopt;
  return object->via.boolean;
}

std::string FormatTimestamp(uint64_t unix_ns) {
  const int64_t seconds = static_cast<int64_t>(unix_ns / 1000000000);
  const unsigned micros = static_cast<unsigned>(unix_ns % 1000000000 / 1000);
  const UtcTime utc = UtcFromUnixSeconds(seconds);
  char buffer[96];  // room for any value the compiler thinks the fields may hold
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02u:%02u:%02u.%06uZ",
                static_cast<long long>(utc.year), utc.month, utc.day, utc.hour, utc.minute,
                utc.second, micros);
  return buffer;
}

std::string NowTimestamp() {
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  return FormatTimestamp(static_cast<uint64_t>(now.tv_sec) * 1000000000 +
                         static_cast<uint64_t>(now.tv_nsec));
}

std::optional<uint64_t> ParseTimestamp(std::string_view text) {
  const std::string copy(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  const int64_t seconds = UnixSecondsFromUtc(UtcTime{
      year, static_cast<unsigned>(month), static_cast<unsigned>(day), static_cast<unsigned>(hour),
      static_cast<unsigned>(minute), static_cast<unsigned>(second)});
  if (seconds < 0) return std::nullopt;
  uint64_t fraction_ns = 0;
  size_t pos = static_cast<size_t>(consumed);
  if (pos < copy.size() && copy[pos] == '.') {
    uint64_t scale = 100000000;
    for (++pos; pos < copy.size() && copy[pos] >= '0' && copy[pos] <= '9'; ++pos) {
      fraction_ns += static_cast<uint64_t>(copy[pos] - '0') * scale;
      scale /= 10;
    }
  }
  if (pos >= copy.size() || copy[pos] != 'Z') return std::nullopt;
  return static_cast<uint64_t>(seconds) * 1000000000 + fraction_ns;
}

}  // namespace sandtrace::sinks
