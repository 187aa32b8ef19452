#include "manymodels/core/select.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "manymodels/core/ensemble.h"
#include "manymodels/core/ets.h"
#include "manymodels/core/fourier.h"
#include "manymodels/core/intermittent.h"
#include "manymodels/core/models_basic.h"
#include "manymodels/core/random.h"
#include "manymodels/core/theta.h"

namespace mm {
namespace {

SelectOptions Options(double m, int h) {
  SelectOptions o;
  o.context.season_lengths = {m};
  o.context.horizon = h;
  o.candidates = {&SeasonalNaiveMethod(), &NaiveMethod(), &DriftMethod(), &MeanMethod()};
  return o;
}

TEST(SelectTest, ChoosesSeasonalNaiveForAPeriodicSeries) {
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

TEST(SelectTest, ChoosesDriftForALine) {
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
  EXPECT_EQ(ResolveModels("naive,drift").methods.size(), 2u);
  EXPECT_FALSE(ResolveModels("naive,drift").automatic);
  const ModelChoice a = ResolveModels("auto,arima");
  EXPECT_TRUE(a.automatic);
  ASSERT_EQ(a.methods.size(), 1u);
  EXPECT_EQ(a.methods[0]->name(), "arima");
  EXPECT_THROW(ResolveModels("naive,prophet"), std::invalid_argument);
  EXPECT_THROW(ResolveModels("ensemble"), std::invalid_argument);
}

TEST(SelectTest, AutoPoolFollowsTheNatureOfTheSeries) {
  auto names = [](const std::vector<const Method*>& v) {
    std::string s;
    for (const Method* m : v) s += std::string(s.empty() ? "" : ",") + std::string(m->name());
    return s;
  };
  FitContext c;
  c.season_lengths = {12};
  std::vector<double> regular(60), sparse(60, 0.0), x(80);
  for (int t = 0; t < 60; ++t) regular[t] = 10 + (t % 12), sparse[t] = t % 5 == 0 ? 2 : 0;
  EXPECT_EQ(names(AutoPool(regular, c)), "ets,dotm,snaive");
  EXPECT_EQ(names(AutoPool(sparse, c)), "croston,sba,tsb");
  c.season_lengths = {1};
  EXPECT_EQ(names(AutoPool(regular, c)), "ets,dotm,naive");
  c.season_lengths = {7, 24};  // two cycles that fit twice in 60 periods
  EXPECT_EQ(names(AutoPool(regular, c)), "ets,fourier,snaive");
  c.season_lengths = {7, 365.25};  // daily data short of two years: still a regression on the weekly cycle
  EXPECT_EQ(names(AutoPool(regular, c)), "ets,fourier,snaive");
  c.season_lengths = {52.18, 365.25};  // neither cycle fits twice
  EXPECT_EQ(names(AutoPool(regular, c)), "ets,dotm,snaive");
  c.season_lengths = {12};
  for (int t = 0; t < 80; ++t) x[t] = t % 3;
  c.covariates = {std::span<const double>(x)};
  EXPECT_EQ(names(AutoPool(regular, c)), "ets,fourier,fourier-notrend,snaive");
}

TEST(SelectTest, AutoPoolCombinedByTheMedianOnRequest) {  // --models auto --ensemble median
  std::vector<double> y;
  for (int t = 0; t < 120; ++t) y.push_back(50 + 10 * std::sin(t * 0.5236) + 0.2 * t);
  SelectOptions o = Options(12, 12);
  o.automatic = true;
  o.candidates = {};
  o.ensemble = true;
  const SeriesResult r = FitSeries(y, o);
  ASSERT_FALSE(r.failed) << r.note;
  EXPECT_EQ(r.method, "ensemble");
  EXPECT_EQ(r.label.rfind("Median(", 0), 0u) << r.label;
  EXPECT_LT(r.label.find("ETS("), r.label.find("DOTM")) << r.label;  // the pool's order
  EXPECT_LT(r.label.find("DOTM"), r.label.find("SNaive(12)")) << r.label;
  EXPECT_TRUE(std::isfinite(r.metrics.mase));
  // The combination's forecast lies between its members' at every step.
  EXPECT_EQ(LoadModel(r.model)->Predict(12).mean, r.forecast.mean);
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

// The last value, as naive, and the lengths of the histories it was fitted on.
class LastValue final : public Method {
 public:
  class Model final : public FittedModel {
   public:
    explicit Model(double last) : last_(last) {}
    std::string_view method() const override { return "lastvalue"; }
    std::string Label() const override { return "LastValue"; }
    Forecast Predict(int horizon) const override {
      Forecast f;
      f.Resize(static_cast<size_t>(horizon));
      for (auto* v : {&f.mean, &f.lo80, &f.hi80, &f.lo95, &f.hi95}) std::fill(v->begin(), v->end(), last_);
      return f;
    }
    void Save(ByteWriter* out) const override { out->PutF64(last_); }
    std::string Describe() const override { return ""; }
    FitOutcome Update(std::span<const double> y, const UpdateContext&) const override {
      double last = last_;
      for (double v : y)
        if (std::isfinite(v)) last = v;
      return {std::make_unique<Model>(last), {}};
    }

   private:
    double last_;
  };
  std::string_view name() const override { return "lastvalue"; }
  int MinObservations(const FitContext&) const override { return 1; }
  FitOutcome Fit(std::span<const double> y, const FitContext&) const override {
    fitted.push_back(y.size());
    return {std::make_unique<Model>(y.back()), {}};
  }
  std::unique_ptr<FittedModel> Load(ByteReader*) const override { return nullptr; }
  bool ValidatedByUpdate() const override { return by_update; }
  mutable std::vector<size_t> fitted;
  bool by_update = true;
};

TEST(SelectTest, ValidationRollsAFitForwardUntilItIsAFifthOld) {
  for (const int n : {1000, 60}) {
    std::vector<double> y;
    for (int t = 0; t < n; ++t) y.push_back(std::sin(0.3 * t) + 0.01 * t);
    SelectOptions o = Options(1, 10);
    o.backtest_windows = 3;
    LastValue last;
    o.candidates = {&last};
    const SeriesResult rolled = FitSeries(y, o);
    o.candidates = {&NaiveMethod()};
    const SeriesResult naive = FitSeries(y, o);
    // Brought forward by Update or fitted again, the model forecasts each window from the values before it.
    EXPECT_DOUBLE_EQ(rolled.metrics.mae, naive.metrics.mae) << n;
    if (n == 1000)  // fitted for the oldest window (970 periods), updated through 20 more, then fitted whole
      EXPECT_EQ(last.fitted, (std::vector<size_t>{970, 1000}));
    else  // 10 periods are more than a fifth of 30 or 40: fitted for every window
      EXPECT_EQ(last.fitted, (std::vector<size_t>{30, 40, 50, 60}));
  }
}

TEST(SelectTest, AMethodWhoseUpdateWouldNotFollowARefitIsFittedForEveryWindow) {
  std::vector<double> y;
  for (int t = 0; t < 1000; ++t) y.push_back(std::sin(0.3 * t) + 0.01 * t);
  SelectOptions o = Options(1, 10);
  o.backtest_windows = 3;
  LastValue last;
  last.by_update = false;
  o.candidates = {&last};
  FitSeries(y, o);
  EXPECT_EQ(last.fitted, (std::vector<size_t>{970, 980, 990, 1000}));

  // The regression on the cycles is such a method: its validation error is that of fits on each window's
  // history (brought forward by Update, its trend would stay where the oldest fit put it).
  EXPECT_FALSE(FourierMethod().ValidatedByUpdate());
  EXPECT_TRUE(EtsMethod().ValidatedByUpdate());
  std::vector<double> z;
  Rng rng(11);
  for (int t = 0; t < 600; ++t)
    z.push_back(50 + 0.05 * t + (t > 560 ? 0.8 * (t - 560) : 0) + 5 * std::sin(2 * M_PI * t / 7) +
                rng.Normal());
  SelectOptions f = Options(7, 10);
  f.backtest_windows = 3;
  f.candidates = {&FourierMethod()};
  const SeriesResult r = FitSeries(z, f);
  ASSERT_FALSE(r.failed) << r.note;
  double mae = 0;
  for (int k = 1; k <= 3; ++k) {
    const size_t origin = z.size() - 10 * static_cast<size_t>(k);
    FitContext c = f.context;
    const std::vector<double> mean =
        FourierMethod().Fit(std::span<const double>(z.data(), origin), c).model->PredictMean(10);
    for (size_t i = 0; i < 10; ++i) mae += std::fabs(z[origin + i] - mean[i]) / 30;
  }
  EXPECT_NEAR(r.metrics.mae, mae, 1e-9 * mae);
}

TEST(SelectTest, ValidationJudgesTheCyclesTheModelWillHave) {
  // 110 periods hold the cycle of 50 twice; the windows' histories (80 to 100 periods) once. Fitted without
  // it there, the regression would be judged on forecasts that miss a swing of +-30.
  std::vector<double> y;
  Rng rng(5);
  for (int t = 0; t < 110; ++t) y.push_back(100 + 30 * std::sin(2 * M_PI * t / 50) + rng.Normal());
  SelectOptions o = Options(7, 10);
  o.context.season_lengths = {7, 50};
  o.backtest_windows = 3;
  o.candidates = {&FourierMethod()};
  const SeriesResult r = FitSeries(y, o);
  ASSERT_FALSE(r.failed) << r.note;
  EXPECT_NE(r.label.find("50:"), std::string::npos) << r.label;
  EXPECT_LT(r.metrics.mae, 3.0);
  FitContext window = o.context;  // a window's fit on its own keeps only the cycle that fits twice
  const std::span<const double> first(y.data(), 80);
  EXPECT_EQ(FourierMethod().Fit(first, window).model->Label().find("50:"), std::string::npos);
  window.form_history = 110;
  EXPECT_NE(FourierMethod().Fit(first, window).model->Label().find("50:"), std::string::npos);
}

TEST(SelectTest, EnsembleCombinesTheBestAndRoundTrips) {
  std::vector<double> y;
  for (int t = 0; t < 40; ++t) y.push_back(t < 30 ? 2.0 * t : 60.0 - t);
  SelectOptions o = Options(1, 5);
  o.candidates = {&NaiveMethod(), &MeanMethod()};
  o.ensemble = true;
  o.combination = Combination::kMean;
  o.ensemble_size = 2;
  const SeriesResult r = FitSeries(y, o);
  ASSERT_FALSE(r.failed);
  EXPECT_EQ(r.method, "ensemble");
  EXPECT_EQ(r.label, "Mean(Naive+Mean)");  // in the order of the candidates, whatever their ranking
  // The forecast is the members' mean, on the whole history and in validation.
  FitContext c = o.context;
  const Forecast naive = NaiveMethod().Fit(y, c).model->Predict(5), mean = MeanMethod().Fit(y, c).model->Predict(5);
  for (int i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(r.forecast.mean[i], 0.5 * (naive.mean[i] + mean.mean[i]));
  const std::span<const double> train(y.data(), 35);
  const double v = 0.5 * (NaiveMethod().Fit(train, c).model->Predict(5).mean[0] +
                          MeanMethod().Fit(train, c).model->Predict(5).mean[0]);
  double mae = 0;
  for (int i = 35; i < 40; ++i) mae += std::fabs(y[i] - v) / 5;
  EXPECT_NEAR(r.metrics.mae, mae, 1e-12);
  EXPECT_EQ(LoadModel(r.model)->Predict(5).mean, r.forecast.mean);
}

TEST(SelectTest, CovariatesReachTheModelAndAreCutToTheHoldout) {
  // y = 3 * x exactly; only a model that sees x (fourier) can forecast it.
  std::vector<double> x, y;
  for (int t = 0; t < 120; ++t) x.push_back((t * 7919) % 13);
  for (int t = 0; t < 110; ++t) y.push_back(-3.0 * x[t]);
  SelectOptions o = Options(1, 10);
  o.candidates = {&NaiveMethod(), &MeanMethod(), &FourierMethod()};
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

namespace mm {
namespace {

// `--models auto` as train sets it: its pool, weighed by the validation evidence.
SelectOptions AutoOptions(double m, int h) {
  SelectOptions o = Options(m, h);
  o.automatic = true;
  o.candidates = {};
  o.ensemble = true;
  o.weigh_evidence = true;
  return o;
}

void ExpectNoneNegative(const Forecast& f, const std::string& what) {
  for (const auto* col : {&f.mean, &f.lo80, &f.hi80, &f.lo95, &f.hi95})
    for (double v : *col) EXPECT_GE(v, 0.0) << what;
}

TEST(SelectTest, AutoFollowsTheOneMemberThatIsRight) {
  // Sales driven by a display indicator (+40%), growing 1% a period, with 1% noise: only `fourier` (on the
  // log scale, as for any positive series) sees both. ETS and naive miss every display week,
  // `fourier-notrend` lags the growth; all three are dropped.
  Rng rng(7);
  std::vector<double> x, y;
  auto truth = [&](int t) { return 100 * std::exp(0.01 * t) * (1 + 0.4 * x[t]); };
  for (int t = 0; t < 128; ++t) x.push_back(rng.Uniform() < 0.4 ? 1.0 : 0.0);
  for (int t = 0; t < 120; ++t) y.push_back(truth(t) * (1 + 0.01 * rng.Normal()));
  SelectOptions o = AutoOptions(1, 8);
  o.context.covariates = {std::span<const double>(x)};
  const SeriesResult r = FitSeries(y, o);
  ASSERT_FALSE(r.failed) << r.note;
  EXPECT_EQ(r.method, "fourier") << r.label << ": " << r.note;
  EXPECT_NE(r.note.find("fourier alone"), std::string::npos) << r.note;
  EXPECT_NE(r.note.find("over 4 windows"), std::string::npos) << r.note;
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(r.forecast.mean[i] / truth(120 + i), 1.0, 0.03) << i;
  EXPECT_LT(r.metrics.mape, 2.0);

  // Without the growth both regressions are right: combined, ETS and naive still dropped.
  for (int t = 0; t < 120; ++t) y[t] /= std::exp(0.01 * t);
  const SeriesResult level = FitSeries(y, o);
  ASSERT_FALSE(level.failed) << level.note;
  const std::string weights = level.note.substr(0, level.note.find(" from "));  // "weights A w, B w"
  EXPECT_NE(weights.find("weights fourier"), std::string::npos) << level.note;
  EXPECT_NE(weights.find("fourier-notrend"), std::string::npos) << level.note;
  EXPECT_EQ(weights.find("ets"), std::string::npos) << level.note;
  EXPECT_EQ(weights.find("naive"), std::string::npos) << level.note;
  for (int i = 0; i < 8; ++i)
    EXPECT_NEAR(level.forecast.mean[i] / (truth(120 + i) / std::exp(0.01 * (120 + i))), 1.0, 0.03) << i;
}

TEST(SelectTest, AutoCombinesMembersThatAreEquallyGood) {
  // A level with noise: ETS (simple smoothing) and DOTM forecast it about equally well; none is dropped for
  // being right less often, and the weights are of the same order.
  Rng rng(11);
  std::vector<double> y;
  for (int t = 0; t < 200; ++t) y.push_back(50 + 5 * rng.Normal());
  const SelectOptions o = AutoOptions(1, 10);
  const SeriesResult r = FitSeries(y, o);
  ASSERT_FALSE(r.failed) << r.note;
  EXPECT_EQ(r.method, "ensemble") << r.label << ": " << r.note;
  EXPECT_EQ(r.label.rfind("Weighted(ETS(", 0), 0u) << r.label;
  EXPECT_NE(r.label.find("+DOTM"), std::string::npos) << r.label;
  EXPECT_NE(r.note.find("weights ets "), std::string::npos) << r.note;
  // The saved model forecasts what was returned, and the weighted mean lies within its members' range.
  const auto model = LoadModel(r.model);
  EXPECT_EQ(model->Predict(10).mean, r.forecast.mean);
  EXPECT_NE(model->Describe().find("(weight "), std::string::npos) << model->Describe();
  const Forecast ets = EtsMethod().Fit(y, o.context).model->Predict(10);
  const Forecast dotm = DynamicOptimizedThetaMethod().Fit(y, o.context).model->Predict(10);
  const Forecast naive = NaiveMethod().Fit(y, o.context).model->Predict(10);
  for (int i = 0; i < 10; ++i) {
    const double lo = std::min({ets.mean[i], dotm.mean[i], naive.mean[i]});
    const double hi = std::max({ets.mean[i], dotm.mean[i], naive.mean[i]});
    EXPECT_GE(r.forecast.mean[i], lo - 1e-9);
    EXPECT_LE(r.forecast.mean[i], hi + 1e-9);
  }
}

TEST(SelectTest, WeightedEnsembleCombinesByItsWeights) {
  std::vector<double> a = {1, 2, 3}, b = {10, 20, 30};
  Forecast fa, fb;
  fa.Resize(3), fb.Resize(3);
  fa.mean = a, fb.mean = b;
  const Forecast c = CombineForecasts({fa, fb}, Combination::kWeighted, {3, 1});
  for (int i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(c.mean[i], (3 * a[i] + b[i]) / 4);
  EXPECT_THROW(MakeEnsemble({}, Combination::kWeighted, {1.0}), std::invalid_argument);
}

TEST(SelectTest, NonNegativeSeriesNeverGetNegativeForecastsOrBounds) {
  // Sales falling towards zero: drift and the intervals of every model run below zero, the clip stops them.
  Rng rng(3);
  std::vector<double> y;
  for (int t = 0; t < 60; ++t) y.push_back(std::max(0.0, 30 - 0.5 * t + 2 * rng.Normal()));
  SelectOptions drift = Options(1, 20);
  drift.candidates = {&DriftMethod()};
  ASSERT_LT(DriftMethod().Fit(y, drift.context).model->Predict(20).lo95.back(), 0.0);  // the raw model dips
  for (const SelectOptions& o : {drift, AutoOptions(1, 20), AutoOptions(7, 20)}) {
    const SeriesResult r = FitSeries(y, o);
    ASSERT_FALSE(r.failed) << r.note;
    ExpectNoneNegative(r.forecast, r.label);
    const auto model = LoadModel(r.model);
    ExpectNoneNegative(model->Predict(40), "saved " + r.label);
    EXPECT_NE(model->Describe().find("clipped at 0"), std::string::npos) << model->Describe();
    // Brought up to new values by Update, it stays clipped.
    const std::vector<double> next = {1, 0, 0.5};
    UpdateContext u;
    u.horizon = 20;
    FitOutcome up = model->Update(next, u);
    ASSERT_TRUE(up.model) << up.error;
    ExpectNoneNegative(up.model->Predict(20), "updated " + r.label);
  }
  EXPECT_EQ(FitSeries(y, drift).forecast.mean.back(), 0.0);  // drift's mean itself is clipped
  // One negative value in the history: not a non-negative target, nothing is clipped.
  y[10] = -1;
  const SeriesResult r = FitSeries(y, drift);
  EXPECT_LT(r.forecast.lo95.back(), 0.0);
  EXPECT_LT(r.forecast.mean.back(), 0.0);
}

TEST(SelectTest, AMemberFittedElsewhereIsWeighedOnTheSameWindows) {
  // A cycle of 13 periods auto is not told of: ETS, DOTM and naive miss it; a member fitted elsewhere (as
  // train --pool-by fits the pooled model) that forecast every window right is followed alone, its model
  // returned as saved.
  Rng rng(5);
  std::vector<double> y;
  for (int t = 0; t < 160; ++t) y.push_back(100 + 30 * std::sin(6.283185307179586 * t / 13) + rng.Normal());
  SelectOptions o = AutoOptions(1, 8);
  FitContext cycle = o.context;
  cycle.season_lengths = {13};
  const auto outside = SeasonalNaiveMethod().Fit(y, cycle).model;
  FittedMember member;
  member.method = &SeasonalNaiveMethod();
  member.model = SaveModel(*outside);
  for (int k = 0; k < 4; ++k) member.windows.emplace_back(y.end() - 8 * (k + 1), y.end() - 8 * k);
  o.fitted_members = {member};
  const SeriesResult r = FitSeries(y, o);
  ASSERT_FALSE(r.failed) << r.note;
  EXPECT_EQ(r.method, "snaive") << r.label << ": " << r.note;
  EXPECT_NE(r.note.find("snaive alone: snaive 0, "), std::string::npos) << r.note;
  EXPECT_EQ(r.forecast.mean, outside->Predict(8).mean);
  EXPECT_EQ(ValidationWindows(o), 4);
  // A series fitted in scaled units (FitScaleExponent): the member's forecasts and model, in the series'
  // units, come out the same (times 2^40, exact).
  std::vector<double> big;
  for (double v : y) big.push_back(std::ldexp(v, 40));
  FittedMember scaled = member;
  scaled.model = SaveModel(*SeasonalNaiveMethod().Fit(big, cycle).model);
  for (auto& w : scaled.windows)
    for (double& v : w) v = std::ldexp(v, 40);
  o.fitted_members = {scaled};
  const SeriesResult b = FitSeries(big, o);
  ASSERT_EQ(b.method, "snaive") << b.note;
  for (int i = 0; i < 8; ++i) EXPECT_EQ(b.forecast.mean[i], std::ldexp(r.forecast.mean[i], 40)) << i;
  EXPECT_EQ(LoadModel(b.model)->Predict(8).mean, b.forecast.mean);
  o.fitted_members = {member};

  // Fewer windows than the others are scored on: left out, and the note says so.
  o.fitted_members.front().windows.pop_back();
  const SeriesResult without = FitSeries(y, o);
  EXPECT_NE(without.method, "snaive") << without.note;
  EXPECT_NE(without.note.find("snaive not validated: it forecasts 3 of the 4 windows"), std::string::npos)
      << without.note;
}

TEST(SelectTest, GroupJudgementIsTheGeometricMeanOfErrorsRelativeToEachSeriesBest) {
  const double inf = std::numeric_limits<double>::infinity();
  const Method* ets = &EtsMethod();
  const Method* dotm = &DynamicOptimizedThetaMethod();
  std::vector<SeriesValidation> v(5);
  v[0].scores = {{ets, 2}, {dotm, 4}};
  v[1].scores = {{dotm, 1}, {ets, 4}};
  v[2].scores = {{ets, 0}, {dotm, 1}};    // a perfect best: no ratio, no evidence
  v[3].scores = {{ets, 1}, {dotm, inf}};  // dotm not validated there
  // v[4]: nothing validated
  const GroupEvidence g = GroupJudgement(v);
  EXPECT_EQ(g.series, 3);
  ASSERT_EQ(g.relative.size(), 2u);
  EXPECT_EQ(g.relative[0].first, dotm);  // the least first
  EXPECT_NEAR(g.relative[0].second, std::sqrt(2.0), 1e-12);
  EXPECT_EQ(g.relative[1].first, ets);
  EXPECT_NEAR(g.relative[1].second, std::cbrt(4.0), 1e-12);
}

TEST(SelectTest, AutoWeighsItsMembersWithItsGroupsJudgement) {
  // A level with noise: on its own windows ETS and DOTM are about equally good and both kept. Its group's
  // series found DOTM three times worse than their best: judged half by its own errors and half by the
  // group's, DOTM is dropped (sqrt(own ratio x 3) above 1.5) and ETS left alone.
  Rng rng(11);
  std::vector<double> y;
  for (int t = 0; t < 200; ++t) y.push_back(50 + 5 * rng.Normal());
  const SelectOptions o = AutoOptions(1, 10);
  const SeriesResult own = DecideSeries(ValidateSeries(y, o), nullptr);
  ASSERT_NE(own.label.find("DOTM"), std::string::npos) << own.label << ": " << own.note;
  ASSERT_NE(own.label.find("ETS"), std::string::npos) << own.label << ": " << own.note;
  EXPECT_EQ(own.note.find("judged with the group"), std::string::npos) << own.note;

  GroupEvidence group;
  group.series = 12;
  // Croston: another pool's member in the group (its intermittent series); not this series' to weigh.
  group.relative = {{&EtsMethod(), 1.0},
                    {&DynamicOptimizedThetaMethod(), 3.0},
                    {&NaiveMethod(), 3.0},
                    {&CrostonMethod(), 4.0}};
  const SeriesValidation v = ValidateSeries(y, o);
  ASSERT_GE(v.scores.size(), 2u);
  const SeriesResult judged = DecideSeries(ValidateSeries(y, o), &group);
  ASSERT_FALSE(judged.failed) << judged.note;
  EXPECT_EQ(judged.method, "ets") << judged.label << ": " << judged.note;
  EXPECT_NE(judged.note.find("judged with the group's errors relative to each series' best over 12 series "
                             "(ets 1, dotm 3, naive 3)"),
            std::string::npos)
      << judged.note;
  EXPECT_NE(judged.note.find("ets alone: ets "), std::string::npos) << judged.note;  // its own errors listed
  // A group that agrees with the series changes nothing.
  GroupEvidence agrees;
  agrees.series = 1;
  for (const auto& [method, score] : v.scores)
    agrees.relative.emplace_back(method, score / v.scores[0].second);
  const SeriesResult same = DecideSeries(ValidateSeries(y, o), &agrees);
  EXPECT_EQ(same.label, own.label);
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(same.forecast.mean[i], own.forecast.mean[i], 1e-9) << i;
}

}  // namespace
}  // namespace mm
