#include "manymodels/core/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace mm {
namespace {

TEST(MetricsTest, HandComputedCase) {
  // history 1,3,2,4 ; m = 1 -> scale = mean(|2|,|1|,|2|) = 5/3
  const std::vector<double> history = {1, 3, 2, 4};
  const double scale = MaseScale(history, 1);
  EXPECT_DOUBLE_EQ(scale, 5.0 / 3.0);
  const std::vector<double> actual = {4, 5}, forecast = {5, 3};
  const Metrics m = ComputeMetrics(actual, forecast, scale);
  EXPECT_DOUBLE_EQ(m.mae, 1.5);
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt((1.0 + 4.0) / 2.0));
  EXPECT_DOUBLE_EQ(m.mape, 100.0 * (1.0 / 4 + 2.0 / 5) / 2);
  EXPECT_DOUBLE_EQ(m.smape, 100.0 * (2.0 * 1 / 9 + 2.0 * 2 / 8) / 2);
  EXPECT_DOUBLE_EQ(m.mase, 1.5 / (5.0 / 3.0));
}

TEST(MetricsTest, SeasonalScaleUsesLagM) {
  // lag 2 differences: |3-1|, |5-2|, |9-3| = 2, 3, 6 -> 11/3
  const std::vector<double> history = {1, 2, 3, 5, 9};
  EXPECT_DOUBLE_EQ(MaseScale(history, 2), 11.0 / 3.0);
  // A history no longer than m falls back to lag 1.
  EXPECT_DOUBLE_EQ(MaseScale(history, 5), (1 + 1 + 2 + 4) / 4.0);
}

TEST(MetricsTest, UndefinedCasesAreNaN) {
  const std::vector<double> constant = {2, 2, 2, 2};
  const std::vector<double> actual = {0, 1}, forecast = {1, 1};
  const Metrics m = ComputeMetrics(actual, forecast, MaseScale(constant, 1));
  EXPECT_TRUE(std::isnan(m.mape));  // zero actual
  EXPECT_TRUE(std::isnan(m.mase));  // zero scale
  EXPECT_DOUBLE_EQ(m.mae, 0.5);
  EXPECT_DOUBLE_EQ(m.smape, 100.0 * (2.0 / 1.0 + 0.0) / 2);
}

TEST(MetricsTest, MissingActualsAreSkipped) {
  const std::vector<double> actual = {NAN, 2}, forecast = {100, 4};
  const Metrics m = ComputeMetrics(actual, forecast, 1.0);
  EXPECT_DOUBLE_EQ(m.mae, 2.0);
  EXPECT_TRUE(std::isnan(ComputeMetrics(std::vector<double>{NAN}, std::vector<double>{1}, 1.0).mae));
}

}  // namespace
}  // namespace mm
