#include "manymodels/core/models_basic.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mm {
namespace {

FitContext Context(double m, int h) {
  FitContext c;
  c.season_lengths = {m};
  c.horizon = h;
  return c;
}

TEST(SeasonalNaiveTest, ForecastsAnExactlyPeriodicSeriesExactly) {
  std::vector<double> y;
  for (int t = 0; t < 7 * 10; ++t) y.push_back(10.0 + (t % 7) * 3.0);
  const FitOutcome fit = SeasonalNaiveMethod().Fit(y, Context(7, 20));
  ASSERT_TRUE(fit.model) << fit.error;
  const Forecast f = fit.model->Predict(20);
  for (int i = 0; i < 20; ++i) {
    EXPECT_DOUBLE_EQ(f.mean[i], 10.0 + ((70 + i) % 7) * 3.0);
    EXPECT_DOUBLE_EQ(f.lo95[i], f.mean[i]);  // zero residuals: zero-width intervals
  }
  EXPECT_EQ(fit.model->Label(), "SNaive(7)");
}

TEST(SeasonalNaiveTest, MissingLastCycleValueComesFromAnEarlierCycle) {
  std::vector<double> y = {1, 2, 3, 1, 2, 3, 1, NAN, 3};
  const FitOutcome fit = SeasonalNaiveMethod().Fit(y, Context(3, 3));
  ASSERT_TRUE(fit.model);
  const Forecast f = fit.model->Predict(3);
  EXPECT_EQ(f.mean, (std::vector<double>{1, 2, 3}));
}

TEST(BasicModelsTest, IntervalsAreNestedAndWidenWithHorizon) {
  std::vector<double> y;
  for (int t = 0; t < 60; ++t) y.push_back(50 + 0.5 * t + 4 * std::sin(t * 0.9) + (t % 7));
  for (const Method* m : {&NaiveMethod(), &SeasonalNaiveMethod(), &MeanMethod(), &DriftMethod()}) {
    const FitOutcome fit = m->Fit(y, Context(7, 14));
    ASSERT_TRUE(fit.model) << m->name();
    const Forecast f = fit.model->Predict(14);
    for (int i = 0; i < 14; ++i) {
      EXPECT_LE(f.lo95[i], f.lo80[i]);
      EXPECT_LE(f.lo80[i], f.mean[i]);
      EXPECT_LE(f.mean[i], f.hi80[i]);
      EXPECT_LE(f.hi80[i], f.hi95[i]);
      if (i > 0 && m != &MeanMethod()) {
        EXPECT_GE(f.hi95[i] - f.lo95[i], f.hi95[i - 1] - f.lo95[i - 1]);
      }
    }
  }
}

TEST(BasicModelsTest, HandCheckedPointForecasts) {
  const std::vector<double> y = {2, 4, 6, 9};
  EXPECT_DOUBLE_EQ(NaiveMethod().Fit(y, Context(1, 2)).model->Predict(2).mean[1], 9);
  EXPECT_DOUBLE_EQ(MeanMethod().Fit(y, Context(1, 2)).model->Predict(2).mean[0], 5.25);
  const Forecast d = DriftMethod().Fit(y, Context(1, 2)).model->Predict(2);
  EXPECT_DOUBLE_EQ(d.mean[0], 9 + 7.0 / 3);
  EXPECT_DOUBLE_EQ(d.mean[1], 9 + 14.0 / 3);
}

TEST(BasicModelsTest, SaveAndLoadGiveTheSameForecasts) {
  std::vector<double> y;
  for (int t = 0; t < 40; ++t) y.push_back(std::cos(t) * 5 + t);
  for (const std::string name : {"naive", "snaive", "mean", "drift"}) {
    const FitOutcome fit = FindMethod(name)->Fit(y, Context(7, 9));
    ASSERT_TRUE(fit.model);
    const auto bytes = SaveModel(*fit.model);
    const auto loaded = LoadModel(bytes);
    EXPECT_EQ(loaded->Label(), fit.model->Label());
    EXPECT_EQ(loaded->Predict(9).hi95, fit.model->Predict(9).hi95);
  }
  std::vector<uint8_t> bad = SaveModel(*NaiveMethod().Fit(y, Context(1, 1)).model);
  bad.pop_back();
  EXPECT_THROW(LoadModel(bad), std::runtime_error);
}

TEST(BasicModelsTest, TooShortSeriesFailWithAReason) {
  const std::vector<double> y = {5};
  const FitOutcome fit = SeasonalNaiveMethod().Fit(y, Context(7, 3));
  EXPECT_FALSE(fit.model);
  EXPECT_NE(fit.error.find("cycle"), std::string::npos);
}

}  // namespace
}  // namespace mm
