#include "manymodels/core/series.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mm {
namespace {

TEST(SeriesTest, ObservedRangeTrimsMissingEnds) {
  const std::vector<double> y = {NAN, 1, NAN, 2, NAN, NAN};
  const IndexRange r = ObservedRange(y);
  EXPECT_EQ(r.begin, 1u);
  EXPECT_EQ(r.end, 4u);
  EXPECT_EQ(ObservedRange(std::vector<double>{NAN, NAN}).size(), 0u);
}

TEST(SeriesTest, LastObservedPeriodIsTheForecastOrigin) {
  // Periods 100..104; the last two only hold future covariates.
  EXPECT_EQ(LastObservedPeriod(100, std::vector<double>{NAN, 1, 2, NAN, NAN}), 102);
  EXPECT_EQ(LastObservedPeriod(100, std::vector<double>{1, 2, 3}), 102);
  EXPECT_EQ(LastObservedPeriod(100, std::vector<double>{NAN, NAN}),
            101);  // nothing observed: its last period
}

TEST(SeriesTest, SumAlignsPeriodsAndKeepsAllMissingAsNaN) {
  PeriodSeries a{10, {1, 2, NAN}};
  PeriodSeries b{11, {10, NAN, 30}};
  const PeriodSeries s = SumSeries({a, b});
  EXPECT_EQ(s.start, 10);
  ASSERT_EQ(s.values.size(), 4u);
  EXPECT_EQ(s.values[0], 1);
  EXPECT_EQ(s.values[1], 12);
  EXPECT_TRUE(std::isnan(s.values[2]));
  EXPECT_EQ(s.values[3], 30);
}

TEST(SeriesTest, SeedDependsOnKeyAndRunSeedOnly) {
  EXPECT_EQ(SeriesSeed(1, "store=1,item=2"), SeriesSeed(1, "store=1,item=2"));
  EXPECT_NE(SeriesSeed(1, "store=1,item=2"), SeriesSeed(1, "store=1,item=3"));
  EXPECT_NE(SeriesSeed(1, "store=1,item=2"), SeriesSeed(2, "store=1,item=2"));
}

}  // namespace
}  // namespace mm
