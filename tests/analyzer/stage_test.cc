// Runs the real sandtrace-analyzer binary between a fake tracer and two fake sinks, over
// ZeroMQ ipc:// sockets in a temporary directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "common/ready_pipe.h"
#include "common/wire/channel.h"
#include "common/wire/codec.h"
#include "tests/analyzer/event_reader.h"
#include "tests/analyzer/syscall_records.h"
#include "tests/support/temp_dir.h"

namespace sandtrace::analyzer {
namespace {

using namespace testing;

// What one sink received: every event in order, then the end of stream.
struct SinkLog {
  std::vector<std::string> event_types;
  std::vector<std::string> summary_outcomes;
  int64_t gap_records = 0;
  int64_t summary_total = -1;
  int64_t summary_gaps = -1;
  bool got_end = false;
  wire::End end;
  uint64_t lost = 0;
};

SinkLog Drain(wire::Receiver& rx) {
  SinkLog log;
  for (;;) {
    wire::Message m;
    Result<bool> got = rx.Receive(&m, 10000);
    if (!got.ok() || !*got) {
      ADD_FAILURE() << "sink timed out or failed";
      return log;
    }
    log.lost += m.lost_records;
    if (m.header.type == wire::MessageType::kEnd) {
      Result<wire::End> end = wire::DecodeEnd(m.body.data(), m.body.size());
      EXPECT_TRUE(end.ok());
      if (end.ok()) log.end = *end;
      log.got_end = true;
      return log;
    }
    EXPECT_EQ(m.header.type, wire::MessageType::kEventBatch);
    Events events(m.body.data(), m.body.size(), m.header.count);
    for (size_t i = 0; i < events.size(); ++i) {
      const std::string type = Str(events[i], "event_type");
      log.event_types.push_back(type);
      if (type == "gap") log.gap_records += Int(events[i], "lost_records");
      if (type == "summary") {
        log.summary_outcomes.push_back(Str(events[i], "outcome"));
        log.summary_total = Int(events[i], "total_syscalls");
        log.summary_gaps = Int(events[i], "gaps");
      }
    }
  }
}

class StageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    for (int i = 0; i < 2; ++i) {
      Result<wire::Receiver> rx = wire::Receiver::Bind(Endpoint("sink-" + std::to_string(i)));
      ASSERT_TRUE(rx.ok()) << rx.error().message();
      sinks_.push_back(std::move(*rx));
    }
    int ready[2];
    ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      const int fd = dup(ready[1]);  // without O_CLOEXEC
      const std::string fd_text = std::to_string(fd);
      const std::string in = Endpoint("raw"), out0 = Endpoint("sink-0"), out1 = Endpoint("sink-1");
      execl(SANDTRACE_ANALYZER_BIN, "sandtrace-analyzer", "--in", in.c_str(), "--out", out0.c_str(),
            "--out", out1.c_str(), "--ready-fd", fd_text.c_str(), nullptr);
      _exit(127);
    }
    close(ready[1]);
    Status ready_status = AwaitReady(ready[0], 10000, "sandtrace-analyzer");
    ASSERT_TRUE(ready_status.ok()) << ready_status.error().message();
    Result<wire::Sender> tx = wire::Sender::Connect(Endpoint("raw"));
    ASSERT_TRUE(tx.ok());
    tracer_ = std::make_unique<wire::Sender>(std::move(*tx));
  }

  void TearDown() override {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    tracer_.reset();
    sinks_.clear();
  }

  std::string Endpoint(const std::string& name) const { return "ipc://" + dir_.File(name); }

  void SendHello() {
    wire::Hello hello;
    hello.run_id = "00112233445566778899aabbccddeeff";
    hello.start_ns = kBaseNs;
    hello.root_pid = 100;
    msgpack::sbuffer body;
    wire::EncodeHello(hello, &body);
    ASSERT_TRUE(tracer_->Send(wire::MessageType::kHello, 1, body.data(), body.size()).ok());
  }

  void SendSyscalls(int count) {
    msgpack::sbuffer body;
    for (int i = 0; i < count; ++i) {
      wire::EncodeRecord(wire::RawRecord(Syscall(0, {0, 0, 1}, 1)), &body);
    }
    ASSERT_TRUE(tracer_->Send(wire::MessageType::kRawBatch, count, body.data(), body.size()).ok());
  }

  // Runs both sinks until their end of stream; returns the analyser's exit status.
  int Collect(std::vector<SinkLog>* logs) {
    std::vector<std::thread> threads;
    logs->resize(sinks_.size());
    for (size_t i = 0; i < sinks_.size(); ++i) {
      threads.emplace_back([this, i, logs] { (*logs)[i] = Drain(sinks_[i]); });
    }
    for (std::thread& t : threads) t.join();
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return status;
  }

  test_support::TempDir dir_{"/tmp/sandtrace-analyzer-XXXXXX"};
  std::vector<wire::Receiver> sinks_;
  std::unique_ptr<wire::Sender> tracer_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

