#include "manymodels/core/theta.h"
#include "manymodels/core/series.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace mm {
namespace {

// qnorm(0.95): thetaf's one-sided 90% test.
constexpr double kZ90 = 1.6448536269514722;

enum class Variant { kStandard, kOptimized, kDynamic };

// Fills interior NaN by linear interpolation between the neighbouring observations (and, defensively, leading
// or trailing NaN with the nearest observation). Returns false when there is no finite value or an infinite
// one.
bool Interpolate(std::span<const double> y, std::vector<double>* out) {
  out->assign(y.begin(), y.end());
  std::vector<double>& x = *out;
  const size_t n = x.size();
  size_t prev = n;  // last finite index seen
  for (size_t t = 0; t < n; ++t) {
    if (std::isinf(x[t])) return false;
    if (std::isnan(x[t])) continue;
    if (prev == n) {
      for (size_t k = 0; k < t; ++k) x[k] = x[t];
    } else {
      for (size_t k = prev + 1; k < t; ++k)
        x[k] = x[prev] + (x[t] - x[prev]) * static_cast<double>(k - prev) / static_cast<double>(t - prev);
    }
    prev = t;
  }
  if (prev == n) return false;
  for (size_t k = prev + 1; k < n; ++k) x[k] = x[prev];
  return true;
}

// Least-squares line y = intercept + slope * t over t = 0..n-1 (R's lsfit(0:(n-1), y)).
struct Line {
  double intercept, slope;
};
Line FitLine(std::span<const double> y) {
  const double n = static_cast<double>(y.size());
  const double tbar = (n - 1) / 2;
  double ybar = 0;
  for (double v : y) ybar += v;
  ybar /= n;
  double sty = 0, stt = 0;
  for (size_t t = 0; t < y.size(); ++t) {
    const double dt = static_cast<double>(t) - tbar;
    sty += dt * (y[t] - ybar);
    stt += dt * dt;
  }
  const double slope = stt > 0 ? sty / stt : 0.0;
  return {ybar - slope * tbar, slope};
}

// Minimises f over [lo, hi]: the best of `grid` + 1 evenly spaced points, then golden-section search between
// its neighbours. Deterministic; finds the global minimum whenever the grid resolves the basins.
template <typename F>
double MinimizeScalar(F f, double lo, double hi, int grid) {
  double best_x = lo, best_f = f(lo);
  for (int i = 1; i <= grid; ++i) {
    const double x = lo + (hi - lo) * i / grid;
    const double v = f(x);
    if (v < best_f) best_f = v, best_x = x;
  }
  const double step = (hi - lo) / grid;
  double a = std::max(lo, best_x - step), b = std::min(hi, best_x + step);
  const double g = (std::sqrt(5.0) - 1) / 2;
  double c = b - g * (b - a), d = a + g * (b - a);
  double fc = f(c), fd = f(d);
  for (int it = 0; it < 60 && b - a > 1e-10 * (hi - lo); ++it) {
    if (fc < fd) {
      b = d, d = c, fd = fc;
      c = b - g * (b - a), fc = f(c);
    } else {
      a = c, c = d, fc = fd;
      d = a + g * (b - a), fd = f(d);
    }
  }
  const double x = fc < fd ? c : d;
  return std::min(fc, fd) < best_f ? x : best_x;
}

// ----------------------------------------------------------------- seasonality

std::vector<double> Acf(std::span<const double> x, int max_lag) {
  const size_t n = x.size();
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(n);
  double c0 = 0;
  for (double v : x) c0 += (v - mean) * (v - mean);
  std::vector<double> r(static_cast<size_t>(max_lag) + 1, 0.0);
  for (int k = 0; k <= max_lag && static_cast<size_t>(k) < n; ++k) {
    double s = 0;
    for (size_t t = 0; t + k < n; ++t) s += (x[t] - mean) * (x[t + k] - mean);
    r[k] = s / c0;
  }
  return r;
}

// Seasonal indices for the m periods after the series (entry j for step j, j + m, ...), or empty when the
// series is not treated as seasonal. `x` is replaced by the seasonally adjusted series.
std::vector<double> Deseasonalize(std::vector<double>* x, int m) {
  if (!ThetaSeasonalityTest(*x, m)) return {};
  const std::vector<double> figure = MultiplicativeSeasonalFigure(*x, m);
  // thetaf falls back to the non-seasonal method when an index is below 1e-4 in absolute value; an index that
  // is not finite (the moving average reached zero) is treated the same way here.
  for (double s : figure)
    if (!std::isfinite(s) || std::fabs(s) < 1e-4) return {};
  const size_t n = x->size(), mm = static_cast<size_t>(m);
  for (size_t t = 0; t < n; ++t) (*x)[t] /= figure[t % mm];
  std::vector<double> future(mm);
  for (size_t j = 0; j < mm; ++j) future[j] = figure[(n + j) % mm];
  return future;
}

// ----------------------------------------------------------------- fitting
//
// For a fixed alpha every model here has one-step errors linear in the initial level l0 and in
// w = 1 - 1/theta: e_t = a_t - l0 * d_t - w * c_t. So l0 and w are solved exactly by least squares and only
// alpha is searched (MinimizeScalar). This is the global least-squares optimum; R's ets() reaches the same
// point by Nelder-Mead from alpha = 0.2, except where the SSE has several local minima in alpha.

struct Basis {
  std::vector<double> a, d, c;
};

struct Regression {
  double intercept, slope;  // at t = 0 for a 1-based time index t = 1..n (Fiorucci's A_n, B_n)
};

Regression OneBasedLine(std::span<const double> x) {
  const Line l = FitLine(x);
  return {l.intercept - l.slope, l.slope};
}

Basis MakeBasis(Variant v, std::span<const double> x, double alpha, const Regression& reg, bool skip_first) {
  const size_t n = x.size();
  Basis b;
  b.a.reserve(n), b.d.reserve(n), b.c.reserve(n);
  const double keep = 1 - alpha;
  double level = 0;               // the level with l0 = 0
  double decay = 1;               // (1 - alpha)^(t-1) at 1-based t
  double mean = 0, A = 0, B = 0;  // running regression (dynamic)
  for (size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i + 1);
    double g = 0;
    if (v == Variant::kOptimized) {
      g = decay * reg.intercept + (1 - decay * keep) / alpha * reg.slope;
    } else if (v == Variant::kDynamic && i > 0) {
      g = decay * A + (1 - decay * keep) / alpha * B;
    }
    const bool scored = !(i == 0 && (skip_first || v == Variant::kDynamic));
    if (scored) {
      b.a.push_back(x[i] - level);
      b.d.push_back(decay);
      b.c.push_back(g);
    }
    level = alpha * x[i] + keep * level;
    decay *= keep;
    if (v == Variant::kDynamic) {
      if (i == 0) {
        mean = A = x[0];
        B = 0;
      } else {
        B = (t - 2) / (t + 1) * B + 6 * (x[i] - mean) / (t * (t + 1));
        mean = ((t - 1) * mean + x[i]) / t;
        A = mean - (t + 1) / 2 * B;
      }
    }
  }
  return b;
}

