#include "manymodels/core/intermittent.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "manymodels/core/order_statistics.h"
#include "manymodels/core/series.h"

namespace mm {
namespace {

constexpr double kGrid[] = {0.05, 0.1, 0.15, 0.2, 0.25, 0.3};
constexpr double kDefault = 0.1;  // R's forecast::croston default
constexpr size_t kMinScored = 3;  // fewer scored periods: keep the default constants

std::string_view KindName(IntermittentKind k) {
  switch (k) {
    case IntermittentKind::kCroston:
      return "croston";
    case IntermittentKind::kSba:
      return "sba";
    case IntermittentKind::kTsb:
      return "tsb";
  }
  return "croston";
}

// The smoothing run over the observed periods (`x`: NaN already dropped, all >= 0, at least one demand).
struct Run {
  double forecast = 0;         // the final point forecast
  double size = 0, rate = 0;   // smoothed demand size; interval (croston / sba) or probability (tsb)
  std::vector<double> errors;  // one-step errors y - f for the periods after the first demand
  double since = 0;            // periods after the last demand
};

Run Smooth(IntermittentKind kind, const std::vector<double>& x, const IntermittentParams& p) {
  Run r;
  const double sba = kind == IntermittentKind::kSba ? 1 - p.alpha / 2 : 1.0;
  size_t first = 0;
  while (x[first] <= 0) ++first;
  r.size = x[first];
  r.rate =
      kind == IntermittentKind::kTsb ? 1.0 / static_cast<double>(first + 1) : static_cast<double>(first + 1);
  auto current = [&] { return kind == IntermittentKind::kTsb ? r.rate * r.size : sba * r.size / r.rate; };
  r.errors.reserve(x.size() - first);
  size_t since = 0;  // periods since the last demand
  for (size_t t = first + 1; t < x.size(); ++t) {
    r.errors.push_back(x[t] - current());
    ++since;
    if (kind == IntermittentKind::kTsb) {
      r.rate += p.beta * ((x[t] > 0 ? 1.0 : 0.0) - r.rate);
      if (x[t] > 0) r.size += p.alpha * (x[t] - r.size);
    } else if (x[t] > 0) {
      r.size += p.alpha * (x[t] - r.size);
      r.rate += p.alpha * (static_cast<double>(since) - r.rate);
    }
    if (x[t] > 0) since = 0;
  }
  r.forecast = current();
  r.since = static_cast<double>(since);
  return r;
}

double Mse(const std::vector<double>& e) {
  double s = 0;
  for (double v : e) s += v * v;
  return e.empty() ? 0.0 : s / static_cast<double>(e.size());
}

struct IntermittentState {
  double alpha = kDefault, beta = kDefault, size = 0, rate = 0;
  double mean = 0, lo95 = 0, lo80 = 0, hi80 = 0, hi95 = 0;
  bool no_demand = false;
  // What an update needs (absent, has_update_state false, in models saved before updates existed): observed
  // periods since the last demand (since the start when none), and the 2.5, 10, 90 and 97.5% quantiles of the
  // in-sample one-step errors that the bounds add to the mean.
  bool has_update_state = false;
  double since = 0;
  double q025 = 0, q10 = 0, q90 = 0, q975 = 0;
};

// The point forecast of smoothed size and rate.
double Current(IntermittentKind kind, const IntermittentState& s) {
  if (kind == IntermittentKind::kTsb) return s.rate * s.size;
  const double sba = kind == IntermittentKind::kSba ? 1 - s.alpha / 2 : 1.0;
  return sba * s.size / s.rate;
}

// The bounds: the mean plus the error quantiles, clipped at zero and made to contain the mean.
void SetBounds(IntermittentState* s) {
  auto bound = [&](double q) { return std::max(0.0, s->mean + q); };
  s->lo95 = std::min(bound(s->q025), s->mean);
  s->lo80 = std::clamp(bound(s->q10), s->lo95, s->mean);
  s->hi80 = std::max(bound(s->q90), s->mean);
  s->hi95 = std::max(bound(s->q975), s->hi80);
}

class IntermittentModel : public FittedModel {
 public:
  IntermittentModel(IntermittentKind kind, IntermittentState s) : kind_(kind), s_(s) {}
  std::string_view method() const override { return KindName(kind_); }
  std::string Label() const override {
    const std::string base = kind_ == IntermittentKind::kCroston ? "Croston"
                             : kind_ == IntermittentKind::kSba   ? "SBA"
                                                                 : "TSB";
    if (s_.no_demand) return base + "(no demand)";
    return base + "(alpha=" + FormatParameter(s_.alpha) +
           (kind_ == IntermittentKind::kTsb ? ", beta=" + FormatParameter(s_.beta) : "") + ")";
  }
  Forecast Predict(int h) const override {
    Forecast f;
    f.mean.assign(h, s_.mean);
    f.lo95.assign(h, s_.lo95);
    f.lo80.assign(h, s_.lo80);
    f.hi80.assign(h, s_.hi80);
    f.hi95.assign(h, s_.hi95);
    return f;
  }
  // The fit's smoothing run on over the new observations with the fitted constants (a missing period is
  // dropped, as in the fit); the bounds move with the mean by the fitted error quantiles.
  FitOutcome Update(std::span<const double> v, const UpdateContext&) const override {
    const std::string me(method());
    if (std::string err = CheckUpdateValues(v, me); !err.empty()) return {nullptr, err};
    IntermittentState s = s_;
    bool any = false;
    for (double x : v) {
      if (std::isnan(x)) continue;
      if (x < 0) return {nullptr, me + ": intermittent-demand methods need non-negative data"};
      any = true;
    }
    if (!any) return {std::make_unique<IntermittentModel>(kind_, s), {}};
    if (!s.has_update_state)
      return {nullptr, me + ": this model was saved without its update state (before updates existed); refit it"};
    for (double x : v) {
      if (std::isnan(x)) continue;
      if (s.no_demand && x > 0)
        return {nullptr, me + ": a first demand after a history with none; refit (no size, interval or error "
                              "distribution was fitted)"};
      s.since += 1;
      if (s.no_demand) continue;
      if (kind_ == IntermittentKind::kTsb) {
        s.rate += s.beta * ((x > 0 ? 1.0 : 0.0) - s.rate);
        if (x > 0) s.size += s.alpha * (x - s.size);
      } else if (x > 0) {
        s.size += s.alpha * (x - s.size);
        s.rate += s.alpha * (s.since - s.rate);
      }
      if (x > 0) s.since = 0;
    }
    if (!s.no_demand) {
      s.mean = Current(kind_, s);
      SetBounds(&s);
    }
    return {std::make_unique<IntermittentModel>(kind_, s), {}};
  }
  void Save(ByteWriter* out) const override {
    out->PutU8(s_.no_demand ? 1 : 0);
    for (double v : {s_.alpha, s_.beta, s_.size, s_.rate, s_.mean, s_.lo95, s_.lo80, s_.hi80, s_.hi95})
      out->PutF64(v);
    if (s_.has_update_state)
      for (double v : {s_.since, s_.q025, s_.q10, s_.q90, s_.q975}) out->PutF64(v);
  }
  std::string Describe() const override {
    if (s_.no_demand) return "no_demand=1, mean=0";
    return "alpha=" + FormatParameter(s_.alpha) + (kind_ == IntermittentKind::kTsb ? ", beta=" + FormatParameter(s_.beta) : "") +
           ", size=" + FormatParameter(s_.size) + (kind_ == IntermittentKind::kTsb ? ", probability=" : ", interval=") +
           FormatParameter(s_.rate) + ", mean=" + FormatParameter(s_.mean);
  }

