// The `summary` event: counts, lists and its place as the last event, exactly once.
#include "analyzer/summary.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "analyzer/analyzer.h"
#include "tests/analyzer/event_reader.h"
#include "tests/analyzer/syscall_records.h"

namespace sandtrace::analyzer {
namespace {

using namespace testing;
using wire::CaptureKind;

constexpr int kRead = 0, kWrite = 1, kOpenat = 257, kConnect = 42, kSendto = 44, kBind = 49,
              kRename = 82, kClose = 3;

class SummaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wire::Hello hello;
    hello.run_id = "feedfacefeedfacefeedfacefeedface";
    hello.start_ns = kBaseNs;
    hello.root_pid = 100;
    analyzer_.OnHello(hello);
  }
  void Open(const std::string& path, int64_t ret = 3, int32_t tid = 100) {
    auto r = Syscall(kOpenat, {uint64_t(-100), 1, O_RDONLY}, ret, tid, tid);
    Capture(r, 1, CaptureKind::kString, path);
    analyzer_.OnRecord(r);
  }
  // All events so far; `summary` is the last one's.
  Events Finish(wire::End end) {
    analyzer_.OnEnd(end);
    EventWriter& w = analyzer_.events();
    return Events(w.data(), w.size(), w.count());
  }
  static wire::End End(wire::Outcome outcome = wire::Outcome::kExited, int exit_code = 0) {
    wire::End e;
    e.outcome = outcome;
    e.exit_code = exit_code;
    e.end_ns = kBaseNs + 2345678901ull;
    return e;
  }
  Analyzer analyzer_;
};

TEST_F(SummaryTest, IsTheLastEventExactlyOnce) {
  analyzer_.OnRecord(Syscall(kRead, {0, 0, 1}, 1));
  analyzer_.OnEnd(End());
  analyzer_.OnRecord(Syscall(kRead, {0, 0, 1}, 1));  // after the end: ignored
  analyzer_.OnEnd(End());
  analyzer_.Abort(kBaseNs, "late");
  EventWriter& w = analyzer_.events();
  Events events(w.data(), w.size(), w.count());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events.OfType("summary").size(), 1u);
  EXPECT_EQ(Str(events[2], "event_type"), "summary");
  EXPECT_TRUE(analyzer_.finished());
}

TEST_F(SummaryTest, Fields) {
  Events events = Finish(End());
  const msgpack::object& s = events[events.size() - 1];
  EXPECT_EQ(Keys(s),
            (std::vector<std::string>{
                "alert_count", "analyzers", "denied_count", "duration_ms", "error_counts", "event_type",
                "exit_code", "files_accessed", "gaps", "interrupted", "network_attempts",
                "outcome", "process_count", "run_id", "suspicious_activity", "syscall_counts",
                "thread_count", "timed_out", "timestamp", "total_syscalls", "unique_syscalls"}));
  EXPECT_EQ(Str(s, "run_id"), "feedfacefeedfacefeedfacefeedface");
  EXPECT_EQ(Str(s, "timestamp"), "2025-11-28T22:40:41.469135Z");
  EXPECT_EQ(Int(s, "duration_ms"), 2345);
  EXPECT_EQ(Str(s, "outcome"), "exited");
  EXPECT_EQ(Int(s, "exit_code"), 0);
  EXPECT_FALSE(Bool(s, "timed_out"));
  EXPECT_FALSE(Bool(s, "interrupted"));
  EXPECT_EQ(Int(s, "process_count"), 1);  // the root
  EXPECT_EQ(Int(s, "thread_count"), 1);
  EXPECT_EQ(Int(s, "gaps"), 0);
  EXPECT_EQ(Int(s, "alert_count"), 0);
}

