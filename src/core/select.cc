#include "manymodels/core/select.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "manymodels/core/calibrate.h"
#include "manymodels/core/ets.h"
#include "manymodels/core/fourier.h"
#include "manymodels/core/intermittent.h"
#include "manymodels/core/models_basic.h"
#include "manymodels/core/series.h"
#include "manymodels/core/theta.h"

namespace mm {
namespace {

void AddNote(std::string* note, const std::string& s) {
  if (!note->empty()) *note += "; ";
  *note += s;
}

}  // namespace

std::vector<const Method*> AutoPool(std::span<const double> y, const FitContext& ctx) {
  if (IsIntermittent(y)) return {&CrostonMethod(), &SbaMethod(), &TsbMethod()};
  // Cycles given, and those that fit twice in the history (the ones a model can estimate).
  int cycles = 0, fitting = 0;
  for (double m : ctx.season_lengths)
    cycles += m > 1.5, fitting += m > 1.5 && 2 * m <= static_cast<double>(y.size());
  bool covariates = false;
  for (const auto& x : ctx.covariates) {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t t = 0; t < y.size() && t < x.size(); ++t)
      if (std::isfinite(x[t])) lo = std::min(lo, x[t]), hi = std::max(hi, x[t]);
    covariates = covariates || hi > lo;
  }
  const Method* seasonal = ctx.PrimaryPeriod() > 1 ? &SeasonalNaiveMethod() : &NaiveMethod();
  // With covariates also the regression without its trend, weighed against the one with it on the windows.
  if (covariates) return {&EtsMethod(), &FourierMethod(), &FourierNoTrendMethod(), seasonal};
  // Several cycles mark sub-daily or daily data, where the regression on the cycles serves better than
  // deseasonalised Theta, also while the longest cycle does not yet fit twice (two years of days: NN5 moved
  // one horizon back, 679 days, `fourier` alone with the weekly cycle 0.646 OWA against `dotm` 0.713).
  if (cycles >= 2 && fitting >= 1) return {&EtsMethod(), &FourierMethod(), seasonal};
  return {&EtsMethod(), &DynamicOptimizedThetaMethod(), seasonal};
}

ModelChoice ResolveModels(const std::string& spec) {
  ModelChoice out;
  std::stringstream ss(spec);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name == "ensemble")
      throw std::invalid_argument("'ensemble' is not fitted on its own: use --ensemble mean|median");
    if (name == "auto") {
      out.automatic = true;
      continue;
    }
    const Method* m = FindMethod(name);
    if (!m) {
      std::string known;
      for (const auto& n : MethodNames()) known += (known.empty() ? "" : ", ") + n;
      throw std::invalid_argument("unknown model '" + name + "' (known: auto, " + known + ")");
    }
    out.methods.push_back(m);
  }
  if (!out.automatic && out.methods.empty()) throw std::invalid_argument("--models names no model");
  return out;
}

