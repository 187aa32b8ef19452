#include "manymodels/core/ets.h"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>

namespace mm {
namespace {

using ets::Kind;

FitContext Context(double m, int h, uint64_t seed = 1) {
  FitContext c;
  c.season_lengths = {m};
  c.horizon = h;
  c.seed = seed;
  return c;
}

ets::Spec Form(Kind error, Kind trend, Kind season, bool damped = false, int m = 1) {
  return ets::Spec{error, trend, season, damped, season == Kind::kNone ? 1 : m};
}

// A series simulated from a known form, with the truth kept for checking.
struct Truth {
  ets::Spec spec;
  ets::Params par;
  ets::State start;
  double sigma;
};

Truth AnnTruth() {
  return {Form(Kind::kAdditive, Kind::kNone, Kind::kNone), {0.3, 0, 0, 1}, {100, 0, {}}, 2.0};
}
Truth AanTruth() {
  return {Form(Kind::kAdditive, Kind::kAdditive, Kind::kNone), {0.4, 0.1, 0, 1}, {50, 0.5, {}}, 1.0};
}
Truth AnaTruth() {
  return {Form(Kind::kAdditive, Kind::kNone, Kind::kAdditive, false, 4),
          {0.2, 0, 0.3, 1},
          {200, 0, {10, -5, 5, -10}},
          2.0};
}
Truth MnmTruth() {
  std::vector<double> s;
  for (int j = 0; j < 12; ++j) s.push_back(1 + 0.3 * std::sin(2 * M_PI * j / 12));
  return {Form(Kind::kMultiplicative, Kind::kNone, Kind::kMultiplicative, false, 12),
          {0.2, 0, 0.3, 1},
          {100, 0, s},
          0.03};
}

std::vector<double> Draw(const Truth& t, int n, uint64_t seed) {
  return ets::Simulate(t.spec, t.par, t.start, n, t.sigma, seed);
}

// ---------------------------------------------------------------- recovery

void ExpectRecovers(const Truth& truth, int n, double tol, int min_form_matches) {
  const int kReps = 8;
  int form_matches = 0;
  for (int rep = 0; rep < kReps; ++rep) {
    const std::vector<double> y = Draw(truth, n, 100 + rep);
    const FitOutcome given = ets::FitForm(y, truth.spec, Context(truth.spec.m, 8));
    ASSERT_TRUE(given.model) << given.error;
    const ets::Fit& f = *ets::FitOf(*given.model);
    EXPECT_NEAR(f.par.alpha, truth.par.alpha, tol) << truth.spec.Label() << " rep " << rep;
    if (truth.spec.trend != Kind::kNone) {
      EXPECT_NEAR(f.par.beta, truth.par.beta, tol);
    }
    if (truth.spec.season != Kind::kNone) {  // gamma is the least well determined
      EXPECT_NEAR(f.par.gamma, truth.par.gamma, 1.5 * tol);
    }
    const double sigma_hat = std::sqrt(f.sigma2);
    EXPECT_NEAR(sigma_hat, truth.sigma, 0.15 * truth.sigma);

    const FitOutcome chosen = EtsMethod().Fit(y, Context(truth.spec.m, 8));
    ASSERT_TRUE(chosen.model) << chosen.error;
    const ets::Spec& s = ets::FitOf(*chosen.model)->spec;
    // With a level that stays far from zero the error type, and additive against multiplicative season, are
    // nearly unidentifiable (R's ets() mixes them up alike): match the trend and whether there is a season.
    const bool seasonal = s.season != Kind::kNone, truth_seasonal = truth.spec.season != Kind::kNone;
    if (s.trend == truth.spec.trend && s.damped == truth.spec.damped && seasonal == truth_seasonal)
      ++form_matches;
  }
  EXPECT_GE(form_matches, min_form_matches) << truth.spec.Label();
}

TEST(EtsRecoveryTest, SimpleExponentialSmoothing) { ExpectRecovers(AnnTruth(), 400, 0.1, 5); }
TEST(EtsRecoveryTest, AdditiveTrend) { ExpectRecovers(AanTruth(), 400, 0.1, 5); }
TEST(EtsRecoveryTest, AdditiveSeason) { ExpectRecovers(AnaTruth(), 400, 0.1, 5); }
TEST(EtsRecoveryTest, MultiplicativeSeason) { ExpectRecovers(MnmTruth(), 480, 0.1, 5); }

TEST(EtsRecoveryTest, MultiplicativeErrorIsChosenWhenTheNoiseScalesWithTheLevel) {
  // A level that moves over two decades: the error type is identifiable.
  const Truth t{Form(Kind::kMultiplicative, Kind::kNone, Kind::kNone), {0.5, 0, 0, 1}, {100, 0, {}}, 0.1};
  int matches = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto y = Draw(t, 400, 7 + rep);
    const FitOutcome fit = EtsMethod().Fit(y, Context(1, 4));
    ASSERT_TRUE(fit.model);
    matches += ets::FitOf(*fit.model)->spec.error == Kind::kMultiplicative ? 1 : 0;
  }
  EXPECT_GE(matches, 4);
}

// ---------------------------------------------------------------- interval coverage

// Fits the true form on n values and counts how often the next h simulated values fall in the 95% and 80%
// intervals, over many replicates.
void ExpectCoverage(const Truth& t, int n, int h, int reps) {
  int in95 = 0, in80 = 0, total = 0;
  for (int rep = 0; rep < reps; ++rep) {
    const std::vector<double> all = Draw(t, n + h, 1000 + rep);
    const std::vector<double> y(all.begin(), all.begin() + n);
    const FitOutcome fit = ets::FitForm(y, t.spec, Context(t.spec.m, h, rep));
    ASSERT_TRUE(fit.model) << fit.error;
    const Forecast f = fit.model->Predict(h);
    for (int i = 0; i < h; ++i) {
      const double v = all[n + i];
      in95 += (v >= f.lo95[i] && v <= f.hi95[i]) ? 1 : 0;
      in80 += (v >= f.lo80[i] && v <= f.hi80[i]) ? 1 : 0;
      ++total;
    }
  }
  EXPECT_GE(in95, 0.92 * total) << t.spec.Label();
  EXPECT_LE(in95, 0.98 * total) << t.spec.Label();
  EXPECT_GE(in80, 0.75 * total) << t.spec.Label();
  EXPECT_LE(in80, 0.85 * total) << t.spec.Label();
}

TEST(EtsIntervalTest, AnalyticIntervalsCoverAsStated) { ExpectCoverage(AanTruth(), 200, 6, 250); }
TEST(EtsIntervalTest, SimulatedIntervalsCoverAsStated) {
  const Truth t{Form(Kind::kMultiplicative, Kind::kNone, Kind::kNone), {0.3, 0, 0, 1}, {100, 0, {}}, 0.05};
  ExpectCoverage(t, 200, 6, 250);
}

// ---------------------------------------------------------------- hand-checked cases

TEST(EtsTest, ConstantSeriesGivesAFlatForecastWithZeroWidth) {
  const std::vector<double> y(30, 7.5);
  const FitOutcome fit = EtsMethod().Fit(y, Context(12, 5));
  ASSERT_TRUE(fit.model) << fit.error;
  EXPECT_EQ(fit.model->Label(), "ETS(A,N,N)");
  const Forecast f = fit.model->Predict(5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_DOUBLE_EQ(f.mean[i], 7.5);
    EXPECT_DOUBLE_EQ(f.hi95[i], 7.5);
  }
}

TEST(EtsTest, TooShortSeriesFailsWithAReason) {
  const std::vector<double> y = {1.0, 2.0};
  const FitOutcome fit = EtsMethod().Fit(y, Context(1, 3));
  EXPECT_FALSE(fit.model);
  EXPECT_FALSE(fit.error.empty());
}

TEST(EtsTest, SeriesWithMissingValuesFits) {
  std::vector<double> y = Draw(AnaTruth(), 120, 5);
  for (int t : {30, 31, 57, 90}) y[t] = NAN;
  const FitOutcome fit = EtsMethod().Fit(y, Context(4, 8));
  ASSERT_TRUE(fit.model) << fit.error;
  EXPECT_EQ(ets::FitOf(*fit.model)->n_obs, 116);
  const Forecast f = fit.model->Predict(8);
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(std::isfinite(f.mean[i]));
    EXPECT_LT(f.lo95[i], f.hi95[i]);
  }
}

