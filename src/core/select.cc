#include "manymodels/core/select.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "manymodels/core/intermittent.h"
#include "manymodels/core/models_basic.h"
#include "manymodels/core/theta.h"
#include "manymodels/core/series.h"

namespace mm {
namespace {

int CountFinite(std::span<const double> y) {
  int n = 0;
  for (double v : y) n += std::isfinite(v) ? 1 : 0;
  return n;
}

void AddNote(std::string* note, const std::string& s) {
  if (!note->empty()) *note += "; ";
  *note += s;
}

}  // namespace

std::vector<const Method*> AutoCandidates(const FitContext& ctx) {
  std::vector<const Method*> c;
  if (ctx.PrimaryPeriod() > 1) c.push_back(&SeasonalNaiveMethod());
  for (const Method* m : {&NaiveMethod(), &DriftMethod(), &MeanMethod()}) c.push_back(m);
  // Narrowed per series by CandidatesFor: theta on regular series, croston / sba / tsb on mostly-zero ones.
  for (const Method* m : {&ThetaMethod(), &CrostonMethod(), &SbaMethod(), &TsbMethod()}) c.push_back(m);
  return c;
}

std::vector<const Method*> ResolveModels(const std::string& spec, const FitContext& ctx) {
  std::vector<const Method*> out;
  std::stringstream ss(spec);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name == "auto") {
      for (const Method* m : AutoCandidates(ctx)) out.push_back(m);
      continue;
    }
    const Method* m = FindMethod(name);
    if (!m) {
      std::string known;
      for (const auto& n : MethodNames()) known += (known.empty() ? "" : ", ") + n;
      throw std::invalid_argument("unknown model '" + name + "' (known: auto, " + known + ")");
    }
    out.push_back(m);
  }
  if (out.empty()) throw std::invalid_argument("--models names no model");
  return out;
}

namespace {

bool IsIntermittentMethod(const Method* m) {
  return m == &CrostonMethod() || m == &SbaMethod() || m == &TsbMethod();
}
bool IsThetaMethod(const Method* m) {
  return m == &ThetaMethod() || m == &OptimizedThetaMethod() || m == &DynamicOptimizedThetaMethod();
}

// Fits `m` on the part of `train` up to its last observation and forecasts the `h` periods after `train`.
// Returns the validation metrics, or an error.
FitOutcome FitTrain(const Method& m, std::span<const double> train, const FitContext& ctx) {
  const IndexRange obs = ObservedRange(train);
  return m.Fit(train.subspan(obs.begin, obs.size()), ctx);
}

}  // namespace

std::vector<const Method*> CandidatesFor(std::span<const double> y, const std::vector<const Method*>& candidates) {
  const bool has_intermittent = std::any_of(candidates.begin(), candidates.end(), IsIntermittentMethod);
  const bool has_theta = std::any_of(candidates.begin(), candidates.end(), IsThetaMethod);
  if (!has_intermittent || !has_theta) return candidates;
  const bool intermittent = IsIntermittent(y);
  std::vector<const Method*> out;
  for (const Method* m : candidates)
    if (intermittent ? !IsThetaMethod(m) : !IsIntermittentMethod(m)) out.push_back(m);
  return out;
}

SeriesResult FitSeries(std::span<const double> y, const SelectOptions& options) {
  SelectOptions opt = options;
  opt.candidates = CandidatesFor(y, options.candidates);
  SeriesResult r;
  const int h = opt.context.horizon;
  const size_t n = y.size();
  r.n_obs = CountFinite(y);

  // 1. Validation: fit each candidate on all but the last h periods and score its forecast of them.
  struct Scored {
    const Method* method;
    Metrics metrics;
  };
  std::vector<Scored> ranked;
  const bool can_hold_out = n > static_cast<size_t>(h) && CountFinite(y.subspan(n - h)) > 0;
  if (can_hold_out) {
    const auto train = y.subspan(0, n - h);
    const auto test = y.subspan(n - h);
    const double scale = MaseScale(train, opt.context.PrimaryPeriod());
    const int train_obs = CountFinite(train);
    const size_t gap = train.size() - ObservedRange(train).end;  // missing periods just before the holdout
    for (const Method* m : opt.candidates) {
      if (train_obs < m->MinObservations(opt.context)) {
        AddNote(&r.note, std::string(m->name()) + " not validated: " + std::to_string(train_obs) +
                             " observations before the holdout");
        continue;
      }
      FitOutcome fit = FitTrain(*m, train, opt.context);
      if (!fit.model) {
        AddNote(&r.note, std::string(m->name()) + " failed in validation: " + fit.error);
        continue;
      }
      const Forecast f = fit.model->Predict(h + static_cast<int>(gap));
      const std::span<const double> tail(f.mean.data() + gap, static_cast<size_t>(h));
      ranked.push_back({m, ComputeMetrics(test, tail, scale)});
    }
    auto key = [](const Scored& s) {
      return std::isfinite(s.metrics.mae) ? s.metrics.mae : std::numeric_limits<double>::infinity();
    };
    std::stable_sort(ranked.begin(), ranked.end(),
                     [&](const Scored& a, const Scored& b) { return key(a) < key(b); });
  } else {
    AddNote(&r.note, "history of " + std::to_string(n) + " periods too short to hold out " +
                         std::to_string(h) + "; chosen without validation");
  }

  // 2. Refit the best on the whole history. Should that fail, go down the ranking, then through the
  //    candidates not validated, then the simplest methods.
  std::vector<const Method*> order;
  for (const auto& s : ranked) order.push_back(s.method);
  for (const Method* m : opt.candidates)
    if (std::find(order.begin(), order.end(), m) == order.end()) order.push_back(m);
  for (const Method* m : {&NaiveMethod(), &MeanMethod()})
    if (std::find(order.begin(), order.end(), m) == order.end()) order.push_back(m);

  for (size_t i = 0; i < order.size(); ++i) {
    const Method* m = order[i];
    if (r.n_obs < m->MinObservations(opt.context)) continue;
    FitOutcome fit = m->Fit(y, opt.context);
    if (!fit.model) {
      AddNote(&r.note, std::string(m->name()) + " failed: " + fit.error);
      continue;
    }
    if (i > 0)
      AddNote(&r.note, "fell back to " + std::string(m->name()));
    r.method = std::string(m->name());
    r.label = fit.model->Label();
    r.model = SaveModel(*fit.model);
    r.forecast = fit.model->Predict(h);
    if (i < ranked.size()) r.metrics = ranked[i].metrics;
    return r;
  }
  r.failed = true;
  AddNote(&r.note, "no model could be fitted to " + std::to_string(r.n_obs) + " observations");
  r.forecast.Resize(static_cast<size_t>(h));
  for (auto* v : {&r.forecast.mean, &r.forecast.lo80, &r.forecast.hi80, &r.forecast.lo95, &r.forecast.hi95})
    v->assign(static_cast<size_t>(h), std::numeric_limits<double>::quiet_NaN());
  return r;
}

}  // namespace mm