namespace {

// auto's evidence (WeighEvidence): validation windows it asks for at least, the ratio to the best validation
// error above which a member is dropped, and the power of that ratio its weight falls with. bench/ACCURACY.md
// has the measurements (4 windows rather than 3: as good or better on 7 of the 10 shared sets and periods).
constexpr int kEvidenceWindows = 4;
constexpr double kDropRatio = 1.5;
constexpr double kWeightPower = 6.0;
// Validation windows (FitSeries, step 2): a candidate fitted for an older window is brought up to a later one
// by FittedModel::Update while the periods since the fit are at most this share of the periods fitted, and
// fitted again past that. bench/ACCURACY.md has the measurements (0: refit for every window; 0.1 halved the
// CPU of auto on long series at the same accuracy with 3 windows; rolling through every window cost 1% OWA on
// M4 hourly and NN5 and 8% on cheese_weekly's short series; 0.2 keeps the fourth window's CPU where the
// third's was).
constexpr double kMaxRollShare = 0.2;

// The context for a fit on y[begin, begin + length): covariates cut to that span plus the horizon after it.
FitContext Slice(const FitContext& ctx, size_t begin, size_t length, size_t ahead) {
  FitContext c = ctx;
  for (auto& x : c.covariates) {
    const size_t b = std::min(begin, x.size());
    x = x.subspan(b, std::min(length + ahead, x.size() - b));
  }
  return c;
}

struct Window {
  size_t origin;  // the fit sees y[0, origin); the window scores y[origin, origin + h)
  double scale;   // MASE scale of y[0, origin)
};

// One candidate's forecasts of every window, or why it could not make them.
struct Validation {
  const Method* method = nullptr;
  const FittedMember* fitted = nullptr;  // a member fitted elsewhere (SelectOptions::fitted_members)
  std::vector<Forecast> forecasts;  // one per window, point forecasts alone (the bounds empty)
  Metrics metrics = Metrics::Undefined();
  double score = std::numeric_limits<double>::infinity();  // mean MAE over the windows
};

Metrics MeanMetrics(std::span<const double> y, const std::vector<Window>& windows,
                    const std::vector<Forecast>& forecasts, size_t h) {
  Metrics sum{0, 0, 0, 0, 0};
  double n_mase = 0, n_mape = 0;
  for (size_t w = 0; w < windows.size(); ++w) {
    const Metrics m = ComputeMetrics(y.subspan(windows[w].origin, h), forecasts[w].mean, windows[w].scale);
    sum.mae += m.mae, sum.rmse += m.rmse, sum.smape += m.smape;
    if (std::isfinite(m.mase)) sum.mase += m.mase, ++n_mase;
    if (std::isfinite(m.mape)) sum.mape += m.mape, ++n_mape;
  }
  const double k = static_cast<double>(windows.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // MAPE and MASE are undefined for the series if undefined in any window (a zero actual, a flat history).
  return {sum.mae / k, sum.rmse / k, n_mape == k ? sum.mape / k : nan, sum.smape / k,
          n_mase == k ? sum.mase / k : nan};
}

// A number with 3 significant digits, for notes.
std::string Short(double v) {
  std::ostringstream s;
  s.precision(3);
  s << v;
  return s.str();
}

// What auto keeps of its validated pool (WeighEvidence) and why, in words for the registry's note.
struct Evidence {
  std::vector<const Validation*> members;  // in the order of the candidates
  std::vector<double> weights;             // aligned with members, summing to 1
  std::string why;
};

// The weight rule, on members' mean validation errors (`scores`, any order, the best finite): a member whose
// error is above kDropRatio x the best's gets 0; the others (best / own error)^kWeightPower, normalised to
// sum to 1 (a member as good as the best counts as much; one 20% worse about a third as much).
std::vector<double> EvidenceWeights(const std::vector<double>& scores) {
  const double best = *std::min_element(scores.begin(), scores.end());
  std::vector<double> w;
  double total = 0;
  for (double s : scores) {
    const bool kept = best > 0 ? s <= kDropRatio * best : s == 0;
    w.push_back(kept ? (best > 0 ? std::pow(best / s, kWeightPower) : 1.0) : 0.0);
    total += w.back();
  }
  for (double& x : w) x /= total;
  return w;
}

// What the weight rule sees of members' errors `scores` (aligned with `methods`): the errors themselves, or
// with a group's evidence (GroupJudgement), each error relative to the best of them times the group's
// relative error of that member, square-rooted: the geometric mean of the series' and the group's judgement.
// A member the group has no figure for keeps its own. bench/ACCURACY.md has the measurements.
std::vector<double> Judged(const std::vector<const Method*>& methods, std::vector<double> scores,
                           const GroupEvidence* group) {
  if (!group || group->relative.empty()) return scores;
  const double best = *std::min_element(scores.begin(), scores.end());
  if (!(best > 0) || !std::isfinite(best)) return scores;
  for (size_t i = 0; i < scores.size(); ++i) {
    const double own = scores[i] / best;
    double theirs = own;
    for (const auto& [method, relative] : group->relative)
      if (method == methods[i]) theirs = relative;
    scores[i] = std::sqrt(own * theirs);
  }
  return scores;
}

// `ranked`: best first, the best's score finite. Weighted by EvidenceWeights (of Judged scores); one member
// left: that model alone. The measurements behind the two constants are in bench/ACCURACY.md.
Evidence WeighEvidence(const std::vector<Validation>& ranked, size_t windows,
                       const std::vector<const Method*>& candidates, const GroupEvidence* group) {
  Evidence e;
  std::vector<double> scores;
  std::vector<const Method*> methods;
  for (const Validation& v : ranked) scores.push_back(v.score), methods.push_back(v.method);
  const std::vector<double> weights = EvidenceWeights(Judged(methods, scores, group));
  std::vector<std::pair<const Validation*, double>> kept;
  for (size_t i = 0; i < ranked.size(); ++i)
    if (weights[i] > 0) kept.emplace_back(&ranked[i], weights[i]);
  // In the order of the candidates, so that a pool's label reads the same on every series.
  auto position = [&](const Validation* v) {
    return std::find(candidates.begin(), candidates.end(), v->method) - candidates.begin();
  };
  std::stable_sort(kept.begin(), kept.end(), [&](const auto& a, const auto& b) {
    return position(a.first) < position(b.first);
  });
  for (const auto& [v, weight] : kept) e.members.push_back(v), e.weights.push_back(weight);
  const std::string over = " (mean validation MAE over " + std::to_string(windows) + " window" +
                           (windows == 1 ? "" : "s") + ")";
  std::string errors;
  for (const Validation& v : ranked)
    errors += (errors.empty() ? "" : ", ") + std::string(v.method->name()) + " " + Short(v.score);
  if (e.members.size() == 1) {
    e.why = std::string(e.members.front()->method->name()) + " alone: " + errors + over;
  } else {
    std::string w;
    for (size_t i = 0; i < e.members.size(); ++i)
      w += (w.empty() ? "" : ", ") + std::string(e.members[i]->method->name()) + " " + Short(e.weights[i]);
    e.why = "weights " + w + " from " + errors + over;
  }
  if (group && !group->relative.empty()) {
    std::string g;  // the group's figures for this series' members (a group may hold other pools too)
    for (const auto& [method, relative] : group->relative)
      if (std::find(methods.begin(), methods.end(), method) != methods.end())
        g += (g.empty() ? "" : ", ") + std::string(method->name()) + " " + Short(relative);
    e.why += "; judged with the group's errors relative to each series' best over " +
             std::to_string(group->series) + " series (" + g + ")";
  }
  if (e.members.size() < ranked.size())
    e.why += "; dropped above " + Short(kDropRatio) + " x the best";
  return e;
}

// auto's forecast of each window by its weight rule applied to the other windows' errors alone, for
// calibrating its intervals (calibrate.h): a combination weighed on the very windows it is scored on errs
// less there than it will on new data. With one window there is nothing to hold out: the combination weighed
// on it.
std::vector<Forecast> HeldOutForecasts(std::span<const double> y, const std::vector<Window>& windows,
                                       const std::vector<Validation>& ranked, size_t h,
                                       const GroupEvidence* group) {
  std::vector<const Method*> methods;
  for (const Validation& v : ranked) methods.push_back(v.method);
  std::vector<std::vector<double>> mae(ranked.size());  // [member][window]
  for (size_t k = 0; k < ranked.size(); ++k)
    for (size_t w = 0; w < windows.size(); ++w)
      mae[k].push_back(
          ComputeMetrics(y.subspan(windows[w].origin, h), ranked[k].forecasts[w].mean, windows[w].scale).mae);
  std::vector<Forecast> out;
  for (size_t w = 0; w < windows.size(); ++w) {
    std::vector<double> scores;
    for (size_t k = 0; k < ranked.size(); ++k) {
      double sum = 0, n = 0;
      for (size_t u = 0; u < windows.size(); ++u)
        if (u != w || windows.size() == 1) sum += mae[k][u], n += 1;
      scores.push_back(sum / n);
    }
    for (double& s : scores)
      if (!std::isfinite(s)) s = std::numeric_limits<double>::infinity();
    if (!std::isfinite(*std::min_element(scores.begin(), scores.end()))) return {};
    const std::vector<double> weights = EvidenceWeights(Judged(methods, scores, group));
    std::vector<Forecast> members;
    std::vector<double> kept;
    for (size_t k = 0; k < ranked.size(); ++k)
      if (weights[k] > 0) members.push_back(ranked[k].forecasts[w]), kept.push_back(weights[k]);
    out.push_back(CombineForecasts(members, Combination::kWeighted, kept));
  }
  return out;
}

}  // namespace

bool RollsForward(double fitted, double since) { return since <= kMaxRollShare * fitted; }

int ValidationWindows(const SelectOptions& options) {
  return std::max(options.weigh_evidence ? kEvidenceWindows : 1, options.backtest_windows);
}

size_t DefaultMaxHistory(const std::vector<double>& season_lengths) {
  double longest = 1;
  for (double m : season_lengths) longest = std::max(longest, m);
  return std::max<size_t>(1000, static_cast<size_t>(std::ceil(3 * longest)));
}

// Everything FitSeries' validation (steps 0-2) leaves for its decision (steps 3-4), owned: the history and
// the covariates as fitted (cut to max_history, scaled), the options (fitted_members, which
// Validation::fitted points into), the windows and the candidates' forecasts of them.
struct ValidationState {
  SelectOptions opt;
  std::vector<double> y;                        // the history as fitted: y / 2^scale
  std::vector<std::vector<double>> covariates;  // opt.context.covariates point into these
  int scale = 0;
  bool non_negative = false;
  SeriesResult r;  // n_obs and the notes so far
  std::vector<Window> windows;
  std::vector<Validation> ranked;  // best first
};

SeriesValidation::SeriesValidation() = default;
SeriesValidation::SeriesValidation(SeriesValidation&&) noexcept = default;
SeriesValidation& SeriesValidation::operator=(SeriesValidation&&) noexcept = default;
SeriesValidation::~SeriesValidation() = default;

SeriesValidation ValidateSeries(std::span<const double> full, const SelectOptions& options) {
  SeriesValidation out;
  out.state = std::make_unique<ValidationState>();
  ValidationState& st = *out.state;
  SelectOptions& opt = st.opt;
  opt = options;
  std::span<const double> y = full;
  if (opt.max_history > 0 && y.size() > opt.max_history) {
    size_t cut = y.size() - opt.max_history;
    while (cut < y.size() && !std::isfinite(y[cut])) ++cut;  // start on an observation
    y = y.subspan(cut);
    opt.context = Slice(opt.context, cut, y.size(), static_cast<size_t>(opt.context.horizon));
  }
  if (opt.automatic) {
    opt.candidates = AutoPool(y, opt.context);
    for (const Method* extra : options.candidates)
      if (std::find(opt.candidates.begin(), opt.candidates.end(), extra) == opt.candidates.end())
        opt.candidates.push_back(extra);
  }
  // Every fit sees y / 2^scale (exact), the returned model forecasts in y's units, and the metrics in units of y
  // are multiplied back (those without units are the same for any power of two).
  const int scale = st.scale = FitScaleExponent(y);
  st.y.reserve(y.size());
  for (double v : y) st.y.push_back(std::ldexp(v, -scale));
  y = st.y;
  // The covariates are the caller's: the decision may come after they are gone.
  st.covariates.reserve(opt.context.covariates.size());  // no reallocation: the spans point into them
  for (auto& x : opt.context.covariates) {
    st.covariates.emplace_back(x.begin(), x.end());
    x = st.covariates.back();
  }
  SeriesResult& r = st.r;
  // A history never below zero is forecast as such (model.h: NonNegativeModel), in validation too.
  const bool non_negative = st.non_negative = IsNonNegative(full);
  const int h = opt.context.horizon;
  const auto hz = static_cast<size_t>(h);
  const size_t n = y.size();
  r.n_obs = CountFinite(y);
  const int m = opt.context.PrimaryPeriod();

  // 1. The validation windows: as many of the requested as the history allows (each needs a finite actual
  //    and at least two observations before it).
  std::vector<Window>& windows = st.windows;
  const int wanted = ValidationWindows(opt);
  for (int k = 1; k <= wanted; ++k) {
    if (n <= hz * static_cast<size_t>(k)) break;
    const size_t origin = n - hz * static_cast<size_t>(k);
    if (CountFinite(y.subspan(origin, hz)) == 0 || CountFinite(y.subspan(0, origin)) < 2) break;
    windows.push_back({origin, MaseScale(y.subspan(0, origin), m)});
  }
  if (windows.empty())
    AddNote(&r.note, "history of " + std::to_string(n) + " periods too short to hold out " + std::to_string(h) +
                         "; chosen without validation");

  // 2. Each candidate forecasts each window from the data before it: fitted at the oldest window it can be
  //    fitted for, then brought up to the later windows by FittedModel::Update (its parameters as fitted, its
  //    state filtered through the periods in between), as a registry's models are between two trainings,
  //    until the periods since the fit exceed kMaxRollShare of those fitted or an update fails: then fitted
  //    again. A method whose Update would not follow a refit (Method::ValidatedByUpdate) is fitted for every
  //    window. A candidate that cannot be validated on the latest window is left out; one that cannot on an
  //    older window ends the windows there for all.
  std::vector<Validation>& ranked = st.ranked;
  if (!windows.empty()) {
    for (const Method* method : opt.candidates) {
      Validation v;
      v.method = method;
      std::string failure;
      std::vector<Forecast> forecasts(windows.size());
      size_t covered = windows.size();  // forecasts[0, covered): the latest windows, every one forecast
      std::unique_ptr<FittedModel> model;
      size_t seen = 0;    // the model has seen y[0, seen)
      size_t fitted = 0;  // and was fitted on y[0, fitted)
      for (size_t k = windows.size(); k-- > 0;) {
        const Window& w = windows[k];
        if (model && (!method->ValidatedByUpdate() ||
                      !RollsForward(static_cast<double>(fitted), static_cast<double>(w.origin - fitted))))
          model.reset();
        if (model) {
          UpdateContext uc;
          uc.horizon = h;
          uc.covariate_names = opt.context.covariate_names;
          uc.covariates = Slice(opt.context, seen, w.origin - seen, hz).covariates;
          FitOutcome next = model->Update(y.subspan(seen, w.origin - seen), uc);
          model = std::move(next.model);
          seen = w.origin;
        }
        if (!model) {
          const auto train = y.subspan(0, w.origin);
          const IndexRange obs = ObservedRange(train);
          if (static_cast<int>(obs.size()) < 1 || CountFinite(train) < method->MinObservations(opt.context)) {
            failure =
                "not validated: " + std::to_string(CountFinite(train)) + " observations before the holdout";
            covered = k;
            continue;
          }
          FitContext c = Slice(opt.context, obs.begin, obs.size(), w.origin - obs.end + hz);
          c.form_history = n;
          FitOutcome fit = method->Fit(train.subspan(obs.begin, obs.size()), c);
          if (!fit.model) {
            failure = "failed in validation: " + fit.error;
            covered = k;
            continue;
          }
          model = std::move(fit.model);
          seen = fitted = obs.end;
        }
        const size_t gap = w.origin - seen;  // missing periods just before the window
        Forecast& f = forecasts[k];          // the point forecasts: what validation scores
        f.mean = model->PredictMean(h + static_cast<int>(gap));
        f.mean.erase(f.mean.begin(), f.mean.begin() + static_cast<std::ptrdiff_t>(gap));
        if (non_negative) ClipAtZero(&f);
      }
      if (covered == 0) {
        AddNote(&r.note, std::string(method->name()) + " " + failure);
        continue;
      }
      forecasts.resize(covered);
      v.forecasts = std::move(forecasts);
      if (covered < windows.size()) windows.resize(covered);
      ranked.push_back(std::move(v));
    }
    // Members fitted elsewhere (auto's pool only): their forecasts of the windows, in the units fitted here.
    if (opt.automatic && opt.weigh_evidence) {
      for (const FittedMember& member : opt.fitted_members) {
        if (!member.method) continue;  // nothing fitted elsewhere for this series
        const std::string name(member.method->name());
        if (member.windows.size() < windows.size() || member.model.empty()) {
          AddNote(&r.note, name + " not validated: it forecasts " + std::to_string(member.windows.size()) +
                               " of the " + std::to_string(windows.size()) + " windows");
          continue;
        }
        Validation v;
        v.method = member.method;
        v.fitted = &member;
        for (size_t k = 0; k < windows.size(); ++k) {
          Forecast f;
          f.mean = member.windows[k];
          f.mean.resize(hz, std::numeric_limits<double>::quiet_NaN());
          for (double& x : f.mean) x = std::ldexp(x, -scale);
          if (non_negative) ClipAtZero(&f);
          v.forecasts.push_back(std::move(f));
        }
        ranked.push_back(std::move(v));
      }
    }
    for (Validation& v : ranked) {
      v.forecasts.resize(windows.size());
      v.metrics = MeanMetrics(y, windows, v.forecasts, hz);
      if (std::isfinite(v.metrics.mae)) v.score = v.metrics.mae;
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const Validation& a, const Validation& b) { return a.score < b.score; });
  }
  for (const Validation& v : ranked) out.scores.emplace_back(v.method, v.score);
  return out;
}