TEST(EtsTest, SeriesWithZerosNeverUsesMultiplicativeError) {
  std::vector<double> y;
  for (int t = 0; t < 96; ++t) y.push_back(t % 12 == 0 ? 0.0 : 20 + 10 * std::sin(t * 0.52) + 0.1 * t);
  const FitOutcome fit = EtsMethod().Fit(y, Context(12, 12));
  ASSERT_TRUE(fit.model) << fit.error;
  const ets::Fit& f = *ets::FitOf(*fit.model);
  EXPECT_EQ(f.spec.error, Kind::kAdditive);
  EXPECT_NE(f.spec.season, Kind::kMultiplicative);
  const FitOutcome forced =
      ets::FitForm(y, Form(Kind::kMultiplicative, Kind::kNone, Kind::kNone), Context(1, 1));
  EXPECT_FALSE(forced.model);
  EXPECT_NE(forced.error.find("positive"), std::string::npos);
}

TEST(EtsTest, SeasonalFormsOnlyForPeriodsUpTo24) {
  const Truth t = AnaTruth();
  std::vector<double> y = Draw(t, 300, 3);
  const FitOutcome fit = EtsMethod().Fit(y, Context(52, 10));
  ASSERT_TRUE(fit.model);
  EXPECT_EQ(ets::FitOf(*fit.model)->spec.season, Kind::kNone);
  const FitOutcome seasonal = EtsMethod().Fit(y, Context(4, 10));
  ASSERT_TRUE(seasonal.model);
  EXPECT_EQ(ets::FitOf(*seasonal.model)->spec.season, Kind::kAdditive);
}

