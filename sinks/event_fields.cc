#include "sinks/event_fields.h"

#include <time.h>

#include <cstdio>
#include <cstring>

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
  const time_t seconds = static_cast<time_t>(unix_ns / 1000000000);
  const unsigned micros = static_cast<unsigned>(unix_ns % 1000000000 / 1000);
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char buffer[96];  // room for any int the compiler thinks tm fields may hold
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, micros);
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
  struct tm utc {};
  int consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon,
                  &utc.tm_mday, &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  const time_t seconds = timegm(&utc);
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
