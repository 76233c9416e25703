// The analyser stage logic on synthetic records: the event stream of docs/events.md.
#include "analyzer/analyzer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/analyzer/event_reader.h"
#include "tests/analyzer/syscall_records.h"

namespace sandtrace::analyzer {
namespace {

using namespace testing;
using wire::CaptureKind;

constexpr int kRead = 0, kOpenat = 257, kConnect = 42, kExecve = 59, kExitGroup = 231;

wire::Hello TestHello() {
  wire::Hello h;
  h.run_id = "0123456789abcdef0123456789abcdef";
  h.host = "testhost";
  h.argv = {"ls", "-l"};
  h.executable = "/usr/bin/ls";
  h.start_ns = kBaseNs;
  h.root_pid = 100;
  h.follow_forks = true;
  h.trace_only = false;
  const char* names[] = {"user_namespace", "mount_namespace", "pid_namespace", "network_namespace",
                         "no_new_privs",   "landlock",        "seccomp",       "ptrace"};
  for (uint8_t i = 0; i < 8; ++i) {
    h.layers.push_back({static_cast<uint8_t>(i + 1), names[i], i != 5, i != 5 ? "" : "no ABI"});
  }
  return h;
}

wire::End TestEnd(uint64_t end_ns = kBaseNs + 1500000000ull) {
  wire::End e;
  e.outcome = wire::Outcome::kExited;
  e.exit_code = 0;
  e.end_ns = end_ns;
  return e;
}

class AnalyzerTest : public ::testing::Test {
 protected:
  Events Take() {
    EventWriter& w = analyzer_.events();
    Events events(w.data(), w.size(), w.count());
    w.Clear();
    return events;
  }
  Analyzer analyzer_;
};

TEST_F(AnalyzerTest, HelloBecomesTheSandboxEvent) {
  analyzer_.OnHello(TestHello());
  Events events = Take();
  ASSERT_EQ(events.size(), 1u);
  const msgpack::object& e = events[0];
  EXPECT_EQ(Keys(e),
            (std::vector<std::string>{"command", "event_type", "executable", "follow_forks", "host",
                                      "layers", "policy", "run_id", "timestamp", "trace_only"}));
  EXPECT_EQ(Str(e, "policy"), "default");
  EXPECT_EQ(Str(e, "event_type"), "sandbox");
  EXPECT_EQ(Str(e, "timestamp"), "2025-11-28T22:40:39.123456Z");
  EXPECT_EQ(Str(e, "run_id"), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(Str(e, "host"), "testhost");
  EXPECT_EQ(StrList(e, "command"), (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(Str(e, "executable"), "/usr/bin/ls");
  EXPECT_FALSE(Bool(e, "trace_only"));
  EXPECT_TRUE(Bool(e, "follow_forks"));
  const msgpack::object* layers = Find(e, "layers");
  ASSERT_EQ(layers->via.array.size, 8u);
  const msgpack::object& landlock = layers->via.array.ptr[5];
  EXPECT_EQ(Int(landlock, "layer"), 6);
  EXPECT_EQ(Str(landlock, "name"), "landlock");
  EXPECT_EQ(Str(landlock, "state"), "skipped");
  EXPECT_EQ(Str(landlock, "detail"), "no ABI");
  EXPECT_EQ(Str(layers->via.array.ptr[0], "state"), "applied");
  EXPECT_FALSE(analyzer_.OnHello(TestHello()));
  EXPECT_EQ(analyzer_.events().count(), 0u);
}

TEST_F(AnalyzerTest, SyscallEventHasTheSchemaFields) {
  analyzer_.OnHello(TestHello());
  auto r = Syscall(kOpenat, {uint64_t(-100), 0x7fff0000, O_WRONLY | O_CREAT | O_TRUNC, 0644}, 3,
                   101, 100);
  Capture(r, 1, CaptureKind::kString, "/tmp/out");
  r.entry_ns = kBaseNs + 1000;
  analyzer_.OnRecord(r);
  Events events = Take();
  ASSERT_EQ(events.size(), 2u);
  const msgpack::object& e = events[1];
  EXPECT_EQ(Keys(e),
            (std::vector<std::string>{"action", "args", "category", "duration_us", "event_type",
                                      "pid", "return_value", "returned", "success", "syscall",
                                      "syscall_nr", "tgid", "timestamp"}));
  EXPECT_EQ(Str(e, "event_type"), "syscall");
  EXPECT_EQ(Str(e, "timestamp"), "2025-11-28T22:40:39.123457Z");
  EXPECT_EQ(Int(e, "pid"), 101);
  EXPECT_EQ(Int(e, "tgid"), 100);
  EXPECT_EQ(Str(e, "syscall"), "openat");
  EXPECT_EQ(Int(e, "syscall_nr"), 257);
  EXPECT_EQ(Int(e, "return_value"), 3);
  EXPECT_TRUE(Bool(e, "success"));
  EXPECT_EQ(Int(e, "duration_us"), 42);
  EXPECT_TRUE(Bool(e, "returned"));
  EXPECT_EQ(Str(e, "action"), "allow");
  EXPECT_EQ(Str(e, "category"), "file_write");
  const msgpack::object& args = Map(e, "args");
  const msgpack::object* raw = Find(args, "raw");
  ASSERT_EQ(raw->via.array.size, 6u);
  EXPECT_EQ(raw->via.array.ptr[0].as<uint64_t>(), uint64_t(-100));
  EXPECT_EQ(raw->via.array.ptr[1].as<uint64_t>(), 0x7fff0000u);
  const msgpack::object& decoded = Map(args, "decoded");
  EXPECT_EQ(Str(decoded, "dirfd"), "AT_FDCWD");
  EXPECT_EQ(Str(decoded, "path"), "/tmp/out");
  EXPECT_EQ(Str(decoded, "flags"), "O_WRONLY|O_CREAT|O_TRUNC");
  EXPECT_EQ(Str(decoded, "mode"), "0644");
}

TEST_F(AnalyzerTest, FailedDeniedAndUnreturnedSyscalls) {
  analyzer_.OnHello(TestHello());
  auto failed = Syscall(kOpenat, {uint64_t(-100), 1, O_RDONLY}, -2);
  auto denied = Syscall(kConnect, {3, 1, 16}, -1);
  denied.action = wire::Action::kDeny;
  auto exit_group = Syscall(kExitGroup, {0}, 12345);
  exit_group.returned = false;
  analyzer_.OnRecords({failed, denied, exit_group});
  Events events = Take();
  // The denial also raises the built-in `denied_syscall` alert, right after its event.
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(Int(events[1], "return_value"), -2);
  EXPECT_FALSE(Bool(events[1], "success"));
  EXPECT_EQ(Str(events[1], "error"), "ENOENT");
  EXPECT_EQ(Str(events[1], "category"), "file_read");
  EXPECT_EQ(Str(events[2], "error"), "EPERM");
  EXPECT_EQ(Str(events[2], "action"), "deny");
  EXPECT_EQ(Str(events[2], "category"), "network");
  EXPECT_EQ(Str(events[3], "event_type"), "alert");
  EXPECT_EQ(Str(events[3], "rule"), "denied_syscall");
  EXPECT_EQ(Int(events[4], "return_value"), 0);
  EXPECT_TRUE(Bool(events[4], "success"));
  EXPECT_FALSE(Bool(events[4], "returned"));
  EXPECT_EQ(Find(events[4], "error"), nullptr);
  EXPECT_EQ(Find(Map(events[4], "args"), "decoded"), nullptr);
}

TEST_F(AnalyzerTest, UnknownNumbersAreNamedNotUnknown) {
  analyzer_.OnHello(TestHello());
  analyzer_.OnRecord(Syscall(400, {}, -38));
  analyzer_.OnRecord(Syscall(kX32Bit | kRead, {}, -38));
  Events events = Take();
  EXPECT_EQ(Str(events[1], "syscall"), "syscall_400");
  EXPECT_EQ(Str(events[1], "category"), "other");
  EXPECT_EQ(Str(events[1], "error"), "ENOSYS");
  EXPECT_EQ(Str(events[2], "syscall"), "x32:read");
  EXPECT_EQ(Str(events[2], "category"), "file_read");
}

wire::SyscallRecord Execve(int32_t tid, int32_t tgid, const std::string& argv, int64_t ret = 0) {
  auto r = Syscall(kExecve, {1, 2, 3}, ret, tid, tgid);
  Capture(r, 0, CaptureKind::kString, "/bin/prog");
  Capture(r, 1, CaptureKind::kStringList, argv);
  return r;
}

TEST_F(AnalyzerTest, ExecTakesArgvFromTheExecveRecord) {
  analyzer_.OnHello(TestHello());
  analyzer_.OnRecord(Execve(100, 100, std::string("prog\0--flag\0x y", 15)));
  analyzer_.OnRecord(wire::ExecRecord{100, 100, kBaseNs, "/usr/bin/prog", "prog"});
  Events events = Take();
  const auto execs = events.OfType("process", "exec");
  ASSERT_EQ(execs.size(), 1u);
  const msgpack::object& e = *execs[0];
  EXPECT_EQ(Keys(e), (std::vector<std::string>{"action", "argv", "comm", "event_type", "path",
                                               "pid", "timestamp"}));
  EXPECT_EQ(Int(e, "pid"), 100);
  EXPECT_EQ(Str(e, "comm"), "prog");
  EXPECT_EQ(Str(e, "path"), "/usr/bin/prog");
  EXPECT_EQ(StrList(e, "argv"), (std::vector<std::string>{"prog", "--flag", "x y"}));
  const auto syscalls = events.OfType("syscall");
  ASSERT_EQ(syscalls.size(), 1u);
  EXPECT_EQ(StrList(Map(Map(*syscalls[0], "args"), "decoded"), "argv"),
            (std::vector<std::string>{"prog", "--flag", "x y"}));
}

TEST_F(AnalyzerTest, ExecFromANonLeaderThread) {
  analyzer_.OnHello(TestHello());
  analyzer_.OnRecord(Execve(100, 100, "old"));  // the leader's own earlier attempt
  analyzer_.OnRecord(Execve(103, 100, std::string("new\0arg", 7)));
  analyzer_.OnRecord(wire::ExitRecord{100, 100, kBaseNs, false, 0, false});
  analyzer_.OnRecord(wire::ExecRecord{100, 103, kBaseNs, "/usr/bin/new", "new"});
  Events events = Take();
  const auto execs = events.OfType("process", "exec");
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(Int(*execs[0], "pid"), 100);
  EXPECT_EQ(Int(*execs[0], "former_pid"), 103);
  EXPECT_EQ(StrList(*execs[0], "argv"), (std::vector<std::string>{"new", "arg"}));
}

TEST_F(AnalyzerTest, FailedExecveDoesNotLendItsArgv) {
  analyzer_.OnHello(TestHello());
  analyzer_.OnRecord(Execve(100, 100, "missing", -2));
  analyzer_.OnRecord(wire::ExecRecord{100, 100, kBaseNs, "/usr/bin/x", "x"});
  Events events = Take();
  const auto execs = events.OfType("process", "exec");
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_TRUE(StrList(*execs[0], "argv").empty());
}

TEST_F(AnalyzerTest, SpawnAndExitEvents) {
  analyzer_.OnHello(TestHello());
  analyzer_.OnRecord(wire::SpawnRecord{200, 200, 100, false, kBaseNs});
  analyzer_.OnRecord(wire::SpawnRecord{201, 200, 200, true, kBaseNs});
  analyzer_.OnRecord(wire::ExitRecord{201, 200, kBaseNs, false, 3, false});
  analyzer_.OnRecord(wire::ExitRecord{200, 200, kBaseNs, true, SIGKILL, true});
  Events events = Take();
  const auto spawns = events.OfType("process", "spawn");
  ASSERT_EQ(spawns.size(), 2u);
  EXPECT_EQ(Keys(*spawns[0]), (std::vector<std::string>{"action", "event_type", "pid", "ppid",
                                                        "tgid", "thread", "timestamp"}));
  EXPECT_EQ(Int(*spawns[0], "ppid"), 100);
  EXPECT_FALSE(Bool(*spawns[0], "thread"));
  EXPECT_TRUE(Bool(*spawns[1], "thread"));
  const auto exited = events.OfType("process", "exited");
  ASSERT_EQ(exited.size(), 1u);
  EXPECT_EQ(Int(*exited[0], "exit_code"), 3);
  EXPECT_TRUE(Bool(*exited[0], "thread"));
  const auto signaled = events.OfType("process", "signaled");
  ASSERT_EQ(signaled.size(), 1u);
  EXPECT_EQ(Str(*signaled[0], "signal"), "SIGKILL");
  EXPECT_TRUE(Bool(*signaled[0], "core_dumped"));
  EXPECT_FALSE(Bool(*signaled[0], "thread"));
  EXPECT_EQ(Find(*signaled[0], "exit_code"), nullptr);
}

TEST_F(AnalyzerTest, GapEventsAreCounted) {
  analyzer_.OnHello(TestHello());
  analyzer_.OnLoss(0, 0, kBaseNs);  // nothing lost: no event
  analyzer_.OnLoss(17, 2, kBaseNs);
  analyzer_.OnLoss(5, 1, kBaseNs);
  analyzer_.OnEnd(TestEnd());
  Events events = Take();
  const auto gaps = events.OfType("gap");
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(Keys(*gaps[0]), (std::vector<std::string>{"event_type", "lost_messages", "lost_records",
                                                      "stage", "timestamp"}));
  EXPECT_EQ(Str(*gaps[0], "stage"), "tracer->analyzer");
  EXPECT_EQ(Int(*gaps[0], "lost_records"), 17);
  EXPECT_EQ(Int(*gaps[0], "lost_messages"), 2);
  EXPECT_EQ(Int(*events.OfType("summary")[0], "gaps"), 22);
}

TEST_F(AnalyzerTest, WithoutHelloTheFirstEventIsStillASandboxEvent) {
  analyzer_.OnRecord(Syscall(kRead, {0, 0, 1}, 1));
  analyzer_.OnEnd(TestEnd());
  Events events = Take();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(Str(events[0], "event_type"), "sandbox");
  EXPECT_EQ(Str(events[0], "run_id").size(), 32u);
  EXPECT_EQ(Find(events[0], "layers")->via.array.size, 8u);
  EXPECT_EQ(Str(events[2], "event_type"), "summary");
  EXPECT_EQ(Str(events[2], "run_id"), Str(events[0], "run_id"));
}


TEST(AlertNoticeTest, OnlySevereAlertsAndNoControlCharacters) {
  char* text = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  ASSERT_NE(out, nullptr);
  PrintAlertNotice(out, "ssh_key", "high", "SSH private key: openat /h/\x1b[2Jid_rsa", 42);
  PrintAlertNotice(out, "network_attempt", "medium", "network access", 42);
  PrintAlertNotice(out, "shadow_file", "critical", "password hashes\n", 7);
  std::fclose(out);
  EXPECT_EQ(std::string(text, size),
            "!! alert [high] ssh_key: SSH private key: openat /h/\\x1b[2Jid_rsa (pid 42)\n"
            "!! alert [critical] shadow_file: password hashes\\x0a (pid 7)\n");
  free(text);
}

}  // namespace
}  // namespace sandtrace::analyzer
