#include "tracer/stop_waiter.h"

#include <gtest/gtest.h>

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
constexpr uint32_t kKind = 7;

// Waits once for `kind`; true when it polled.
bool WaitPolls(Waiter& waiter, FakeSource& source, uint32_t kind) {
  const int polls = source.polls;
  int status = 0;
  waiter.Wait(&status, kind);
  return source.polls > polls;
}

// One wait for a new kind, with a stop after `empty_polls` empty polls (never if negative).
struct OneWait {
  pid_t got;
  int status;
  FakeSource source;
};

OneWait WaitOnce(int empty_polls) {
  OneWait w{};
  w.source.empty_polls = empty_polls;
  Waiter waiter(&w.source);
  w.got = waiter.Wait(&w.status, kKind);
  return w;
}

TEST(StopWaiterTest, AStopThatComesWhilePollingIsTakenWithoutSleeping) {
  const OneWait w = WaitOnce(3);
  EXPECT_EQ(w.got, 42);
  EXPECT_EQ(w.status, 1);
  EXPECT_EQ(w.source.polls, 4);
  EXPECT_EQ(w.source.sleeps, 0);  // found by a poll
}

TEST(StopWaiterTest, PollsForTheBudgetThenSleeps) {
  const OneWait w = WaitOnce(-1);
  EXPECT_EQ(w.got, 7);
  EXPECT_EQ(w.status, 2);
  EXPECT_EQ(w.source.polls, kPollsPerMiss);
  EXPECT_EQ(w.source.sleeps, 1);  // after one poll that found nothing
}

// A kind whose polls find nothing sleeps at once, polling only every kProbeEvery-th wait; the
// other kinds go on polling.
TEST(StopWaiterTest, AKindWhosePollsFindNothingSleepsAndProbes) {
  FakeSource source;
  source.empty_polls = -1;
  Waiter waiter(&source);
  EXPECT_TRUE(WaitPolls(waiter, source, kKind));  // a new kind polls, finds nothing: score 0
  int next_probe = Waiter::kProbeEvery;
  for (int wait = 1; wait <= 5 * Waiter::kProbeEvery; ++wait) {
    ASSERT_EQ(WaitPolls(waiter, source, kKind), wait == next_probe) << "wait " << wait;
    if (wait == next_probe) next_probe += Waiter::kProbeEvery;
  }
  source.empty_polls = 0;
  EXPECT_TRUE(WaitPolls(waiter, source, kKind + 1));
  EXPECT_TRUE(WaitPolls(waiter, source, kKind + 1 + Waiter::kKinds));  // the same kind
}

// Each hit raises the score (up to kMaxScore), each miss lowers it; the kind polls while its
// score is above 0.
TEST(StopWaiterTest, HitsEarnPollsThatMissesSpend) {
  FakeSource source;
  Waiter waiter(&source);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(WaitPolls(waiter, source, kKind));  // hits: score 3
  source.empty_polls = -1;
  for (int i = 0; i < Waiter::kMaxScore; ++i) {
    ASSERT_TRUE(WaitPolls(waiter, source, kKind)) << "miss " << i;
  }
  EXPECT_FALSE(WaitPolls(waiter, source, kKind));  // score 0: sleeps at once
  for (int i = 2; i < Waiter::kProbeEvery; ++i) ASSERT_FALSE(WaitPolls(waiter, source, kKind));
  source.empty_polls = 0;
  EXPECT_TRUE(WaitPolls(waiter, source, kKind));  // the probe finds the stop: score 1
  EXPECT_TRUE(WaitPolls(waiter, source, kKind));
  // Exactly kMaxScore polls found nothing: every other wait that polled took one poll.
  EXPECT_EQ(source.polls, 12 + Waiter::kMaxScore * kPollsPerMiss);
}

TEST(StopWaiterTest, AnAlwaysSleepKindNeverPolls) {
  FakeSource source;
  Waiter waiter(&source);
  waiter.AlwaysSleep(kKind);
  int status = 0;
  for (int i = 0; i < 3 * Waiter::kProbeEvery; ++i) {
    ASSERT_EQ(waiter.Wait(&status, kKind), 7) << "wait " << i;
  }
  EXPECT_EQ(source.polls, 0);
  EXPECT_EQ(source.sleeps, 3 * Waiter::kProbeEvery);
  EXPECT_EQ(waiter.Wait(&status, kKind + 1), 42);  // other kinds still poll
  EXPECT_EQ(source.polls, 1);
}

TEST(StopWaiterTest, AnInterruptWhilePollingEndsTheWaitLikeEintr) {
  FakeSource source;
  source.empty_polls = -1;
  source.interrupted = true;
  Waiter waiter(&source);
  int status = 0;
  errno = 0;
  EXPECT_EQ(waiter.Wait(&status, kKind), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(source.polls, 1);
  EXPECT_EQ(source.sleeps, 0);
}

}  // namespace
}  // namespace sandtrace::tracer
