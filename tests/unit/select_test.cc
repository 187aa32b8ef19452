#include "manymodels/core/select.h"

#include <gtest/gtest.h>

#include <cmath>

#include "manymodels/core/models_basic.h"

namespace mm {
namespace {

SelectOptions Options(double m, int h) {
  SelectOptions o;
  o.context.season_lengths = {m};
  o.context.horizon = h;
  o.candidates = AutoCandidates(o.context);
  return o;
}

TEST(SelectTest, AutoChoosesSeasonalNaiveForAPeriodicSeries) {
  std::vector<double> y;
  for (int t = 0; t < 100; ++t) y.push_back(100 + 20 * ((t % 7) == 5) - 3 * (t % 7));
  const SeriesResult r = FitSeries(y, Options(7, 14));
  EXPECT_FALSE(r.failed);
  EXPECT_EQ(r.method, "snaive");
  EXPECT_DOUBLE_EQ(r.metrics.mae, 0.0);
  EXPECT_EQ(r.n_obs, 100);
  ASSERT_EQ(r.forecast.mean.size(), 14u);
  EXPECT_DOUBLE_EQ(r.forecast.mean[0], y[93]);
}

TEST(SelectTest, AutoChoosesDriftForALine) {
  std::vector<double> y;
  for (int t = 0; t < 50; ++t) y.push_back(3.0 * t + 1);
  const SeriesResult r = FitSeries(y, Options(7, 5));
  EXPECT_EQ(r.method, "drift");
  EXPECT_NEAR(r.forecast.mean[4], 3.0 * 54 + 1, 1e-9);
}

TEST(SelectTest, ShortSeriesFallsBackWithANote) {
  const std::vector<double> y = {4, 5, 6};
  const SeriesResult r = FitSeries(y, Options(7, 5));
  EXPECT_FALSE(r.failed);
  EXPECT_EQ(r.method, "naive");
  EXPECT_TRUE(std::isnan(r.metrics.mae));
  EXPECT_NE(r.note.find("too short"), std::string::npos) << r.note;
}

TEST(SelectTest, SingleObservationIsReportedFailedNotThrown) {
  const std::vector<double> y = {4};
  const SeriesResult r = FitSeries(y, Options(1, 3));
  EXPECT_TRUE(r.failed);
  EXPECT_FALSE(r.note.empty());
  EXPECT_TRUE(std::isnan(r.forecast.mean[2]));
}

TEST(SelectTest, ResolveModelsRejectsUnknownNames) {
  FitContext c;
  c.season_lengths = {7};
  EXPECT_EQ(ResolveModels("naive,drift", c).size(), 2u);
  EXPECT_EQ(ResolveModels("auto", c).front()->name(), "snaive");
  EXPECT_THROW(ResolveModels("naive,prophet", c), std::invalid_argument);
}

}  // namespace
}  // namespace mm
