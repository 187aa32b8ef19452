// The one table of methods known to the program, and method-tagged model (de)serialization.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "manymodels/core/arima.h"
#include "manymodels/core/calibrate.h"
#include "manymodels/core/ensemble.h"
#include "manymodels/core/ets.h"
#include "manymodels/core/fourier.h"
#include "manymodels/core/intermittent.h"
#include "manymodels/core/model.h"
#include "manymodels/core/models_basic.h"
#include "manymodels/core/pooled.h"
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
      // several cycles and covariates (fourier.h); one model across a group (pooled.h); combinations
      // (ensemble.h)
      &FourierMethod(), &FourierNoTrendMethod(), &PooledMethod(), &EnsembleMethod()};
  return methods;
}

constexpr uint8_t kModelFormat = 1;

// FitScaleExponent: series whose typical magnitude rounds to 2^e with e in [kLowest, kHighest] are fitted as
// they are; others are brought to about 2^kTarget. Measured on a seasonal series scaled by powers of two: ETS
// drifts below about 2^-9, ARIMA picks other orders below about 2^-6 and above about 2^35 (and forecasts 0
// from about 2^40), `fourier` on log1p scale turns nearly linear below 1.
constexpr int kLowest = -2, kHighest = 30, kTarget = 10;
constexpr std::string_view kScaledTag = "scaled";  // SaveModel's tag of a ScaledModel (no method has this name)

class ScaledModel : public FittedModel {
 public:
  ScaledModel(std::unique_ptr<FittedModel> inner, int k) : inner_(std::move(inner)), k_(k) {}
  std::string_view method() const override { return inner_->method(); }
  std::string_view tag() const override { return kScaledTag; }
  std::string Label() const override { return inner_->Label(); }
  Forecast Predict(int horizon) const override {
    Forecast f = inner_->Predict(horizon);
    ScaleForecast(&f, k_);
    return f;
  }
  // The new values divided by the same power of two (exact), the inner model updated; covariates unchanged (the
  // fit did not scale them either).
  FitOutcome Update(std::span<const double> new_values, const UpdateContext& ctx) const override {
    std::vector<double> scaled(new_values.begin(), new_values.end());
    for (double& v : scaled) v = std::ldexp(v, -k_);
    FitOutcome inner = inner_->Update(scaled, ctx);
    if (!inner.model) return inner;
    return {std::make_unique<ScaledModel>(std::move(inner.model), k_), {}};
  }
  void Save(ByteWriter* w) const override {
    w->PutI64(k_);
    w->PutBytes(SaveModel(*inner_));
  }
  std::string Describe() const override {
    return inner_->Describe() + "; fitted on y / 2^" + std::to_string(k_) + " (y / " +
           FormatParameter(std::ldexp(1.0, k_)) + "): parameters in the series' units are in those units";
  }
  static std::unique_ptr<FittedModel> Load(ByteReader* r) {
    const int64_t k = r->GetI64();
    if (k == 0 || k < -1100 || k > 1100) throw std::runtime_error("saved scaled model has a bad scale");
    return std::make_unique<ScaledModel>(LoadModel(r->GetBytes()), static_cast<int>(k));
  }

 private:
  std::unique_ptr<FittedModel> inner_;
  int k_;
};

constexpr std::string_view kNonNegativeTag = "nonnegative";  // SaveModel's tag of a ClippedModel

class ClippedModel : public FittedModel {
 public:
  explicit ClippedModel(std::unique_ptr<FittedModel> inner) : inner_(std::move(inner)) {}
  std::string_view method() const override { return inner_->method(); }
  std::string_view tag() const override { return kNonNegativeTag; }
  std::string Label() const override { return inner_->Label(); }
  Forecast Predict(int horizon) const override {
    Forecast f = inner_->Predict(horizon);
    ClipAtZero(&f);
    return f;
  }
  FitOutcome Update(std::span<const double> new_values, const UpdateContext& ctx) const override {
    FitOutcome inner = inner_->Update(new_values, ctx);
    if (!inner.model) return inner;
    return {std::make_unique<ClippedModel>(std::move(inner.model)), {}};
  }
  void Save(ByteWriter* w) const override { w->PutBytes(SaveModel(*inner_)); }
  std::string Describe() const override {
    return inner_->Describe() + "; forecasts and bounds clipped at 0 (a history never below 0)";
  }
  static std::unique_ptr<FittedModel> Load(ByteReader* r) {
    return std::make_unique<ClippedModel>(LoadModel(r->GetBytes()));
  }

