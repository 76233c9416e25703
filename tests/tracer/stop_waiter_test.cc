#include "tracer/stop_waiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>

namespace sandtrace::tracer {
namespace {

// A scripted waitpid(): Poll finds a stop after `empty_polls` empty answers (never while it
// is negative); each poll takes `poll_ns` of the fake clock.
struct FakeSource {
  int empty_polls = 0;
  uint64_t poll_ns = 1000;
  uint64_t now = 0;
  int polls = 0;
  int sleeps = 0;
  bool interrupted = false;

  pid_t Poll(int* status) {
    ++polls;
    now += poll_ns;
    if (empty_polls == 0) {
      *status = 1;
      return 42;
    }
    if (empty_polls > 0) --empty_polls;
    return 0;
  }
  pid_t Sleep(int* status) {
    ++sleeps;
    *status = 2;
    return 7;
  }
  uint64_t NowNs() const { return now; }
  bool Interrupted() const { return interrupted; }
};

using Waiter = StopWaiter<FakeSource>;
constexpr int kPollsPerMiss = static_cast<int>(Waiter::kPollNs / 1000);

TEST(StopWaiterTest, AStopThatComesWhilePollingIsTakenWithoutSleeping) {
  FakeSource source;
  source.empty_polls = 3;
  Waiter waiter(&source);
  int status = 0;
  EXPECT_EQ(waiter.Wait(&status), 42);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(source.polls, 4);
  EXPECT_EQ(source.sleeps, 0);
  EXPECT_EQ(waiter.stats().polled_hits, 1u);
}

TEST(StopWaiterTest, PollsForTheBudgetThenSleeps) {
  FakeSource source;
  source.empty_polls = -1;
  Waiter waiter(&source);
  int status = 0;
  EXPECT_EQ(waiter.Wait(&status), 7);
  EXPECT_EQ(status, 2);
  EXPECT_EQ(source.polls, kPollsPerMiss);
  EXPECT_EQ(source.sleeps, 1);
  EXPECT_EQ(waiter.stats().polled_misses, 1u);
}

// After k empty polls in a row the next 2^k - 1 waits sleep at once (k at most kMaxBackoff).
TEST(StopWaiterTest, EmptyPollsInARowBackOffExponentially) {
  FakeSource source;
  source.empty_polls = -1;
  Waiter waiter(&source);
  int status = 0;
  int next_poll = 0;  // the wait that is expected to poll
  int k = 0;
  for (int wait = 0; wait < 400; ++wait) {
    const int polls = source.polls;
    ASSERT_EQ(waiter.Wait(&status), 7);
    const bool polled = source.polls > polls;
    ASSERT_EQ(polled, wait == next_poll) << "wait " << wait;
    if (polled) {
      k = std::min(k + 1, Waiter::kMaxBackoff);
      next_poll = wait + (1 << k);
    }
  }
  EXPECT_EQ(k, Waiter::kMaxBackoff);
  EXPECT_EQ(waiter.stats().waits, 400u);
  EXPECT_EQ(waiter.stats().polled_misses + waiter.stats().slept, 400u);
  EXPECT_EQ(source.sleeps, 400);
}

TEST(StopWaiterTest, AStopFoundByPollingEndsTheBackOff) {
  FakeSource source;
  source.empty_polls = -1;
  Waiter waiter(&source);
  int status = 0;
  waiter.Wait(&status);  // miss: the next wait sleeps at once
  waiter.Wait(&status);
  waiter.Wait(&status);  // miss: the next 3 sleep at once
  for (int i = 0; i < 3; ++i) waiter.Wait(&status);
  source.empty_polls = 0;
  EXPECT_EQ(waiter.Wait(&status), 42);  // found by polling
  source.empty_polls = -1;
  const int polls = source.polls;
  waiter.Wait(&status);  // polls again: the misses before the hit are forgotten
  EXPECT_GT(source.polls, polls);
  const int after_miss = source.polls;
  waiter.Wait(&status);  // one miss in a row: exactly one wait sleeps at once
  EXPECT_EQ(source.polls, after_miss);
  waiter.Wait(&status);
  EXPECT_GT(source.polls, after_miss);
}

TEST(StopWaiterTest, SleepNextSleepsOnceWithoutPolling) {
  FakeSource source;
  Waiter waiter(&source);
  int status = 0;
  waiter.SleepNext();
  EXPECT_EQ(waiter.Wait(&status), 7);
  EXPECT_EQ(source.polls, 0);
  EXPECT_EQ(waiter.Wait(&status), 42);  // only the one wait
  EXPECT_EQ(source.polls, 1);
  EXPECT_EQ(source.sleeps, 1);
}

TEST(StopWaiterTest, AnInterruptWhilePollingEndsTheWaitLikeEintr) {
  FakeSource source;
  source.empty_polls = -1;
  source.interrupted = true;
  Waiter waiter(&source);
  int status = 0;
  errno = 0;
  EXPECT_EQ(waiter.Wait(&status), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(source.polls, 1);
  EXPECT_EQ(source.sleeps, 0);
}

}  // namespace
}  // namespace sandtrace::tracer
