#include "sinks/jsonl_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "sinks/event_stream.h"
#include "tests/sinks/test_events.h"

namespace sandtrace::sinks {
namespace {

using testing::BatchMessage;
using testing::EndMessage;
using testing::ReadFile;
using testing::SplitLines;

const std::string kRun = "0123456789abcdef0123456789abcdef";

class JsonlSinkTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  std::string path_ = dir_.File("trace.jsonl");
};

TEST_F(JsonlSinkTest, OneValidLinePerEventSummaryLast) {
  Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::OpenPath(path_);
  ASSERT_TRUE(sink.ok()) << sink.error().message();
  EventStream stream(sink->get(), [](const std::string&) {});
  ASSERT_TRUE(
      stream
          .Deliver(BatchMessage({
              testing::SandboxEvent(kRun),
              testing::OpenatEvent(10, std::string("/tmp/\xff\n", 7), "O_RDONLY", 3, "file_read"),
              testing::SummaryEvent(kRun, 2),
          }))
          .ok());
  ASSERT_TRUE(
      stream.Deliver(BatchMessage({testing::ConnectEvent(10, "10.0.0.1", 443, -111)}, 1, 3)).ok());
  ASSERT_TRUE(stream.Deliver(EndMessage(2, 4)).ok());
  ASSERT_TRUE(stream.Finish("unused").ok());

  const std::vector<std::string> lines = SplitLines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 4u);
  for (const std::string& line : lines) EXPECT_TRUE(testing::IsValidJson(line)) << line;
  EXPECT_EQ(lines[0].rfind(R"({"event_type":"sandbox")", 0), 0u);
  EXPECT_NE(lines[1].find(R"("path":"/tmp/\\xff\n")"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("18446744073709551615"), std::string::npos);
  EXPECT_EQ(lines[3].rfind(R"({"event_type":"summary")", 0), 0u);
  int summaries = 0;
  for (const std::string& line : lines) summaries += line.find("\"summary\"") != std::string::npos;
  EXPECT_EQ(summaries, 1);
}

// Lines go out in large writes: not per line, not at the end of every batch, but when the
// stream pauses, when kJsonlBufferLimit bytes wait, at the end of a batch once the oldest line
// has waited kJsonlMaxDelayMs, and at Close.
TEST_F(JsonlSinkTest, LinesGoOutInLargeWritesButNeverWaitLong) {
  Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::OpenPath(path_);
  ASSERT_TRUE(sink.ok());
  JsonlSink& jsonl = **sink;
  msgpack::object_handle event = testing::ToObject(testing::SandboxEvent(kRun));
  ASSERT_TRUE(jsonl.Write(event.get()).ok());
  EXPECT_EQ(ReadFile(path_), "");
  ASSERT_TRUE(jsonl.Flush().ok());
  EXPECT_EQ(ReadFile(path_), "") << "a batch's end alone writes nothing yet";
  ASSERT_TRUE(jsonl.Idle().ok());
  EXPECT_EQ(SplitLines(ReadFile(path_)).size(), 1u) << "a pause writes everything";

  ASSERT_TRUE(jsonl.Write(event.get()).ok());
  ASSERT_TRUE(jsonl.Flush().ok());
  EXPECT_EQ(SplitLines(ReadFile(path_)).size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(kJsonlMaxDelayMs + 50));
  ASSERT_TRUE(jsonl.Write(event.get()).ok());
  ASSERT_TRUE(jsonl.Flush().ok());
  EXPECT_EQ(SplitLines(ReadFile(path_)).size(), 3u) << "lines kept too long go at a batch's end";

  msgpack::object_handle big = testing::ToObject(
      testing::OpenatEvent(7, "/" + std::string(64 * 1024, 'p'), "O_RDONLY", 3, "file_read"));
  size_t lines = 3;
  while (SplitLines(ReadFile(path_)).size() == 3) {
    ASSERT_TRUE(jsonl.Write(big.get()).ok());
    ++lines;
    ASSERT_LT(lines, 3 + kJsonlBufferLimit / (64 * 1024) + 2) << "the buffer never went out";
  }
  EXPECT_EQ(SplitLines(ReadFile(path_)).size(), lines) << "a full buffer goes out whole";
  ASSERT_TRUE(jsonl.Write(event.get()).ok());
  ASSERT_TRUE(jsonl.Close().ok());
  EXPECT_EQ(SplitLines(ReadFile(path_)).size(), lines + 1);
}

TEST_F(JsonlSinkTest, GapAndFallbackSummaryWhenTheStreamBreaksOff) {
  Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::OpenPath(path_);
  ASSERT_TRUE(sink.ok());
  EventStream stream(sink->get(), [](const std::string&) {});
  ASSERT_TRUE(stream.Deliver(BatchMessage({testing::SandboxEvent(kRun)})).ok());
  wire::Message late = BatchMessage({testing::SyscallEvent(10, "read", "file_read", 1)}, 2, 5);
  late.lost_messages = 1;
  late.lost_records = 4;
  ASSERT_TRUE(stream.Deliver(late).ok());
  ASSERT_TRUE(stream.Finish("terminated before the end of the event stream").ok());

  const std::vector<std::string> lines = SplitLines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[1].find(R"("event_type":"gap")"), std::string::npos);
  EXPECT_NE(lines[1].find(R"("stage":"analyzer->sink")"), std::string::npos);
  EXPECT_NE(lines[3].find(R"("event_type":"summary")"), std::string::npos);
  EXPECT_NE(lines[3].find(R"("total_syscalls":1)"), std::string::npos);
  EXPECT_NE(lines[3].find(R"("outcome":"aborted")"), std::string::npos);
  EXPECT_NE(lines[3].find(R"("gaps":4)"), std::string::npos);
  EXPECT_NE(lines[3].find(R"("incomplete":true)"), std::string::npos);
}

