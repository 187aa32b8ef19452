#include "manymodels/core/intermittent.h"
#include "manymodels/core/series.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

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
  return r;
}

double Mse(const std::vector<double>& e) {
  double s = 0;
  for (double v : e) s += v * v;
  return e.empty() ? 0.0 : s / static_cast<double>(e.size());
}

// Type 7 quantile (R's default) of sorted values.
double Quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double h = (static_cast<double>(sorted.size()) - 1) * p;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

struct IntermittentState {
  double alpha = kDefault, beta = kDefault, size = 0, rate = 0;
  double mean = 0, lo95 = 0, lo80 = 0, hi80 = 0, hi95 = 0;
  bool no_demand = false;
};

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
  void Save(ByteWriter* out) const override {
    out->PutU8(s_.no_demand ? 1 : 0);
    for (double v : {s_.alpha, s_.beta, s_.size, s_.rate, s_.mean, s_.lo95, s_.lo80, s_.hi80, s_.hi95})
      out->PutF64(v);
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
  if (std::none_of(x.begin(), x.end(), [](double v) { return v > 0; })) {
    s.no_demand = true;  // all zeros: forecast zero demand
    return std::make_unique<IntermittentModel>(kind, s);
  }
  Run r = Smooth(kind, x, p);
  s.size = r.size;
  s.rate = r.rate;
  s.mean = r.forecast;
  std::sort(r.errors.begin(), r.errors.end());
  auto bound = [&](double q) { return std::max(0.0, s.mean + Quantile(r.errors, q)); };
  s.lo95 = std::min(bound(0.025), s.mean);
  s.lo80 = std::clamp(bound(0.10), s.lo95, s.mean);
  s.hi80 = std::max(bound(0.90), s.mean);
  s.hi95 = std::max(bound(0.975), s.hi80);
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
