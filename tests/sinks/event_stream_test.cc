#include "sinks/event_stream.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "sinks/event_fields.h"
#include "sinks/json_writer.h"
#include "sinks/jsonl_sink.h"
#include "tests/sinks/objects_only.h"
#include "tests/sinks/test_events.h"

namespace sandtrace::sinks {
namespace {

using testing::BatchMessage;
using testing::EndMessage;
using testing::Value;

// Keeps the JSON of every event it is given.
class RecordingSink : public Sink {
 public:
  Status Write(const msgpack::object& event) override {
    if (closed) return PlainError("write after close");
    lines.push_back(ToJson(event));
    types.emplace_back(EventType(event));
    return {};
  }
  Status Flush() override {
    ++flushes;
    return {};
  }
  Status Close() override {
    closed = true;
    return {};
  }

  std::vector<std::string> lines;
  std::vector<std::string> types;
  int flushes = 0;
  bool closed = false;
};

const std::string kRun = "0123456789abcdef0123456789abcdef";

TEST(EventStreamTest, SummaryComesLastExactlyOnce) {
  RecordingSink sink;
  EventStream stream(&sink, [](const std::string&) {});
  // A summary in the middle, a second one, and an event after both.
  ASSERT_TRUE(stream
                  .Deliver(BatchMessage({testing::SandboxEvent(kRun),
                                         testing::SyscallEvent(10, "read", "file_read", 5),
                                         testing::SummaryEvent(kRun, 2)}))
                  .ok());
  ASSERT_TRUE(stream
                  .Deliver(BatchMessage({testing::SyscallEvent(10, "write", "file_write", 5),
                                         testing::SummaryEvent(kRun, 99)},
                                        1, 3))
                  .ok());
  ASSERT_TRUE(stream.Deliver(EndMessage(2, 5)).ok());
  ASSERT_TRUE(stream.Finish("unused").ok());
  ASSERT_EQ(sink.types, (std::vector<std::string>{"sandbox", "syscall", "syscall", "summary"}));
  EXPECT_NE(sink.lines.back().find("\"total_syscalls\":2"), std::string::npos);
  EXPECT_EQ(sink.lines.back().find("incomplete"), std::string::npos);
  EXPECT_TRUE(sink.closed);
  EXPECT_GE(sink.flushes, 3);  // one per batch, one at the end
}

TEST(EventStreamTest, LostMessagesBecomeAGapEventFirst) {
  RecordingSink sink;
  EventStream stream(&sink, [](const std::string&) {});
  ASSERT_TRUE(stream.Deliver(BatchMessage({testing::SandboxEvent(kRun)})).ok());
  wire::Message late = BatchMessage({testing::SyscallEvent(10, "read", "file_read", 5)}, 3, 7);
  late.lost_messages = 2;
  late.lost_records = 6;
  ASSERT_TRUE(stream.Deliver(late).ok());
  ASSERT_EQ(sink.types, (std::vector<std::string>{"sandbox", "gap", "syscall"}));
  EXPECT_NE(sink.lines[1].find(R"("stage":"analyzer->sink","lost_records":6,"lost_messages":2)"),
            std::string::npos)
      << sink.lines[1];
  // The analyser's summary does not know about this loss: the sink adds it.
  ASSERT_TRUE(stream.Deliver(BatchMessage({testing::SummaryEvent(kRun, 1, 0, 4)}, 4, 8)).ok());
  ASSERT_TRUE(stream.Finish("unused").ok());
  EXPECT_NE(sink.lines.back().find("\"gaps\":10"), std::string::npos) << sink.lines.back();
}

TEST(EventStreamTest, MalformedBodyIsCountedAsLost) {
  RecordingSink sink;
  std::vector<std::string> warnings;
  EventStream stream(&sink, [&](const std::string& w) { warnings.push_back(w); });
  wire::Message broken = BatchMessage({testing::SandboxEvent(kRun)});
  broken.header.count = 3;  // the body holds only one object
  ASSERT_TRUE(stream.Deliver(broken).ok());
  ASSERT_TRUE(stream.Deliver(BatchMessage({Value(42)}, 1, 3)).ok());  // not an event map
  ASSERT_EQ(sink.types, (std::vector<std::string>{"gap", "gap"}));
  EXPECT_NE(sink.lines[0].find(R"("lost_records":3,"lost_messages":1)"), std::string::npos);
  EXPECT_NE(sink.lines[1].find(R"("lost_records":1,"lost_messages":0)"), std::string::npos);
  EXPECT_EQ(warnings.size(), 2u);
}

// More syscall names than the stream keeps among its most recent, in a random order: each
// name's calls and errors still add up (the fallback summary's syscall_counts / error_counts).
TEST(EventStreamTest, FallbackCountsHoldForManyNamesInAnyOrder) {
  RecordingSink sink;
  EventStream stream(&sink, [](const std::string&) {});
  const std::vector<std::string> names = {"read",  "write",  "openat", "close",   "fstat",
                                          "mmap",  "brk",    "ioctl",  "pread64", "access",
                                          "pipe2", "select", "dup2"};
  std::map<std::string, std::pair<int, int>> expected;  // name: calls, errors
  std::mt19937 rng(5);
  std::vector<Value> events = {testing::SandboxEvent(kRun)};
  for (int i = 0; i < 600; ++i) {
    // Runs of one name and jumps between many, as programs do.
    const std::string& name = names[rng() % 3 == 0 ? rng() % names.size() : rng() % 4];
    const bool failed = rng() % 5 == 0;
    events.push_back(testing::SyscallEvent(10, name, "other", failed ? -1 : 0, "allow", {},
                                           failed ? "EPERM" : ""));
    ++expected[name].first;
    expected[name].second += failed;
  }
  ASSERT_TRUE(stream.Deliver(BatchMessage(events)).ok());
  ASSERT_TRUE(stream.Finish("cut").ok());
  std::string calls = R"("syscall_counts":{)", errors = R"("error_counts":{)";
  for (const auto& [name, counts] : expected) {
    calls += "\"" + name + "\":" + std::to_string(counts.first) + ",";
    if (counts.second > 0) errors += "\"" + name + "\":" + std::to_string(counts.second) + ",";
  }
  calls.back() = '}';
  errors.back() = '}';
  const std::string& summary = sink.lines.back();
  EXPECT_NE(summary.find(calls), std::string::npos) << calls << "\n" << summary;
  EXPECT_NE(summary.find(errors), std::string::npos) << errors << "\n" << summary;
  EXPECT_NE(summary.find(R"("total_syscalls":600,)"), std::string::npos) << summary;
}

TEST(EventStreamTest, FallbackSummaryWhenTheAnalyserNeverSentOne) {
  RecordingSink sink;
  EventStream stream(&sink, [](const std::string&) {});
  ASSERT_TRUE(stream
                  .Deliver(BatchMessage({
                      testing::SandboxEvent(kRun),
                      testing::SyscallEvent(10, "openat", "file_read", -2),
                      testing::SyscallEvent(10, "openat", "file_read", 3),
                      testing::SyscallEvent(10, "kexec_load", "system", -1, "deny", {}, "EPERM"),
                      testing::SyscallEvent(10, "openat", "file_read", 4),  // a name seen before
                      testing::SpawnEvent(11, 10),
                      testing::SpawnEvent(12, 11, true),
                      testing::GapEvent("tracer->analyzer", 5, 1),
                      testing::AlertEvent(11, "ssh_key", "high"),
                  }))
                  .ok());
  ASSERT_TRUE(stream.Finish("terminated before the end of the event stream").ok());
  ASSERT_EQ(sink.types.back(), "summary");
  const std::string& summary = sink.lines.back();
  for (const char* expected : {
           R"("run_id":"0123456789abcdef0123456789abcdef")",
           R"("total_syscalls":4,"unique_syscalls":2,)",
           R"("exit_code":1,"outcome":"aborted","denied_count":1,"process_count":2,)",
           R"("thread_count":3,"timed_out":false,"interrupted":false,)",
           R"("files_accessed":[],"network_attempts":[],"alert_count":1,)",
           R"("suspicious_activity":[],)",
           R"("syscall_counts":{"kexec_load":1,"openat":3},)",
           R"("error_counts":{"kexec_load":1,"openat":1},"gaps":5,"analyzers":[],)",
           R"("incomplete":true,)",
           R"("reason":"terminated before the end of the event stream")",
       }) {
    EXPECT_NE(summary.find(expected), std::string::npos) << expected << "\n" << summary;
  }
  EXPECT_TRUE(testing::IsValidJson(summary));
  EXPECT_TRUE(sink.closed);
  EXPECT_TRUE(stream.Finish("again").ok());  // idempotent
  EXPECT_EQ(sink.types.size(), 10u);
}

TEST(EventStreamTest, FallbackSummaryEvenForAnEmptyStream) {
  RecordingSink sink;
  EventStream stream(&sink, [](const std::string&) {});
  ASSERT_TRUE(stream.Finish("no events").ok());
  ASSERT_EQ(sink.types, (std::vector<std::string>{"summary"}));
  EXPECT_NE(sink.lines[0].find(R"("total_syscalls":0)"), std::string::npos);
  EXPECT_NE(sink.lines[0].find(R"("process_count":1)"), std::string::npos);
}

TEST(EventStreamTest, NothingIsDeliveredAfterFinish) {
  RecordingSink sink;
  EventStream stream(&sink, [](const std::string&) {});
  ASSERT_TRUE(stream.Finish("done").ok());
  ASSERT_TRUE(stream.Deliver(BatchMessage({testing::SandboxEvent(kRun)})).ok());
  EXPECT_EQ(sink.types.size(), 1u);
}

TEST(EventFieldsTest, TimestampsRoundTrip) {
  const uint64_t ns = 1795905639123456000ULL;
  const std::string text = FormatTimestamp(ns);
  EXPECT_EQ(text.size(), 27u);
  EXPECT_EQ(text.back(), 'Z');
  EXPECT_EQ(ParseTimestamp(text), ns);
  EXPECT_EQ(ParseTimestamp("2026-11-28T22:40:39Z"), 1795905639000000000ULL);
  EXPECT_FALSE(ParseTimestamp("yesterday").has_value());
}

}  // namespace
}  // namespace sandtrace::sinks