struct Solution {
  double sse = 0, level0 = 0, w = 0;
};

// Least squares for (l0, w) with w in [0, w_max]; w stays 0 when !fit_w; l0 stays fixed_level when
// !fit_level.
Solution Solve(const Basis& b, bool fit_w, double w_max, bool fit_level, double fixed_level) {
  double sad = 0, sac = 0, sdd = 0, sdc = 0, scc = 0;
  for (size_t t = 0; t < b.a.size(); ++t) {
    sad += b.a[t] * b.d[t], sac += b.a[t] * b.c[t];
    sdd += b.d[t] * b.d[t], sdc += b.d[t] * b.c[t], scc += b.c[t] * b.c[t];
  }
  Solution s;
  s.level0 = fixed_level;
  auto level_given_w = [&](double w) { return sdd > 0 ? (sad - w * sdc) / sdd : 0.0; };
  if (fit_w && fit_level) {
    const double det = sdd * scc - sdc * sdc;
    if (det > 1e-12 * sdd * scc && det > 0) {
      s.w = (sdd * sac - sdc * sad) / det;
    } else {
      s.w = 0;
    }
    s.w = std::clamp(s.w, 0.0, w_max);
    s.level0 = level_given_w(s.w);
  } else if (fit_w) {
    s.w = scc > 0 ? std::clamp((sac - fixed_level * sdc) / scc, 0.0, w_max) : 0.0;
  } else if (fit_level) {
    s.level0 = level_given_w(0);
  }
  for (size_t t = 0; t < b.a.size(); ++t) {
    const double e = b.a[t] - s.level0 * b.d[t] - s.w * b.c[t];
    s.sse += e * e;
  }
  return s;
}