 private:
  IntermittentKind kind_;
  IntermittentState s_;
};

// Observed values, or an error message.
std::string Observed(std::span<const double> y, std::vector<double>* x) {
  x->clear();
  for (double v : y) {
    if (std::isnan(v)) continue;
    if (!std::isfinite(v)) return "the series holds an infinite value";
    if (v < 0) return "intermittent-demand methods need non-negative data";
    x->push_back(v);
  }
  if (x->empty()) return "no observations";
  return {};
}

std::unique_ptr<FittedModel> Finish(IntermittentKind kind, const std::vector<double>& x,
                                    const IntermittentParams& p) {
  IntermittentState s;
  s.alpha = p.alpha;
  s.beta = p.beta;
  s.has_update_state = true;
  if (std::none_of(x.begin(), x.end(), [](double v) { return v > 0; })) {
    s.no_demand = true;  // all zeros: forecast zero demand
    s.since = static_cast<double>(x.size());
    return std::make_unique<IntermittentModel>(kind, s);
  }
  Run r = Smooth(kind, x, p);
  s.size = r.size;
  s.rate = r.rate;
  s.mean = r.forecast;
  s.since = r.since;
  std::sort(r.errors.begin(), r.errors.end());
  s.q025 = SortedQuantile(r.errors, 0.025);
  s.q10 = SortedQuantile(r.errors, 0.10);
  s.q90 = SortedQuantile(r.errors, 0.90);
  s.q975 = SortedQuantile(r.errors, 0.975);
  SetBounds(&s);
  return std::make_unique<IntermittentModel>(kind, s);
}

class Intermittent : public Method {
 public:
  explicit Intermittent(IntermittentKind kind) : kind_(kind) {}
  std::string_view name() const override { return KindName(kind_); }
  int MinObservations(const FitContext&) const override { return 2; }
  FitOutcome Fit(std::span<const double> y, const FitContext&) const override {
    std::vector<double> x;
    if (std::string err = Observed(y, &x); !err.empty()) return {nullptr, std::string(name()) + ": " + err};
    IntermittentParams best;
    const auto first = std::find_if(x.begin(), x.end(), [](double v) { return v > 0; });
    if (first != x.end() && static_cast<size_t>(x.end() - first) > kMinScored) {
      double best_mse = INFINITY;
      for (double a : kGrid) {
        for (double b : kGrid) {
          if (kind_ != IntermittentKind::kTsb && b != kGrid[0]) break;  // beta unused
          const IntermittentParams p{a, kind_ == IntermittentKind::kTsb ? b : kDefault};
          const double mse = Mse(Smooth(kind_, x, p).errors);
          if (mse < best_mse) best_mse = mse, best = p;
        }
      }
    }
    return {Finish(kind_, x, best), {}};
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override {
    IntermittentState s;
    s.no_demand = in->GetU8() != 0;
    for (double* v : {&s.alpha, &s.beta, &s.size, &s.rate, &s.mean, &s.lo95, &s.lo80, &s.hi80, &s.hi95})
      *v = in->GetF64();
    if (!in->AtEnd()) {  // the update state (models saved before updates existed end here)
      s.has_update_state = true;
      for (double* v : {&s.since, &s.q025, &s.q10, &s.q90, &s.q975}) *v = in->GetF64();
    }
    return std::make_unique<IntermittentModel>(kind_, s);
  }
  double RelativeCost() const override { return kind_ == IntermittentKind::kTsb ? 40.0 : 8.0; }

 private:
  IntermittentKind kind_;
};

}  // namespace

FitOutcome FitIntermittent(IntermittentKind kind, std::span<const double> y,
                           const IntermittentParams& params) {
  std::vector<double> x;
  if (std::string err = Observed(y, &x); !err.empty())
    return {nullptr, std::string(KindName(kind)) + ": " + err};
  if (!(params.alpha > 0 && params.alpha <= 1 && params.beta > 0 && params.beta <= 1))
    return {nullptr, std::string(KindName(kind)) + ": smoothing constants must be in (0, 1]"};
  return {Finish(kind, x, params), {}};
}

double ZeroShare(std::span<const double> y) {
  size_t n = 0, zeros = 0;
  for (double v : y) {
    if (std::isnan(v)) continue;
    ++n;
    zeros += v == 0 ? 1 : 0;
  }
  return n ? static_cast<double>(zeros) / static_cast<double>(n) : 0.0;
}

const Method& CrostonMethod() {
  static const Intermittent m(IntermittentKind::kCroston);
  return m;
}
const Method& SbaMethod() {
  static const Intermittent m(IntermittentKind::kSba);
  return m;
}
const Method& TsbMethod() {
  static const Intermittent m(IntermittentKind::kTsb);
  return m;
}

}  // namespace mm
