// FittedModel::Update: a loaded model brought up to new data without refitting (model.h).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "manymodels/core/arima.h"
#include "manymodels/core/ets.h"
#include "manymodels/core/intermittent.h"
#include "manymodels/core/model.h"
#include "manymodels/core/models_basic.h"
#include "manymodels/core/select.h"

namespace mm {
namespace {

constexpr int kHorizon = 10;
constexpr double kNaN = NAN;

// A positive weekly series with trend and noise, its length n + the new periods.
std::vector<double> Seasonal(int n, uint64_t seed = 1) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> noise(0, 2);
  std::vector<double> y;
  for (int t = 0; t < n; ++t) y.push_back(100 + 0.2 * t + 10 * std::sin(2 * M_PI * t / 7) + noise(gen));
  return y;
}

// Mostly zeros, a demand every few periods.
std::vector<double> Demand(int n) {
  std::vector<double> y;
  for (int t = 0; t < n; ++t) y.push_back(t % 3 == 0 || t % 7 == 0 ? 2 + t % 5 : 0);
  return y;
}

// A price covariate running kHorizon past the series.
std::vector<double> Price(int n) {
  std::vector<double> x;
  for (int t = 0; t < n + kHorizon; ++t) x.push_back(2 + (t % 11 < 3 ? -0.5 : 0.0) + 0.01 * t);
  return x;
}

// The context of an update with `count` new periods starting at `from` of the full series.
UpdateContext Context(const std::vector<double>& price, size_t from, size_t count) {
  UpdateContext c;
  c.horizon = kHorizon;
  c.covariates = {std::span<const double>(price).subspan(from, count + kHorizon)};
  c.covariate_names = {"price"};
  return c;
}

void ExpectSameForecast(const Forecast& a, const Forecast& b, const std::string& what) {
  EXPECT_EQ(a.mean, b.mean) << what;
  EXPECT_EQ(a.lo80, b.lo80) << what;
  EXPECT_EQ(a.hi80, b.hi80) << what;
  EXPECT_EQ(a.lo95, b.lo95) << what;
  EXPECT_EQ(a.hi95, b.hi95) << what;
}

std::unique_ptr<FittedModel> Reload(const FittedModel& m) { return LoadModel(SaveModel(m)); }

// One model of every kind, fitted on the first n values of `y` and loaded from its saved bytes.
struct Case {
  std::string name;
  std::vector<double> y;      // history + new values
  size_t n;                   // the history's length
  std::vector<double> price;  // the covariate, y.size() + kHorizon long
  std::unique_ptr<FittedModel> model;
};

std::vector<Case> Cases() {
  const size_t n = 120, k = 16;
  std::vector<Case> cases;
  auto add = [&](const std::string& name, std::vector<double> y, std::unique_ptr<FittedModel> model) {
    ASSERT_TRUE(model) << name;
    Case c{name, std::move(y), n, Price(static_cast<int>(n + k)), Reload(*model)};
    cases.push_back(std::move(c));
  };
  const std::vector<double> price = Price(static_cast<int>(n + k));
  auto fit_ctx = [&] {
    FitContext c;
    c.season_lengths = {7};
    c.horizon = kHorizon;
    c.seed = 7;
    c.covariates = {std::span<const double>(price).subspan(0, n + kHorizon)};
    c.covariate_names = {"price"};
    return c;
  };
  std::vector<double> seasonal = Seasonal(static_cast<int>(n + k));
  seasonal[40] = kNaN;                         // a gap in the history
  seasonal[n + 3] = seasonal[n + 9] = kNaN;    // and in the new values
  std::vector<double> demand = Demand(static_cast<int>(n + k));
  demand[n + 4] = kNaN;
  for (const char* name : {"naive", "snaive", "mean", "drift", "ets", "arima", "theta", "otm", "dotm", "fourier", "pooled"}) {
    FitOutcome f = FindMethod(name)->Fit(std::span<const double>(seasonal).first(n), fit_ctx());
    add(name, seasonal, std::move(f.model));
  }
  for (const char* name : {"croston", "sba", "tsb"}) {
    FitOutcome f = FindMethod(name)->Fit(std::span<const double>(demand).first(n), fit_ctx());
    add(name, demand, std::move(f.model));
  }
  // Forms the selection above may not pick: each ETS form, ARIMA with drift and with a seasonal difference.
  using ets::Kind;
  for (const ets::Spec& s : {ets::Spec{Kind::kAdditive, Kind::kAdditive, Kind::kAdditive, true, 7},
                             ets::Spec{Kind::kMultiplicative, Kind::kAdditive, Kind::kMultiplicative, false, 7},
                             ets::Spec{Kind::kMultiplicative, Kind::kNone, Kind::kNone, false, 1}}) {
    FitOutcome f = ets::FitForm(std::span<const double>(seasonal).first(n), s, fit_ctx());
    add(s.Label(), seasonal, std::move(f.model));
  }
  {
    FitOutcome f = FitArimaOrder(std::span<const double>(seasonal).first(n), ArimaOrder{1, 1, 1}, true);
    add("ARIMA(1,1,1) with drift", seasonal, std::move(f.model));
    FitOutcome g =
        FitArimaOrder(std::span<const double>(seasonal).first(n), ArimaOrder{0, 1, 1, 0, 1, 1, 7}, false);
    add("ARIMA(0,1,1)(0,1,1)[7]", seasonal, std::move(g.model));
  }
  // auto's ensemble, and a series fitted in scaled units (y * 2^40 and y * 1e-12).
  SelectOptions o;
  o.automatic = true;
  o.ensemble = true;
  o.context = fit_ctx();
  const SeriesResult e = FitSeries(std::span<const double>(seasonal).first(n), o);
  add("auto ensemble", seasonal, LoadModel(e.model));
  for (double factor : {std::ldexp(1.0, 40), 1e-12}) {
    std::vector<double> big = seasonal;
    for (double& v : big) v *= factor;
    SelectOptions s = o;
    s.automatic = false;
    s.ensemble = false;
    s.candidates = {&EtsMethod()};
    const SeriesResult r = FitSeries(std::span<const double>(big).first(n), s);
    auto model = LoadModel(r.model);
    // A positive series: the clip at zero around the scaled model around ETS.
    EXPECT_EQ(model->tag(), "nonnegative");
    EXPECT_NE(model->Describe().find("fitted on y / 2^"), std::string::npos) << model->Describe();
    add("scaled ets x" + FormatParameter(factor), big, std::move(model));
  }
  return cases;
}

TEST(UpdateTest, NothingNewForecastsAsTheLoadedModel) {
  for (const Case& c : Cases()) {
    const FitOutcome u = c.model->Update({}, Context(c.price, c.n, 0));
    ASSERT_TRUE(u.model) << c.name << ": " << u.error;
    ExpectSameForecast(u.model->Predict(kHorizon), c.model->Predict(kHorizon), c.name);
    // Also with an empty context (no covariate columns).
    const FitOutcome v = c.model->Update({}, UpdateContext{});
    ASSERT_TRUE(v.model) << c.name << ": " << v.error;
    ExpectSameForecast(v.model->Predict(kHorizon), c.model->Predict(kHorizon), c.name);
  }
}

TEST(UpdateTest, InTwoStepsEqualsInOneExactly) {
  for (const Case& c : Cases()) {
    const std::span<const double> all = std::span<const double>(c.y).subspan(c.n);
    const size_t split = 6;
    const FitOutcome one = c.model->Update(all, Context(c.price, c.n, all.size()));
    ASSERT_TRUE(one.model) << c.name << ": " << one.error;
    const FitOutcome first = c.model->Update(all.first(split), Context(c.price, c.n, split));
    ASSERT_TRUE(first.model) << c.name << ": " << first.error;
    const FitOutcome two =
        first.model->Update(all.subspan(split), Context(c.price, c.n + split, all.size() - split));
    ASSERT_TRUE(two.model) << c.name << ": " << two.error;
    ExpectSameForecast(two.model->Predict(kHorizon), one.model->Predict(kHorizon), c.name);
    EXPECT_EQ(SaveModel(*two.model), SaveModel(*one.model)) << c.name;
    EXPECT_EQ(one.model->Label(), c.model->Label()) << c.name;
    EXPECT_EQ(one.model->tag(), c.model->tag()) << c.name;
    // The forecast moved: it starts from the new end.
    EXPECT_NE(one.model->Predict(kHorizon).mean, c.model->Predict(kHorizon).mean) << c.name;
    for (double v : one.model->Predict(kHorizon).mean) EXPECT_TRUE(std::isfinite(v)) << c.name;
  }
}

TEST(UpdateTest, UpdatedModelSavesAndLoads) {
  for (const Case& c : Cases()) {
    const std::span<const double> all = std::span<const double>(c.y).subspan(c.n);
    const FitOutcome u = c.model->Update(all, Context(c.price, c.n, all.size()));
    ASSERT_TRUE(u.model) << c.name << ": " << u.error;
    const auto loaded = Reload(*u.model);
    ExpectSameForecast(loaded->Predict(kHorizon), u.model->Predict(kHorizon), c.name);
    EXPECT_EQ(SaveModel(*loaded), SaveModel(*u.model)) << c.name;
  }
}

TEST(UpdateTest, AcceptsMissingValuesAndRefusesInfiniteOnes) {
  const std::vector<double> gaps = {kNaN, kNaN, kNaN};
  const std::vector<double> inf = {1, INFINITY};
  for (const Case& c : Cases()) {
    const FitOutcome u = c.model->Update(gaps, Context(c.price, c.n, gaps.size()));
    ASSERT_TRUE(u.model) << c.name << ": " << u.error;
    for (double v : u.model->Predict(kHorizon).mean) EXPECT_TRUE(std::isfinite(v)) << c.name;
    const FitOutcome bad = c.model->Update(inf, Context(c.price, c.n, inf.size()));
    EXPECT_FALSE(bad.model) << c.name;
    EXPECT_NE(bad.error.find("infinite"), std::string::npos) << c.name << ": " << bad.error;
  }
}

TEST(UpdateTest, NaiveForecastsTheLastNewValue) {
  const std::vector<double> y = {3, 5, 4, 6, 7};
  auto model = Reload(*NaiveMethod().Fit(y, FitContext{}).model);
  const std::vector<double> add = {8, kNaN, 42, kNaN};
  const FitOutcome u = model->Update(add, UpdateContext{});
  ASSERT_TRUE(u.model);
  const Forecast f = u.model->Predict(3);
  EXPECT_EQ(f.mean, (std::vector<double>{42, 42, 42}));
  EXPECT_DOUBLE_EQ(f.hi95[0] - f.mean[0], model->Predict(3).hi95[0] - model->Predict(3).mean[0]);  // sigma fixed
}

TEST(UpdateTest, SeasonalNaiveRepeatsTheLastNewSeason) {
  std::vector<double> y;
  for (int t = 0; t < 21; ++t) y.push_back(t % 7);
  FitContext ctx;
  ctx.season_lengths = {7};
  auto model = Reload(*SeasonalNaiveMethod().Fit(y, ctx).model);
  const std::vector<double> add = {10, 11, 12, 13, 14, 15, 16, 17, 18, kNaN};  // periods 21..30
  const FitOutcome u = model->Update(add, UpdateContext{});
  ASSERT_TRUE(u.model);
  const Forecast f = u.model->Predict(7);  // periods 31..37: positions 3, 4, 5, 6, 0, 1, 2 of the cycle
  // The last season is periods 24..30: 13, 14, 15, 16, 17, 18 and, for the missing period 30 (position 2), the
  // value its position held before (period 23's 12).
  EXPECT_EQ(f.mean, (std::vector<double>{13, 14, 15, 16, 17, 18, 12}));
}

TEST(UpdateTest, MeanAndDriftFollowTheirDefinitions) {
  const std::vector<double> y = {3, 5, 4, 6, 7, 9};
  const std::vector<double> add = {8, kNaN, 12, 10};
  std::vector<double> all = y;
  for (double v : add)
    if (std::isfinite(v)) all.push_back(v);
  // mean: the mean and sd of all observations.
  auto mean = Reload(*MeanMethod().Fit(y, FitContext{}).model)->Update(add, UpdateContext{});
  const auto refit = MeanMethod().Fit(all, FitContext{});
  ASSERT_TRUE(mean.model);
  const Forecast a = mean.model->Predict(2), b = refit.model->Predict(2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(a.mean[i], b.mean[i], 1e-12);
    EXPECT_NEAR(a.hi95[i], b.hi95[i], 1e-12);
  }
  // drift: last + slope * k with slope = (last - first) / span over the whole series (10 periods).
  auto drift = Reload(*DriftMethod().Fit(y, FitContext{}).model)->Update(add, UpdateContext{});
  ASSERT_TRUE(drift.model);
  const Forecast d = drift.model->Predict(2);
  const double slope = (10.0 - 3.0) / 9.0;
  EXPECT_NEAR(d.mean[0], 10 + slope, 1e-12);
  EXPECT_NEAR(d.mean[1], 10 + 2 * slope, 1e-12);
}

TEST(UpdateTest, EtsLevelFollowsTheHandRecursion) {
  const std::vector<double> y = Seasonal(80, 3);
  const FitOutcome fit = ets::FitForm(y, ets::Spec{}, FitContext{});  // ETS(A,N,N)
  ASSERT_TRUE(fit.model) << fit.error;
  auto model = Reload(*fit.model);
  const ets::Fit* before = ets::FitOf(*model);
  ASSERT_TRUE(before);
  const std::vector<double> add = {120, 118, kNaN, 125, 90};
  double level = before->last.level;
  for (double v : add)
    if (std::isfinite(v)) level += before->par.alpha * (v - level);  // a missing value: level unchanged
  const FitOutcome u = model->Update(add, UpdateContext{});
  ASSERT_TRUE(u.model) << u.error;
  const ets::Fit* after = ets::FitOf(*u.model);
  ASSERT_TRUE(after);
  EXPECT_NEAR(after->last.level, level, 1e-12 * std::abs(level));
  EXPECT_EQ(after->par.alpha, before->par.alpha);
  EXPECT_EQ(after->sigma2, before->sigma2);
  EXPECT_NEAR(u.model->Predict(1).mean[0], level, 1e-12 * std::abs(level));
}

TEST(UpdateTest, EtsMultiplicativeRefusesNonPositiveValues) {
  const std::vector<double> y = Seasonal(80, 4);
  const FitOutcome fit =
      ets::FitForm(y, ets::Spec{ets::Kind::kMultiplicative, ets::Kind::kNone, ets::Kind::kNone, false, 1}, {});
  ASSERT_TRUE(fit.model) << fit.error;
  const std::vector<double> add = {100, 0};
  const FitOutcome u = fit.model->Update(add, UpdateContext{});
  EXPECT_FALSE(u.model);
  EXPECT_NE(u.error.find("positive"), std::string::npos) << u.error;
}

// AR(1) with mean 10 and phi 0.6, unit innovations.
std::vector<double> Ar1(int n) {
  std::mt19937_64 gen(11);
  std::normal_distribution<double> e(0, 1);
  std::vector<double> y;
  double x = 0;
  for (int t = 0; t < n + 100; ++t) {
    x = 0.6 * x + e(gen);
    if (t >= 100) y.push_back(10 + x);
  }
  return y;
}

TEST(UpdateTest, ArimaUpdateIsTheKalmanFilterAndNearARefit) {
  const int n = 1000, k = 50;
  const std::vector<double> y = Ar1(n + k);
  const ArimaOrder ar1{1, 0, 0};
  const FitOutcome fit = FitArimaOrder(std::span<const double>(y).first(n), ar1, true);
  ASSERT_TRUE(fit.model) << fit.error;
  auto model = Reload(*fit.model);
  const FitOutcome u = model->Update(std::span<const double>(y).subspan(n), UpdateContext{});
  ASSERT_TRUE(u.model) << u.error;
  // With the coefficients fixed, the AR(1) forecast is exactly mu + phi^h (y_last - mu): the filter's state is
  // the last deviation, known without error.
  const ArimaInfo* info = GetArimaInfo(*u.model);
  ASSERT_TRUE(info);
  const double mu = info->constant_coef, phi = info->ar[0];
  EXPECT_NEAR(phi, 0.6, 0.06);
  const Forecast f = u.model->Predict(kHorizon);
  for (int h = 1; h <= kHorizon; ++h)
    EXPECT_NEAR(f.mean[h - 1], mu + std::pow(phi, h) * (y.back() - mu), 1e-9) << h;
  // A refit on all n + k values moves the coefficients by about their standard error times sqrt(k / n) (phi:
  // 0.025 * 0.22, the mean: 0.08 * 0.22), so forecasts differ by a few hundredths of sigma = 1; 0.1 sigma is
  // three times that, and far below what a stale state would give (the forecast of the state at n).
  const FitOutcome refit = FitArimaOrder(y, ar1, true);
  ASSERT_TRUE(refit.model) << refit.error;
  const Forecast g = refit.model->Predict(kHorizon);
  const double sigma = std::sqrt(info->sigma2);
  for (int h = 0; h < kHorizon; ++h) {
    EXPECT_NEAR(f.mean[h], g.mean[h], 0.1 * sigma) << h;
    EXPECT_NEAR(f.hi95[h] - f.mean[h], g.hi95[h] - g.mean[h], 0.03 * (g.hi95[h] - g.mean[h])) << h;
  }
  // A missing new value widens the next interval (the filter skips the update step).
  const std::vector<double> gap = {kNaN};
  const FitOutcome m = model->Update(gap, UpdateContext{});
  ASSERT_TRUE(m.model);
  EXPECT_GT(m.model->Predict(1).hi95[0] - m.model->Predict(1).mean[0],
            model->Predict(1).hi95[0] - model->Predict(1).mean[0]);
}

TEST(UpdateTest, FourierUsesTheContextsFutureCovariates) {
  // y = -50 + 3 * price exactly (negative: fitted as it is, not on log1p scale), no cycle.
  const int n = 100;
  std::vector<double> price, y;
  for (int t = 0; t < n + kHorizon; ++t) price.push_back(1 + (t * 7 % 13) / 4.0);
  for (int t = 0; t < n; ++t) y.push_back(-50 + 3 * price[t]);
  FitContext ctx;
  ctx.horizon = kHorizon;
  ctx.covariates = {price};
  ctx.covariate_names = {"price"};
  const FitOutcome fit = FindMethod("fourier")->Fit(y, ctx);
  ASSERT_TRUE(fit.model) << fit.error;
  auto model = Reload(*fit.model);
  // Five new periods, then the horizon's prices: known, unknown (carried forward), known.
  const std::vector<double> add = {-44, -41, kNaN, -47, -38};
  std::vector<double> x = {2, 3, 1, 4, 4, /* horizon */ 5, kNaN, kNaN, 2, 1.5, kNaN, 3, 3, 3, 3};
  UpdateContext u;
  u.horizon = kHorizon;
  u.covariates = {x};
  u.covariate_names = {"price"};
  const FitOutcome up = model->Update(add, u);
  ASSERT_TRUE(up.model) << up.error;
  const Forecast f = up.model->Predict(kHorizon);
  const std::vector<double> expect_price = {5, 5, 5, 2, 1.5, 1.5, 3, 3, 3, 3};
  for (int i = 0; i < kHorizon; ++i) EXPECT_NEAR(f.mean[i], -50 + 3 * expect_price[i], 0.05) << i;
  // A context without the covariate is an error, not a forecast from stale values.
  UpdateContext none;
  none.horizon = kHorizon;
  none.covariates = {x};
  none.covariate_names = {"promo"};
  const FitOutcome bad = model->Update(add, none);
  EXPECT_FALSE(bad.model);
  EXPECT_NE(bad.error.find("price"), std::string::npos) << bad.error;
}

TEST(UpdateTest, ModelsSavedBeforeUpdatesLoadAndSayWhenTheyCannotUpdate) {
  // dotm and the intermittent methods keep extra state at the end of their bytes; without it (old bytes) they
  // load, forecast as saved, and refuse to update with new observations.
  const std::vector<double> y = Seasonal(60, 5);
  const std::vector<double> demand = Demand(60);
  FitContext ctx;
  ctx.season_lengths = {7};
  struct Old {
    const char* method;
    const std::vector<double>* y;
    size_t extra;  // bytes of update state
  };
  for (const Old& o : {Old{"dotm", &y, 32}, Old{"croston", &demand, 40}, Old{"tsb", &demand, 40}}) {
    auto bytes = SaveModel(*FindMethod(o.method)->Fit(*o.y, ctx).model);
    const auto current = LoadModel(bytes);
    bytes.resize(bytes.size() - o.extra);
    const auto old = LoadModel(bytes);
    ExpectSameForecast(old->Predict(5), current->Predict(5), o.method);
    EXPECT_TRUE(old->Update({}, UpdateContext{}).model) << o.method;
    const std::vector<double> add = {3};
    const FitOutcome u = old->Update(add, UpdateContext{});
    EXPECT_FALSE(u.model) << o.method;
    EXPECT_NE(u.error.find("refit"), std::string::npos) << o.method << ": " << u.error;
    EXPECT_TRUE(current->Update(add, UpdateContext{}).model) << o.method;
  }
}

TEST(UpdateTest, IntermittentSmoothingRunsOn) {
  // croston with alpha fixed by FitIntermittent-like selection: the update equals a refit with the same
  // constants on the whole series (the smoothing is the same recursion).
  std::vector<double> y = Demand(60);
  const FitOutcome fit = FindMethod("croston")->Fit(std::span<const double>(y).first(45), FitContext{});
  ASSERT_TRUE(fit.model);
  auto model = Reload(*fit.model);
  const FitOutcome u = model->Update(std::span<const double>(y).subspan(45), UpdateContext{});
  ASSERT_TRUE(u.model) << u.error;
  // Describe shows alpha; refit on everything with that alpha.
  const std::string d = model->Describe();
  const double alpha = std::stod(d.substr(d.find("alpha=") + 6));
  const FitOutcome whole = FitIntermittent(IntermittentKind::kCroston, y, IntermittentParams{alpha, 0.1});
  ASSERT_TRUE(whole.model);
  EXPECT_NEAR(u.model->Predict(1).mean[0], whole.model->Predict(1).mean[0], 1e-12);
}

}  // namespace
}  // namespace mm
