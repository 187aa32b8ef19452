#include "manymodels/core/fourier.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <iterator>
#include <sstream>

namespace mm {
namespace {

constexpr double kTwoPi = 6.283185307179586;
constexpr int kMaxChangepoints = 20;
constexpr double kChangepointPenalty = 10.0;  // ridge weight on slope changes, relative to n
constexpr double kCoefPenalty = 1e-6;         // tiny ridge on everything else, for rank-deficient designs
// The coefficients are Huber's M-estimate, by reweighted least squares from the least-squares fit: a residual
// beyond kHuber robust standard deviations (1.4826 x the median absolute residual) gets the weight that makes
// it count as kHuber of them. Gross outliers only (an ATM out of cash, a store closed, a stock-out): at 3 the
// fit of normal errors is nearly least squares. At least kHuberSteps reweightings, then more while a step
// still moves a fitted value by over kHuberSettled of the cut (a data error a billion times the spread takes
// 6, fourier_test), at most kHuberMaxSteps.
constexpr double kHuber = 3.0;
constexpr int kHuberSteps = 2;
constexpr int kHuberMaxSteps = 50;
constexpr double kHuberSettled = 0.01;

// What Describe calls a covariate without a name: x and its position in FitContext::covariates.
std::string Unnamed(size_t j) {
  std::string s = "x";
  s += std::to_string(j);  // not "x" + ...: GCC 12 warns (-Wrestrict) on that wrongly
  return s;
}

// The regression's design: everything needed to build a row for any time index t (0 = first observation).
struct Design {
  std::vector<double> cycles;
  std::vector<int> terms;
  std::vector<double> changepoints;  // time indices
  int covariates = 0;
  // Per covariate: 1 when it enters as its logarithm (a price on the log scale: an elasticity), else 0 (an
  // indicator or share: a lift). Its raw values are what the model keeps and Update receives.
  std::vector<uint8_t> log_x;
  double t_scale = 1;  // times are divided by this so slopes are well scaled
  bool trend = true;   // the slope and the changepoints (FourierNoTrendMethod: the level alone)

  double Regressor(int j, double x) const { return log_x[static_cast<size_t>(j)] ? std::log(x) : x; }

  int Columns() const {
    int k = (trend ? 2 : 1) + static_cast<int>(changepoints.size()) + covariates;
    for (int t : terms) k += 2 * t;
    return k;
  }
  // Fills row with the regressors at time t and covariate values x (size covariates).
  void Row(double t, const double* x, double* row) const {
    int c = 0;
    const double ts = t / t_scale;
    row[c++] = 1.0;
    if (trend) row[c++] = ts;
    for (double cp : changepoints) row[c++] = std::max(0.0, ts - cp / t_scale);
    for (size_t i = 0; i < cycles.size(); ++i)
      for (int k = 1; k <= terms[i]; ++k) {
        const double a = kTwoPi * k * t / cycles[i];
        row[c++] = std::sin(a);
        row[c++] = std::cos(a);
      }
    for (int j = 0; j < covariates; ++j) row[c++] = Regressor(j, x[j]);
  }
};

// The regression's errors where the history ends, as ErrorsAtEnd fits them: their local level (added to the
// intercept) and a transient that decays by rho a period; the share alpha of each one-step error a_t that the
// level keeps, and the one-step errors' standard deviation (NaN where the errors were not fitted).
struct EndErrors {
  double level = 0, transient = 0, rho = 0, alpha = 0, sigma = NAN;
};

// The standard deviation of the errors' forecast `step` periods after the end of the history (step >= 1), for
// errors with one-step standard deviation sigma, as ErrorsAtEnd models them: a one-step error a_t moves the
// error j periods on by psi_j = alpha + (1 - alpha) rho^j (psi_0 = 1), so the variance is
// sigma^2 (psi_0^2 + ... + psi_{step-1}^2), summed in closed form (geometric series; |rho| < 1), so that a
// model brought forward by many periods forecasts as fast as a fresh one.
double ErrorSd(double sigma, double alpha, double rho, double step) {
  const double k = step, rk = std::pow(rho, k), beta = 1 - alpha;
  const double sum = k * alpha * alpha + 2 * alpha * beta * (1 - rk) / (1 - rho) +
                     beta * beta * (1 - rk * rk) / (1 - rho * rho);
  return sigma * std::sqrt(sum);
}

class FourierModel : public FittedModel {
 public:
  FourierModel(Design design, std::vector<double> coef, double sigma, bool log_scale, double n,
               std::vector<std::vector<double>> future_x, std::vector<std::string> names, EndErrors errors,
               double since)
      : d_(std::move(design)),
        coef_(std::move(coef)),
        sigma_(sigma),
        log_(log_scale),
        n_(n),
        future_x_(std::move(future_x)),
        names_(std::move(names)),
        errors_(errors),
        since_(since) {}