namespace sandtrace::sinks {
namespace {

std::string JsonlOf(const std::vector<wire::Message>& messages, bool encoded,
                    const std::string& path, std::vector<std::string>* warnings) {
  Result<std::unique_ptr<JsonlSink>> jsonl = JsonlSink::OpenPath(path);
  EXPECT_TRUE(jsonl.ok());
  testing::ObjectsOnly objects(jsonl->get());
  EventStream stream(encoded ? static_cast<Sink*>(jsonl->get()) : &objects,
                     [&](const std::string& w) { warnings->push_back(w); });
  for (const wire::Message& m : messages) EXPECT_TRUE(stream.Deliver(m).ok());
  EXPECT_TRUE(stream.Finish("test").ok());
  return testing::ReadFile(path);
}

// Everything but the fallback summary's clock: the same bytes and warnings either way.
TEST(EventStreamTest, EncodedEventsGiveTheSameJsonlAsObjects) {
  wire::Message broken = BatchMessage({testing::SyscallEvent(10, "read", "file_read", 5)}, 2, 6);
  broken.body.text().resize(broken.body.size() - 1);
  wire::Message trailing = BatchMessage({testing::SyscallEvent(10, "read", "file_read", 5)}, 3, 7);
  trailing.body.text().push_back('\0');
  // Cut in its last event, after events (a summary among them) that read well: lost whole.
  wire::Message cut_late = BatchMessage(
      {testing::SyscallEvent(10, "read", "file_read", 5), testing::SummaryEvent(kRun, 77),
       testing::SyscallEvent(10, "close", "other", 0)},
      1, 3);
  cut_late.body.text().resize(cut_late.body.size() - 2);
  wire::Message after_loss = BatchMessage({testing::GapEvent("tracer->analyzer", 3, 1),
                                           testing::SyscallEvent(10, "write", "file_write", 5)},
                                          9, 20);
  after_loss.lost_messages = 5;
  after_loss.lost_records = 12;
  const std::vector<wire::Message> messages = {
      BatchMessage({testing::SandboxEvent(kRun), testing::SpawnEvent(11, 10),
                    testing::SpawnEvent(12, 10, true),
                    testing::SyscallEvent(10, "openat", "file_read", -2, "deny", {}, "ENOENT"),
                    Value(42), Value(testing::Map{{"event_type", 7}}),
                    testing::AlertEvent(10, "x", "low")}),
      cut_late,
      BatchMessage({testing::SyscallEvent(10, "write", "file_write", 5),
                    testing::SummaryEvent(kRun, 2, 0, 0), testing::SummaryEvent(kRun, 9)},
                   1, 7),
      broken,
      trailing,
      after_loss,
      EndMessage(10, 22),
  };
  testing::TempDir dir;
  std::vector<std::string> warnings_encoded, warnings_objects;
  const std::string encoded = JsonlOf(messages, true, dir.File("a.jsonl"), &warnings_encoded);
  const std::string objects = JsonlOf(messages, false, dir.File("b.jsonl"), &warnings_objects);
  EXPECT_EQ(encoded.size(), objects.size());
  // Gap events carry the time they were written: compare everything else.
  const std::vector<std::string> a = testing::SplitLines(encoded);
  const std::vector<std::string> b = testing::SplitLines(objects);
  ASSERT_EQ(a.size(), b.size());
  int gaps = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].find("\"event_type\":\"gap\",\"timestamp\"") != std::string::npos &&
        a[i].find("analyzer->sink") != std::string::npos) {
      ++gaps;
      EXPECT_EQ(a[i].substr(a[i].find("\"stage\"")), b[i].substr(b[i].find("\"stage\"")));
    } else {
      EXPECT_EQ(a[i], b[i]);
    }
  }
  EXPECT_EQ(gaps, 5);  // events without a type, three broken batches, the loss
  EXPECT_NE(a.back().find("\"event_type\":\"summary\""), std::string::npos);
  EXPECT_EQ(a.back().find("\"total_syscalls\":77"), std::string::npos) << a.back();
  EXPECT_EQ(encoded.find("\"close\""), std::string::npos);
  EXPECT_EQ(warnings_encoded.size(), warnings_objects.size());
}

