// Cost of turning one typical syscall event into a JSONL line (the JSONL sink's hot path),
// and of the field look-ups every sink does per event.
#include <benchmark/benchmark.h>

#include "sinks/event_fields.h"
#include "sinks/json_writer.h"
#include "tests/sinks/test_events.h"

namespace sandtrace::sinks {
namespace {

using testing::Map;

msgpack::object_handle TypicalEvent() {
  return testing::ToObject(
      testing::SyscallEvent(4242, "openat", "file_read", 3, "allow",
                            Map{{"dirfd", "AT_FDCWD"},
                                {"path", "/usr/lib/x86_64-linux-gnu/libc.so.6"},
                                {"flags", "O_RDONLY|O_CLOEXEC"}}));
}

void BM_EventToJsonLine(benchmark::State& state) {
  const msgpack::object_handle event = TypicalEvent();
  TextBuffer line;
  for (auto _ : state) {
    line.clear();
    AppendJson(event.get(), &line);
    line.Append('\n');
    benchmark::DoNotOptimize(line.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_EventToJsonLine);

void BM_UnpackAndWriteBatch(benchmark::State& state) {
  std::vector<testing::Value> events(256,
                                     testing::SyscallEvent(4242, "read", "file_read", 832, "allow",
                                                           Map{{"fd", 3}, {"count", 832}}));
  const std::string body = testing::PackBody(events);
  TextBuffer out;
  for (auto _ : state) {
    out.clear();
    size_t offset = 0;
    while (offset < body.size()) {
      msgpack::object_handle h = msgpack::unpack(body.data(), body.size(), offset);
      AppendJson(h.get(), &out);
      out.Append('\n');
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events.size()));
}
BENCHMARK(BM_UnpackAndWriteBatch);

void BM_FieldLookups(benchmark::State& state) {
  const msgpack::object_handle event = TypicalEvent();
  for (auto _ : state) {
    benchmark::DoNotOptimize(EventType(event.get()));
    benchmark::DoNotOptimize(TextField(event.get(), "category"));
    benchmark::DoNotOptimize(IntField(event.get(), "return_value"));
  }
}
BENCHMARK(BM_FieldLookups);

}  // namespace
}  // namespace sandtrace::sinks

BENCHMARK_MAIN();