// What a fitted Theta-family model keeps: mean_i = (base + slope * i) * season[i % m] for i = 0..h-1, and
// se_i = sigma * sqrt(1 + i * alpha^2) (thetaf's SES interval, not reseasonalised).
struct ThetaState {
  double base = 0, slope = 0, alpha = 0, theta = 2, sigma = 0, level = 0;
  std::vector<double> season;  // empty when not seasonal
  // dotm's running regression on the 1-based time index (Fiorucci's A_n, B_n, the mean of the adjusted series,
  // n): what an update needs; absent (has_regression false) in dotm models saved before updates existed.
  bool has_regression = false;
  double n = 0, A = 0, B = 0, mean = 0;
};

class ThetaModel : public FittedModel {
 public:
  ThetaModel(Variant v, ThetaState s) : variant_(v), s_(std::move(s)) {}
  std::string_view method() const override {
    switch (variant_) {
      case Variant::kStandard:
        return "theta";
      case Variant::kOptimized:
        return "otm";
      case Variant::kDynamic:
        return "dotm";
    }
    return "theta";
  }
  std::string Label() const override {
    std::string l = variant_ == Variant::kStandard    ? "Theta"
                    : variant_ == Variant::kOptimized ? "OTM"
                                                      : "DOTM";
    std::string args;
    if (variant_ != Variant::kStandard) args = "theta=" + FormatParameter(s_.theta);
    if (!s_.season.empty())
      args += (args.empty() ? "" : ", ") + std::string("m=") + std::to_string(s_.season.size());
    return args.empty() ? l : l + "(" + args + ")";
  }
  Forecast Predict(int h) const override {
    std::vector<double> mean(h), se(h);
    for (int i = 0; i < h; ++i) {
      const double seas = s_.season.empty() ? 1.0 : s_.season[static_cast<size_t>(i) % s_.season.size()];
      mean[i] = (s_.base + s_.slope * i) * seas;
      se[i] = s_.sigma * std::sqrt(1.0 + i * s_.alpha * s_.alpha);
    }
    return NormalForecast(mean, se);
  }
  // Each new value is deseasonalised by its seasonal index (the indices move on with the periods) and smoothed
  // into the SES level with the fitted alpha; the forecast origin's offset D = base - level follows its own
  // recursion D' = (1 - alpha) D + slope, the same closed form the fit evaluates at n (theta, otm: the drift /
  // theta line fixed). dotm also runs its regression on (A_n, B_n, mean, n) as in the fit, so its slope moves.
  // A missing value is replaced by its forecast (the fit interpolates, which needs the values after it).
  // alpha, theta, sigma and the seasonal indices stay as fitted.
  FitOutcome Update(std::span<const double> v, const UpdateContext&) const override {
    if (std::string err = CheckUpdateValues(v, method()); !err.empty()) return {nullptr, err};
    if (variant_ == Variant::kDynamic && !s_.has_regression && !v.empty())
      return {nullptr, "dotm: this model was saved without its regression state (before updates existed); refit it"};
    ThetaState s = s_;
    const double a = s.alpha, keep = 1 - a, w = 1 - 1 / s.theta;
    for (double y : v) {
      const double seas = s.season.empty() ? 1.0 : s.season.front();
      const double x = std::isfinite(y) ? y / seas : s.base;
      double offset = s.base - s.level;
      s.level = a * x + keep * s.level;
      if (variant_ == Variant::kDynamic) {
        const double t = s.n + 1;
        s.B = (t - 2) / (t + 1) * s.B + 6 * (x - s.mean) / (t * (t + 1));
        s.mean = ((t - 1) * s.mean + x) / t;
        s.A = s.mean - (t + 1) / 2 * s.B;
        s.n = t;
        const double decay = std::pow(keep, t);
        offset = w * (decay * s.A + (1 - decay * keep) / a * s.B);
        s.slope = w * s.B;
      } else {
        offset = keep * offset + s.slope;
      }
      s.base = s.level + offset;
      if (!s.season.empty()) std::rotate(s.season.begin(), s.season.begin() + 1, s.season.end());
    }
    if (!std::isfinite(s.base) || !std::isfinite(s.slope))
      return {nullptr, std::string(method()) + ": the update gave non-finite values"};
    return {std::make_unique<ThetaModel>(variant_, std::move(s)), {}};
  }
  void Save(ByteWriter* out) const override {
    for (double v : {s_.base, s_.slope, s_.alpha, s_.theta, s_.sigma, s_.level}) out->PutF64(v);
    out->PutF64s(s_.season);
    if (s_.has_regression)
      for (double v : {s_.n, s_.A, s_.B, s_.mean}) out->PutF64(v);
  }
  std::string Describe() const override {
    return "alpha=" + FormatParameter(s_.alpha) + ", theta=" + FormatParameter(s_.theta) + ", level=" + FormatParameter(s_.level) +
           ", drift=" + FormatParameter(s_.slope) + ", sigma=" + FormatParameter(s_.sigma) +
           ", seasonal_period=" + std::to_string(s_.season.empty() ? 1 : s_.season.size());
  }