TEST_F(SummaryTest, TotalEqualsTheSyscallEvents) {
  for (int i = 0; i < 5; ++i) analyzer_.OnRecord(Syscall(kRead, {0, 0, 1}, 1));
  for (int i = 0; i < 3; ++i) analyzer_.OnRecord(Syscall(kWrite, {1, 0, 1}, -9));
  auto denied = Syscall(kConnect, {3, 0, 16}, -1);
  denied.action = wire::Action::kDeny;
  analyzer_.OnRecord(denied);
  analyzer_.OnRecord(Syscall(kClose, {3}, 0));
  analyzer_.OnRecord(Syscall(400, {}, -38));
  Events events = Finish(End());
  const msgpack::object& s = events[events.size() - 1];
  EXPECT_EQ(Int(s, "total_syscalls"), static_cast<int64_t>(events.OfType("syscall").size()));
  EXPECT_EQ(Int(s, "total_syscalls"), 11);
  EXPECT_EQ(Int(s, "unique_syscalls"), 5);
  EXPECT_EQ(Int(s, "denied_count"), 1);
  const msgpack::object& counts = Map(s, "syscall_counts");
  EXPECT_EQ(Keys(counts),
            (std::vector<std::string>{"close", "connect", "read", "syscall_400", "write"}));
  EXPECT_EQ(Int(counts, "read"), 5);
  EXPECT_EQ(Int(counts, "write"), 3);
  EXPECT_EQ(counts.via.map.ptr[0].key.as<std::string>(), "read");  // most frequent first
  const msgpack::object& errors = Map(s, "error_counts");
  EXPECT_EQ(Keys(errors), (std::vector<std::string>{"connect", "syscall_400", "write"}));
  EXPECT_EQ(Int(errors, "write"), 3);
  EXPECT_EQ(Int(errors, "connect"), 1);
}

TEST_F(SummaryTest, DistinctUnknownNumbersAreCapped) {
  const int64_t distinct = kMaxOtherNumbers + 3;
  for (int64_t i = 0; i < distinct; ++i) analyzer_.OnRecord(Syscall(1000 + i, {}, -38));
  Events events = Finish(End());
  const msgpack::object& s = events[events.size() - 1];
  EXPECT_EQ(Int(s, "total_syscalls"), distinct);
  EXPECT_EQ(Int(s, "unique_syscalls"), static_cast<int64_t>(kMaxOtherNumbers) + 1);
  EXPECT_EQ(Int(Map(s, "syscall_counts"), kOtherNumbersName), 3);
  EXPECT_EQ(Int(Map(s, "syscall_counts"), "syscall_1000"), 1);
  EXPECT_EQ(Str(events[events.size() - 2], "syscall"),
            "syscall_" + std::to_string(1000 + distinct - 1));
}

TEST_F(SummaryTest, ProcessesAndThreads) {
  analyzer_.OnRecord(wire::SpawnRecord{100, 100, 0, false, kBaseNs});  // the root, if reported
  analyzer_.OnRecord(wire::SpawnRecord{101, 100, 100, true, kBaseNs});
  analyzer_.OnRecord(wire::SpawnRecord{102, 100, 100, true, kBaseNs});
  analyzer_.OnRecord(wire::SpawnRecord{200, 200, 100, false, kBaseNs});
  analyzer_.OnRecord(wire::SpawnRecord{300, 300, 200, false, kBaseNs});
  analyzer_.OnRecord(wire::SpawnRecord{301, 300, 300, true, kBaseNs});
  Events events = Finish(End());
  const msgpack::object& s = events[events.size() - 1];
  EXPECT_EQ(Int(s, "process_count"), 3);
  EXPECT_EQ(Int(s, "thread_count"), 6);
}

TEST_F(SummaryTest, FilesAccessedAreDistinctInOrderOfFirstUse) {
  Open("/etc/ld.so.cache");
  Open("/lib/libc.so.6");
  Open("/etc/ld.so.cache");
  Open("/nonexistent", -2);
  Open("");  // AT_EMPTY_PATH
  auto r = Syscall(kRename, {1, 2}, 0);
  Capture(r, 0, CaptureKind::kString, "a");
  Capture(r, 1, CaptureKind::kString, "b");
  analyzer_.OnRecord(r);
  Events events = Finish(End());
  EXPECT_EQ(
      StrList(events[events.size() - 1], "files_accessed"),
      (std::vector<std::string>{"/etc/ld.so.cache", "/lib/libc.so.6", "/nonexistent", "a", "b"}));
}