  std::string_view method() const override { return d_.trend ? "fourier" : "fourier-notrend"; }
  std::string_view tag() const override { return "fourier"; }  // both load as FourierModel (its trend flag)
  std::string Label() const override {
    std::ostringstream s;
    s << "Fourier(";
    for (size_t i = 0; i < d_.cycles.size(); ++i) s << (i ? "," : "") << d_.cycles[i] << ":" << d_.terms[i];
    if (d_.covariates) s << (d_.cycles.empty() ? "" : ";") << "x" << d_.covariates;
    s << (log_ ? ";log" : "") << (d_.trend ? ")" : ";no trend)");
    return s.str();
  }
  Forecast Predict(int h) const override {
    std::vector<double> row(static_cast<size_t>(d_.Columns())), x(static_cast<size_t>(d_.covariates));
    Forecast f;
    f.Resize(static_cast<size_t>(h));
    for (int i = 0; i < h; ++i) {
      for (int j = 0; j < d_.covariates; ++j) {
        const auto& fx = future_x_[static_cast<size_t>(j)];
        x[j] = fx.empty() ? 0.0 : fx[std::min(static_cast<size_t>(i), fx.size() - 1)];
      }
      d_.Row(n_ + i, x.data(), row.data());
      double mu = errors_.transient * std::pow(errors_.rho, i + 1);
      for (size_t c = 0; c < row.size(); ++c) mu += row[c] * coef_[c];
      // The errors' own forecast error at this distance from the fit (ErrorSd; the regression's residual
      // spread for a model saved without it), grown slowly for the trend's uncertainty.
      const double step = since_ + i + 1;
      const double se =
          (std::isfinite(errors_.sigma) ? ErrorSd(errors_.sigma, errors_.alpha, errors_.rho, step) : sigma_) *
          std::sqrt(1.0 + step / (n_ - since_));
      const double q[5] = {mu, mu - kZ80 * se, mu + kZ80 * se, mu - kZ95 * se, mu + kZ95 * se};
      std::vector<double>* out[5] = {&f.mean, &f.lo80, &f.hi80, &f.lo95, &f.hi95};
      for (int k = 0; k < 5; ++k) (*out[k])[i] = log_ ? std::expm1(q[k]) : q[k];
    }
    return f;
  }
  // Coefficients fixed: a regression on time and covariates, so the new values themselves change nothing; the
  // time index moves on by their count (trend, changepoint slopes and Fourier terms evaluated at the new
  // times; the errors' transient decays over them and their uncertainty grows as from the fit), and the
  // covariates' future values come from the context (a column found by name, or by position for a model
  // fitted without names: x0, x1, ...). Unknown (NaN) values carry the last known one forward; the first
  // period after the new values falls back on the value the model held for it.
  FitOutcome Update(std::span<const double> v, const UpdateContext& ctx) const override {
    if (std::string err = CheckUpdateValues(v, method()); !err.empty()) return {nullptr, err};
    const size_t k = v.size();
    if (k == 0 && ctx.covariates.empty()) return {std::make_unique<FourierModel>(*this), {}};  // nothing new

    // A logged covariate's value that is not positive counts as unknown, like a missing one.
    std::vector<std::vector<double>> future;
    if (std::string err = CovariatesAfterUpdate(ctx, names_, future_x_, d_.log_x, k, method(), &future); !err.empty())
      return {nullptr, err};
    EndErrors errors = errors_;
    errors.transient *= std::pow(errors.rho, static_cast<double>(k));
    return {
        std::make_unique<FourierModel>(d_, coef_, sigma_, log_, n_ + static_cast<double>(k),
                                       std::move(future), names_, errors, since_ + static_cast<double>(k)),
        {}};
  }
  void Save(ByteWriter* w) const override {
    w->PutF64s(d_.cycles);
    w->PutU64(d_.terms.size());
    for (int t : d_.terms) w->PutI64(t);
    w->PutF64s(d_.changepoints);
    w->PutI64(d_.covariates);
    w->PutF64(d_.t_scale);
    w->PutF64s(coef_);
    w->PutF64(sigma_);
    w->PutU8(log_ ? 1 : 0);
    w->PutF64(n_);
    w->PutU64(future_x_.size());
    for (const auto& v : future_x_) w->PutF64s(v);
    for (const auto& name : names_) w->PutString(name);
    for (uint8_t l : d_.log_x) w->PutU8(l);
    w->PutF64(errors_.transient);
    w->PutF64(errors_.rho);
    w->PutF64(errors_.alpha);
    w->PutF64(errors_.sigma);
    w->PutF64(since_);
    w->PutU8(d_.trend ? 1 : 0);
  }
  std::string Describe() const override {
    std::ostringstream s;
    s.precision(5);
    s << "level=" << coef_[0];
    if (d_.trend)
      s << ", slope=" << coef_[1] << ", changepoints=" << d_.changepoints.size();
    else
      s << ", no trend";
    s << ", sigma=" << sigma_ << (log_ ? " (log1p scale)" : "");
    for (int j = 0; j < d_.covariates; ++j) {
      const std::string& name = names_[static_cast<size_t>(j)];
      s << ", " << (d_.log_x[static_cast<size_t>(j)] ? "log(" + name + ")" : name) << "="
        << coef_[coef_.size() - d_.covariates + j];
    }
    s << ", error transient=" << errors_.transient << ", rho=" << errors_.rho << ", alpha=" << errors_.alpha
      << ", one-step sigma=" << errors_.sigma;
    return s.str();
  }

