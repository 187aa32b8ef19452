// The one table of methods known to the program, and method-tagged model (de)serialization.
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "manymodels/core/arima.h"
#include "manymodels/core/ensemble.h"
#include "manymodels/core/ets.h"
#include "manymodels/core/fourier.h"
#include "manymodels/core/intermittent.h"
#include "manymodels/core/model.h"
#include "manymodels/core/models_basic.h"
#include "manymodels/core/theta.h"

namespace mm {
namespace {

const std::vector<const Method*>& AllMethods() {
  static const std::vector<const Method*> methods = {
      // benchmarks (models_basic.h)
      &NaiveMethod(), &SeasonalNaiveMethod(), &MeanMethod(), &DriftMethod(),
      // state space and ARIMA (ets.h, arima.h)
      &EtsMethod(), &ArimaMethod(),
      // Theta family (theta.h)
      &ThetaMethod(), &OptimizedThetaMethod(), &DynamicOptimizedThetaMethod(),
      // intermittent demand (intermittent.h)
      &CrostonMethod(), &SbaMethod(), &TsbMethod(),
      // several cycles and covariates (fourier.h); combinations (ensemble.h)
      &FourierMethod(), &EnsembleMethod()};
  return methods;
}

constexpr uint8_t kModelFormat = 1;

}  // namespace

int FitContext::PrimaryPeriod() const {
  if (season_lengths.empty()) return 1;
  return std::max(1, static_cast<int>(std::lround(season_lengths.front())));
}

std::string FormatParameter(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

Forecast NormalForecast(const std::vector<double>& mean, const std::vector<double>& se) {
  Forecast f;
  f.mean = mean;
  f.lo80.resize(mean.size());
  f.hi80.resize(mean.size());
  f.lo95.resize(mean.size());
  f.hi95.resize(mean.size());
  for (size_t i = 0; i < mean.size(); ++i) {
    f.lo80[i] = mean[i] - kZ80 * se[i];
    f.hi80[i] = mean[i] + kZ80 * se[i];
    f.lo95[i] = mean[i] - kZ95 * se[i];
    f.hi95[i] = mean[i] + kZ95 * se[i];
  }
  return f;
}

const Method* FindMethod(std::string_view name) {
  for (const Method* m : AllMethods())
    if (m->name() == name) return m;
  return nullptr;
}

std::vector<std::string> MethodNames() {
  std::vector<std::string> names;
  for (const Method* m : AllMethods()) names.emplace_back(m->name());
  return names;
}

std::vector<uint8_t> SaveModel(const FittedModel& model) {
  ByteWriter w;
  w.PutU8(kModelFormat);
  w.PutString(model.method());
  model.Save(&w);
  return w.Take();
}

std::unique_ptr<FittedModel> LoadModel(const std::vector<uint8_t>& bytes) {
  ByteReader r(bytes);
  if (r.GetU8() != kModelFormat) throw std::runtime_error("saved model has an unknown format version");
  const std::string name = r.GetString();
  const Method* method = FindMethod(name);
  if (!method) throw std::runtime_error("saved model names an unknown method '" + name + "'");
  auto model = method->Load(&r);
  if (!r.AtEnd()) throw std::runtime_error("saved " + name + " model has trailing bytes");
  return model;
}

}  // namespace mm
