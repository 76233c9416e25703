#include "tracer/stop_crowd.h"

#include <gtest/gtest.h>

#include <vector>

namespace sandtrace::tracer {
namespace {

// Feeds `stops` in order; returns the indices of the stops at which crowded() changed.
std::vector<size_t> Changes(StopCrowd& crowd, const std::vector<pid_t>& stops) {
  std::vector<size_t> changed;
  for (size_t i = 0; i < stops.size(); ++i) {
    if (crowd.Note(stops[i])) changed.push_back(i);
  }
  return changed;
}

// `rounds` turns of the tasks in `tids`, one stop each per turn.
std::vector<pid_t> RoundRobin(const std::vector<pid_t>& tids, size_t rounds) {
  std::vector<pid_t> stops;
  for (size_t r = 0; r < rounds; ++r) stops.insert(stops.end(), tids.begin(), tids.end());
  return stops;
}

TEST(StopCrowdTest, OneOrTwoTasksAreNeverACrowd) {
  StopCrowd one;
  EXPECT_TRUE(Changes(one, std::vector<pid_t>(1000, 7)).empty());
  EXPECT_FALSE(one.crowded());
  StopCrowd two;
  EXPECT_TRUE(Changes(two, RoundRobin({7, 8}, 500)).empty());
  EXPECT_FALSE(two.crowded());
}

TEST(StopCrowdTest, FourThreadsInTurnAreACrowdAfterTwoLooks) {
  StopCrowd crowd;
  const std::vector<size_t> changed = Changes(crowd, RoundRobin({10, 11, 12, 13}, 100));
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0], 2 * StopCrowd::kWindow - 1);  // the last stop of the second look
  EXPECT_TRUE(crowd.crowded());
}

TEST(StopCrowdTest, ThreeTasksAreACrowd) {
  StopCrowd crowd;
  Changes(crowd, RoundRobin({10, 11, 12}, 2 * StopCrowd::kWindow));
  EXPECT_TRUE(crowd.crowded());
}

TEST(StopCrowdTest, AShellForkingOneChildAfterAnotherIsNoCrowd) {
  // Each child's last stops, the shell's and the next child's first stops fall into one look
  // now and then; the looks around it hold one or two tasks.
  StopCrowd crowd;
  std::vector<pid_t> stops;
  for (pid_t child = 100; child < 200; ++child) {
    for (int i = 0; i < 5; ++i) stops.push_back(1);  // the shell: wait4's end, clone
    for (int i = 0; i < 23; ++i) stops.push_back(child);
  }
  EXPECT_TRUE(Changes(crowd, stops).empty());
}

TEST(StopCrowdTest, OneQuietLookEndsTheCrowd) {
  StopCrowd crowd;
  Changes(crowd, RoundRobin({10, 11, 12, 13}, 8));
  ASSERT_TRUE(crowd.crowded());
  // The threads end; the main thread's stops alone make the next look quiet.
  const std::vector<size_t> changed = Changes(crowd, std::vector<pid_t>(StopCrowd::kWindow, 10));
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0], StopCrowd::kWindow - 1);
  EXPECT_FALSE(crowd.crowded());
}

}  // namespace
}  // namespace sandtrace::tracer
