// Test helper: unpacks the events an EventWriter (or a sink channel) holds and reads their
// fields by key, so that tests can check the schema of docs/events.md.
#pragma once

#include <gtest/gtest.h>

#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/wire/codec.h"

namespace sandtrace::analyzer::testing {

class Events {
 public:
  Events(const char* data, size_t size, uint32_t count) {
    Status s = wire::UnpackObjects(data, size, count, &handles_);
    EXPECT_TRUE(s.ok()) << s.error().message();
  }
  size_t size() const { return handles_.size(); }
  const msgpack::object& operator[](size_t i) const { return handles_[i].get(); }
  // Events whose event_type is `type` (and, if given, whose action is `action`).
  std::vector<const msgpack::object*> OfType(std::string_view type,
                                             std::string_view action = {}) const;

 private:
  std::vector<msgpack::object_handle> handles_;
};

// The value under `key` of a map, or nullptr.
const msgpack::object* Find(const msgpack::object& map, std::string_view key);
// Value accessors; a missing key or a wrong type fails the test and returns a default.
std::string Str(const msgpack::object& map, std::string_view key);
int64_t Int(const msgpack::object& map, std::string_view key);
bool Bool(const msgpack::object& map, std::string_view key);
const msgpack::object& Map(const msgpack::object& map, std::string_view key);
std::vector<std::string> StrList(const msgpack::object& map, std::string_view key);
// The sorted keys of a map.
std::vector<std::string> Keys(const msgpack::object& map);

}  // namespace sandtrace::analyzer::testing
