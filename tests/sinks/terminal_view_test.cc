#include "sinks/terminal_view.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sys/mman.h>
#include <unistd.h>

#include "sinks/event_stream.h"
#include "tests/sinks/test_events.h"

namespace sandtrace::sinks {
namespace {

using testing::Array;
using testing::BatchMessage;
using testing::Map;
using testing::Value;

const std::string kRun = "0123456789abcdef0123456789abcdef";

std::vector<Value> Events() {
  return {
      testing::SandboxEvent(kRun),
      testing::ExecEvent(100, "/usr/bin/ls", Array{"ls", "-l"}),
      testing::OpenatEvent(100, "/etc/passwd", "O_RDONLY|O_CLOEXEC", 3, "file_read"),
      testing::OpenatEvent(100, "/nope", "O_RDONLY", -2, "file_read"),
      testing::SyscallEvent(100, "mmap", "memory", 0x7f0000001000LL),
      testing::SyscallEvent(100, "kexec_load", "system", -1, "deny", {}, "EPERM"),
      testing::ConnectEvent(100, "10.0.0.1", 443, -111),
      testing::SpawnEvent(101, 100),
      testing::GapEvent("tracer->analyzer", 3, 1),
      testing::AlertEvent(100, "ssh_keys", "high"),
      testing::ExitedEvent(101, 0),
      testing::SignaledEvent(100, "SIGKILL"),
      testing::SummaryEvent(kRun, 5, 137, 3),
  };
}

// Everything the view writes for Events() at `verbosity`.
std::string Render(int verbosity, bool color, const std::vector<Value>& events = Events()) {
  const int fd = memfd_create("terminal-view", 0);
  EXPECT_GE(fd, 0);
  TerminalView view(fd, TerminalOptions{verbosity, color});
  EventStream stream(&view, [](const std::string&) {});
  EXPECT_TRUE(stream.Deliver(BatchMessage(events)).ok());
  EXPECT_TRUE(stream.Finish("unused").ok());
  std::string text;
  char buf[4096];
  lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(fd);
  return text;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(TerminalViewTest, StraceLikeLines) {
  const std::string text = Render(2, false);
  EXPECT_TRUE(Contains(
      text, "[pid   100] openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3  file_read\n"))
      << text;
  EXPECT_TRUE(Contains(text, "openat(AT_FDCWD, \"/nope\", O_RDONLY) = -1 ENOENT  file_read\n"));
  EXPECT_TRUE(Contains(text,
                       "mmap(0x0, 0x85bcf47, 0x0, 0x0, 0x0, 0xffffffffffffffff) = "
                       "0x7f0000001000  memory\n"));
  EXPECT_TRUE(Contains(text,
                       "kexec_load(0x0, 0x85bcf47, 0x0, 0x0, 0x0, 0xffffffffffffffff) = "
                       "-1 EPERM  system  DENIED\n"));
  EXPECT_TRUE(Contains(text, "connect(3, {AF_INET 10.0.0.1:443}) = -1 ECONNREFUSED  network\n"));
  EXPECT_TRUE(Contains(text, "[pid   100] --- exec /usr/bin/ls [\"ls\", \"-l\"] ---\n"));
  EXPECT_TRUE(Contains(text, "[pid   100] --- new process 101 ---\n"));
  EXPECT_TRUE(Contains(text, "[pid   101] +++ exited with 0 +++\n"));
  EXPECT_TRUE(Contains(text, "[pid   100] +++ killed by SIGKILL +++\n"));
  EXPECT_TRUE(Contains(text, "!! alert [high] ssh_keys"));
}

TEST(TerminalViewTest, VerbosityZeroShowsOnlySevereAlerts) {
  std::vector<Value> events = Events();
  events.insert(events.end() - 1, testing::AlertEvent(100, "network_attempt", "medium"));
  const std::string text = Render(0, false, events);
  EXPECT_TRUE(Contains(text, "!! alert [high] ssh_keys")) << text;
  EXPECT_FALSE(Contains(text, "network_attempt")) << text;
  EXPECT_FALSE(Contains(text, "openat")) << text;
  EXPECT_FALSE(Contains(text, "exec /usr/bin/ls")) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;  // no summary block
}

TEST(TerminalViewTest, VerbosityOneShowsActivityAndNonAllowedCallsOnly) {
  const std::string text = Render(1, false);
  EXPECT_TRUE(Contains(text, "openat(AT_FDCWD, \"/etc/passwd\""));
  EXPECT_TRUE(Contains(text, "connect("));
  EXPECT_TRUE(Contains(text, "kexec_load("));  // denied, although category system
  EXPECT_FALSE(Contains(text, "mmap("));       // memory, allowed
  EXPECT_TRUE(Contains(text, "+++ exited with 0 +++"));
  EXPECT_FALSE(Contains(text, "GAP"));
  EXPECT_FALSE(Contains(text, "batch"));
  EXPECT_FALSE(Contains(text, "<42us>"));
}

TEST(TerminalViewTest, VerbosityThreeAddsDiagnostics) {
  const std::string text = Render(3, false);
  EXPECT_TRUE(Contains(text, "mmap("));
  EXPECT_TRUE(Contains(text, "sandtrace: GAP tracer->analyzer: 3 records, 1 messages lost"));
  EXPECT_TRUE(Contains(text, "sandtrace: batch 1: 12 events"));
  EXPECT_TRUE(Contains(text, "  <42us>\n"));
  EXPECT_TRUE(Contains(text, "layer 6 landlock applied"));
}

TEST(TerminalViewTest, SummaryBlockFromVerbosityOne) {
  for (int v = 1; v <= 3; ++v) {
    const std::string text = Render(v, false);
    const size_t at = text.find("sandtrace summary\n");
    ASSERT_NE(at, std::string::npos) << "verbosity " << v;
    const std::string block = text.substr(at);
    EXPECT_TRUE(Contains(block, "outcome     exited, exit code 137\n")) << block;
    EXPECT_TRUE(Contains(block, "duration    2.000 s\n"));
    EXPECT_TRUE(Contains(block, "syscalls    5 total, 2 unique, 1 denied\n"));
    EXPECT_TRUE(Contains(block, "processes   2 (2 threads)\n"));
    EXPECT_TRUE(Contains(block, "files       2 accessed\n"));
    EXPECT_TRUE(Contains(block, "network     1 attempts\n"));
    EXPECT_TRUE(Contains(block, "pid 100 connect {AF_INET 10.0.0.1:443} failed"));
    EXPECT_TRUE(Contains(block, "gaps        3 records lost in the pipeline\n"));
    EXPECT_TRUE(Contains(block, "SUSPICIOUS ACTIVITY (1)\n"));
    EXPECT_TRUE(Contains(block, "!! pid 100 ssh_keys /home/u/.ssh/id_rsa (openat)\n"));
  }
}

TEST(TerminalViewTest, FallbackSummarySaysItIsIncomplete) {
  const std::string text = Render(
      1, false, {testing::SandboxEvent(kRun), testing::SyscallEvent(9, "read", "file_read", 1)});
  EXPECT_TRUE(Contains(text, "outcome     aborted, exit code 1\n")) << text;
  EXPECT_TRUE(Contains(text, "trace       incomplete: unused\n"));
}

TEST(TerminalViewTest, NoEscapeCodesWithoutColourEvenFromHostileNames) {
  const std::vector<Value> hostile = {
      testing::OpenatEvent(1,
                           "/tmp/\x1b]0;owned\x07\x1b[2J\xc2\x9b"
                           "31m",
                           "O_RDONLY", 3, "file_read"),
      testing::ExecEvent(1, "/tmp/\x1b[31mred", Array{"\x1b[1m"}),
  };
  for (int v = 0; v <= 3; ++v) {
    const std::string text = Render(v, false, hostile);
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << "verbosity " << v << ": " << text;
    EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
  }
  const std::string text = Render(2, false, hostile);
  EXPECT_TRUE(Contains(text, R"("/tmp/\x1b]0;owned\x07\x1b[2J\xc2\x9b31m")")) << text;
}

TEST(TerminalViewTest, ColourOnlyWhenAsked) {
  const std::string text = Render(2, true);
  EXPECT_TRUE(Contains(text, "\x1b[1;31m  DENIED\x1b[0m"));
  EXPECT_TRUE(Contains(text, "\x1b[35mnetwork\x1b[0m"));
  // Colour codes never split the escaped untrusted text.
  EXPECT_TRUE(Contains(text, "\"/etc/passwd\""));
}

TEST(TerminalViewTest, LongArgumentsAreAbbreviatedBelowVerbosityThree) {
  const std::string long_path = "/" + std::string(300, 'a');
  const std::vector<Value> events = {
      testing::OpenatEvent(1, long_path, "O_RDONLY", 3, "file_read"),
      testing::SyscallEvent(
          1, "execve", "process", 0, "allow",
          Map{{"path", "/bin/x"},
              {"argv", Array{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}}}),
  };
  const std::string short_text = Render(2, false, events);
  EXPECT_FALSE(Contains(short_text, long_path));
  EXPECT_TRUE(Contains(short_text, "\"...,"));
  EXPECT_TRUE(Contains(short_text, "\"8\", ... +2]"));
  const std::string full_text = Render(3, false, events);
  EXPECT_TRUE(Contains(full_text, long_path));
  EXPECT_TRUE(Contains(full_text, "\"9\", \"10\"]"));
}

}  // namespace
}  // namespace sandtrace::sinks