  static std::unique_ptr<FittedModel> Load(ByteReader* r) {
    Design d;
    d.cycles = r->GetF64s();
    d.terms.resize(r->GetU64());
    for (int& t : d.terms) t = static_cast<int>(r->GetI64());
    d.changepoints = r->GetF64s();
    d.covariates = static_cast<int>(r->GetI64());
    d.t_scale = r->GetF64();
    auto coef = r->GetF64s();
    const double sigma = r->GetF64();
    const bool log_scale = r->GetU8() != 0;
    const double n = r->GetF64();
    std::vector<std::vector<double>> fx(r->GetU64());
    for (auto& v : fx) v = r->GetF64s();
    if (d.terms.size() != d.cycles.size() || fx.size() != static_cast<size_t>(d.covariates))
      throw std::runtime_error("fourier: inconsistent saved model");
    // The covariates' names (models saved before they were kept end here: x0, x1, ...).
    std::vector<std::string> names;
    for (int j = 0; j < d.covariates; ++j)
      names.push_back(r->AtEnd() ? Unnamed(static_cast<size_t>(j)) : r->GetString());
    // Which enter as logarithms (models saved before that choice end here: none).
    d.log_x.assign(static_cast<size_t>(d.covariates), 0);
    for (uint8_t& l : d.log_x) l = r->AtEnd() ? 0 : r->GetU8();
    // The errors' transient (models saved before it end here: none), then their level's share and one-step
    // spread and the periods since the fit (models saved before those end here: intervals from sigma).
    EndErrors errors;
    errors.transient = r->AtEnd() ? 0 : r->GetF64();
    errors.rho = r->AtEnd() ? 0 : r->GetF64();
    errors.alpha = r->AtEnd() ? 0 : r->GetF64();
    errors.sigma = r->AtEnd() ? NAN : r->GetF64();
    const double since = r->AtEnd() ? 0 : r->GetF64();
    // Whether it has a trend (models saved before the choice end here: they all have).
    d.trend = r->AtEnd() || r->GetU8() != 0;
    if (!(since >= 0 && since < n) || !(errors.alpha >= 0 && errors.alpha <= 1) ||
        !(std::fabs(errors.rho) < 1) || errors.sigma < 0 || coef.size() != static_cast<size_t>(d.Columns()) ||
        (!d.trend && !d.changepoints.empty()))
      throw std::runtime_error("fourier: inconsistent saved model");
    return std::make_unique<FourierModel>(std::move(d), std::move(coef), sigma, log_scale, n, std::move(fx),
                                          std::move(names), errors, since);
  }