TEST_F(JsonlSinkTest, TruncatesAnExistingFile) {
  {
    FILE* f = fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("old content\nold content\n", f);
    fclose(f);
  }
  Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::OpenPath(path_);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ(ReadFile(path_), "");
}

TEST_F(JsonlSinkTest, UnwritablePathFailsAtOpenNamingTheFile) {
  const std::string bad = dir_.File("missing-dir/trace.jsonl");
  Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::OpenPath(bad);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.error().message().find(bad), std::string::npos);
  EXPECT_EQ(sink.error().code, ENOENT);
}

TEST_F(JsonlSinkTest, AdoptedFdIsWrittenAndClosed) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::AdoptFd(fds[1]);
  ASSERT_TRUE(sink.ok());
  EventStream stream(sink->get(), [](const std::string&) {});
  ASSERT_TRUE(stream.Deliver(BatchMessage({testing::SandboxEvent(kRun)})).ok());
  ASSERT_TRUE(stream.Finish("x").ok());
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, n);  // EOF: closed
  close(fds[0]);
  EXPECT_EQ(SplitLines(text).size(), 2u);
}

// The wrapper hands `-o FILE` over open without O_TRUNC; the sink empties it at Begin.
TEST_F(JsonlSinkTest, AdoptedFileIsEmptiedAtBeginOnlyWhenAsked) {
  for (const bool empty : {true, false}) {
    const std::string old(100000, 'x');
    {
      const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(write(fd, old.data(), old.size()), static_cast<ssize_t>(old.size()));
      close(fd);
    }
    const int fd = open(path_.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::AdoptFd(fd, empty);
    ASSERT_TRUE(sink.ok());
    EXPECT_EQ(ReadFile(path_), old) << "nothing is emptied before Begin";
    ASSERT_TRUE((*sink)->Begin().ok());
    EventStream stream(sink->get(), [](const std::string&) {});
    ASSERT_TRUE(stream.Deliver(BatchMessage({testing::SandboxEvent(kRun)})).ok());
    ASSERT_TRUE(stream.Finish("x").ok());
    const std::string text = ReadFile(path_);
    if (empty) {
      EXPECT_EQ(SplitLines(text).size(), 2u) << text.substr(0, 200);
    } else {
      EXPECT_EQ(text.size(), old.size()) << "overwritten in place, never cut";
      EXPECT_EQ(text.substr(0, 1), "{");
    }
  }
}

TEST_F(JsonlSinkTest, EmptyingAPipeIsNotAnError) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::AdoptFd(fds[1], true);
  ASSERT_TRUE(sink.ok());
  EXPECT_TRUE((*sink)->Begin().ok());
  sink->reset();
  close(fds[0]);
}

TEST_F(JsonlSinkTest, BadFdsAreRejected) {
  EXPECT_FALSE(JsonlSink::AdoptFd(-1).ok());
  EXPECT_FALSE(JsonlSink::AdoptFd(987).ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_FALSE(JsonlSink::AdoptFd(fds[0]).ok());  // the read end
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace sandtrace::sinks