TEST(EtsTest, SaveAndLoadGiveIdenticalForecasts) {
  for (const Truth& t : {AanTruth(), MnmTruth()}) {
    const std::vector<double> y = Draw(t, 150, 11);
    const FitOutcome fit = EtsMethod().Fit(y, Context(t.spec.m, 12, 99));
    ASSERT_TRUE(fit.model);
    const auto loaded = LoadModel(SaveModel(*fit.model));
    EXPECT_EQ(loaded->Label(), fit.model->Label());
    EXPECT_EQ(loaded->Describe(), fit.model->Describe());
    const Forecast a = fit.model->Predict(12), b = loaded->Predict(12);
    EXPECT_EQ(a.mean, b.mean);
    EXPECT_EQ(a.lo80, b.lo80);
    EXPECT_EQ(a.hi95, b.hi95);
  }
  std::vector<uint8_t> bad = SaveModel(*EtsMethod().Fit(Draw(AnnTruth(), 50, 1), Context(1, 1)).model);
  bad.pop_back();
  EXPECT_THROW(LoadModel(bad), std::runtime_error);
}

TEST(EtsTest, SameInputSameOutput) {
  const std::vector<double> y = Draw(MnmTruth(), 144, 21);
  const FitOutcome a = EtsMethod().Fit(y, Context(12, 18, 5)), b = EtsMethod().Fit(y, Context(12, 18, 5));
  ASSERT_TRUE(a.model && b.model);
  EXPECT_EQ(a.model->Describe(), b.model->Describe());
  EXPECT_EQ(a.model->Predict(18).lo95, b.model->Predict(18).lo95);
  EXPECT_EQ(SaveModel(*a.model), SaveModel(*b.model));
}

TEST(EtsTest, IntervalsAreNestedAndFirstStepsDoNotDependOnTheHorizon) {
  const std::vector<double> y = Draw(MnmTruth(), 144, 8);
  const FitOutcome fit = EtsMethod().Fit(y, Context(12, 24));
  ASSERT_TRUE(fit.model);
  const Forecast f = fit.model->Predict(24), g = fit.model->Predict(6);
  for (int i = 0; i < 24; ++i) {
    EXPECT_LE(f.lo95[i], f.lo80[i]);
    EXPECT_LE(f.lo80[i], f.hi80[i]);
    EXPECT_LE(f.hi80[i], f.hi95[i]);
  }
  for (int i = 0; i < 6; ++i) EXPECT_EQ(f.hi95[i], g.hi95[i]);
}

TEST(EtsTest, HandCheckedForecastOfADampedTrend) {
  const ets::Spec s = Form(Kind::kAdditive, Kind::kAdditive, Kind::kNone, true);
  const ets::Params p{0.5, 0.1, 0, 0.9};
  const auto f = ets::PointForecast(s, p, {10, 2, {}}, 3);
  EXPECT_DOUBLE_EQ(f[0], 10 + 0.9 * 2);
  EXPECT_DOUBLE_EQ(f[1], 10 + (0.9 + 0.81) * 2);
  EXPECT_DOUBLE_EQ(f[2], 10 + (0.9 + 0.81 + 0.729) * 2);
  const ets::Spec seasonal = Form(Kind::kAdditive, Kind::kNone, Kind::kAdditive, false, 3);
  // season[m-1] is the oldest index, the one the next step uses.
  const auto g = ets::PointForecast(seasonal, p, {10, 0, {1, 2, 3}}, 4);
  EXPECT_EQ(g, (std::vector<double>{13, 12, 11, 13}));
}