 private:
  Design d_;
  std::vector<double> coef_;
  double sigma_;
  bool log_;
  double n_;  // length of the history: forecasts start at time index n
  std::vector<std::vector<double>> future_x_;
  std::vector<std::string> names_;  // of the covariates used, as in FitContext::covariate_names
  EndErrors errors_;                // at the last observation (Update decays the transient to the new one)
  double since_;                    // periods added by Update since the fit: n_ - since_ were fitted
};

// The state of a regression's residuals e (in time order) at their end, where the errors stay off the fitted
// trend for a while (a level shift late in the history that the shrunk changepoints do not follow: an ATM
// moved, a store's new normal) or run in short spells. The errors are a local level plus a transient that
// decays:
//   e_t = l_{t-1} + rho u_{t-1} + a_t,   l_t = l_{t-1} + alpha a_t,   u_t = rho u_{t-1} + (1 - alpha) a_t,
// from l = u = 0: e_t = l_t + u_t, so (1 - B)(1 - rho B) e_t = (1 - (1 - alpha + alpha rho) B) a_t,
// ARIMA(1,1,1) errors; alpha = 0 leaves AR(1) errors around the regression (its level as fitted), alpha = 1
// and rho = 0 a random walk. (alpha, rho) come from a grid by the sum of squared one-step errors a_t
// (conditional sum of squares), after the regression's least squares: a two-step estimate, not a joint one.
// The forecast k periods on is l_n + rho^k u_n.
EndErrors ErrorsAtEnd(const Eigen::VectorXd& e, int dof) {
  static constexpr double kAlpha[] = {0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0};
  static constexpr double kRho[] = {0, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95};
  constexpr int kAlphas = std::size(kAlpha), kRhos = std::size(kRho), kPairs = kAlphas * kRhos;
  // Every pair's recursion at once, one time step for all of them, so that the steps vectorise instead of
  // each waiting on the previous one's result.
  using Pairs = Eigen::Array<double, kPairs, 1>;
  Pairs alpha, rho;
  for (int a = 0; a < kAlphas; ++a)
    for (int r = 0; r < kRhos; ++r) alpha(a * kRhos + r) = kAlpha[a], rho(a * kRhos + r) = kRho[r];
  const Pairs keep = 1 - alpha;
  Pairs level = Pairs::Zero(), transient = Pairs::Zero(), sse = Pairs::Zero();
  for (Eigen::Index t = 0; t < e.size(); ++t) {
    const Pairs err = e(t) - level - rho * transient;
    sse += err * err;
    level += alpha * err;
    transient = rho * transient + keep * err;
  }
  Eigen::Index best = 0;
  for (Eigen::Index k = 1; k < kPairs; ++k)
    if (sse(k) < sse(best)) best = k;        // the first of equals, in the grid's order
  if (!std::isfinite(sse(best))) return {};  // errors too large to square: the regression as fitted
  // The one-step spread with the regression's coefficients and the two of the grid counted as fitted.
  const double sigma = std::sqrt(sse(best) / std::max<double>(1.0, static_cast<double>(e.size()) - 2 - dof));
  return {level(best), transient(best), rho(best), alpha(best), sigma};
}

class Fourier : public Method {
 public:
  explicit Fourier(bool trend) : trend_(trend) {}
  std::string_view name() const override { return trend_ ? "fourier" : "fourier-notrend"; }
  int MinObservations(const FitContext&) const override { return 8; }
  double RelativeCost() const override { return 5.0; }
  bool ValidatedByUpdate() const override { return false; }

