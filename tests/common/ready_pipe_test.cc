#include "common/ready_pipe.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace sandtrace {
namespace {

TEST(ReadyPipeTest, AnswerAndFailureReachTheWaiter) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ReportReady(p[1]);
  EXPECT_TRUE(AwaitReady(p[0], 1000, "stage").ok());
  ASSERT_EQ(pipe(p), 0);
  ReportFailure(p[1], "no disk");
  Status failed = AwaitReady(p[0], 1000, "stage");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(), "no disk");
}

// The reader is gone (the tracer refused to start before the wrapper's "ok"): the writer gets
// EPIPE, not a SIGPIPE that would kill it, and its SIGPIPE disposition and mask are unchanged.
TEST(ReadyPipeTest, AnsweringAGoneReaderDoesNotRaiseSigpipe) {
  struct sigaction previous {};
  sigaction(SIGPIPE, nullptr, &previous);
  ASSERT_EQ(previous.sa_handler, SIG_DFL);  // a SIGPIPE would end this test binary
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  close(p[0]);
  ReportReady(p[1]);
  sigset_t pending, mask;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGPIPE));
  ASSERT_EQ(pipe(p), 0);
  close(p[0]);
  ReportFailure(p[1], "whatever");
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

}  // namespace
}  // namespace sandtrace
