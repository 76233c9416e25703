// The real sink executables, end to end: started like `sandtrace run` starts them (a ready
// pipe, an ipc:// endpoint), fed by a real wire::Sender, checked on their output files.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/ready_pipe.h"
#include "common/wire/channel.h"
#include "common/wire/codec.h"
#include "sinks/sqlite_db.h"
#include "tests/sinks/test_events.h"

namespace sandtrace::sinks {
namespace {

using testing::Array;
using testing::IsValidJson;
using testing::ReadFile;
using testing::SplitLines;
using testing::Value;

const std::string kRun = "0123456789abcdef0123456789abcdef";

class SinkBinaryTest : public ::testing::Test {
 protected:
  // Starts `binary --in ENDPOINT --ready-fd N args...`, stderr into stderr_path_.
  pid_t Start(const std::string& binary, std::vector<std::string> args) {
    int ready[2];
    EXPECT_EQ(pipe2(ready, O_CLOEXEC), 0);
    const pid_t pid = fork();
    if (pid == 0) {
      const int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(err, STDERR_FILENO);
      const int ready_fd = dup(ready[1]);  // without O_CLOEXEC
      std::vector<std::string> argv = {binary, "--in", endpoint_, "--ready-fd",
                                       std::to_string(ready_fd)};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> raw;
      for (std::string& a : argv) raw.push_back(a.data());
      raw.push_back(nullptr);
      execv(binary.c_str(), raw.data());
      _exit(127);
    }
    close(ready[1]);
    ready_fd_ = ready[0];
    return pid;
  }

  Status AwaitStarted() { return AwaitReady(ready_fd_, 10000, "sink"); }

  // Sends each batch as one event-batch message, then (optionally) the end message.
  void Send(const std::vector<std::vector<Value>>& batches, bool end) {
    Result<wire::Sender> sender = wire::Sender::Connect(endpoint_);
    ASSERT_TRUE(sender.ok());
    for (const std::vector<Value>& batch : batches) {
      const std::string body = testing::PackBody(batch);
      ASSERT_TRUE(sender
                      ->Send(wire::MessageType::kEventBatch, static_cast<uint32_t>(batch.size()),
                             body.data(), body.size())
                      .ok());
    }
    if (!end) {
      sender_ = std::move(*sender);
      return;
    }
    msgpack::sbuffer end_body;
    wire::EncodeEnd(wire::End{}, &end_body);
    ASSERT_TRUE(sender->Send(wire::MessageType::kEnd, 1, end_body.data(), end_body.size()).ok());
    Status closed = sender->Close(10000);
    ASSERT_TRUE(closed.ok()) << closed.error().message();
  }

