#include "common/utc_time.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdint>
#include <random>

namespace sandtrace {
namespace {

// glibc's answer, for comparison: what the stages used before.
UtcTime FromGlibc(int64_t seconds) {
  const time_t t = static_cast<time_t>(seconds);
  tm parts{};
  gmtime_r(&t, &parts);
  return UtcTime{parts.tm_year + 1900LL,
                 static_cast<unsigned>(parts.tm_mon + 1),
                 static_cast<unsigned>(parts.tm_mday),
                 static_cast<unsigned>(parts.tm_hour),
                 static_cast<unsigned>(parts.tm_min),
                 static_cast<unsigned>(parts.tm_sec)};
}

void ExpectSame(const UtcTime& a, const UtcTime& b, int64_t seconds) {
  EXPECT_EQ(a.year, b.year) << seconds;
  EXPECT_EQ(a.month, b.month) << seconds;
  EXPECT_EQ(a.day, b.day) << seconds;
  EXPECT_EQ(a.hour, b.hour) << seconds;
  EXPECT_EQ(a.minute, b.minute) << seconds;
  EXPECT_EQ(a.second, b.second) << seconds;
}

TEST(UtcTimeTest, KnownInstants) {
  static_assert(UtcFromUnixSeconds(0).year == 1970);
  const UtcTime t = UtcFromUnixSeconds(1795905639);  // 2026-11-28T22:40:39Z
  EXPECT_EQ(t.year, 2026);
  EXPECT_EQ(t.month, 11u);
  EXPECT_EQ(t.day, 28u);
  EXPECT_EQ(t.hour, 22u);
  EXPECT_EQ(t.minute, 40u);
  EXPECT_EQ(t.second, 39u);
  EXPECT_EQ(UnixSecondsFromUtc(t), 1795905639);
  const UtcTime leap = UtcFromUnixSeconds(951782400);  // 2000-02-29T00:00:00Z
  EXPECT_EQ(leap.month, 2u);
  EXPECT_EQ(leap.day, 29u);
  const UtcTime before = UtcFromUnixSeconds(-1);  // 1969-12-31T23:59:59Z
  EXPECT_EQ(before.year, 1969);
  EXPECT_EQ(before.day, 31u);
  EXPECT_EQ(before.second, 59u);
}

// Every day boundary from 1900 to 2400 (leap years, centuries, 2000) and random instants from
// 1000 to 9999: the same fields as gmtime_r, and back to the same second.
TEST(UtcTimeTest, AgreesWithGlibcAndRoundTrips) {
  for (int64_t s = -2208988800; s <= 13569465600; s += 86400) {
    for (int64_t at : {s, s + 86399}) {
      const UtcTime ours = UtcFromUnixSeconds(at);
      ExpectSame(ours, FromGlibc(at), at);
      ASSERT_EQ(UnixSecondsFromUtc(ours), at);
    }
  }
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int64_t> instant(-30610224000, 253402300799);
  for (int i = 0; i < 100000; ++i) {
    const int64_t at = instant(random);
    const UtcTime ours = UtcFromUnixSeconds(at);
    ExpectSame(ours, FromGlibc(at), at);
    ASSERT_EQ(UnixSecondsFromUtc(ours), at);
  }
}

TEST(UtcTimeTest, DayPastTheMonthCountsOn) {
  // As timegm: 2026-02-31 is 2026-03-03, and second 60 is the next minute's first.
  EXPECT_EQ(UnixSecondsFromUtc(UtcTime{2026, 2, 31, 0, 0, 0}),
            UnixSecondsFromUtc(UtcTime{2026, 3, 3, 0, 0, 0}));
  EXPECT_EQ(UnixSecondsFromUtc(UtcTime{2026, 12, 31, 23, 59, 60}),
            UnixSecondsFromUtc(UtcTime{2027, 1, 1, 0, 0, 0}));
}

}  // namespace
}  // namespace sandtrace
