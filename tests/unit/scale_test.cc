// Scale: the same series times 1e12 or 1e-12 gets the same model, and the same forecasts and metrics times the
// factor (FitScaleExponent in model.h). The case: arima on a series at 1e12 chose ARIMA(0,0,0) with no
// mean and forecast 0.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "manymodels/core/model.h"
#include "manymodels/core/select.h"

namespace mm {
namespace {

// Twelve years of a monthly series about 1000: trend, two harmonics of the year, noise.
std::vector<double> Seasonal() {
  std::vector<double> y;
  uint64_t s = 12345;
  for (int t = 0; t < 144; ++t) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(s >> 11) / 9007199254740992.0 - 0.5;
    y.push_back(1000 + 3 * t + 160 * std::sin(6.283185307179586 * t / 12) +
                60 * std::cos(6.283185307179586 * t / 6) + 80 * u);
  }
  return y;
}

std::vector<double> Times(const std::vector<double>& y, double f) {
  std::vector<double> z;
  for (double v : y) z.push_back(v * f);
  return z;
}

SeriesResult FitNamed(const std::string& name, const std::vector<double>& y) {
  SelectOptions o;
  o.context.season_lengths = {12};
  o.context.horizon = 12;
  o.context.seed = 7;
  if (name == "auto") {
    o.automatic = true, o.ensemble = true;
  } else {
    o.candidates = {FindMethod(name)};
  }
  return FitSeries(y, o);
}

std::vector<std::string> Names() {
  std::vector<std::string> names;
  for (const auto& n : MethodNames())
    if (n != "ensemble") names.push_back(n);
  names.push_back("auto");
  return names;
}

// Largest |a / f - b| relative to max(|b|, 1) over every forecast column.
double Deviation(const Forecast& a, const Forecast& b, double f) {
  double worst = 0;
  for (auto col : {&Forecast::mean, &Forecast::lo80, &Forecast::hi80, &Forecast::lo95, &Forecast::hi95})
    for (size_t i = 0; i < (b.*col).size(); ++i)
      worst = std::max(worst, std::fabs((a.*col)[i] / f - (b.*col)[i]) / std::max(1.0, std::fabs((b.*col)[i])));
  return worst;
}

double Relative(double a, double b) { return std::fabs(a - b) / std::max(1e-300, std::fabs(b)); }

TEST(ScaleTest, SeriesInTheUsualRangeAreFittedAsTheyAre) {
  const auto y = Seasonal();
  EXPECT_EQ(FitScaleExponent(y), 0);
  EXPECT_EQ(FitScaleExponent(Times(y, 1e-3)), 0);  // about 1
  EXPECT_EQ(FitScaleExponent(Times(y, 1e6)), 0);   // about 1e9
  EXPECT_EQ(FitScaleExponent(std::vector<double>{0, 0, 1, 0, 2, 0, 1}), 0);  // counts: the non-zero ones
  EXPECT_EQ(FitScaleExponent(std::vector<double>{0, 0, NAN, 0}), 0);
  EXPECT_EQ(FitScaleExponent(Times(y, std::ldexp(1.0, 40))), 40);
  EXPECT_EQ(FitScaleExponent(Times(y, std::ldexp(1.0, -40))), -40);
  // A tiny median is not scaled up so far that the largest value overflows.
  const std::vector<double> wide = {1e-200, 1e-200, 1e-200, 1e300};
  EXPECT_LT(FitScaleExponent(wide), 0);
  EXPECT_TRUE(std::isfinite(std::ldexp(1e300, -FitScaleExponent(wide))));
}

// Every method and auto: y * 2^±40 is fitted on exactly y's numbers, so everything is y's times the factor
// exactly; y * 1e±12 is fitted on y * 1.0995^∓1, the same model up to the optimisers' tolerances.
TEST(ScaleTest, EveryMethodGivesTheSameModelAndForecastsTimesTheFactor) {
  const auto y = Seasonal();
  for (const auto& name : Names()) {
    const SeriesResult base = FitNamed(name, y);
    ASSERT_FALSE(base.failed) << name << ": " << base.note;
    for (double f : {1e12, 1e-12, std::ldexp(1.0, 40), std::ldexp(1.0, -40)}) {
      SCOPED_TRACE(name + " x" + std::to_string(f));
      const SeriesResult r = FitNamed(name, Times(y, f));
      ASSERT_FALSE(r.failed) << r.note;
      EXPECT_EQ(r.method, base.method);
      EXPECT_EQ(r.label, base.label);
      EXPECT_EQ(r.note, base.note);
      const bool exact = f == std::ldexp(1.0, std::ilogb(f));
      // fourier's and pooled's log1p(y) is not scale-free: log1p(1.1 y) - log1p(y) is not constant (5e-6 measured
      // here).
      const bool log1p = name == "fourier" || name == "fourier-notrend" || name == "pooled";
      const double tol = exact ? 0 : log1p ? 2e-5 : 1e-6;
      const double metric_tol = (log1p ? 1e-4 : tol) + 1e-15;  // errors are smaller than forecasts
      EXPECT_LE(Deviation(r.forecast, base.forecast, f), tol);
      // mae and rmse in the target's units, the others without units; all describe the returned forecast.
      EXPECT_LE(Relative(r.metrics.mae, base.metrics.mae * f), metric_tol);
      EXPECT_LE(Relative(r.metrics.rmse, base.metrics.rmse * f), metric_tol);
      EXPECT_LE(Relative(r.metrics.mase, base.metrics.mase), metric_tol);
      EXPECT_LE(Relative(r.metrics.smape, base.metrics.smape), metric_tol);
      EXPECT_LE(Relative(r.metrics.mape, base.metrics.mape), metric_tol);
      // The saved model forecasts the same in the original units.
      const auto loaded = LoadModel(r.model);
      EXPECT_EQ(loaded->Label(), r.label);
      EXPECT_EQ(loaded->method(), name == "auto" ? "ensemble" : name);
      const Forecast g = loaded->Predict(12);
      EXPECT_EQ(g.mean, r.forecast.mean);
      EXPECT_EQ(g.hi95, r.forecast.hi95);
      EXPECT_NE(loaded->Describe().find("fitted on y / 2^"), std::string::npos) << loaded->Describe();
    }
  }
}

// The case: at 1e12 arima chose ARIMA(0,0,0) with no mean and forecast 0.
TEST(ScaleTest, ArimaAtOneTrillionForecastsTheSeries) {
  const auto y = Seasonal();
  const SeriesResult base = FitNamed("arima", y);
  const SeriesResult big = FitNamed("arima", Times(y, 1e12));
  EXPECT_EQ(big.label, base.label);
  EXPECT_NE(big.label, "ARIMA(0,0,0)");
  for (size_t i = 0; i < big.forecast.mean.size(); ++i) {
    EXPECT_GT(big.forecast.mean[i], 5e14);
    EXPECT_NEAR(big.forecast.mean[i] / 1e12, base.forecast.mean[i], 1e-3 * base.forecast.mean[i]);
  }
  // Its metrics describe that forecast: mae near y's times 1e12.
  EXPECT_NEAR(big.metrics.mae / 1e12, base.metrics.mae, 1e-3 * base.metrics.mae);
}

// Multiplicative ETS, intermittent methods and fourier with a covariate, on series far from 1.
TEST(ScaleTest, MultiplicativeIntermittentAndCovariateModelsScale) {
  const auto y = Seasonal();
  std::vector<double> price(y.size() + 12);
  for (size_t t = 0; t < price.size(); ++t) price[t] = 2 + 0.5 * static_cast<double>((t / 5) % 3);
  std::vector<double> demand;  // mostly zeros
  for (size_t t = 0; t < y.size(); ++t) demand.push_back(t % 4 == 1 ? 3 + static_cast<double>(t % 7) : 0.0);
  std::vector<double> growing;  // multiplicative season and error
  for (int t = 0; t < static_cast<int>(y.size()); ++t)
    growing.push_back((100 + 5.0 * t) * (1 + 0.3 * std::sin(6.283185307179586 * t / 12)) *
                      (1 + 0.05 * std::sin(12.9898 * t) * std::cos(78.233 * t)));
  for (double f : {1e12, 1e-12}) {
    SelectOptions o;
    o.context.season_lengths = {12};
    o.context.horizon = 12;
    o.context.covariates = {price};
    o.context.covariate_names = {"price"};
    o.candidates = {FindMethod("fourier")};
    const SeriesResult a = FitSeries(y, o), b = FitSeries(Times(y, f), o);
    EXPECT_EQ(a.label, b.label);
    EXPECT_LE(Deviation(b.forecast, a.forecast, f), 2e-5);
    EXPECT_NE(LoadModel(b.model)->Describe().find("price"), std::string::npos);
    o.candidates = {FindMethod("ets")};
    const SeriesResult e = FitSeries(growing, o), g = FitSeries(Times(growing, f), o);
    EXPECT_NE(e.label.find(",M)"), std::string::npos) << e.label;
    EXPECT_EQ(e.label, g.label);
    EXPECT_LE(Deviation(g.forecast, e.forecast, f), 1e-6);
    for (const char* name : {"croston", "sba", "tsb"}) {
      o.candidates = {FindMethod(name)};
      const SeriesResult c = FitSeries(demand, o), d = FitSeries(Times(demand, f), o);
      EXPECT_EQ(c.label, d.label) << name;
      EXPECT_LE(Deviation(d.forecast, c.forecast, f), 1e-9) << name;
    }
  }
}

}  // namespace
}  // namespace mm
