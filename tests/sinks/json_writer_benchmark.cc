// Costs on the sinks' hot path: one typical syscall event to a JSONL line, a whole received
// batch through EventStream into the JSONL sink, and the unpacking of a batch body (as
// wire::UnpackObjects does it, one zone per object, and with one shared zone for comparison).
// Run: build/bin/json_writer_benchmark
#include <benchmark/benchmark.h>
#include <fcntl.h>

#include "common/wire/codec.h"
#include "sinks/event_fields.h"
#include "sinks/event_stream.h"
#include "sinks/json_writer.h"
#include "sinks/jsonl_sink.h"
#include "sinks/sink_loop.h"
#include "sinks/sqlite_sink.h"
#include "tests/sinks/test_events.h"

namespace sandtrace::sinks {
namespace {

using testing::Map;

constexpr uint32_t kBatch = 256;

testing::Value TypicalEvent() {
  return testing::SyscallEvent(4242, "openat", "file_read", 3, "allow",
                               Map{{"dirfd", "AT_FDCWD"},
                                   {"path", "/usr/lib/x86_64-linux-gnu/libc.so.6"},
                                   {"flags", "O_RDONLY|O_CLOEXEC"}});
}

std::string TypicalBody() {
  return testing::PackBody(std::vector<testing::Value>(kBatch, TypicalEvent()));
}

void BM_EventToJsonLine(benchmark::State& state) {
  const msgpack::object_handle event = testing::ToObject(TypicalEvent());
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

// Per event: UnpackObjects, statistics, JSON, buffered write to /dev/null.
void BM_BatchIntoJsonlSink(benchmark::State& state) {
  Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::OpenPath("/dev/null");
  if (!sink) return state.SkipWithError("cannot open /dev/null");
  EventStream stream(sink->get(), [](const std::string&) {});
  wire::Message message;
  message.header = wire::Header{wire::MessageType::kEventBatch, 0, 0, kBatch};
  message.body = TypicalBody();
  for (auto _ : state) {
    if (!stream.Deliver(message).ok()) return state.SkipWithError("deliver failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_BatchIntoJsonlSink);

// Per event: the same through the SQLite sink (one transaction per batch) into a temp file.
void BM_BatchIntoSqliteSink(benchmark::State& state) {
  testing::TempDir dir;
  Result<std::unique_ptr<SqliteSink>> sink = SqliteSink::Open(dir.File("bench.db"));
  if (!sink) return state.SkipWithError(sink.error().message().c_str());
  EventStream stream(sink->get(), [](const std::string&) {});
  wire::Message message;
  message.header = wire::Header{wire::MessageType::kEventBatch, 0, 0, 1};
  message.body = testing::PackBody({testing::SandboxEvent(std::string(32, 'b'))});
  if (!stream.Deliver(message).ok()) return state.SkipWithError("deliver failed");
  message.header.count = kBatch;
  message.body = TypicalBody();
  for (auto _ : state) {
    if (!stream.Deliver(message).ok()) return state.SkipWithError("deliver failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_BatchIntoSqliteSink);

void BM_UnpackObjectsOneZoneEach(benchmark::State& state) {
  const std::string body = TypicalBody();
  for (auto _ : state) {
    std::vector<msgpack::object_handle> out;
    benchmark::DoNotOptimize(wire::UnpackObjects(body.data(), body.size(), kBatch, &out).ok());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_UnpackObjectsOneZoneEach);

void BM_UnpackSharedZone(benchmark::State& state) {
  const std::string body = TypicalBody();
  for (auto _ : state) {
    msgpack::zone zone;
    std::vector<msgpack::object> out;
    size_t offset = 0;
    while (offset < body.size()) {
      out.push_back(msgpack::unpack(zone, body.data(), body.size(), offset));
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_UnpackSharedZone);

void BM_FieldLookups(benchmark::State& state) {
  const msgpack::object_handle event = testing::ToObject(TypicalEvent());
  for (auto _ : state) {
    benchmark::DoNotOptimize(EventType(event.get()));
    benchmark::DoNotOptimize(TextField(event.get(), "category"));
    benchmark::DoNotOptimize(IntField(event.get(), "return_value"));
  }
}
BENCHMARK(BM_FieldLookups);

}  // namespace
}  // namespace sandtrace::sinks

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