SeriesResult DecideSeries(SeriesValidation validation, const GroupEvidence* group) {
  if (!validation.state) throw std::logic_error("DecideSeries: no validation (moved out already?)");
  ValidationState& st = *validation.state;
  const SelectOptions& opt = st.opt;
  const std::span<const double> y = st.y;
  const int scale = st.scale;
  const bool non_negative = st.non_negative;
  SeriesResult& r = st.r;
  const std::vector<Window>& windows = st.windows;
  const std::vector<Validation>& ranked = st.ranked;
  const int h = opt.context.horizon;
  const auto hz = static_cast<size_t>(h);
  auto in_units = [scale](Metrics m) {
    m.mae = std::ldexp(m.mae, scale);
    m.rmse = std::ldexp(m.rmse, scale);
    return m;
  };
  // The model chosen, in the series' units and clipped as decided, becomes the result; with `validated`
  // (auto: its rule's forecasts of the windows at `origins`, HeldOutForecasts), its intervals calibrated on
  // their errors (calibrate.h).
  auto finish = [&](std::unique_ptr<FittedModel> fitted, const std::string& method,
                    const std::vector<size_t>& origins = {}, const std::vector<Forecast>& validated = {}) {
    // The final model forecasts once (for ETS with multiplicative errors, a simulation); each wrapper below
    // does to that forecast what its own Predict does, so r.forecast is the saved model's Predict.
    Forecast f = fitted->Predict(opt.context.horizon);
    if (!validated.empty()) {
      const IntervalFactors c = IntervalScale(f, y, origins, validated);
      if (c.c80 != 1.0 || c.c95 != 1.0) {
        AddNote(&r.note, "interval widths x " + Short(c.c80) + " (80%), x " + Short(c.c95) +
                             " (95%) from the validation windows' errors");
        ApplyIntervalFactors(&f, c);
      }
      fitted = CalibratedModel(std::move(fitted), c);
    }
    std::unique_ptr<FittedModel> model = ScaleModel(std::move(fitted), scale);
    ScaleForecast(&f, scale);
    if (non_negative) {
      model = NonNegativeModel(std::move(model));
      ClipAtZero(&f);
    }
    r.method = method;
    r.label = model->Label();
    r.model = SaveModel(*model);
    r.forecast = std::move(f);
  };

  // 3a. auto: the members and weights the validation windows support (WeighEvidence).
  if (opt.weigh_evidence && !ranked.empty() && std::isfinite(ranked.front().score)) {
    const Evidence e = WeighEvidence(ranked, windows.size(), opt.candidates, group);
    std::vector<std::unique_ptr<FittedModel>> fitted;
    std::vector<const Validation*> kept;
    std::vector<double> weights;
    for (size_t i = 0; i < e.members.size(); ++i) {
      // A member fitted elsewhere is in the series' units; the others are fitted here in scaled ones.
      const FittedMember* elsewhere = e.members[i]->fitted;
      FitOutcome fit = elsewhere ? FitOutcome{ScaleModel(LoadModel(elsewhere->model), -scale), {}}
                                 : e.members[i]->method->Fit(y, opt.context);
      if (!fit.model) {
        AddNote(&r.note, std::string(e.members[i]->method->name()) + " failed on the whole history: " + fit.error);
        continue;
      }
      if (!fit.note.empty()) AddNote(&r.note, fit.note);
      fitted.push_back(std::move(fit.model));
      kept.push_back(e.members[i]);
      weights.push_back(e.weights[i]);
    }
    if (!fitted.empty()) {
      AddNote(&r.note, e.why);
      std::vector<size_t> origins;
      for (const Window& w : windows) origins.push_back(w.origin);
      const std::vector<Forecast> held_out = HeldOutForecasts(y, windows, ranked, hz, group);
      if (fitted.size() == 1) {
        finish(std::move(fitted.front()), std::string(kept.front()->method->name()), origins, held_out);
        r.metrics = in_units(kept.front()->metrics);
        return std::move(r);
      }
      // Metrics are the validated combination's (of the members refitted).
      std::vector<Forecast> combined;
      for (size_t w = 0; w < windows.size(); ++w) {
        std::vector<Forecast> members;
        for (const Validation* v : kept) members.push_back(v->forecasts[w]);
        combined.push_back(CombineForecasts(members, Combination::kWeighted, weights));
      }
      finish(MakeEnsemble(std::move(fitted), Combination::kWeighted, weights), "ensemble", origins, held_out);
      r.metrics = in_units(MeanMetrics(y, windows, combined, hz));
      return std::move(r);
    }
  }

  // 3b. A combination of the best k validated models.
  const size_t k = std::min(ranked.size(), static_cast<size_t>(std::max(2, opt.ensemble_size)));
  if (opt.ensemble && k >= 2) {
    // The best k, back in the order of the candidates, so that a pool's label reads the same on every series.
    std::vector<const Validation*> best;
    for (size_t i = 0; i < k; ++i) best.push_back(&ranked[i]);
    auto position = [&](const Validation* v) {
      return std::find(opt.candidates.begin(), opt.candidates.end(), v->method) - opt.candidates.begin();
    };
    std::sort(best.begin(), best.end(),
              [&](const Validation* a, const Validation* b) { return position(a) < position(b); });
    Validation combo;
    for (size_t w = 0; w < windows.size(); ++w) {
      std::vector<Forecast> members;
      for (const Validation* v : best) members.push_back(v->forecasts[w]);
      combo.forecasts.push_back(CombineForecasts(members, opt.combination));
    }
    combo.metrics = MeanMetrics(y, windows, combo.forecasts, hz);
    std::vector<std::unique_ptr<FittedModel>> fitted;
    for (const Validation* v : best) {
      FitOutcome fit = v->method->Fit(y, opt.context);
      if (!fit.note.empty()) AddNote(&r.note, fit.note);
      if (fit.model) fitted.push_back(std::move(fit.model));
      else AddNote(&r.note, "ensemble member " + std::string(v->method->name()) +
                                " failed on the whole history: " + fit.error);
    }
    if (fitted.size() >= 2) {
      // Metrics are the validated combination's; a member lost on the refit only narrows the combination.
      finish(MakeEnsemble(std::move(fitted), opt.combination), "ensemble");
      r.metrics = in_units(combo.metrics);
      return std::move(r);
    }
  }

  // 4. Refit the best on the whole history. Should that fail, go down the ranking, then through the
  //    candidates not validated, then the simplest methods.
  std::vector<const Method*> order;
  for (const auto& v : ranked) order.push_back(v.method);
  for (const Method* c : opt.candidates)
    if (std::find(order.begin(), order.end(), c) == order.end()) order.push_back(c);
  for (const Method* c : {&NaiveMethod(), &MeanMethod()})
    if (std::find(order.begin(), order.end(), c) == order.end()) order.push_back(c);

  for (size_t i = 0; i < order.size(); ++i) {
    const Method* method = order[i];
    if (r.n_obs < method->MinObservations(opt.context)) continue;
    FitOutcome fit = method->Fit(y, opt.context);
    if (!fit.model) {
      AddNote(&r.note, std::string(method->name()) + " failed: " + fit.error);
      continue;
    }
    if (i > 0) AddNote(&r.note, "fell back to " + std::string(method->name()));
    if (!fit.note.empty()) AddNote(&r.note, fit.note);
    finish(std::move(fit.model), std::string(method->name()));
    if (i < ranked.size()) r.metrics = in_units(ranked[i].metrics);
    return std::move(r);
  }
  r.failed = true;
  AddNote(&r.note, "no model could be fitted to " + std::to_string(r.n_obs) + " observations");
  r.forecast.Resize(hz);
  for (auto* v : {&r.forecast.mean, &r.forecast.lo80, &r.forecast.hi80, &r.forecast.lo95, &r.forecast.hi95})
    v->assign(hz, std::numeric_limits<double>::quiet_NaN());
  return std::move(r);
}

GroupEvidence GroupJudgement(std::span<const SeriesValidation> validations) {
  struct Sum {
    const Method* method;
    double log = 0;
    int n = 0;
  };
  std::vector<Sum> sums;  // in the order first met: the group's member order
  GroupEvidence g;
  for (const SeriesValidation& v : validations) {
    if (v.scores.empty()) continue;
    const double best = v.scores.front().second;  // best first
    if (!(best > 0) || !std::isfinite(best)) continue;
    ++g.series;
    for (const auto& [method, score] : v.scores) {
      if (!std::isfinite(score)) continue;
      auto it = std::find_if(sums.begin(), sums.end(), [m = method](const Sum& s) { return s.method == m; });
      if (it == sums.end()) it = sums.insert(sums.end(), Sum{method});
      it->log += std::log(score / best), ++it->n;
    }
  }
  for (const Sum& s : sums) g.relative.emplace_back(s.method, std::exp(s.log / s.n));
  std::stable_sort(g.relative.begin(), g.relative.end(),
                   [](const auto& a, const auto& b) { return a.second < b.second; });
  return g;
}

SeriesResult FitSeries(std::span<const double> y, const SelectOptions& options) {
  return DecideSeries(ValidateSeries(y, options), nullptr);
}

}  // namespace mm