TEST_F(SummaryTest, FilesAccessedIsCapped) {
  for (size_t i = 0; i < kMaxFilesAccessed + 5; ++i) Open("/f" + std::to_string(i));
  Events events = Finish(End());
  const auto files = StrList(events[events.size() - 1], "files_accessed");
  ASSERT_EQ(files.size(), kMaxFilesAccessed);
  EXPECT_EQ(files.back(), "/f" + std::to_string(kMaxFilesAccessed - 1));
}

TEST_F(SummaryTest, NetworkAttempts) {
  auto connect = Syscall(kConnect, {3, 1, 16}, -111, 100, 100);
  Capture(connect, 1, CaptureKind::kSockaddr, Inet("93.184.216.34", 443));
  auto sendto = Syscall(kSendto, {3, 1, 10, 0, 1, 28}, 10, 101, 100);
  Capture(sendto, 4, CaptureKind::kSockaddr, Inet6("::1", 53));
  auto bind = Syscall(kBind, {3, 1, 20}, 0);
  Capture(bind, 1, CaptureKind::kSockaddr, Unix("/tmp/s"));
  analyzer_.OnRecords({connect, sendto, bind, Syscall(kSendto, {3, 1, 10, 0, 0, 0}, 10)});
  Events events = Finish(End());
  const msgpack::object* attempts = Find(events[events.size() - 1], "network_attempts");
  ASSERT_EQ(attempts->via.array.size, 3u);
  const msgpack::object& first = attempts->via.array.ptr[0];
  EXPECT_EQ(Keys(first),
            (std::vector<std::string>{"address", "family", "pid", "port", "success", "syscall"}));
  EXPECT_EQ(Str(first, "syscall"), "connect");
  EXPECT_EQ(Str(first, "family"), "AF_INET");
  EXPECT_EQ(Str(first, "address"), "93.184.216.34");
  EXPECT_EQ(Int(first, "port"), 443);
  EXPECT_FALSE(Bool(first, "success"));
  const msgpack::object& second = attempts->via.array.ptr[1];
  EXPECT_EQ(Int(second, "pid"), 101);
  EXPECT_EQ(Str(second, "family"), "AF_INET6");
  EXPECT_EQ(Str(second, "address"), "::1");
  EXPECT_TRUE(Bool(second, "success"));
  EXPECT_EQ(Str(attempts->via.array.ptr[2], "address"), "/tmp/s");
}