 private:
  std::unique_ptr<FittedModel> inner_;
};

}  // namespace

bool IsNonNegative(std::span<const double> y) {
  bool any = false;
  for (double v : y) {
    if (v < 0) return false;
    any = any || std::isfinite(v);
  }
  return any;
}

void ClipAtZero(Forecast* f) {
  for (auto* col : {&f->mean, &f->lo80, &f->hi80, &f->lo95, &f->hi95})
    for (double& v : *col) v = std::max(v, 0.0);
}

std::unique_ptr<FittedModel> NonNegativeModel(std::unique_ptr<FittedModel> model) {
  if (!model) return model;
  return std::make_unique<ClippedModel>(std::move(model));
}

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

int FitScaleExponent(std::span<const double> y) {
  std::vector<double> a;
  double largest = 0;
  for (double v : y)
    if (std::isfinite(v) && v != 0) a.push_back(std::fabs(v)), largest = std::max(largest, std::fabs(v));
  if (a.empty()) return 0;
  auto mid = a.begin() + static_cast<long>(a.size() / 2);
  std::nth_element(a.begin(), mid, a.end());
  const int e = static_cast<int>(std::lround(std::log2(*mid)));
  if (e >= kLowest && e <= kHighest) return 0;
  // Scaling a tiny median up must not overflow the largest value.
  return std::max(e - kTarget, std::ilogb(largest) - 1000);
}

std::string CheckUpdateValues(std::span<const double> new_values, std::string_view method) {
  for (size_t i = 0; i < new_values.size(); ++i)
    if (std::isinf(new_values[i]))
      return std::string(method) + ": new value " + std::to_string(i + 1) + " is infinite";
  return {};
}

void ScaleForecast(Forecast* f, int k) {
  for (auto* col : {&f->mean, &f->lo80, &f->hi80, &f->lo95, &f->hi95})
    for (double& v : *col) v = std::ldexp(v, k);
}

std::unique_ptr<FittedModel> ScaleModel(std::unique_ptr<FittedModel> model, int k) {
  if (k == 0 || !model) return model;
  return std::make_unique<ScaledModel>(std::move(model), k);
}

std::vector<uint8_t> SaveModel(const FittedModel& model) {
  ByteWriter w;
  w.PutU8(kModelFormat);
  w.PutString(model.tag());
  model.Save(&w);
  return w.Take();
}

std::unique_ptr<FittedModel> LoadModel(const std::vector<uint8_t>& bytes) {
  ByteReader r(bytes);
  if (r.GetU8() != kModelFormat) throw std::runtime_error("saved model has an unknown format version");
  const std::string name = r.GetString();
  if (name == kScaledTag) {
    auto model = ScaledModel::Load(&r);
    if (!r.AtEnd()) throw std::runtime_error("saved scaled model has trailing bytes");
    return model;
  }
  if (name == kNonNegativeTag) {
    auto model = ClippedModel::Load(&r);
    if (!r.AtEnd()) throw std::runtime_error("saved non-negative model has trailing bytes");
    return model;
  }
  if (name == kCalibratedTag) {
    auto model = LoadCalibratedModel(&r);
    if (!r.AtEnd()) throw std::runtime_error("saved calibrated model has trailing bytes");
    return model;
  }
  const Method* method = FindMethod(name);
  if (!method) throw std::runtime_error("saved model names an unknown method '" + name + "'");
  auto model = method->Load(&r);
  if (!r.AtEnd()) throw std::runtime_error("saved " + name + " model has trailing bytes");
  return model;
}

}  // namespace mm
