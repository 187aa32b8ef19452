#include "manymodels/core/theta.h"

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

Forecast FitAndPredict(const Method& method, const std::vector<double>& y, double m, int h) {
  const FitOutcome fit = method.Fit(y, Context(m, h));
  EXPECT_TRUE(fit.model) << fit.error;
  return fit.model ? fit.model->Predict(h) : Forecast{};
}

void ExpectRelative(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * std::fabs(want[i])) << "step " << i + 1;
}

// A line: SES tracks it with alpha -> 1 (last level = last value); thetaf adds half the slope per step plus
// the offset b * (1 - (1 - alpha)^n) / alpha = b at alpha = 1.
TEST(ThetaTest, LinearTrendForecastsHalfTheSlope) {
  std::vector<double> y;
  for (int t = 0; t < 30; ++t) y.push_back(10 + 2.0 * t);
  const Forecast f = FitAndPredict(ThetaMethod(), y, 1, 5);
  ASSERT_EQ(f.mean.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(f.mean[i], y.back() + 1.0 * (i + 1), 2e-3) << i;
  EXPECT_NEAR(f.mean[4] - f.mean[0], 4.0, 1e-9);  // slope exactly half the regression slope
}

TEST(ThetaTest, SeasonalityTestFiresOnSeasonalSeriesOnly) {
  std::vector<double> seasonal, flat;
  for (int t = 0; t < 48; ++t) {
    seasonal.push_back(100 + 30 * std::sin(2 * M_PI * t / 12) + 0.5 * t);
    flat.push_back(100 + 0.5 * t + ((t * 7919) % 13) * 0.3);
  }
  EXPECT_TRUE(ThetaSeasonalityTest(seasonal, 12));
  EXPECT_FALSE(ThetaSeasonalityTest(flat, 12));
  EXPECT_FALSE(ThetaSeasonalityTest(seasonal, 1));
  EXPECT_FALSE(ThetaSeasonalityTest(std::span(seasonal).first(24), 12));  // needs n > 2m, as thetaf

  // The seasonal forecast repeats the figure: the ratio of forecasts one cycle apart is near 1 and within a
  // cycle follows the pattern; the non-seasonal one is a straight line.
  const FitOutcome fit = ThetaMethod().Fit(seasonal, Context(12, 24));
  ASSERT_TRUE(fit.model);
  EXPECT_EQ(fit.model->Label(), "Theta(m=12)");
  const Forecast f = fit.model->Predict(24);
  EXPECT_GT(f.mean[3], f.mean[9] + 20);  // sin peak at t = 51 (= 3 mod 12), trough at t = 57
  const Forecast g = FitAndPredict(ThetaMethod(), flat, 12, 4);
  EXPECT_NEAR(g.mean[2] - g.mean[1], g.mean[1] - g.mean[0], 1e-9);
}

TEST(ThetaTest, SeasonalFigureMatchesRDecompose) {
  // R: decompose(ts(y, frequency = 4), "multiplicative")$figure
  const std::vector<double> y = {20, 35, 52, 28, 22, 38, 55, 30, 25, 41, 60, 33, 27, 44, 63, 36};
  ExpectRelative(MultiplicativeSeasonalFigure(y, 4),
                 {0.64080350593, 1.04519195602, 1.50760334895, 0.80640118910}, 1e-9);
}

// Reference values recorded from R 4 / forecast 8.20: thetaf(ts(y, frequency = m), h)$mean and $lower[, 2].
TEST(ThetaTest, MatchesRThetafNonSeasonal) {
  const std::vector<double> y = {12, 15, 14, 18, 21, 19, 24, 26, 25, 29, 31, 30};
  const Forecast f = FitAndPredict(ThetaMethod(), y, 1, 5);
  ExpectRelative(f.mean, {30.8964663643, 31.7740887419, 32.6517111195, 33.5293334972, 34.4069558748}, 1e-3);
  ExpectRelative(f.lo95, {25.0169031100, 23.5010094725, 22.5364544675, 21.8591581054, 21.3659601225}, 1e-3);
}

TEST(ThetaTest, MatchesRThetafWhereTheTestDoesNotFire) {
  // The first three years of AirPassengers: at lag 12 the test does not fire (n = 36).
  const std::vector<double> y = {112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,
                                 115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,
                                 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166};
  EXPECT_FALSE(ThetaSeasonalityTest(y, 12));
  const Forecast f = FitAndPredict(ThetaMethod(), y, 12, 14);
  EXPECT_NEAR(f.mean[0], 166.846088018, 166.8 * 1e-3);
  EXPECT_NEAR(f.mean[13], 177.870154942, 177.9 * 1e-3);
  EXPECT_NEAR(f.lo95[13], 66.6604401068, 66.7 * 1e-3);
}

TEST(ThetaTest, MatchesRThetafSeasonal) {
  const std::vector<double> y = {20, 35, 52, 28, 22, 38, 55, 30, 25, 41, 60, 33, 27, 44, 63, 36};
  EXPECT_TRUE(ThetaSeasonalityTest(y, 4));
  const Forecast f = FitAndPredict(ThetaMethod(), y, 4, 6);
  ExpectRelative(f.mean,
                 {28.8583144651, 47.4795250686, 69.0763338749, 37.2643396866, 29.8631747841, 49.1185172288},
                 1e-3);
  ExpectRelative(f.lo95,
                 {26.2046992769, 43.7269341195, 64.4804439614, 31.9575073582, 23.9299855384, 42.6190557210},
                 1e-3);
}

TEST(ThetaTest, MatchesRThetafOnAShortSeries) {
  // n = 5: ses() falls back to HoltWinters (l0 = y[1]).
  const std::vector<double> y = {5, 7, 6, 9, 8};
  const Forecast f = FitAndPredict(ThetaMethod(), y, 1, 3);
  ExpectRelative(f.mean, {8.61053093616, 9.01053093616, 9.41053093616}, 1e-3);
}

TEST(ThetaTest, MissingValuesAreInterpolated) {
  std::vector<double> y;
  for (int t = 0; t < 30; ++t) y.push_back(10 + 2.0 * t);
  std::vector<double> holes = y;
  holes[7] = holes[8] = holes[20] = NAN;
  const Forecast a = FitAndPredict(ThetaMethod(), y, 1, 3), b = FitAndPredict(ThetaMethod(), holes, 1, 3);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(a.mean[i], b.mean[i], 1e-9);
}

TEST(ThetaTest, BadDataFailsWithAReason) {
  const FitOutcome few = ThetaMethod().Fit(std::vector<double>{1, 2}, Context(1, 2));
  EXPECT_FALSE(few.model);
  EXPECT_NE(few.error.find("observations"), std::string::npos);
  const FitOutcome inf = OptimizedThetaMethod().Fit(std::vector<double>{1, 2, INFINITY, 4, 5}, Context(1, 2));
  EXPECT_FALSE(inf.model);
  EXPECT_NE(inf.error.find("infinite"), std::string::npos);
}

TEST(OptimizedThetaTest, OptimizedThetaFitsAtLeastAsWellAsThetaTwo) {
  // OTM searches theta in [1, 100]; on a strongly trending noisy series it moves away from 2 and its forecast
  // keeps more of the trend than standard Theta's half slope.
  std::vector<double> y;
  for (int t = 0; t < 60; ++t) y.push_back(50 + 3.0 * t + 4 * std::sin(1.7 * t));
  for (const Method* m : {&OptimizedThetaMethod(), &DynamicOptimizedThetaMethod()}) {
    const FitOutcome fit = m->Fit(y, Context(1, 10));
    ASSERT_TRUE(fit.model) << fit.error;
    const Forecast f = fit.model->Predict(10);
    EXPECT_GT(f.mean[9] - f.mean[0], 9 * 1.5 * 1.2) << m->name() << " " << fit.model->Describe();
    EXPECT_NEAR(f.mean[9] - f.mean[0], 9 * 3.0, 9 * 3.0 * 0.2) << m->name() << " " << fit.model->Describe();
    EXPECT_EQ(fit.model->Label().substr(0, 3), m == &OptimizedThetaMethod() ? "OTM" : "DOT");
  }
}

TEST(OptimizedThetaTest, ConstantSeriesForecastsTheConstant) {
  const std::vector<double> y(20, 7.0);
  for (const Method* m : {&ThetaMethod(), &OptimizedThetaMethod(), &DynamicOptimizedThetaMethod()}) {
    const Forecast f = FitAndPredict(*m, y, 4, 3);
    for (double v : f.mean) EXPECT_NEAR(v, 7.0, 1e-9) << m->name();
  }
}

TEST(ThetaTest, SaveLoadRoundTripAndDeterminism) {
  std::vector<double> y;
  for (int t = 0; t < 50; ++t) y.push_back(100 + 20 * std::cos(2 * M_PI * t / 7) + t + (t % 3));
  for (const std::string name : {"theta", "otm", "dotm"}) {
    const Method* m = FindMethod(name);
    ASSERT_TRUE(m) << name;
    const FitOutcome fit = m->Fit(y, Context(7, 9)), again = m->Fit(y, Context(7, 9));
    ASSERT_TRUE(fit.model) << name << ": " << fit.error;
    EXPECT_EQ(fit.model->Predict(9).mean, again.model->Predict(9).mean);
    const auto loaded = LoadModel(SaveModel(*fit.model));
    EXPECT_EQ(loaded->method(), name);
    EXPECT_EQ(loaded->Label(), fit.model->Label());
    EXPECT_EQ(loaded->Describe(), fit.model->Describe());
    const Forecast a = fit.model->Predict(9), b = loaded->Predict(9);
    EXPECT_EQ(a.mean, b.mean);
    EXPECT_EQ(a.hi95, b.hi95);
  }
}

}  // namespace
}  // namespace mm