 private:
  Variant variant_;
  ThetaState s_;
};

// Standard Theta as thetaf: SES on the adjusted series plus drift b = slope / 2.
ThetaState FitStandard(const std::vector<double>& x) {
  const size_t n = x.size();
  const double nd = static_cast<double>(n);
  // ets() needs more than npars + 4 = 6 points; for fewer, ses() falls back to HoltWinters with l0 = x[0] and
  // alpha in [0, 1].
  const bool short_series = n <= 6;
  const double lo = short_series ? 0.0 : 1e-4, hi = short_series ? 1.0 : 0.9999;
  const Regression none{0, 0};
  auto sse = [&](double alpha) {
    return Solve(MakeBasis(Variant::kStandard, x, alpha, none, short_series), false, 0, !short_series, x[0])
        .sse;
  };
  const double alpha = MinimizeScalar(sse, lo, hi, 40);
  const Solution sol =
      Solve(MakeBasis(Variant::kStandard, x, alpha, none, short_series), false, 0, !short_series, x[0]);
  double level = sol.level0;
  for (double v : x) level = alpha * v + (1 - alpha) * level;
  ThetaState s;
  s.alpha = std::max(1e-10, alpha);
  s.level = level;
  const double drift = FitLine(x).slope / 2;
  s.slope = drift;
  s.base = level + drift * (1 - std::pow(1 - s.alpha, nd)) / s.alpha;
  s.theta = 2;
  // ets(): sigma2 = SSE / (n - 2) with the two parameters alpha and l0; HoltWinters: SSE / (n - 1).
  const double dof = short_series ? nd - 1 : nd - 2;
  s.sigma = std::sqrt(sol.sse / std::max(1.0, dof));
  return s;
}

// Optimised / dynamic optimised Theta (Fiorucci et al. 2016).
ThetaState FitOptimized(Variant v, const std::vector<double>& x) {
  const size_t n = x.size();
  const double nd = static_cast<double>(n);
  constexpr double kAlphaLo = 0.01, kAlphaHi = 0.99, kWMax = 0.99;  // theta in [1, 100]
  const Regression reg = OneBasedLine(x);  // the dynamic regression ends at the same A_n, B_n
  auto sse = [&](double alpha) {
    return Solve(MakeBasis(v, x, alpha, reg, false), true, kWMax, true, 0).sse;
  };
  const double alpha = MinimizeScalar(sse, kAlphaLo, kAlphaHi, 40);
  const Basis basis = MakeBasis(v, x, alpha, reg, false);
  const Solution sol = Solve(basis, true, kWMax, true, 0);
  double level = sol.level0;
  for (double y : x) level = alpha * y + (1 - alpha) * level;
  ThetaState s;
  s.alpha = alpha;
  s.level = level;
  s.theta = 1 / (1 - sol.w);
  const double decay_n = std::pow(1 - alpha, nd);
  s.base = level + sol.w * (decay_n * reg.intercept + (1 - decay_n * (1 - alpha)) / alpha * reg.slope);
  s.slope = sol.w * reg.slope;
  if (v == Variant::kDynamic) {
    s.has_regression = true;
    s.n = nd;
    s.A = reg.intercept;
    s.B = reg.slope;
    s.mean = reg.intercept + (nd + 1) / 2 * reg.slope;  // the regression line at the mean time index
  }
  const double dof = static_cast<double>(basis.a.size()) - 3;  // alpha, theta, l0
  s.sigma = std::sqrt(sol.sse / std::max(1.0, dof));
  return s;
}

