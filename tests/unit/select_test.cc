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

namespace mm {
namespace {

TEST(SelectTest, BacktestWindowsAverageMetricsOverOrigins) {
  std::vector<double> y;
  for (int t = 0; t < 60; ++t) y.push_back(t % 2 ? 10.0 : 0.0);
  SelectOptions o = Options(1, 4);
  o.candidates = {&MeanMethod()};
  o.backtest_windows = 3;
  const SeriesResult r = FitSeries(y, o);
  // The mean of an alternating series is ~5 in every window: MAE 5 whatever the origin.
  EXPECT_NEAR(r.metrics.mae, 5.0, 0.2);
  o.backtest_windows = 100;  // more than the history holds: as many as fit
  EXPECT_FALSE(FitSeries(y, o).failed);
}

TEST(SelectTest, EnsembleCompetesAndRoundTrips) {
  // Two models wrong in opposite directions: their mean beats both.
  std::vector<double> y;
  for (int t = 0; t < 80; ++t) y.push_back(t < 70 ? 0.0 : 20.0 * (t - 69));
  SelectOptions o = Options(1, 5);
  o.candidates = {&NaiveMethod(), &MeanMethod()};
  o.ensemble = true;
  o.combination = Combination::kMean;
  o.ensemble_size = 2;
  const SeriesResult r = FitSeries(y, o);
  ASSERT_FALSE(r.failed);
  const auto model = LoadModel(r.model);
  EXPECT_EQ(r.forecast.mean, model->Predict(5).mean);
  if (r.method == "ensemble") {
    EXPECT_EQ(r.label, "Mean(Naive+Mean)");
  }
  // Ensemble or not, the choice never has a worse validation MAE than the best single model.
  o.ensemble = false;
  EXPECT_LE(r.metrics.mae, FitSeries(y, o).metrics.mae);
}

TEST(SelectTest, CovariatesReachTheModelAndAreCutToTheHoldout) {
  // y = 3 * x exactly; only a model that sees x (fourier) can forecast it.
  std::vector<double> x, y;
  for (int t = 0; t < 120; ++t) x.push_back((t * 7919) % 13);
  for (int t = 0; t < 110; ++t) y.push_back(-3.0 * x[t]);
  SelectOptions o = Options(1, 10);
  o.context.covariates = {std::span<const double>(x)};
  const SeriesResult r = FitSeries(y, o);
  EXPECT_EQ(r.method, "fourier");
  EXPECT_LT(r.metrics.mae, 1e-3);
  EXPECT_NEAR(r.forecast.mean[3], -3.0 * x[113], 1e-3);
}

}  // namespace
}  // namespace mm

namespace mm {
namespace {

TEST(SelectTest, LongHistoriesAreCutToTheLatestPeriods) {
  // An old regime (level 1000) followed by 200 periods at level 10: the cut keeps only the new regime.
  std::vector<double> y(2000, 1000.0);
  for (size_t t = 1800; t < 2000; ++t) y[t] = 10.0;
  SelectOptions o = Options(1, 5);
  o.candidates = {&MeanMethod()};
  o.max_history = 150;
  const SeriesResult r = FitSeries(y, o);
  EXPECT_EQ(r.n_obs, 150);
  EXPECT_DOUBLE_EQ(r.forecast.mean[0], 10.0);
  o.max_history = 0;
  EXPECT_GT(FitSeries(y, o).forecast.mean[0], 500.0);
  EXPECT_EQ(DefaultMaxHistory({7, 365.25}), 1096u);
  EXPECT_EQ(DefaultMaxHistory({12}), 1000u);
}

}  // namespace
}  // namespace mm
