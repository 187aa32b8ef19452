// The Method contract (core/model.h) checked for every registered method on pathological series: a fit never
// throws, either returns a model whose forecasts are finite and ordered, or a non-empty reason; a loaded model
// predicts what the fitted one did; a longer forecast begins with the shorter one; PredictMean gives Predict's
// means; and `auto` selection falls back with a note instead of failing.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "manymodels/core/random.h"
#include "manymodels/core/select.h"

namespace mm {
namespace {

std::map<std::string, std::vector<double>> Pathological() {
  std::map<std::string, std::vector<double>> s;
  s["single"] = {3};
  s["two"] = {3, 4};
  s["short"] = {5, 7, 6, 8, 7};
  s["constant"] = std::vector<double>(60, 5.0);
  s["all_zero"] = std::vector<double>(60, 0.0);
  std::vector<double> gaps(120);
  for (int t = 0; t < 120; ++t) gaps[t] = 20 + 5 * std::sin(t * 0.9) + (t % 7);
  for (int t = 30; t < 70; ++t) gaps[t] = NAN;
  s["nan_run"] = gaps;
  std::vector<double> negative(100);
  for (int t = 0; t < 100; ++t) negative[t] = 10 * std::sin(t * 0.7) - 3 + (t % 7);
  s["negative"] = negative;
  std::vector<double> sparse(150, 0.0);
  Rng rng(3);
  for (double& v : sparse) v = rng.Uniform() < 0.1 ? 1 + std::floor(4 * rng.Uniform()) : 0;
  s["intermittent"] = sparse;
  std::vector<double> huge(80);
  for (int t = 0; t < 80; ++t) huge[t] = 1e150 * (1 + 0.1 * std::sin(t));
  s["huge"] = huge;
  std::vector<double> spike(90, 1.0);
  spike[45] = 1e6;
  s["spike"] = spike;
  return s;
}

TEST(ContractTest, EveryMethodFitsOrSaysWhyOnPathologicalSeries) {
  for (const std::string& name : MethodNames()) {
    if (name == "ensemble") continue;
    const Method* method = FindMethod(name);
    for (const auto& [label, y] : Pathological()) {
      for (double m : {1.0, 7.0}) {
        FitContext ctx;
        ctx.season_lengths = {m};
        ctx.horizon = 6;
        ctx.seed = 9;
        FitOutcome fit;
        ASSERT_NO_THROW(fit = method->Fit(y, ctx)) << name << " on " << label;
        if (!fit.model) {
          EXPECT_FALSE(fit.error.empty()) << name << " on " << label << ": no model and no reason";
          continue;
        }
        const Forecast f = fit.model->Predict(6);
        ASSERT_EQ(f.mean.size(), 6u) << name << " on " << label;
        for (int i = 0; i < 6; ++i) {
          const double v[5] = {f.lo95[i], f.lo80[i], f.mean[i], f.hi80[i], f.hi95[i]};
          for (double x : v) EXPECT_TRUE(std::isfinite(x)) << name << " on " << label << " m=" << m;
          EXPECT_TRUE(v[0] <= v[1] * (1 + 1e-12) + 1e-9 && v[1] <= v[2] + 1e-9 && v[2] <= v[3] + 1e-9 &&
                      v[3] <= v[4] * (1 + 1e-12) + 1e-9)
              << name << " on " << label << " m=" << m << ": intervals out of order at step " << i;
        }
        const auto loaded = LoadModel(SaveModel(*fit.model));
        EXPECT_EQ(loaded->Predict(6).mean, f.mean) << name << " on " << label;
        // A longer forecast begins with the shorter one (serve forecasts once to its largest h and slices).
        Forecast longer = fit.model->Predict(20);
        for (auto* v : {&longer.mean, &longer.lo80, &longer.hi80, &longer.lo95, &longer.hi95}) v->resize(6);
        EXPECT_TRUE(longer.mean == f.mean && longer.lo80 == f.lo80 && longer.hi80 == f.hi80 &&
                    longer.lo95 == f.lo95 && longer.hi95 == f.hi95)
            << name << " on " << label << " m=" << m << ": Predict(6) is not the start of Predict(20)";
        // Validation asks for the point forecasts alone: the same numbers.
        EXPECT_EQ(fit.model->PredictMean(6), f.mean) << name << " on " << label << " m=" << m;
      }
    }
  }
}

// `--models auto` as train runs it, on a daily-like cycle of 7 and a horizon of 6.
SelectOptions AutoOptions() {
  SelectOptions o;
  o.context.season_lengths = {7};
  o.context.horizon = 6;
  o.automatic = true;
  o.ensemble = true;
  return o;
}

TEST(ContractTest, AutoNeverFailsOnASeriesWithTwoObservations) {
  for (const auto& [label, y] : Pathological()) {
    const SelectOptions o = AutoOptions();
    SeriesResult r;
    ASSERT_NO_THROW(r = FitSeries(y, o)) << label;
    if (label == "single") {
      EXPECT_TRUE(r.failed);
      continue;
    }
    EXPECT_FALSE(r.failed) << label << ": " << r.note;
    for (double v : r.forecast.mean) EXPECT_TRUE(std::isfinite(v)) << label;
    if (label == "short" || label == "two") {
      EXPECT_NE(r.note.find("too short"), std::string::npos) << r.note;
    }
  }
}

TEST(ContractTest, SameInputSameOutput) {
  for (const auto& [label, y] : Pathological()) {
    const SelectOptions o = AutoOptions();
    const SeriesResult a = FitSeries(y, o), b = FitSeries(y, o);
    EXPECT_EQ(a.model, b.model) << label;
    EXPECT_EQ(a.note, b.note) << label;
  }
}

}  // namespace
}  // namespace mm
