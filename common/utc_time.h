// UTC calendar dates and times from Unix seconds and back, by arithmetic on the proleptic
// Gregorian calendar (days counted from 1970-01-01 in 400-year eras of 146097 days).
//
// Not glibc's gmtime_r and timegm: on first use those load the time zone file (/etc/localtime),
// and they take a lock on every call. The stages format their first timestamp when the first
// events arrive, which for a run that traces only a few calls is the end of the run, where the
// file reads sat on the way to sandtrace's exit.
#pragma once

#include <cstdint>

namespace sandtrace {

struct UtcTime {
  int64_t year = 1970;
  unsigned month = 1;  // 1-12
  unsigned day = 1;    // 1-31
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
};

// The date and time of `seconds` since 1970-01-01T00:00:00Z (negative: before it).
constexpr UtcTime UtcFromUnixSeconds(int64_t seconds) {
  int64_t days = seconds / 86400;
  int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  // Shift the epoch to 0000-03-01, so that a leap day is the last day of its year.
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;  // [0, 146096]
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;  // [0, 11], March first
  UtcTime t;
  t.day = static_cast<unsigned>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  t.month =
      static_cast<unsigned>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  t.year = year_of_era + era * 400 + (t.month <= 2 ? 1 : 0);
  t.hour = static_cast<unsigned>(rest / 3600);
  t.minute = static_cast<unsigned>(rest % 3600 / 60);
  t.second = static_cast<unsigned>(rest % 60);
  return t;
}

// Seconds since 1970-01-01T00:00:00Z of a date and time; the fields must be in range (month
// 1-12, day 1-31, hour 0-23, minute 0-59, second 0-60). As timegm does, a day past the month's
// end counts on into the next month, and second 60 is the next minute's first.
constexpr int64_t UnixSecondsFromUtc(const UtcTime& t) {
  const int64_t year = t.year - (t.month <= 2 ? 1 : 0);
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;  // [0, 399]
  const int64_t month_from_march = t.month > 2 ? t.month - 3 : t.month + 9;
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + t.day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  const int64_t days = era * 146097 + day_of_era - 719468;
  return days * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

}  // namespace sandtrace
