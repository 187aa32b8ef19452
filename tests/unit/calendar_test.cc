#include "manymodels/core/calendar.h"

#include <gtest/gtest.h>

namespace mm {
namespace {

TEST(CalendarTest, CivilRoundTrip) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  for (int64_t d = -800000; d < 800000; d += 997) {
    int64_t y;
    unsigned m, dd;
    CivilFromDays(d, &y, &m, &dd);
    EXPECT_EQ(DaysFromCivil(y, m, dd), d);
  }
}

TEST(CalendarTest, ParsesDatesDateTimesAndIntegers) {
  auto d = ParseTime("2020-02-29");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, TimeKind::kDate);
  EXPECT_EQ(d->value, DaysFromCivil(2020, 2, 29));
  EXPECT_FALSE(ParseTime("2021-02-29"));
  EXPECT_FALSE(ParseTime("2021-13-01"));
  EXPECT_FALSE(ParseTime("2021-1-01"));
  auto t = ParseTime("2020-01-02T03:04:05");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, TimeKind::kDateTime);
  EXPECT_EQ(t->value, DaysFromCivil(2020, 1, 2) * 86400 + 3 * 3600 + 4 * 60 + 5);
  EXPECT_TRUE(ParseTime("2020-01-02 03:00"));
  auto i = ParseTime("-17");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->kind, TimeKind::kInteger);
  EXPECT_EQ(i->value, -17);
  EXPECT_FALSE(ParseTime("12x"));
  EXPECT_FALSE(ParseTime(""));
}

TEST(CalendarTest, PeriodsRoundTripThroughText) {
  const int anchor = 3;
  for (Frequency f : {Frequency::kDaily, Frequency::kWeekly, Frequency::kMonthly, Frequency::kQuarterly,
                      Frequency::kYearly, Frequency::kHourly, Frequency::kInteger}) {
    for (int64_t p : {int64_t{0}, int64_t{5}, int64_t{2400}, int64_t{-7}}) {
      const int64_t base = f == Frequency::kYearly ? 2000 : f == Frequency::kMonthly ? 24000 : f == Frequency::kQuarterly ? 8000 : 0;
      const int64_t period = base + p;
      const std::string text = FormatPeriod(f, period, anchor);
      auto raw = ParseTime(text);
      ASSERT_TRUE(raw) << text;
      auto back = ToPeriod(*raw, f, anchor);
      ASSERT_TRUE(back) << text;
      EXPECT_EQ(*back, period) << FrequencyCode(f) << " " << text;
    }
  }
}

TEST(CalendarTest, WeeklyGridAndMonthsIgnoreDay) {
  auto a = ParseTime("2020-01-02");
  auto b = ParseTime("2020-01-03");
  const int anchor = static_cast<int>(((a->value % 7) + 7) % 7);
  EXPECT_TRUE(ToPeriod(*a, Frequency::kWeekly, anchor));
  EXPECT_FALSE(ToPeriod(*b, Frequency::kWeekly, anchor));
  EXPECT_EQ(*ToPeriod(*ParseTime("2020-03-31"), Frequency::kMonthly, 0), 2020 * 12 + 2);
  EXPECT_EQ(*ToPeriod(*ParseTime("2020-03-31"), Frequency::kQuarterly, 0), 2020 * 4);
  EXPECT_FALSE(ToPeriod(*ParseTime("5"), Frequency::kDaily, 0));
}

TEST(CalendarTest, InfersFrequencyFromGaps) {
  EXPECT_EQ(InferFrequency(TimeKind::kDate, {0, 1, 2}), Frequency::kDaily);
  EXPECT_EQ(InferFrequency(TimeKind::kDate, {0, 7, 21}), Frequency::kWeekly);
  EXPECT_EQ(InferFrequency(TimeKind::kDate, {DaysFromCivil(2020, 1, 1), DaysFromCivil(2020, 2, 1)}),
            Frequency::kMonthly);
  EXPECT_EQ(InferFrequency(TimeKind::kDateTime, {0, 3600, 7200}), Frequency::kHourly);
  EXPECT_EQ(InferFrequency(TimeKind::kInteger, {1, 2}), Frequency::kInteger);
}

}  // namespace
}  // namespace mm