TEST_F(SummaryTest, SuspiciousActivity) {
  Open("/home/u/.ssh/id_ed25519");
  Open("/home/u/.ssh/id_ed25519");  // the same access again: one entry
  Open("/home/u/.ssh/known_hosts", 3, 101);
  Open("/etc/shadow", -13);
  Open("project/.env");
  Open("/etc/passwd");
  auto connect = Syscall(kConnect, {3, 1, 16}, -111);
  Capture(connect, 1, CaptureKind::kSockaddr, Inet("93.184.216.34", 443));
  analyzer_.OnRecord(connect);
  auto denied = Syscall(kClose, {3}, -1);
  denied.action = wire::Action::kDeny;
  analyzer_.OnRecord(denied);
  analyzer_.AddExternalAlert(102, "plugin_rule", "low", "/srv/x", "openat");
  Events events = Finish(End());
  const msgpack::object& s = events[events.size() - 1];
  const msgpack::object* found = Find(s, "suspicious_activity");
  ASSERT_EQ(found->via.array.size, 7u);
  // One entry per alert event, plus the plug-in's.
  EXPECT_EQ(Int(s, "alert_count"), 7);
  EXPECT_EQ(events.OfType("alert").size(), 6u);
  const msgpack::object& first = found->via.array.ptr[0];
  EXPECT_EQ(Keys(first), (std::vector<std::string>{"path", "pid", "rule", "severity", "syscall"}));
  EXPECT_EQ(Str(first, "rule"), "ssh_key");
  EXPECT_EQ(Str(first, "severity"), "high");
  EXPECT_EQ(Str(first, "path"), "/home/u/.ssh/id_ed25519");
  EXPECT_EQ(Str(first, "syscall"), "openat");
  EXPECT_EQ(Int(first, "pid"), 100);
  EXPECT_EQ(Str(found->via.array.ptr[1], "rule"), "ssh_directory");
  EXPECT_EQ(Int(found->via.array.ptr[1], "pid"), 101);
  EXPECT_EQ(Str(found->via.array.ptr[2], "rule"), "shadow_file");
  EXPECT_EQ(Str(found->via.array.ptr[2], "severity"), "critical");
  EXPECT_EQ(Str(found->via.array.ptr[3], "rule"), "dotenv");
  EXPECT_EQ(Str(found->via.array.ptr[3], "path"), "project/.env");  // cwd unknown: as passed
  const msgpack::object& network = found->via.array.ptr[4];
  EXPECT_EQ(Keys(network),
            (std::vector<std::string>{"address", "pid", "rule", "severity", "syscall"}));
  EXPECT_EQ(Str(network, "rule"), "network_attempt");
  EXPECT_EQ(Str(network, "address"), "93.184.216.34:443");
  const msgpack::object& denial = found->via.array.ptr[5];
  EXPECT_EQ(Keys(denial), (std::vector<std::string>{"pid", "rule", "severity", "syscall"}));
  EXPECT_EQ(Str(denial, "rule"), "denied_syscall");
  EXPECT_EQ(Str(denial, "syscall"), "close");
  const msgpack::object& external = found->via.array.ptr[6];
  EXPECT_EQ(Str(external, "rule"), "plugin_rule");
  EXPECT_EQ(Str(external, "path"), "/srv/x");
  EXPECT_EQ(Int(external, "pid"), 102);
}

TEST_F(SummaryTest, OutcomesFromTheEnd) {
  Events events = Finish(End(wire::Outcome::kTimedOut, 124));
  const msgpack::object& s = events[events.size() - 1];
  EXPECT_EQ(Str(s, "outcome"), "timed_out");
  EXPECT_EQ(Int(s, "exit_code"), 124);
  EXPECT_TRUE(Bool(s, "timed_out"));
  EXPECT_FALSE(Bool(s, "interrupted"));
}

TEST_F(SummaryTest, InterruptedRun) {
  Events events = Finish(End(wire::Outcome::kInterrupted, 130));
  const msgpack::object& s = events[events.size() - 1];
  EXPECT_TRUE(Bool(s, "interrupted"));
  EXPECT_EQ(Int(s, "exit_code"), 130);
}

TEST_F(SummaryTest, AbortWritesAnAbortedSummary) {
  analyzer_.OnRecord(Syscall(kRead, {0, 0, 1}, 1));
  const wire::End end = analyzer_.Abort(kBaseNs + 1000000000ull, "stopped");
  EXPECT_EQ(end.outcome, wire::Outcome::kAborted);
  EXPECT_EQ(end.exit_code, 1);
  EventWriter& w = analyzer_.events();
  Events events(w.data(), w.size(), w.count());
  const msgpack::object& s = events[events.size() - 1];
  EXPECT_EQ(Str(s, "event_type"), "summary");
  EXPECT_EQ(Str(s, "outcome"), "aborted");
  EXPECT_EQ(Int(s, "exit_code"), 1);
  EXPECT_EQ(Int(s, "total_syscalls"), 1);
  EXPECT_EQ(Int(s, "duration_ms"), 1000);
}

}  // namespace
}  // namespace sandtrace::analyzer
