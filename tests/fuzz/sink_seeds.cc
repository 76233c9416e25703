// Writes the seed corpus of the sink fuzzer into a directory: event batches in the shape of
// docs/events.md (tests/sinks/test_events.h), laid out as sink_fuzzer.cc reads them: a 4-byte
// little-endian event count, then the batch body.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/sinks/test_events.h"

namespace sandtrace::sinks::testing {
namespace {

// Writes `events` to DIR/NAME; false when the file cannot be written.
bool WriteSeed(const std::string& dir, const char* name, const std::vector<Value>& events) {
  const uint32_t count = static_cast<uint32_t>(events.size());
  const std::string body = PackBody(events);
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  const char prefix[4] = {char(count), char(count >> 8), char(count >> 16), char(count >> 24)};
  out.write(prefix, sizeof(prefix));
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
  return static_cast<bool>(out);
}

}  // namespace
}  // namespace sandtrace::sinks::testing

int main(int argc, char** argv) {
  using namespace sandtrace::sinks::testing;
  if (argc != 2) {
    std::fprintf(stderr, "usage: sandtrace-fuzz-sink-seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string run = "0123456789abcdef0123456789abcdef";
  bool ok = WriteSeed(
      dir, "start",
      {SandboxEvent(run), SpawnEvent(11, 10), ExecEvent(11, "/bin/ls", Array{"ls", "-l"})});
  ok &= WriteSeed(dir, "syscalls",
                  {SyscallEvent(10, "read", "file_read", 5),
                   OpenatEvent(10, "/etc/passwd", "O_RDONLY|O_CLOEXEC", 3, "file_read"),
                   SyscallEvent(10, "openat", "file_read", -2, "deny", {}, "EPERM"),
                   ConnectEvent(10, "10.0.0.1", 443, -111)});
  ok &= WriteSeed(
      dir, "ends",
      {AlertEvent(10, "unexpected_exec", "high"), ExitedEvent(11, 0), SignaledEvent(12, "SIGKILL"),
       GapEvent("tracer->analyzer", 3, 1), SummaryEvent(run, 2)});
  ok &= WriteSeed(dir, "odd",
                  {Value(42), Value(Map{{"event_type", 7}}),
                   OpenatEvent(10, std::string("/tmp/\xff\x01\"q\\"), "O_RDONLY", 3, "file_read")});
  if (!ok) {
    std::fprintf(stderr, "sandtrace-fuzz-sink-seeds: cannot write seeds into %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