// The lines of two outputs, equal but for the time in the sink's own gap events.
void ExpectSameLines(const std::string& encoded, const std::string& objects) {
  const std::vector<std::string> a = testing::SplitLines(encoded);
  const std::vector<std::string> b = testing::SplitLines(objects);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].find("analyzer->sink") != std::string::npos) {
      EXPECT_EQ(a[i].substr(a[i].find("\"stage\"")), b[i].substr(b[i].find("\"stage\"")));
    } else {
      EXPECT_EQ(a[i], b[i]);
    }
  }
}

// A batch with bytes changed, cut or added at random, then a clean one with the summary: the
// encoded path reads, writes and loses exactly what the object path does.
TEST(EventStreamTest, DamagedBatchesGiveTheSameJsonlAsObjects) {
  const wire::Message clean = BatchMessage(
      {testing::SandboxEvent(kRun), testing::SpawnEvent(11, 10),
       testing::SyscallEvent(10, "openat", "file_read", -2, "deny", {}, "ENOENT"),
       testing::AlertEvent(10, "x", "low"), testing::SyscallEvent(11, "write", "file_write", 5)});
  const wire::Message last = BatchMessage({testing::SummaryEvent(kRun, 2)}, 1, 5);
  std::mt19937 rng(11);
  testing::TempDir dir;
  for (int round = 0; round < 1500; ++round) {
    wire::Message damaged = clean;
    std::string& body = damaged.body.text();
    for (unsigned n = 1 + rng() % 3; n > 0; --n) {
      const size_t at = rng() % body.size();
      switch (rng() % 4) {
        case 0: body.resize(at); break;
        case 1: body.insert(body.begin() + at, static_cast<char>(rng())); break;
        default: body[at] = static_cast<char>(rng()); break;
      }
      if (body.empty()) body.push_back('\x80');
    }
    std::vector<std::string> warnings_encoded, warnings_objects;
    const std::string encoded =
        JsonlOf({damaged, last}, true, dir.File("a.jsonl"), &warnings_encoded);
    const std::string objects =
        JsonlOf({damaged, last}, false, dir.File("b.jsonl"), &warnings_objects);
    ExpectSameLines(encoded, objects);
    EXPECT_EQ(warnings_encoded.size(), warnings_objects.size());  // the decoders word them apart
    if (HasFailure()) {
      ADD_FAILURE() << "round " << round;
      break;
    }
  }
}

}  // namespace
}  // namespace sandtrace::sinks