TEST(EtsTest, AdmissibleRegionAgreesWithR) {
  // Expected values from forecast:::admissible(alpha, beta, gamma, phi, m = 12) in R's forecast 8.20.
  const ets::Spec ana = Form(Kind::kAdditive, Kind::kNone, Kind::kAdditive, false, 12);
  const ets::Spec aada = Form(Kind::kAdditive, Kind::kAdditive, Kind::kAdditive, true, 12);
  EXPECT_TRUE(ets::Admissible(ana, {0.2, 0, 0.1, 1}));
  EXPECT_TRUE(ets::Admissible(ana, {0.2, 0, 0.95, 1}));
  EXPECT_TRUE(ets::Admissible(ana, {0.98, 0, 0.5, 1}));
  EXPECT_TRUE(ets::Admissible(ana, {0.5, 0, 0.6, 1}));
  EXPECT_TRUE(ets::Admissible(ana, {0.9, 0, 0.3, 1}));
  EXPECT_FALSE(ets::Admissible(ana, {0.3, 0, 1.75, 1}));
  EXPECT_FALSE(ets::Admissible(aada, {0.3, 0.2, 0.5, 0.9}));
  EXPECT_FALSE(ets::Admissible(aada, {0.6, 0.3, 0.6, 0.98}));
}

// R's characteristic-polynomial test done the way R does it (all roots, here as companion eigenvalues).
double LargestRoot(int m, const ets::Params& p) {
  const double a = p.alpha, b = p.beta, g = p.gamma, phi = p.phi;
  std::vector<double> c(m + 2);
  c[0] = phi * (1 - a - g);
  c[1] = a + b - a * phi + g - 1;
  for (int i = 2; i < m; ++i) c[i] = a + b - a * phi;
  c[m] = a + b - phi;
  c[m + 1] = 1;
  const int d = m + 1;
  Eigen::MatrixXd comp = Eigen::MatrixXd::Zero(d, d);
  for (int i = 0; i < d; ++i) comp(0, i) = -c[d - 1 - i];
  for (int i = 1; i < d; ++i) comp(i, i - 1) = 1;
  const Eigen::VectorXcd roots = Eigen::EigenSolver<Eigen::MatrixXd>(comp, false).eigenvalues();
  // Without trend and damping z = 1 is always a root, within R's tolerance: report the largest other one.
  int unit = -1;
  if (b == 0 && phi == 1)
    for (int i = 0; i < d; ++i)
      if (std::abs(roots[i] - 1.0) < 1e-7) unit = i;
  double largest = 0;
  for (int i = 0; i < d; ++i)
    if (i != unit) largest = std::max(largest, std::abs(roots[i]));
  return largest;
}

TEST(EtsTest, AdmissibleAgreesWithTheRootsOfTheCharacteristicPolynomial) {
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int checked = 0, rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    const int m = 2 + static_cast<int>(u(gen) * 23);
    const bool damped = u(gen) < 0.5, trend = u(gen) < 0.7;
    ets::Params p{0.0001 + 0.9998 * u(gen), 0, 0, damped ? 0.8 + 0.18 * u(gen) : 1.0};
    if (trend) p.beta = 0.0001 + u(gen) * (p.alpha - 0.0001);
    p.gamma = 0.0001 + 1.2 * u(gen) * (1 - p.alpha);
    const ets::Spec spec =
        Form(Kind::kAdditive, trend ? Kind::kAdditive : Kind::kNone, Kind::kAdditive, damped && trend, m);
    if (!trend) p.phi = 1.0;
    // Only the root test decides in this region; skip cases within rounding of the circle.
    const double root = LargestRoot(m, p);
    if (std::abs(root - 1) < 1e-7) continue;
    const double phi = p.phi, a = p.alpha, g = p.gamma;
    if (g < std::max(1 - 1 / phi - a, 0.0) || g > 1 + 1 / phi - a) continue;
    if (a < 1 - 1 / phi - g * (1 - m + phi + phi * m) / (2 * phi * m)) continue;
    if (p.beta < -(1 - phi) * (g / m + a)) continue;
    ++checked;
    rejected += root > 1 ? 1 : 0;
    EXPECT_EQ(ets::Admissible(spec, p), root <= 1) << spec.Label() << " m=" << m << " root=" << root;
  }
  EXPECT_GT(checked, 1000);
  EXPECT_GT(rejected, 100);
}

}  // namespace
}  // namespace mm