  // Exit status of `pid`, or -1 when it did not exit normally.
  static int Wait(pid_t pid) {
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static std::vector<Value> Run(const std::string& run_id) {
    return {
        testing::SandboxEvent(run_id),
        testing::ExecEvent(100, "/usr/bin/cat", Array{"cat", "/etc/passwd"}),
        testing::OpenatEvent(100, "/etc/passwd", "O_RDONLY", 3, "file_read"),
        testing::OpenatEvent(100, std::string("/tmp/\xff\x01", 7), "O_WRONLY|O_CREAT", 4,
                             "file_write"),
        testing::SyscallEvent(100, "kexec_load", "system", -1, "deny", {}, "EPERM"),
        testing::ExitedEvent(100, 0),
    };
  }

  testing::TempDir dir_;
  std::string endpoint_ = "ipc://" + dir_.File("sink");
  std::string stderr_path_ = dir_.File("stderr");
  int ready_fd_ = -1;
  std::optional<wire::Sender> sender_;
};

TEST_F(SinkBinaryTest, JsonlWritesEveryEventWithTheSummaryLast) {
  const std::string out = dir_.File("trace.jsonl");
  const pid_t pid = Start(SINK_JSONL_BIN, {"--path", out});
  Status ready = AwaitStarted();
  ASSERT_TRUE(ready.ok()) << ready.error().message();
  std::vector<std::vector<Value>> batches;
  for (int i = 0; i < 300; ++i) batches.push_back(Run(kRun));  // beyond the high-water mark
  batches.push_back({testing::SummaryEvent(kRun, 900)});
  Send(batches, /*end=*/true);
  EXPECT_EQ(Wait(pid), 0) << ReadFile(stderr_path_);

  const std::vector<std::string> lines = SplitLines(ReadFile(out));
  ASSERT_EQ(lines.size(), 300u * 6 + 1);
  for (const std::string& line : lines) ASSERT_TRUE(IsValidJson(line)) << line;
  EXPECT_NE(lines.back().find(R"({"event_type":"summary")"), std::string::npos);
  EXPECT_EQ(ReadFile(out).find("\"gap\""), std::string::npos);
}

TEST_F(SinkBinaryTest, JsonlOnAnInheritedFd) {
  const std::string out = dir_.File("stdout.jsonl");
  const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  const pid_t pid = Start(SINK_JSONL_BIN, {"--fd", std::to_string(fd)});
  close(fd);
  ASSERT_TRUE(AwaitStarted().ok());
  Send({Run(kRun), {testing::SummaryEvent(kRun, 3)}}, true);
  EXPECT_EQ(Wait(pid), 0);
  EXPECT_EQ(SplitLines(ReadFile(out)).size(), 7u);
}

TEST_F(SinkBinaryTest, UnwritableJsonlPathFailsTheHandshake) {
  const std::string out = dir_.File("missing/trace.jsonl");
  const pid_t pid = Start(SINK_JSONL_BIN, {"--path", out});
  Status ready = AwaitStarted();
  ASSERT_FALSE(ready.ok());
  EXPECT_NE(ready.error().message().find(out), std::string::npos) << ready.error().message();
  EXPECT_EQ(Wait(pid), 1);
}

TEST_F(SinkBinaryTest, SigtermDrainsAndEndsWithAFallbackSummary) {
  const std::string out = dir_.File("trace.jsonl");
  const pid_t pid = Start(SINK_JSONL_BIN, {"--path", out});
  ASSERT_TRUE(AwaitStarted().ok());
  Send({Run(kRun), Run(kRun)}, /*end=*/false);
  kill(pid, SIGINT);  // ignored: the wrapper decides what Ctrl-C means
  usleep(100000);
  kill(pid, SIGTERM);
  EXPECT_EQ(Wait(pid), 0) << ReadFile(stderr_path_);
  const std::vector<std::string> lines = SplitLines(ReadFile(out));
  ASSERT_EQ(lines.size(), 13u);
  const std::string& summary = lines.back();
  EXPECT_NE(summary.find(R"("event_type":"summary")"), std::string::npos);
  EXPECT_NE(summary.find(R"("total_syscalls":6)"), std::string::npos) << summary;
  EXPECT_NE(summary.find(R"("outcome":"aborted")"), std::string::npos);
  EXPECT_NE(summary.find(R"("incomplete":true)"), std::string::npos);
  sender_.reset();
}

TEST_F(SinkBinaryTest, SqliteAppendsOneRunPerInvocation) {
  const std::string db = dir_.File("trace.db");
  for (const std::string& run_id : {kRun, std::string(32, 'f')}) {
    const pid_t pid = Start(SINK_SQLITE_BIN, {"--path", db});
    Status ready = AwaitStarted();
    ASSERT_TRUE(ready.ok()) << ready.error().message();
    Send({Run(run_id), Run(run_id), {testing::SummaryEvent(run_id, 6)}}, true);
    EXPECT_EQ(Wait(pid), 0) << ReadFile(stderr_path_);
  }
  Result<std::unique_ptr<Database>> opened = Database::Open(db);
  ASSERT_TRUE(opened.ok());
  Result<Statement> q = (*opened)->Prepare(
      "SELECT r.run_id, r.total_syscalls, COUNT(s.seq) FROM runs r "
      "JOIN syscalls s USING (run_id) GROUP BY r.run_id ORDER BY r.run_id");
  ASSERT_TRUE(q.ok());
  std::vector<std::string> rows;
  while (*q->Step()) {
    rows.push_back(q->ColumnText(0) + " " + q->ColumnText(1) + " " + q->ColumnText(2));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{kRun + " 6 6", std::string(32, 'f') + " 6 6"}));
}

TEST_F(SinkBinaryTest, SqliteRejectsAFileThatIsNoDatabaseBeforeReady) {
  const std::string db = dir_.File("notes.db");
  {
    FILE* f = fopen(db.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("shopping list: milk, eggs, more milk, a database would be overkill\n", f);
    fclose(f);
  }
  const pid_t pid = Start(SINK_SQLITE_BIN, {"--path", db});
  Status ready = AwaitStarted();
  ASSERT_FALSE(ready.ok());
  EXPECT_NE(ready.error().message().find(db), std::string::npos);
  EXPECT_NE(ready.error().message().find("not a SQLite database"), std::string::npos)
      << ready.error().message();
  EXPECT_EQ(Wait(pid), 1);
}

TEST_F(SinkBinaryTest, TerminalViewWritesStraceLikeLinesToStderr) {
  const pid_t pid = Start(SINK_TERM_BIN, {"--verbosity", "2"});
  ASSERT_TRUE(AwaitStarted().ok());
  Send({Run(kRun), {testing::SummaryEvent(kRun, 3)}}, true);
  EXPECT_EQ(Wait(pid), 0);
  const std::string text = ReadFile(stderr_path_);
  EXPECT_NE(text.find("[pid   100] openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3  file_read\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("/tmp/\xff\x01")"), std::string::npos);
  EXPECT_NE(text.find("= -1 EPERM  system  DENIED"), std::string::npos);
  EXPECT_NE(text.find("sandtrace summary"), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST_F(SinkBinaryTest, BadVerbosityFailsTheHandshake) {
  const pid_t pid = Start(SINK_TERM_BIN, {"--verbosity", "7"});
  Status ready = AwaitStarted();
  ASSERT_FALSE(ready.ok());
  EXPECT_NE(ready.error().message().find("--verbosity"), std::string::npos);
  EXPECT_EQ(Wait(pid), 1);
}

}  // namespace
}  // namespace sandtrace::sinks
