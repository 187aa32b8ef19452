#include "manymodels/core/intermittent.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "manymodels/core/models_basic.h"
#include "manymodels/core/select.h"
#include "manymodels/core/theta.h"

namespace mm {
namespace {

FitContext Context(int h) {
  FitContext c;
  c.horizon = h;
  return c;
}

const std::vector<double> kDemand = {0, 3, 0, 0, 5, 0, 2, 0};

double PointForecast(IntermittentKind kind, const std::vector<double>& y, IntermittentParams p) {
  const FitOutcome fit = FitIntermittent(kind, y, p);
  EXPECT_TRUE(fit.model) << fit.error;
  return fit.model ? fit.model->Predict(1).mean[0] : NAN;
}

TEST(CrostonTest, HandComputedAndMatchesR) {
  // Sizes 3, 5, 2 -> 3, 3.2, 3.08; intervals 2, 3, 2 -> 2, 2.1, 2.09.
  // R: croston(ts(c(0, 3, 0, 0, 5, 0, 2, 0)), alpha = 0.1)$mean = 1.47368421053.
  const double f = PointForecast(IntermittentKind::kCroston, kDemand, {0.1, 0.1});
  EXPECT_DOUBLE_EQ(f, 3.08 / 2.09);
  EXPECT_NEAR(f, 1.47368421053, 1e-10);
  // R's special case: one demand only -> that demand over its interval (croston(c(0, 0, 4, 0)) = 4 / 3).
  EXPECT_DOUBLE_EQ(PointForecast(IntermittentKind::kCroston, {0, 0, 4, 0}, {0.1, 0.1}), 4.0 / 3);
}

TEST(CrostonTest, SbaIsCrostonTimesOneMinusHalfAlpha) {
  for (double alpha : {0.05, 0.1, 0.3}) {
    const double c = PointForecast(IntermittentKind::kCroston, kDemand, {alpha, 0.1});
    const double s = PointForecast(IntermittentKind::kSba, kDemand, {alpha, 0.1});
    EXPECT_DOUBLE_EQ(s, c * (1 - alpha / 2)) << alpha;
  }
}

TEST(TsbTest, HandComputed) {
  // Start at the first demand: size 3, probability 1/2. Then with beta = 0.2 the probability goes
  // 0.4, 0.32, 0.456, 0.3648, 0.49184, 0.393472 and with alpha = 0.1 the size 3.2 (at 5), 3.08 (at 2).
  EXPECT_NEAR(PointForecast(IntermittentKind::kTsb, kDemand, {0.1, 0.2}), 0.393472 * 3.08, 1e-12);
}

TEST(IntermittentTest, AllZeroSeriesForecastsZero) {
  const std::vector<double> zeros(12, 0.0);
  for (const Method* m : {&CrostonMethod(), &SbaMethod(), &TsbMethod()}) {
    const FitOutcome fit = m->Fit(zeros, Context(3));
    ASSERT_TRUE(fit.model) << fit.error;
    EXPECT_NE(fit.model->Label().find("no demand"), std::string::npos);
    const Forecast f = fit.model->Predict(3);
    EXPECT_EQ(f.mean, std::vector<double>(3, 0.0));
    EXPECT_EQ(f.hi95, std::vector<double>(3, 0.0));
  }
}

TEST(IntermittentTest, NegativeOrInfiniteDataFailWithAReason) {
  const FitOutcome neg = CrostonMethod().Fit(std::vector<double>{0, 2, -1, 0}, Context(1));
  EXPECT_FALSE(neg.model);
  EXPECT_NE(neg.error.find("non-negative"), std::string::npos);
  EXPECT_FALSE(TsbMethod().Fit(std::vector<double>{0, 2, INFINITY, 0}, Context(1)).model);
  EXPECT_FALSE(FitIntermittent(IntermittentKind::kSba, kDemand, {0.0, 0.1}).model);
}

TEST(IntermittentTest, MissingPeriodsAreDropped) {
  std::vector<double> holes = {0, 3, NAN, 0, 0, 5, 0, NAN, 2, 0};
  for (auto kind : {IntermittentKind::kCroston, IntermittentKind::kTsb})
    EXPECT_DOUBLE_EQ(PointForecast(kind, holes, {0.1, 0.2}), PointForecast(kind, kDemand, {0.1, 0.2}));
}

TEST(IntermittentTest, OptimisedConstantsComeFromTheGridAndIntervalsAreSane) {
  std::vector<double> y;
  for (int t = 0; t < 60; ++t) y.push_back(t % 4 == 1 ? 6.0 + (t % 3) : 0.0);
  for (const Method* m : {&CrostonMethod(), &SbaMethod(), &TsbMethod()}) {
    const FitOutcome fit = m->Fit(y, Context(4));
    ASSERT_TRUE(fit.model) << fit.error;
    const std::string d = fit.model->Describe();
    EXPECT_NE(d.find("alpha=0."), std::string::npos) << d;
    const Forecast f = fit.model->Predict(4);
    EXPECT_NEAR(f.mean[0], 7.0 / 4, 0.4) << m->name() << " " << d;  // mean demand per period
    for (int i = 0; i < 4; ++i) {
      EXPECT_GE(f.lo95[i], 0.0);
      EXPECT_LE(f.lo95[i], f.lo80[i]);
      EXPECT_LE(f.lo80[i], f.mean[i]);
      EXPECT_LE(f.mean[i], f.hi80[i]);
      EXPECT_LE(f.hi80[i], f.hi95[i]);
      EXPECT_EQ(f.mean[i], f.mean[0]);
    }
    EXPECT_GT(f.hi95[0], 5.0);  // a demand period's size is within the interval
  }
}

TEST(IntermittentTest, SaveLoadRoundTripAndDeterminism) {
  std::vector<double> y;
  for (int t = 0; t < 40; ++t) y.push_back((t * 37) % 5 == 0 ? 1.0 + (t % 7) : 0.0);
  for (const std::string name : {"croston", "sba", "tsb"}) {
    const Method* m = FindMethod(name);
    ASSERT_TRUE(m) << name;
    const FitOutcome fit = m->Fit(y, Context(5)), again = m->Fit(y, Context(5));
    ASSERT_TRUE(fit.model) << fit.error;
    EXPECT_EQ(fit.model->Predict(5).hi80, again.model->Predict(5).hi80);
    const auto loaded = LoadModel(SaveModel(*fit.model));
    EXPECT_EQ(loaded->method(), name);
    EXPECT_EQ(loaded->Label(), fit.model->Label());
    EXPECT_EQ(loaded->Describe(), fit.model->Describe());
    const Forecast a = fit.model->Predict(5), b = loaded->Predict(5);
    EXPECT_EQ(a.mean, b.mean);
    EXPECT_EQ(a.lo95, b.lo95);
    EXPECT_EQ(a.hi95, b.hi95);
  }
}

TEST(IntermittentTest, AutoGivesIntermittentMethodsOnlyToMostlyZeroSeries) {
  FitContext c;
  c.season_lengths = {1};
  c.horizon = 4;
  EXPECT_TRUE(IsIntermittent(kDemand));
  const std::vector<double> dense = {3, 4, 0, 5, 6, 5, 4, 7, 6, 8};  // 10% zeros
  EXPECT_FALSE(IsIntermittent(dense));
  const auto pool = AutoPool(dense, c);
  EXPECT_EQ(std::find(pool.begin(), pool.end(), &CrostonMethod()), pool.end());

  SelectOptions o;
  o.context = c;
  o.automatic = true;
  o.ensemble = true;
  std::vector<double> y;
  for (int t = 0; t < 48; ++t) y.push_back(t % 4 == 3 ? 8.0 : 0.0);
  const SeriesResult r = FitSeries(y, o);
  EXPECT_FALSE(r.failed);
  for (const char* m : {"Croston", "SBA", "TSB"}) EXPECT_NE(r.label.find(m), std::string::npos) << r.label;
}

}  // namespace
}  // namespace mm
