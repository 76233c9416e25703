// Synthetic events for the sink tests: a JSON-like value tree that packs into MessagePack,
// canned events shaped like docs/events.md, wire messages carrying them, and a strict JSON
// checker for what the sinks write.
#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/wire/channel.h"
#include "tests/support/temp_dir.h"

namespace sandtrace::sinks::testing {

struct Bin {
  std::string bytes;
};

class Value {
 public:
  using Array = std::vector<Value>;
  using Map = std::vector<std::pair<std::string, Value>>;

  Value() : v_(nullptr) {}
  Value(std::nullptr_t) : v_(nullptr) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(static_cast<int64_t>(i)) {}
  Value(long i) : v_(static_cast<int64_t>(i)) {}
  Value(long long i) : v_(static_cast<int64_t>(i)) {}
  Value(unsigned long u) : v_(static_cast<uint64_t>(u)) {}
  Value(unsigned long long u) : v_(static_cast<uint64_t>(u)) {}
  Value(double d) : v_(d) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(Bin b) : v_(std::move(b)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Map m) : v_(std::move(m)) {}

  void Pack(msgpack::packer<msgpack::sbuffer>& p) const;

 private:
  std::variant<std::nullptr_t, bool, int64_t, uint64_t, double, std::string, Bin, Array, Map> v_;
};

using Map = Value::Map;
using Array = Value::Array;

msgpack::object_handle ToObject(const Value& value);

// Events in the shape of docs/events.md.
Value SandboxEvent(const std::string& run_id,
                   const std::string& timestamp = "2026-11-28T22:40:39.000000Z");
Value SyscallEvent(int pid, const std::string& name, const std::string& category, long long ret = 0,
                   const std::string& action = "allow", Map decoded = {},
                   const std::string& error = "");
Value OpenatEvent(int pid, const std::string& path, const std::string& flags, long long ret,
                  const std::string& category);
Value ConnectEvent(int pid, const std::string& address, int port, long long ret);
Value SpawnEvent(int pid, int ppid, bool thread = false);
Value ExecEvent(int pid, const std::string& path, Array argv);
Value ExitedEvent(int pid, int code);
Value SignaledEvent(int pid, const std::string& signal);
Value AlertEvent(int pid, const std::string& rule, const std::string& severity);
Value GapEvent(const std::string& stage, int lost_records, int lost_messages);
Value SummaryEvent(const std::string& run_id, int total_syscalls, int exit_code = 0, int gaps = 0);

// Wire messages as a Receiver would hand them out.
wire::Message BatchMessage(const std::vector<Value>& events, uint64_t seq = 0,
                           uint64_t first_index = 0);
wire::Message EndMessage(uint64_t seq = 0, uint64_t first_index = 0);
std::string PackBody(const std::vector<Value>& events);

// True when `text` is one valid RFC 8259 JSON value in valid UTF-8 (whitespace around allowed).
bool IsValidJson(std::string_view text);

// The lines of `text` (without the newlines); a final unterminated line is kept.
std::vector<std::string> SplitLines(const std::string& text);
std::string ReadFile(const std::string& path);

// A fresh temporary directory, removed with everything in it on destruction.
class TempDir : public test_support::TempDir {
 public:
  TempDir() : test_support::TempDir("/tmp/sandtrace-sinks-XXXXXX") {}
};

}  // namespace sandtrace::sinks::testing
