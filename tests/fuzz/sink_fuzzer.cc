// libFuzzer target for the JSONL sink's hot path: an event batch whose body is the input goes
// through an EventStream into a JSONL sink twice, once as encoded events (AppendEncoded: the
// bytes transcoded to JSON while the stream reads the fields it counts) and once as unpacked
// objects (msgpack-c, then AppendJson). Whatever the bytes, the two outputs must hold the same
// lines (but for the time in the sink's own gap events) and the streams the same number of
// warnings; no crash, sanitizer report or runaway allocation. A clean batch with the summary
// follows the input, so that both outputs end with the same summary.
//
// Input layout (sink_seeds.cc writes the seeds this way): a 4-byte little-endian event count,
// the `count` of the batch's envelope header, then the body.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sinks/event_stream.h"
#include "sinks/jsonl_sink.h"
#include "tests/sinks/objects_only.h"

namespace sandtrace::sinks {
namespace {

// Aborts (a finding for libFuzzer) when an invariant does not hold.
void Expect(bool condition) {
  if (!condition) std::abort();
}

wire::Message Batch(uint32_t count, std::string body, uint64_t seq) {
  wire::Message m;
  m.header = wire::Header{wire::MessageType::kEventBatch, seq, 0, count};
  m.body = std::move(body);
  return m;
}

wire::Message SummaryBatch() {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_map(4);
  p.pack("event_type");
  p.pack("summary");
  p.pack("run_id");
  p.pack("0123456789abcdef0123456789abcdef");
  p.pack("total_syscalls");
  p.pack(1);
  p.pack("gaps");
  p.pack(0);
  return Batch(1, std::string(buffer.data(), buffer.size()), 1);
}

// The JSONL text of `messages` through a stream, encoded or as objects; `warnings` counted.
std::string JsonlOf(const std::vector<wire::Message>& messages, bool encoded, int* warnings) {
  const int fd = memfd_create("sink-fuzz", MFD_CLOEXEC);
  Expect(fd >= 0);
  Result<std::unique_ptr<JsonlSink>> jsonl = JsonlSink::AdoptFd(dup(fd));
  Expect(jsonl.ok());
  testing::ObjectsOnly objects(jsonl->get());
  EventStream stream(encoded ? static_cast<Sink*>(jsonl->get()) : &objects,
                     [&](const std::string&) { ++*warnings; });
  for (const wire::Message& m : messages) Expect(stream.Deliver(m).ok());
  Expect(stream.Finish("fuzz").ok());
  std::string text(static_cast<size_t>(lseek(fd, 0, SEEK_END)), '\0');
  Expect(pread(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()));
  close(fd);
  return text;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

void FuzzBatch(uint32_t count, std::string body) {
  static const wire::Message summary = SummaryBatch();
  const std::vector<wire::Message> messages = {Batch(count, std::move(body), 0), summary};
  int warnings_encoded = 0, warnings_objects = 0;
  const std::string encoded = JsonlOf(messages, true, &warnings_encoded);
  const std::string objects = JsonlOf(messages, false, &warnings_objects);
  Expect(warnings_encoded == warnings_objects);
  const std::vector<std::string_view> a = Lines(encoded), b = Lines(objects);
  Expect(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    // The sink's own gap events carry the time they were written.
    const size_t stage_a = a[i].find("\"stage\":\"analyzer->sink\"");
    if (stage_a != std::string_view::npos && a[i].rfind("{\"event_type\":\"gap\"", 0) == 0) {
      const size_t stage_b = b[i].find("\"stage\":\"analyzer->sink\"");
      Expect(stage_b != std::string_view::npos && a[i].substr(stage_a) == b[i].substr(stage_b));
    } else {
      Expect(a[i] == b[i]);
    }
  }
}

}  // namespace
}  // namespace sandtrace::sinks

// Entry point called by libFuzzer once per input (layout in the header comment).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint32_t count = uint32_t(data[0]) | uint32_t(data[1]) << 8 | uint32_t(data[2]) << 16 |
                         uint32_t(data[3]) << 24;
  sandtrace::sinks::FuzzBatch(count,
                              std::string(reinterpret_cast<const char*>(data + 4), size - 4));
  return 0;
}