class ThetaFamily : public Method {
 public:
  explicit ThetaFamily(Variant v) : variant_(v) {}
  std::string_view name() const override {
    return variant_ == Variant::kStandard ? "theta" : variant_ == Variant::kOptimized ? "otm" : "dotm";
  }
  int MinObservations(const FitContext&) const override {
    return variant_ == Variant::kStandard ? 3 : variant_ == Variant::kOptimized ? 4 : 5;
  }
  FitOutcome Fit(std::span<const double> y, const FitContext& ctx) const override {
    const std::string me(name());
    int finite = 0;
    for (double v : y) finite += std::isfinite(v) ? 1 : 0;
    if (finite < MinObservations(ctx))
      return {nullptr, me + " needs " + std::to_string(MinObservations(ctx)) + " observations"};
    std::vector<double> x;
    if (!Interpolate(y, &x)) return {nullptr, me + ": the series holds an infinite value"};
    std::vector<double> season = Deseasonalize(&x, ctx.PrimaryPeriod());
    ThetaState s = variant_ == Variant::kStandard ? FitStandard(x) : FitOptimized(variant_, x);
    if (!std::isfinite(s.base) || !std::isfinite(s.slope) || !std::isfinite(s.sigma))
      return {nullptr, me + ": fit gave non-finite values"};
    s.season = std::move(season);
    return {std::make_unique<ThetaModel>(variant_, std::move(s)), {}};
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override {
    ThetaState s;
    for (double* v : {&s.base, &s.slope, &s.alpha, &s.theta, &s.sigma, &s.level}) *v = in->GetF64();
    s.season = in->GetF64s();
    // dotm's regression state (dotm models saved before updates existed end here).
    if (variant_ == Variant::kDynamic && !in->AtEnd()) {
      s.has_regression = true;
      for (double* v : {&s.n, &s.A, &s.B, &s.mean}) *v = in->GetF64();
    }
    return std::make_unique<ThetaModel>(variant_, std::move(s));
  }
  double RelativeCost() const override { return 40.0; }

 private:
  Variant variant_;
};

}  // namespace

bool ThetaSeasonalityTest(std::span<const double> x, int m) {
  const size_t n = x.size();
  if (m <= 1 || n <= 2 * static_cast<size_t>(m)) return false;
  if (std::all_of(x.begin(), x.end(), [&](double v) { return v == x[0]; })) return false;
  const std::vector<double> r = Acf(x, m);
  double s = 0;
  for (int k = 1; k < m; ++k) s += r[k] * r[k];
  const double stat = std::sqrt((1 + 2 * s) / static_cast<double>(n));
  return std::fabs(r[m]) / stat > kZ90;
}

std::vector<double> MultiplicativeSeasonalFigure(std::span<const double> x, int m) {
  const size_t n = x.size(), mm = static_cast<size_t>(m);
  // Centred moving average: a 2 x m MA for even m, an m MA for odd m (R's filter(sides = 2)).
  std::vector<double> w;
  if (m % 2 == 0) {
    w.assign(mm + 1, 1.0 / m);
    w.front() = w.back() = 0.5 / m;
  } else {
    w.assign(mm, 1.0 / m);
  }
  const size_t q = w.size() / 2;
  std::vector<double> sum(mm, 0.0);
  std::vector<int> count(mm, 0);
  for (size_t t = q; t + q < n; ++t) {
    double trend = 0;
    for (size_t j = 0; j < w.size(); ++j) trend += w[j] * x[t + j - q];
    const double ratio = x[t] / trend;
    if (std::isnan(ratio)) continue;  // R's mean(na.rm = TRUE) drops 0/0 only
    sum[t % mm] += ratio;
    ++count[t % mm];
  }
  std::vector<double> figure(mm);
  double total = 0;
  for (size_t i = 0; i < mm; ++i) {
    figure[i] = count[i] ? sum[i] / count[i] : std::nan("");
    total += figure[i];
  }
  for (double& f : figure) f /= total / static_cast<double>(m);
  return figure;
}

const Method& ThetaMethod() {
  static const ThetaFamily m(Variant::kStandard);
  return m;
}
const Method& OptimizedThetaMethod() {
  static const ThetaFamily m(Variant::kOptimized);
  return m;
}
const Method& DynamicOptimizedThetaMethod() {
  static const ThetaFamily m(Variant::kDynamic);
  return m;
}

}  // namespace mm