TEST_F(StageTest, ForwardsEveryEventToEverySinkAndReportsUndecodableBatches) {
  SendHello();
  SendSyscalls(3);
  const std::string garbage = "\xc1\xc1\xc1";  // 0xc1 is never valid MessagePack
  ASSERT_TRUE(tracer_->Send(wire::MessageType::kRawBatch, 2, garbage.data(), garbage.size()).ok());
  SendSyscalls(4);
  wire::End end;
  end.outcome = wire::Outcome::kExited;
  end.exit_code = 7;
  end.end_ns = kBaseNs + 1000000;
  msgpack::sbuffer body;
  wire::EncodeEnd(end, &body);
  ASSERT_TRUE(tracer_->Send(wire::MessageType::kEnd, 1, body.data(), body.size()).ok());
  ASSERT_TRUE(tracer_->Close(10000).ok());

  std::vector<SinkLog> logs;
  const int status = Collect(&logs);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (const SinkLog& log : logs) {
    ASSERT_TRUE(log.got_end);
    EXPECT_EQ(log.lost, 0u);
    ASSERT_EQ(log.event_types.size(), 1u + 3u + 1u + 4u + 1u);
    EXPECT_EQ(log.event_types.front(), "sandbox");
    EXPECT_EQ(log.event_types.back(), "summary");
    EXPECT_EQ(log.summary_outcomes, std::vector<std::string>{"exited"});
    EXPECT_EQ(log.summary_total, 7);
    EXPECT_EQ(log.gap_records, 2);
    EXPECT_EQ(log.summary_gaps, 2);
    EXPECT_EQ(log.end.outcome, wire::Outcome::kExited);
    EXPECT_EQ(log.end.exit_code, 7);
  }
}

TEST_F(StageTest, SigtermWithoutEndWritesAnAbortedSummary) {
  SendHello();
  SendSyscalls(5);
  usleep(300000);  // let the analyser take the batch before it is told to stop
  ASSERT_EQ(kill(pid_, SIGTERM), 0);

  std::vector<SinkLog> logs;
  const int status = Collect(&logs);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (const SinkLog& log : logs) {
    ASSERT_TRUE(log.got_end);
    EXPECT_EQ(log.event_types.front(), "sandbox");
    EXPECT_EQ(log.event_types.back(), "summary");
    EXPECT_EQ(log.summary_outcomes, std::vector<std::string>{"aborted"});
    EXPECT_EQ(log.summary_total, 5);
    EXPECT_EQ(log.end.outcome, wire::Outcome::kAborted);
    EXPECT_EQ(log.end.exit_code, 1);
  }
}

TEST_F(StageTest, SigintIsIgnored) {
  SendHello();
  ASSERT_EQ(kill(pid_, SIGINT), 0);
  usleep(100000);
  SendSyscalls(2);
  wire::End end;
  msgpack::sbuffer body;
  wire::EncodeEnd(end, &body);
  ASSERT_TRUE(tracer_->Send(wire::MessageType::kEnd, 1, body.data(), body.size()).ok());
  std::vector<SinkLog> logs;
  const int status = Collect(&logs);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(logs[0].summary_total, 2);
}

}  // namespace
}  // namespace sandtrace::analyzer