  FitOutcome Fit(std::span<const double> y, const FitContext& ctx) const override {
    const size_t n = y.size();
    int obs = 0;
    for (double v : y) obs += std::isfinite(v);
    const std::string me(name());
    if (obs < MinObservations(ctx)) return {nullptr, me + " needs 8 observations"};
    Design d;
    // A cycle that fits twice in the history; in validation's fits, twice in the whole history and once in
    // the window's (FitContext::form_history: the windows judge the form that will forecast).
    const auto whole = static_cast<double>(std::max(n, ctx.form_history));
    for (double m : ctx.season_lengths)
      if (m > 1.5 && 2 * m <= whole && m <= static_cast<double>(n))
        d.cycles.push_back(m), d.terms.push_back(FourierTerms(m));
    // Covariates that vary within the history; others would be collinear with the level.
    std::vector<size_t> used;
    for (size_t j = 0; j < ctx.covariates.size(); ++j) {
      const auto& x = ctx.covariates[j];
      double lo = INFINITY, hi = -INFINITY;
      for (size_t t = 0; t < n && t < x.size(); ++t)
        if (std::isfinite(x[t])) lo = std::min(lo, x[t]), hi = std::max(hi, x[t]);
      if (hi > lo) used.push_back(j);
    }
    d.covariates = static_cast<int>(used.size());
    d.trend = trend_;
    const int cps = trend_ ? std::min(kMaxChangepoints, obs / 20) : 0;
    for (int i = 1; i <= cps; ++i) d.changepoints.push_back(0.8 * static_cast<double>(n) * i / (cps + 1));
    d.t_scale = static_cast<double>(n);
    const int p = d.Columns();
    if (obs <= p)
      return {nullptr,
              me + ": " + std::to_string(obs) + " observations for " + std::to_string(p) + " coefficients"};

    const bool log_scale = FitsOnLogScale(y);
    // Covariate values with gaps carried forward (and back, before the first known value).
    std::vector<std::vector<double>> xs(used.size());
    std::string note;
    const auto horizon = static_cast<size_t>(std::max(0, ctx.horizon));
    for (size_t u = 0; u < used.size(); ++u) {
      const auto& src = ctx.covariates[used[u]];
      const std::string unknown = UnknownFutureNote(src, n, horizon, name(), CovariateName(ctx, used[u]));
      if (!unknown.empty()) note += (note.empty() ? "" : "; ") + unknown;
      xs[u] = FilledCovariate(src, n + horizon);
    }
    // On the log scale a covariate whose values are all positive (a price) enters as its logarithm, so its
    // coefficient is an elasticity; one with zeros (a promotion indicator, a display share) enters as it is, a
    // lift.
    for (const auto& v : xs) d.log_x.push_back(log_scale && EntersAsLog(v) ? 1 : 0);

    // The design matrix over the observed periods. Harmonics come from the first by the Chebyshev recurrence
    // sin(k a) = 2 cos(a) sin((k-1) a) - sin((k-2) a), so each cycle costs one sin and one cos per period.
    Eigen::MatrixXd X(obs, p);
    Eigen::VectorXd target(obs);
    {
      int r = 0;
      for (size_t t = 0; t < n; ++t) {
        if (!std::isfinite(y[t])) continue;
        const double ts = static_cast<double>(t) / d.t_scale;
        int c = 0;
        X(r, c++) = 1.0;
        if (d.trend) X(r, c++) = ts;
        for (double cp : d.changepoints) X(r, c++) = std::max(0.0, ts - cp / d.t_scale);
        for (size_t i = 0; i < d.cycles.size(); ++i) {
          const double a = kTwoPi * static_cast<double>(t) / d.cycles[i];
          const double s1 = std::sin(a), c1 = std::cos(a);
          double s_prev = 0, c_prev = 1, s_k = s1, c_k = c1;
          for (int k = 1; k <= d.terms[i]; ++k) {
            X(r, c++) = s_k;
            X(r, c++) = c_k;
            const double s_next = 2 * c1 * s_k - s_prev, c_next = 2 * c1 * c_k - c_prev;
            s_prev = s_k, c_prev = c_k, s_k = s_next, c_k = c_next;
          }
        }
        for (size_t u = 0; u < used.size(); ++u) X(r, c++) = d.Regressor(static_cast<int>(u), xs[u][t]);
        target(r++) = log_scale ? std::log1p(y[t]) : y[t];
      }
    }
    // Normal equations with a ridge on the changepoint slopes: (X'WX + P) b = X'Wy, W = I for least squares,
    // then Huber's weights from its residuals (kHuber).
    // Only the rows beyond the cut have a weight w below 1, so the weighted system is the unweighted one less
    // (1 - w) x x' of those rows: a reweighting costs what its outliers do, not a pass over the history.
    Eigen::MatrixXd xtx(p, p);
    xtx.setZero();
    xtx.selfadjointView<Eigen::Lower>().rankUpdate(X.transpose());
    const Eigen::VectorXd xty = X.transpose() * target;
    Eigen::VectorXd penalty = Eigen::VectorXd::Constant(p, kCoefPenalty * xtx.diagonal().mean());
    for (size_t c = 0; c < d.changepoints.size(); ++c) penalty(2 + c) += kChangepointPenalty * obs / 100.0;
    const auto solve = [&](Eigen::MatrixXd normal, const Eigen::VectorXd& rhs) -> Eigen::VectorXd {
      normal.triangularView<Eigen::Upper>() = normal.transpose();
      normal.diagonal() += penalty;
      return normal.ldlt().solve(rhs);
    };
    Eigen::VectorXd b = solve(xtx, xty);
    if (!b.allFinite()) return {nullptr, me + ": the least-squares system is singular"};
    Eigen::VectorXd residual = target - X * b;
    for (int step = 0; step < kHuberMaxSteps; ++step) {
      std::vector<double> magnitude(residual.data(), residual.data() + obs);
      for (double& v : magnitude) v = std::abs(v);
      const auto mid = magnitude.begin() + obs / 2;
      std::nth_element(magnitude.begin(), mid, magnitude.end());
      const double cut = kHuber * 1.4826 * *mid;
      if (!(cut > 0)) break;
      std::vector<Eigen::Index> beyond;
      for (Eigen::Index r = 0; r < obs; ++r)
        if (std::abs(residual(r)) > cut) beyond.push_back(r);
      if (beyond.empty()) break;  // least squares is Huber's estimate
      Eigen::MatrixXd out(static_cast<Eigen::Index>(beyond.size()), p);
      Eigen::VectorXd rhs = xty;
      for (size_t i = 0; i < beyond.size(); ++i) {
        const Eigen::Index r = beyond[i];
        const double less = 1 - cut / std::abs(residual(r));  // 1 - w
        out.row(static_cast<Eigen::Index>(i)) = std::sqrt(less) * X.row(r);
        rhs -= less * target(r) * X.row(r).transpose();
      }
      Eigen::MatrixXd normal = xtx;
      normal.selfadjointView<Eigen::Lower>().rankUpdate(out.transpose(), -1.0);
      const Eigen::VectorXd next = solve(std::move(normal), rhs);
      if (!next.allFinite()) break;
      b = next;
      const Eigen::VectorXd before = std::move(residual);
      residual = target - X * b;
      // Past kHuberSteps, on only while the fit still moves: a gross outlier is discounted a step at a time.
      if (step + 1 >= kHuberSteps && (before - residual).cwiseAbs().maxCoeff() <= kHuberSettled * cut) break;
    }
    // Where the regression's errors are when the history ends (ErrorsAtEnd): their level moves the intercept.
    const EndErrors end = ErrorsAtEnd(residual, p);
    Eigen::VectorXd coef = b;
    coef(0) += end.level;
    const double sse = residual.squaredNorm();
    const double sigma = std::sqrt(sse / std::max(1, obs - p));
    std::vector<std::vector<double>> future(used.size());
    for (size_t u = 0; u < used.size(); ++u) future[u].assign(xs[u].begin() + static_cast<long>(n), xs[u].end());
    std::vector<std::string> names;
    for (size_t j : used) names.push_back(CovariateName(ctx, j));
    return {std::make_unique<FourierModel>(std::move(d), std::vector<double>(coef.data(), coef.data() + p),
                                           sigma, log_scale, static_cast<double>(n), std::move(future),
                                           std::move(names), end, 0.0),
            {},
            std::move(note)};
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override { return FourierModel::Load(in); }

 private:
  bool trend_;
};

}  // namespace

bool FitsOnLogScale(std::span<const double> y) {
  int obs = 0, zeros = 0;
  for (double v : y) {
    if (!std::isfinite(v)) continue;
    if (v < 0) return false;
    ++obs, zeros += v == 0;
  }
  return zeros * 10 < obs;
}

bool EntersAsLog(std::span<const double> x) {
  return std::all_of(x.begin(), x.end(), [](double z) { return z > 0; });
}

int FourierTerms(double m) { return std::max(1, std::min(static_cast<int>(m / 2), m <= 12 ? 6 : 10)); }

std::string UnknownFutureNote(std::span<const double> x, size_t n, size_t horizon, std::string_view method,
                              const std::string& name) {
  size_t unknown = 0;  // forecast periods without a value
  for (size_t t = n; t < n + horizon; ++t) unknown += t >= x.size() || !std::isfinite(x[t]);
  if (unknown == 0) return {};
  return std::string(method) + ": " + name + " unknown in " + std::to_string(unknown) + " of the " +
         std::to_string(horizon) + " forecast periods: its last known value carried forward";
}

std::string CovariateName(const FitContext& ctx, size_t j) {
  return j < ctx.covariate_names.size() && !ctx.covariate_names[j].empty() ? ctx.covariate_names[j] : Unnamed(j);
}

std::vector<double> FilledCovariate(std::span<const double> x, size_t length) {
  std::vector<double> v(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(std::min(length, x.size())));
  v.resize(length, NAN);
  double last = NAN;
  for (double& z : v) z = std::isfinite(z) ? (last = z) : last;
  double first = NAN;
  for (double z : v)
    if (std::isfinite(z)) {
      first = z;
      break;
    }
  for (double& z : v)
    if (!std::isfinite(z)) z = first;
  return v;
}

std::string CovariatesAfterUpdate(const UpdateContext& ctx, const std::vector<std::string>& names,
                                  const std::vector<std::vector<double>>& held, const std::vector<uint8_t>& positive,
                                  size_t k, std::string_view method, std::vector<std::vector<double>>* future) {
  const size_t h = static_cast<size_t>(std::max(1, ctx.horizon));
  future->assign(names.size(), {});
  for (size_t j = 0; j < names.size(); ++j) {
    const std::string& name = names[j];
    size_t col = ctx.covariates.size();
    for (size_t c = 0; c < ctx.covariate_names.size() && c < ctx.covariates.size(); ++c)
      if (ctx.covariate_names[c] == name) col = c;
    if (col == ctx.covariates.size() && ctx.covariate_names.empty())
      for (size_t c = 0; c < ctx.covariates.size(); ++c)
        if (Unnamed(c) == name) col = c;
    if (col == ctx.covariates.size())
      return std::string(method) + ": the update has no values of the covariate '" + name + "' the model uses";
    const std::span<const double> x = ctx.covariates[col];
    double last = held[j].empty() ? 0.0 : held[j].front();
    for (size_t i = 0; i < k + h; ++i) {
      if (i < x.size() && std::isfinite(x[i]) && (j >= positive.size() || !positive[j] || x[i] > 0)) last = x[i];
      if (i >= k) (*future)[j].push_back(last);
    }
  }
  return {};
}

const Method& FourierMethod() {
  static const Fourier m(true);
  return m;
}

const Method& FourierNoTrendMethod() {
  static const Fourier m(false);
  return m;
}

}  // namespace mm
