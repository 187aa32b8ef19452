#include "manymodels/core/ets.h"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "manymodels/core/order_statistics.h"
#include "manymodels/core/series.h"

namespace mm {
namespace ets {
namespace {

// R's default bounds (ets(lower = c(rep(1e-4, 3), 0.8), upper = c(rep(0.9999, 3), 0.98))).
constexpr double kLower = 1e-4;
constexpr double kUpper = 0.9999;
constexpr double kPhiLower = 0.8;
constexpr double kPhiUpper = 0.98;
constexpr int kMaxPeriod = 24;              // R's ets() ignores seasonality above this
constexpr int kMaxParams = kMaxPeriod + 5;  // alpha, beta, gamma, phi, l0, b0 and m - 1 seasonal states
constexpr double kTol = 1e-10;              // as in R's etscalc
constexpr double kHuge = 1e10;
constexpr int kSimulatedPaths = 2000;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

char KindChar(Kind k) { return k == Kind::kNone ? 'N' : k == Kind::kAdditive ? 'A' : 'M'; }

double Value(double x) { return x; }

// ---------------------------------------------------------------- parameter layout
// The optimised vector u: [alpha, beta', gamma', phi, l0, b0, s_0 .. s_{m-2}], the optional ones present only
// when the form has them. beta' and gamma' in [0, 1] map onto R's constraints beta in [1e-4, alpha] and
// gamma in [1e-4, 1 - alpha], so that the optimiser only needs box bounds.
struct Layout {
  Spec spec;
  int m = 1;
  int beta = -1, gamma = -1, phi = -1, level = 0, trend = -1, season = -1;
  int size = 0;
};

Layout MakeLayout(const Spec& spec) {
  Layout l;
  l.spec = spec;
  l.m = spec.season == Kind::kNone ? 1 : spec.m;
  int k = 1;
  if (spec.trend != Kind::kNone) l.beta = k++;
  if (spec.season != Kind::kNone) l.gamma = k++;
  if (spec.damped) l.phi = k++;
  l.level = k++;
  if (spec.trend != Kind::kNone) l.trend = k++;
  if (spec.season != Kind::kNone) {
    l.season = k;
    k += l.m - 1;
  }
  l.size = k;
  return l;
}

template <typename T>
struct Smoothing {
  T alpha, beta, gamma, phi;
};

template <typename T>
Smoothing<T> SmoothingOf(const Layout& l, const T* u) {
  Smoothing<T> s{u[0], T(0.0), T(0.0), T(1.0)};
  if (l.beta >= 0) s.beta = kLower + u[l.beta] * (u[0] - kLower);
  if (l.gamma >= 0) s.gamma = kLower + u[l.gamma] * (1.0 - u[0] - kLower);
  if (l.phi >= 0) s.phi = u[l.phi];
  return s;
}

Params ParamsOf(const Layout& l, const double* u) {
  const Smoothing<double> s = SmoothingOf(l, u);
  return {s.alpha, s.beta, s.gamma, s.phi};
}

// ---------------------------------------------------------------- the recursion (R's etscalc)
// Seasonal indices live in a ring: R's s[j] is ring[(head + j) % m]; each step overwrites the oldest with the
// new index, which becomes s[0].
template <typename T>
struct Ring {
  T level, trend;
  std::array<T, kMaxPeriod> s;
  int head = 0;
};

// Runs the model over y from the initial state in u. For each finite y[t] calls emit(k, e) with the k-th
// one-step error (relative for multiplicative error); a missing y[t] carries the state forward (the update
// with y = its forecast, a zero error). Adds log|yhat| of the finite steps to *log_f. Returns false when the
// initial state is out of bounds (a negative multiplicative seasonal index). (Templated on the scalar so that
// it can run on ceres::Jet for checking; the fit uses EvaluateForward for derivatives.)
template <typename T, typename Emit>
bool Filter(const Layout& l, const T* u, std::span<const double> y, Emit&& emit, T* log_f,
            std::type_identity_t<Ring<T>>* out) {
  using std::abs;
  using std::log;
  const Spec& spec = l.spec;
  const int m = l.m;
  const bool has_trend = spec.trend != Kind::kNone;
  const bool has_season = spec.season != Kind::kNone;
  const bool mult_season = spec.season == Kind::kMultiplicative;
  const bool mult_error = spec.error == Kind::kMultiplicative;
  const Smoothing<T> p = SmoothingOf(l, u);
  const T beta_over_alpha = p.beta / p.alpha;

  Ring<T> x;
  x.level = u[l.level];
  x.trend = has_trend ? u[l.trend] : T(0.0);
  if (has_season) {
    T sum(0.0);
    for (int j = 0; j < m - 1; ++j) {
      x.s[j] = u[l.season + j];
      sum += x.s[j];
    }
    x.s[m - 1] = (mult_season ? T(static_cast<double>(m)) : T(0.0)) - sum;
    if (mult_season)
      for (int j = 0; j < m; ++j)
        if (Value(x.s[j]) < 0) return false;
  }
  *log_f = T(0.0);
  int k = 0;
  for (size_t t = 0; t < y.size(); ++t) {
    const int oldest = has_season ? (x.head + m - 1) % m : 0;
    const T phib = has_trend ? p.phi * x.trend : T(0.0);
    const T q = x.level + phib;
    T f = q;
    if (spec.season == Kind::kAdditive) f += x.s[oldest];
    if (mult_season) f *= x.s[oldest];
    T yt;
    if (std::isfinite(y[t])) {
      yt = T(y[t]);
      emit(k++, mult_error ? T((y[t] - f) / f) : T(y[t] - f));
      if (mult_error) *log_f += log(abs(f));
    } else {
      yt = f;
    }
    T deseason = yt;
    if (spec.season == Kind::kAdditive) deseason = yt - x.s[oldest];
    if (mult_season) deseason = abs(Value(x.s[oldest])) < kTol ? T(kHuge) : yt / x.s[oldest];
    const T level = q + p.alpha * (deseason - q);
    if (has_trend) x.trend = phib + beta_over_alpha * (level - x.level - phib);
    if (has_season) {
      T detrend;
      if (mult_season)
        detrend = abs(Value(q)) < kTol ? T(kHuge) : yt / q;
      else
        detrend = yt - q;
      x.s[oldest] = x.s[oldest] + p.gamma * (detrend - x.s[oldest]);
      x.head = oldest;
    }
    x.level = level;
  }
  if (out) *out = x;
  return true;
}

State StateOf(const Layout& l, const Ring<double>& r) {
  State s;
  s.level = r.level;
  s.trend = l.spec.trend != Kind::kNone ? r.trend : 0.0;
  if (l.spec.season != Kind::kNone)
    for (int j = 0; j < l.m; ++j) s.season.push_back(r.s[(r.head + j) % l.m]);
  return s;
}

// ---------------------------------------------------------------- admissibility (R's admissible())
// Whether all roots of c[0] + c[1] z + ... + c[d] z^d lie inside the unit circle, by the Schur-Cohn
// recursion (O(d^2), no eigenvalues): p is stable iff |c[0]| < |c[d]| and (c[d] p(z) - c[0] z^d p(1/z)) / z
// is. A root at exactly z = 1, which R's tolerance admits and the undamped forms without trend have whatever
// the parameters, is divided out first. `c` is overwritten.
bool RootsInUnitCircle(double* c, int d) {
  double at_one = 0, scale = 0;
  for (int i = 0; i <= d; ++i) at_one += c[i], scale += std::abs(c[i]);
  std::array<double, kMaxPeriod + 2> next{};
  if (std::abs(at_one) <= 1e-12 * scale) {  // p(z) = (z - 1) q(z)
    next[d - 1] = c[d];
    for (int k = d - 2; k >= 0; --k) next[k] = c[k + 1] + next[k + 1];
    --d;
    for (int k = 0; k <= d; ++k) c[k] = next[k];
  }
  while (d > 0) {
    const double a0 = c[0], ad = c[d];
    if (!(std::abs(a0) < std::abs(ad))) return false;
    double big = 0;
    for (int j = 1; j <= d; ++j) {
      next[j - 1] = ad * c[j] - a0 * c[d - j];
      big = std::max(big, std::abs(next[j - 1]));
    }
    if (!(big > 0)) return false;
    --d;
    for (int j = 0; j <= d; ++j) c[j] = next[j] / big;
  }
  return true;
}

bool AdmissibleImpl(const Spec& spec, double alpha, double beta, double gamma, double phi) {
  if (phi < 0 || phi > 1 + 1e-8) return false;
  if (spec.season == Kind::kNone || spec.m <= 1) {
    if (alpha < 1 - 1 / phi || alpha > 1 + 1 / phi) return false;
    if (spec.trend != Kind::kNone && (beta < alpha * (phi - 1) || beta > (1 + phi) * (2 - alpha)))
      return false;
    return true;
  }
  const int m = spec.m;
  if (spec.trend == Kind::kNone) beta = 0;
  if (gamma < std::max(1 - 1 / phi - alpha, 0.0) || gamma > 1 + 1 / phi - alpha) return false;
  if (alpha < 1 - 1 / phi - gamma * (1 - m + phi + phi * m) / (2 * phi * m)) return false;
  if (beta < -(1 - phi) * (gamma / m + alpha)) return false;
  // The roots of phi(1-a-g) + (a+b-a phi+g-1) z + (a+b-a phi) (z^2 + ... + z^{m-1}) + (a+b-phi) z^m + z^{m+1}
  // must lie in the unit circle (R finds them with polyroot() and allows 1 + 1e-10).
  std::array<double, kMaxPeriod + 2> coef{};
  coef[0] = phi * (1 - alpha - gamma);
  coef[1] = alpha + beta - alpha * phi + gamma - 1;
  for (int i = 2; i < m; ++i) coef[i] = alpha + beta - alpha * phi;
  coef[m] = alpha + beta - phi;
  coef[m + 1] = 1;
  return RootsInUnitCircle(coef.data(), m + 1);
}

// ---------------------------------------------------------------- the likelihood as least squares
// R minimises n log(sum e^2) + [2 sum log|yhat| for multiplicative error]. With g = exp(mean log|yhat|) that
// is n log(sum (g e)^2), so Levenberg-Marquardt on the residuals g * e_t finds the same optimum.
using NormalMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor, kMaxParams, kMaxParams>;
using NormalVector = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, kMaxParams, 1>;

// The least-squares problem's cost 0.5 |r|^2 and, when asked, its normal equations J'J and J'r, at u.
// Inadmissible parameters or non-finite values make Evaluate return false. Holds the residual and Jacobian
// buffers, allocated once per form.
class LikelihoodCost {
 public:
  LikelihoodCost(const Layout& layout, std::span<const double> y, int n_obs)
      : l_(layout), y_(y), n_(n_obs), res_(n_obs), jac_(static_cast<size_t>(n_obs) * layout.size) {}

  bool Evaluate(const double* u, double* cost, NormalMatrix* jtj = nullptr, NormalVector* jtr = nullptr) {
    const Params p = ParamsOf(l_, u);
    if (!AdmissibleImpl(l_.spec, p.alpha, p.beta, p.gamma, p.phi)) return false;
    if (!jtj) {
      double log_f = 0, sse = 0;
      if (!Filter(
              l_, u, y_, [&](int, double e) { sse += e * e; }, &log_f, nullptr))
        return false;
      if (l_.spec.error == Kind::kMultiplicative) sse *= std::exp(2 * log_f / n_);
      *cost = 0.5 * sse;
      return std::isfinite(*cost);
    }
    return EvaluateForward(u, cost, jtj, jtr);
  }

 private:
  bool EvaluateForward(const double* u, double* cost, NormalMatrix* jtj, NormalVector* jtr) {
    const int p = l_.size;
    jtj->resize(p, p);
    jtr->resize(p);
    double log_f = 0, rr = 0;
    std::array<double, kMaxParams> dlog{};
    // The normal equations of the unscaled errors e: accumulated inside the recursion for the small
    // non-seasonal forms, else from the stored Jacobian columns.
    if (!ForwardOf(u, &log_f, dlog.data(), jtj, jtr, &rr)) return false;
    // For multiplicative error the residuals are g e and the Jacobian rows g (de + e dlog_f / n), whose normal
    // equations follow from J'J, J'e and e'e (a rank-two correction).
    if (l_.spec.error == Kind::kMultiplicative) {
      const double g2 = std::exp(2 * log_f / n_);
      if (!std::isfinite(g2)) return false;
      const Eigen::Map<const NormalVector> d(dlog.data(), p);
      const NormalVector dn = d / n_;
      *jtj += *jtr * dn.transpose() + dn * jtr->transpose() + rr * dn * dn.transpose();
      *jtr += rr * dn;
      *jtj *= g2;
      *jtr *= g2;
      rr *= g2;
    }
    *cost = 0.5 * rr;
    return std::isfinite(rr) && jtj->allFinite() && jtr->allFinite();
  }

  // J'J, J'e and e'e from the Jacobian columns and errors Forward stored: dot products of whole columns (for
  // a few parameters and many steps, faster than a matrix product's blocking and packing).
  void NormalFromColumns(NormalMatrix* jtj, NormalVector* jtr, double* rr) const {
    const int p = l_.size;
    const Eigen::Map<const Eigen::MatrixXd> j(jac_.data(), n_, p);
    const Eigen::Map<const Eigen::VectorXd> r(res_.data(), n_);
    *rr = r.squaredNorm();
    for (int a = 0; a < p; ++a) {
      for (int b = 0; b <= a; ++b) (*jtj)(a, b) = (*jtj)(b, a) = j.col(a).dot(j.col(b));
      (*jtr)(a) = j.col(a).dot(r);
    }
  }

  // The recursion with its derivatives carried forward by hand (forward mode): each state component has a
  // row of derivatives with respect to u, updated by one fused elementwise pass per step plus a few sparse
  // corrections for the smoothing parameters. Same values as Filter; no allocation.
  bool ForwardOf(const double* u, double* log_f, double* dlog, NormalMatrix* jtj, NormalVector* jtr, double* rr) {
    const bool trend = l_.spec.trend != Kind::kNone, mult = l_.spec.error == Kind::kMultiplicative;
    const bool damped = l_.phi >= 0;
#define MM_ETS_FORWARD(T, S, M, P) Forward<T, S, M, P>(u, log_f, dlog, jtj, jtr, rr)
    switch (l_.spec.season) {
      case Kind::kNone:  // p = 2 (alpha, l0), 4 (+ beta, b0) or 5 (+ phi): fixed sizes, unrolled
        if (!trend) return mult ? MM_ETS_FORWARD(false, Kind::kNone, true, 2) : MM_ETS_FORWARD(false, Kind::kNone, false, 2);
        if (!damped) return mult ? MM_ETS_FORWARD(true, Kind::kNone, true, 4) : MM_ETS_FORWARD(true, Kind::kNone, false, 4);
        return mult ? MM_ETS_FORWARD(true, Kind::kNone, true, 5) : MM_ETS_FORWARD(true, Kind::kNone, false, 5);
      case Kind::kAdditive:
        return trend ? (mult ? MM_ETS_FORWARD(true, Kind::kAdditive, true, 0)
                             : MM_ETS_FORWARD(true, Kind::kAdditive, false, 0))
                     : (mult ? MM_ETS_FORWARD(false, Kind::kAdditive, true, 0)
                             : MM_ETS_FORWARD(false, Kind::kAdditive, false, 0));
      case Kind::kMultiplicative:
        return trend ? (mult ? MM_ETS_FORWARD(true, Kind::kMultiplicative, true, 0)
                             : MM_ETS_FORWARD(true, Kind::kMultiplicative, false, 0))
                     : (mult ? MM_ETS_FORWARD(false, Kind::kMultiplicative, true, 0)
                             : MM_ETS_FORWARD(false, Kind::kMultiplicative, false, 0));
    }
#undef MM_ETS_FORWARD
    return false;
  }

  // kP > 0: the parameter count, known at compile time; the normal equations are then accumulated here
  // instead of storing the Jacobian.
  template <bool kTrend, Kind kSeason, bool kMultError, int kP>
  bool Forward(const double* u, double* log_f_out, double* dlog_out, NormalMatrix* jtj, NormalVector* jtr,
               double* rr) {
    double* res = res_.data();
    double* jac = jac_.data();
    constexpr bool kHasSeason = kSeason != Kind::kNone;
    constexpr bool kMultSeason = kSeason == Kind::kMultiplicative;
    constexpr bool kInline = kP > 0;
    const int m = l_.m, p = kInline ? kP : l_.size;
    // Inline accumulators (kInline): lower triangle of J'J, J'e, e'e.
    std::array<std::array<double, kInline ? kP : 1>, kInline ? kP : 1> acc{};
    std::array<double, kInline ? kP : 1> acc_r{};
    double acc_rr = 0;
    const Smoothing<double> sm = SmoothingOf(l_, u);
    const double alpha = sm.alpha, beta = sm.beta, gamma = sm.gamma, phi = sm.phi;
    // k = beta / alpha with beta = L + u_b (alpha - L); gamma = L + u_g (1 - alpha - L).
    const double k = beta / alpha;
    const double dk_da = kTrend ? u[l_.beta] / alpha - beta / (alpha * alpha) : 0.0;
    const double dk_db = kTrend ? (alpha - kLower) / alpha : 0.0;
    const double dg_da = kHasSeason ? -u[l_.gamma] : 0.0;
    const double dg_dg = kHasSeason ? 1.0 - alpha - kLower : 0.0;

    using Row = std::array<double, kMaxParams>;
    Row dl{}, db{}, dphib{}, dq{}, df{}, dlog{};
    std::array<Row, kHasSeason ? kMaxPeriod : 1> ds{};
    double l = u[l_.level], b = kTrend ? u[l_.trend] : 0.0;
    dl[l_.level] = 1;
    if (kTrend) db[l_.trend] = 1;
    std::array<double, kMaxPeriod> s{};
    if constexpr (kHasSeason) {
      double sum = 0;
      for (int j = 0; j < m - 1; ++j) {
        s[j] = u[l_.season + j];
        sum += s[j];
        ds[j][l_.season + j] = 1;
        ds[m - 1][l_.season + j] = -1;
      }
      s[m - 1] = (kMultSeason ? m : 0.0) - sum;
      if (kMultSeason)
        for (int j = 0; j < m; ++j)
          if (s[j] < 0) return false;
    }
    double log_f = 0, prod_f = 1;
    int head = 0, row = 0;
    const int phi_index = l_.phi;
    for (size_t t = 0; t < y_.size(); ++t) {
      const int old = kHasSeason ? (head + m - 1) % m : 0;
      const double so = kHasSeason ? s[old] : 0.0;
      double* dso = ds[kHasSeason ? old : 0].data();
      const double phib = kTrend ? phi * b : 0.0;
      const double q = l + phib;
      double f = q;
      if (kSeason == Kind::kAdditive) f = q + so;
      if (kMultSeason) f = q * so;
      for (int i = 0; i < p; ++i) {
        const double dphib_i = kTrend ? phi * db[i] : 0.0;
        const double dq_i = dl[i] + dphib_i;
        dphib[i] = dphib_i;
        dq[i] = dq_i;
        df[i] = kSeason == Kind::kAdditive ? dq_i + dso[i] : kMultSeason ? so * dq_i + q * dso[i] : dq_i;
      }
      if (kTrend && phi_index >= 0) {
        dphib[phi_index] += b;
        dq[phi_index] += b;
        df[phi_index] += kMultSeason ? so * b : b;
      }
      const bool observed = std::isfinite(y_[t]);
      const double yt = observed ? y_[t] : f;
      if (observed) {
        std::array<double, kInline ? kP : 1> local_row;
        // Stored by column (J's column i at jac + i n): the normal equations are then dot products of
        // columns.
        double* jr = kInline ? local_row.data() : jac + row;
        const size_t stride = kInline ? 1 : static_cast<size_t>(n_);
        double e;
        if (kMultError) {
          e = (yt - f) / f;
          const double c = -yt / (f * f), inv_f = 1.0 / f;
          for (int i = 0; i < p; ++i) {
            jr[i * stride] = c * df[i];
            dlog[i] += inv_f * df[i];
          }
          // sum log|f| as the log of a running product (one log per many steps), flushed before it could
          // overflow or underflow.
          prod_f *= std::abs(f);
          if (!(prod_f < 1e150 && prod_f > 1e-150)) log_f += std::log(prod_f), prod_f = 1;
        } else {
          e = yt - f;
          for (int i = 0; i < p; ++i) jr[i * stride] = -df[i];
        }
        if constexpr (kInline) {
          for (int i = 0; i < kP; ++i) {
            acc_r[i] += jr[i] * e;
            for (int j = 0; j <= i; ++j) acc[i][j] += jr[i] * jr[j];
          }
          acc_rr += e * e;
        } else {
          res[row] = e;
        }
        ++row;
      }
      // d(yt) is zero for an observation and df for a missing step.
      const double dy_scale = observed ? 0.0 : 1.0;
      // Deseasonalised value pv and detrended value tv, with their derivative coefficients:
      // dpv = cp_y dyt + cp_s dso, dtv = ct_y dyt + ct_q dq.
      double pv = yt, cp_y = 1, cp_s = 0;
      if (kSeason == Kind::kAdditive) pv = yt - so, cp_s = -1;
      if (kMultSeason) {
        if (std::abs(so) < kTol) {
          pv = kHuge, cp_y = 0;
        } else {
          pv = yt / so, cp_y = 1 / so, cp_s = -yt / (so * so);
        }
      }
      double tv = 0, ct_y = 0, ct_q = 0;
      if (kSeason == Kind::kAdditive) tv = yt - q, ct_y = 1, ct_q = -1;
      if (kMultSeason && std::abs(q) >= kTol) tv = yt / q, ct_y = 1 / q, ct_q = -yt / (q * q);
      if (kMultSeason && std::abs(q) < kTol) tv = kHuge;
      const double level = q + alpha * (pv - q);
      const double r = level - l;
      for (int i = 0; i < p; ++i) {
        const double dyt_i = dy_scale * df[i];
        const double dpv_i = cp_y * dyt_i + (kHasSeason ? cp_s * dso[i] : 0.0);
        const double dlevel_i = (1 - alpha) * dq[i] + alpha * dpv_i;
        if (kTrend) db[i] = (1 - k) * dphib[i] + k * (dlevel_i - dl[i]);
        if (kHasSeason) dso[i] = (1 - gamma) * dso[i] + gamma * (ct_y * dyt_i + ct_q * dq[i]);
        dl[i] = dlevel_i;
      }
      // Sparse terms: the smoothing parameters' own derivatives.
      dl[0] += pv - q;
      if (kTrend) {
        db[0] += k * (pv - q) + (r - phib) * dk_da;
        db[l_.beta] += (r - phib) * dk_db;
        b = phib + k * (r - phib);
      }
      if constexpr (kHasSeason) {
        dso[0] += (tv - so) * dg_da;
        dso[l_.gamma] += (tv - so) * dg_dg;
        s[old] = so + gamma * (tv - so);
        head = old;
      }
      l = level;
    }
    *log_f_out = log_f + std::log(prod_f);
    if (kMultError) std::copy(dlog.begin(), dlog.begin() + p, dlog_out);
    if constexpr (kInline) {
      for (int i = 0; i < kP; ++i) {
        (*jtr)(i) = acc_r[i];
        for (int j = 0; j <= i; ++j) (*jtj)(i, j) = (*jtj)(j, i) = acc[i][j];
      }
      *rr = acc_rr;
    } else {
      NormalFromColumns(jtj, jtr, rr);
    }
    return true;
  }

  Layout l_;
  std::span<const double> y_;
  int n_;
  std::vector<double> res_, jac_;
};

// ---------------------------------------------------------------- initial states (R's initstate)
struct LineFit {
  double intercept = 0, slope = 0;
};

// Least squares line through (t + 1, v[t]) over the finite v[t] (R's lsfit(1:n, v)).
LineFit FitLine(std::span<const double> v) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t t = 0; t < v.size(); ++t) {
    if (!std::isfinite(v[t])) continue;
    const double x = static_cast<double>(t + 1);
    n += 1, sx += x, sy += v[t], sxx += x * x, sxy += x * v[t];
  }
  LineFit f;
  if (n == 0) return f;
  const double den = n * sxx - sx * sx;
  f.slope = den > 0 ? (n * sxy - sx * sy) / den : 0.0;
  f.intercept = (sy - f.slope * sx) / n;
  return f;
}

// The seasonal component R's initstate() starts from: a classical decomposition (R's decompose()) when there
// are three cycles, else a regression on a line and one Fourier pair. Indexed by time, length y.size().
std::vector<double> InitialSeasonal(std::span<const double> y, int m, bool mult) {
  const size_t n = y.size();
  std::vector<double> seasonal(n, mult ? 1.0 : 0.0);
  if (n < 3 * static_cast<size_t>(m)) {
    const bool with_sin = m > 2;  // sin(pi t) is zero: R's fourier() drops it for m = 2
    const int cols = with_sin ? 4 : 3;
    Eigen::MatrixXd x(n, cols);
    Eigen::VectorXd v(n);
    int rows = 0;
    for (size_t t = 0; t < n; ++t) {
      if (!std::isfinite(y[t])) continue;
      const double tt = static_cast<double>(t + 1), w = 2 * std::numbers::pi * tt / m;
      x(rows, 0) = 1;
      x(rows, 1) = tt;
      x(rows, 2) = std::cos(w);
      if (with_sin) x(rows, 3) = std::sin(w);
      v(rows++) = y[t];
    }
    const Eigen::VectorXd b = x.topRows(rows).colPivHouseholderQr().solve(v.head(rows));
    for (size_t t = 0; t < n; ++t) {
      const double trend = b(0) + b(1) * static_cast<double>(t + 1);
      if (!std::isfinite(y[t])) continue;
      seasonal[t] = mult ? y[t] / trend : y[t] - trend;
    }
    return seasonal;
  }
  // Centred moving average of order m (2 x m for even m), then the mean detrended value per cycle position.
  const int half = m / 2;
  std::vector<double> sum(m, 0.0), count(m, 0.0);
  for (size_t t = half; t + half < n; ++t) {
    double trend = 0;
    if (m % 2 == 0) {
      trend = 0.5 * (y[t - half] + y[t + half]);
      for (int k = -half + 1; k < half; ++k) trend += y[t + k];
    } else {
      for (int k = -half; k <= half; ++k) trend += y[t + k];
    }
    trend /= m;
    const double d = mult ? y[t] / trend : y[t] - trend;
    if (!std::isfinite(d)) continue;  // a missing value in the window
    sum[t % m] += d;
    count[t % m] += 1;
  }
  std::vector<double> figure(m);
  double mean = 0;
  for (int i = 0; i < m; ++i) {
    figure[i] = count[i] > 0 ? sum[i] / count[i] : (mult ? 1.0 : 0.0);
    mean += figure[i] / m;
  }
  for (int i = 0; i < m; ++i) figure[i] = mult ? figure[i] / mean : figure[i] - mean;
  for (size_t t = 0; t < n; ++t) seasonal[t] = figure[t % m];
  return seasonal;
}

// R's initstate(): u's state part (l0, b0, s_0 .. s_{m-2}).
void InitialState(const Layout& l, std::span<const double> y, double* u) {
  const Spec& spec = l.spec;
  const int m = l.m;
  std::vector<double> sa(y.begin(), y.end());
  if (spec.season != Kind::kNone) {
    const bool mult = spec.season == Kind::kMultiplicative;
    std::vector<double> seasonal = InitialSeasonal(y, m, mult);
    std::vector<double> init(m - 1);
    for (int j = 0; j < m - 1; ++j) init[j] = seasonal[m - 1 - j];  // rev(seasonal[2:m])
    if (!mult) {
      for (size_t t = 0; t < y.size(); ++t) sa[t] = y[t] - seasonal[t];
    } else {
      double s = 0, s2 = 0;
      for (double& v : init) {
        v = std::max(v, 1e-2);
        s += v;
        s2 += v + 1e-2;
      }
      if (s > m)
        for (double& v : init) v /= s2;
      for (size_t t = 0; t < y.size(); ++t) sa[t] = y[t] / std::max(seasonal[t], 1e-2);
    }
    for (int j = 0; j < m - 1; ++j) u[l.season + j] = init[j];
  }
  const size_t maxn = std::min<size_t>(std::max(10, 2 * m), sa.size());
  const std::span<const double> head(sa.data(), maxn);
  if (spec.trend == Kind::kNone) {
    double s = 0, c = 0;
    for (double v : head)
      if (std::isfinite(v)) s += v, c += 1;
    u[l.level] = s / c;
  } else {
    const LineFit f = FitLine(head);
    double l0 = f.intercept, b0 = f.slope;
    if (std::abs(l0 + b0) < 1e-8) {
      l0 *= 1 + 1e-3;
      b0 *= 1 - 1e-3;
    }
    u[l.level] = l0;
    u[l.trend] = b0;
  }
}

// ---------------------------------------------------------------- the fitted model
class NormalRng {
 public:
  explicit NormalRng(uint64_t seed) : gen_(seed) {}
  double Next() {  // Box-Muller, so results do not depend on the standard library's distributions
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = Uniform(), u2 = Uniform();
    const double r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }

 private:
  double Uniform() { return (static_cast<double>(gen_() >> 11) + 0.5) * 0x1.0p-53; }  // in (0, 1)
  std::mt19937_64 gen_;
  bool has_spare_ = false;
  double spare_ = 0;
};

// One step of a state (R order in State, ring here): forecast, then update with y (NaN = use the forecast).
struct StepState {
  double level, trend;
  std::array<double, kMaxPeriod> s;
  int head;
};

double OneStep(const Spec& spec, const Params& p, const StepState& x, int m) {
  const int oldest = (x.head + m - 1) % m;
  double f = x.level + (spec.trend != Kind::kNone ? p.phi * x.trend : 0.0);
  if (spec.season == Kind::kAdditive) f += x.s[oldest];
  if (spec.season == Kind::kMultiplicative) f *= x.s[oldest];
  return f;
}

void Update(const Spec& spec, const Params& p, StepState* x, int m, double y) {
  const int oldest = (x->head + m - 1) % m;
  const double phib = spec.trend != Kind::kNone ? p.phi * x->trend : 0.0;
  const double q = x->level + phib;
  double deseason = y;
  if (spec.season == Kind::kAdditive) deseason = y - x->s[oldest];
  if (spec.season == Kind::kMultiplicative)
    deseason = std::abs(x->s[oldest]) < kTol ? kHuge : y / x->s[oldest];
  const double level = q + p.alpha * (deseason - q);
  if (spec.trend != Kind::kNone) x->trend = phib + (p.beta / p.alpha) * (level - x->level - phib);
  if (spec.season != Kind::kNone) {
    const double detrend =
        spec.season == Kind::kMultiplicative ? (std::abs(q) < kTol ? kHuge : y / q) : y - q;
    x->s[oldest] += p.gamma * (detrend - x->s[oldest]);
    x->head = oldest;
  }
  x->level = level;
}

StepState ToStep(const Spec& spec, const State& s) {
  StepState x{s.level, s.trend, {}, 0};
  if (spec.season != Kind::kNone)
    for (int j = 0; j < spec.m && j < kMaxPeriod; ++j) x.s[j] = s.season[j];
  return x;
}

// R's quantile(type = 8) of the values at probs (ascending); may reorder v. The order statistics all
// quantiles need are selected together (the same values as sorting; R's quantile() also partially reorders,
// no full sort).
template <size_t K>
std::array<double, K> Quantiles8(std::vector<double>& v, const std::array<double, K>& probs,
                                 std::vector<double>* scratch) {
  const size_t n = v.size();
  std::array<double, K> h{};
  std::array<size_t, K> lo{};
  std::array<size_t, 2 * K> idx{};
  size_t count = 0;
  for (size_t i = 0; i < K; ++i) {
    h[i] = (static_cast<double>(n) + 1.0 / 3.0) * probs[i] + 1.0 / 3.0;
    lo[i] = h[i] <= 1 ? 1 : h[i] >= static_cast<double>(n) ? n : static_cast<size_t>(std::floor(h[i]));
    for (size_t k : {lo[i] - 1, lo[i]})
      if (k < n && (count == 0 || idx[count - 1] < k)) idx[count++] = k;
  }
  std::array<double, 2 * K> stat{};
  OrderStatistics(v, std::span<const size_t>(idx.data(), count), std::span<double>(stat.data(), count),
                  scratch);
  auto at = [&](size_t k) {
    return stat[static_cast<size_t>(std::find(idx.begin(), idx.begin() + count, k) - idx.begin())];
  };
  std::array<double, K> q{};
  for (size_t i = 0; i < K; ++i) {
    const double a = at(lo[i] - 1);
    q[i] = h[i] <= 1 || h[i] >= static_cast<double>(n) ? a : a + (h[i] - std::floor(h[i])) * (at(lo[i]) - a);
  }
  return q;
}

class EtsModel final : public FittedModel {
 public:
  explicit EtsModel(Fit fit) : fit_(std::move(fit)) {}
  std::string_view method() const override { return "ets"; }
  std::string Label() const override { return fit_.spec.Label(); }
  const Fit& fit() const { return fit_; }

  Forecast Predict(int h) const override {
    if (h <= 0) return Forecast{};
    const std::vector<double> mean = PointForecast(fit_.spec, fit_.par, fit_.last, h);
    if (fit_.spec.error == Kind::kAdditive) {
      // Linear model (class 1): var_h = sigma2 (1 + sum_{j<h} c_j^2), c_j the j-step response to a unit
      // error.
      State impulse;
      impulse.level = fit_.par.alpha;
      impulse.trend = fit_.par.beta;
      if (fit_.spec.season != Kind::kNone) {
        impulse.season.assign(fit_.spec.m, 0.0);
        impulse.season[0] = fit_.par.gamma;
      }
      const std::vector<double> c = PointForecast(fit_.spec, fit_.par, impulse, h);
      std::vector<double> se(h);
      double sum = 1.0;
      for (int i = 0; i < h; ++i) {
        se[i] = std::sqrt(fit_.sigma2 * sum);
        sum += c[i] * c[i];
      }
      return NormalForecast(mean, se);
    }
    return Simulated(mean, h);
  }
  std::vector<double> PredictMean(int h) const override {
    if (h <= 0) return {};
    return PointForecast(fit_.spec, fit_.par, fit_.last, h);
  }

  // The fit's recursion (Filter) run on from the last state with the fitted parameters: a missing value is
  // replaced by its one-step forecast (the state carried forward, no error). sigma2, the information criteria,
  // n_obs and the simulation seed stay as fitted.
  FitOutcome Update(std::span<const double> v, const UpdateContext&) const override {
    if (std::string err = CheckUpdateValues(v, method()); !err.empty()) return {nullptr, err};
    const Spec& spec = fit_.spec;
    const bool mult = spec.error == Kind::kMultiplicative || spec.season == Kind::kMultiplicative;
    for (double y : v)
      if (mult && y <= 0) return {nullptr, spec.Label() + ": multiplicative forms need positive data, got " +
                                                FormatParameter(y)};
    const int m = spec.season == Kind::kNone ? 1 : spec.m;
    StepState x = ToStep(spec, fit_.last);
    for (double y : v) ets::Update(spec, fit_.par, &x, m, std::isfinite(y) ? y : OneStep(spec, fit_.par, x, m));
    Fit fit = fit_;
    fit.last.level = x.level;
    fit.last.trend = x.trend;
    for (int j = 0; j < static_cast<int>(fit.last.season.size()); ++j) fit.last.season[j] = x.s[(x.head + j) % m];
    return {std::make_unique<EtsModel>(std::move(fit)), {}};
  }

  void Save(ByteWriter* out) const override {
    const Spec& s = fit_.spec;
    for (Kind k : {s.error, s.trend, s.season}) out->PutU8(static_cast<uint8_t>(k));
    out->PutU8(s.damped ? 1 : 0);
    out->PutI64(s.m);
    for (double v : {fit_.par.alpha, fit_.par.beta, fit_.par.gamma, fit_.par.phi}) out->PutF64(v);
    out->PutF64(fit_.last.level);
    out->PutF64(fit_.last.trend);
    out->PutF64s(fit_.last.season);
    for (double v : {fit_.sigma2, fit_.lik, fit_.aicc}) out->PutF64(v);
    out->PutI64(fit_.n_obs);
    out->PutI64(fit_.n_params);
    out->PutU64(fit_.seed);
  }

  std::string Describe() const override {
    std::string d = "alpha=" + FormatParameter(fit_.par.alpha);
    if (fit_.spec.trend != Kind::kNone) d += ", beta=" + FormatParameter(fit_.par.beta);
    if (fit_.spec.season != Kind::kNone) d += ", gamma=" + FormatParameter(fit_.par.gamma);
    if (fit_.spec.damped) d += ", phi=" + FormatParameter(fit_.par.phi);
    return d + ", sigma2=" + FormatParameter(fit_.sigma2) + ", aicc=" + FormatParameter(fit_.aicc);
  }

 private:
  // Sample paths with relative N(0, sigma2) errors, drawn step by step across all paths so that the first
  // steps do not depend on h; quantiles as R's (type 8). The point forecast stays the model's mean.
  Forecast Simulated(const std::vector<double>& mean, int h) const {
    const Spec& spec = fit_.spec;
    const int m = spec.season == Kind::kNone ? 1 : spec.m;
    const double sigma = std::sqrt(fit_.sigma2);
    std::vector<StepState> paths(kSimulatedPaths, ToStep(spec, fit_.last));
    std::vector<double> values(kSimulatedPaths), scratch;
    NormalRng rng(fit_.seed);
    Forecast f;
    f.Resize(h);
    for (int i = 0; i < h; ++i) {
      for (int k = 0; k < kSimulatedPaths; ++k) {
        const double yhat = OneStep(spec, fit_.par, paths[k], m);
        const double e = sigma * rng.Next();
        const double y = spec.error == Kind::kMultiplicative ? yhat * (1 + e) : yhat + e;
        values[k] = y;
        ets::Update(spec, fit_.par, &paths[k], m, y);
      }
      f.mean[i] = mean[i];
      const std::array<double, 4> q =
          Quantiles8(values, std::array<double, 4>{0.025, 0.10, 0.90, 0.975}, &scratch);
      f.lo95[i] = q[0];
      f.lo80[i] = q[1];
      f.hi80[i] = q[2];
      f.hi95[i] = q[3];
    }
    return f;
  }

  Fit fit_;
};

using ParamVector = std::array<double, kMaxParams>;

// Levenberg-Marquardt with box bounds, as Ceres' trust region minimizer does it with its default options
// (LevenbergMarquardtStrategy, Jacobi scaling, steps projected onto the bounds, no line search): but on the
// normal equations J'J and J'r the cost function accumulates, without Ceres' per-iteration machinery, and
// with the Jacobian computed together with each candidate's cost (one pass of the recursion per iteration;
// most steps are accepted). One departure from Ceres, when hold_at_bounds: parameters on a bound that the
// gradient pushes outward are held there (an active set) rather than stepping out and projecting back, which
// stalled Ceres on forms whose optimum is on a bound (it often stopped far from the optimum). Returns false
// when the start cannot be evaluated.
bool Minimize(LikelihoodCost* cost, int p, const ParamVector& lower, const ParamVector& upper, bool hold_at_bounds,
              ParamVector* u) {
  constexpr int kMaxIterations = 100;
  constexpr double kFunctionTolerance = 1e-6, kGradientTolerance = 1e-10, kParameterTolerance = 1e-8;
  constexpr double kMinRelativeDecrease = 1e-3, kMinDiagonal = 1e-6, kMaxDiagonal = 1e32;
  constexpr double kMaxRadius = 1e16, kMinRadius = 1e-32;
  NormalMatrix jtj, cand_jtj, a;
  NormalVector jtr, cand_jtr, scale(p), dx(p), delta(p);
  ParamVector x = *u, cand = x;
  double f = 0, cand_f = 0;
  if (!cost->Evaluate(x.data(), &f, &jtj, &jtr)) return false;
  for (int i = 0; i < p; ++i) scale(i) = 1.0 / (1.0 + std::sqrt(jtj(i, i)));
  // Ceres' gradient test: the projected gradient step |x - P(x - g)|_inf.
  auto projected_gradient = [&](const NormalVector& g) {
    double m = 0;
    for (int i = 0; i < p; ++i) m = std::max(m, std::abs(x[i] - std::clamp(x[i] - g(i), lower[i], upper[i])));
    return m;
  };
  double radius = 1e4, decrease = 2;
  if (projected_gradient(jtr) <= kGradientTolerance) return true;
  for (int iter = 0; iter < kMaxIterations; ++iter) {
    // Scaled system (S J'J S + D / radius) dx = -S J'r with D = diag(S J'J S) clamped, delta = S dx.
    a = scale.asDiagonal() * jtj * scale.asDiagonal();
    NormalVector g = scale.cwiseProduct(jtr);
    for (int i = 0; i < p; ++i) a(i, i) += std::clamp(a(i, i), kMinDiagonal, kMaxDiagonal) / radius;
    // A parameter on a bound that the gradient pushes outward stays there (left out of the step): projecting
    // an unconstrained step instead makes Levenberg-Marquardt crawl along the bound with tiny steps.
    for (int i = 0; i < p && hold_at_bounds; ++i) {
      if (!((x[i] <= lower[i] && jtr(i) > 0) || (x[i] >= upper[i] && jtr(i) < 0))) continue;
      a.row(i).setZero();
      a.col(i).setZero();
      a(i, i) = 1;
      g(i) = 0;
    }
    Eigen::LLT<NormalMatrix> llt(a);
    bool valid = llt.info() == Eigen::Success;
    double model_change = 0;
    if (valid) {
      dx = -llt.solve(g);
      // Decrease of the linear model 0.5 |r + J delta|^2, without the regularisation.
      const NormalVector sd = scale.cwiseProduct(dx);
      model_change = -(g.dot(dx) + 0.5 * sd.dot(jtj * sd));
      valid = std::isfinite(model_change) && model_change > 0;
    }
    if (!valid) {
      radius /= decrease;
      decrease *= 2;
      if (radius < kMinRadius) break;
      continue;
    }
    delta = scale.cwiseProduct(dx);
    double step2 = 0, x2 = 0;
    for (int i = 0; i < p; ++i) {
      cand[i] = std::clamp(x[i] + delta(i), lower[i], upper[i]);
      step2 += (cand[i] - x[i]) * (cand[i] - x[i]);
      x2 += x[i] * x[i];
    }
    if (std::sqrt(step2) <= kParameterTolerance * (std::sqrt(x2) + kParameterTolerance)) break;
    if (!cost->Evaluate(cand.data(), &cand_f, &cand_jtj, &cand_jtr)) cand_f = std::numeric_limits<double>::max();
    const double change = f - cand_f;
    if (std::abs(change) <= kFunctionTolerance * f) break;
    const double rho = change / model_change;
    if (rho > kMinRelativeDecrease) {
      x = cand;
      f = cand_f;
      std::swap(jtj, cand_jtj);
      std::swap(jtr, cand_jtr);
      radius = std::min(kMaxRadius, radius / std::max(1.0 / 3.0, 1.0 - std::pow(2.0 * rho - 1.0, 3)));
      decrease = 2;
      if (projected_gradient(jtr) <= kGradientTolerance) break;
    } else {
      radius /= decrease;
      decrease *= 2;
      if (radius < kMinRadius) break;
    }
  }
  *u = x;
  return true;
}

// Fits a form by maximum likelihood from R's starting values, or from `warm` (the optimum of a form with the
// same parameters) when given and admissible. Returns null with a reason when the form cannot be fitted (too
// many parameters, inadmissible start, optimiser failure). The optimum goes to *u_out when given.
FitOutcome Estimate(std::span<const double> y, const Spec& spec, const FitContext& ctx,
                    const ParamVector* warm = nullptr, ParamVector* u_out = nullptr) {
  const Layout l = MakeLayout(spec);
  const int n_obs = CountFinite(y);
  if (l.size >= n_obs - 1) return {nullptr, spec.Label() + ": not enough data for its parameters"};
  ParamVector u{};
  // R's initparam(): alpha = lower + 0.2 (upper - lower) / m, beta a tenth of the way to alpha, gamma 5% of
  // the way to 1 - alpha, phi 99% of the way to its upper bound.
  u[0] = kLower + 0.2 * (kUpper - kLower) / l.m;
  if (l.beta >= 0) u[l.beta] = 0.1;
  if (l.gamma >= 0) u[l.gamma] = 0.05;
  if (l.phi >= 0) u[l.phi] = kPhiLower + 0.99 * (kPhiUpper - kPhiLower);
  InitialState(l, y, u.data());
  for (int i = 0; i < l.size; ++i)
    if (!std::isfinite(u[i])) return {nullptr, spec.Label() + ": no finite initial state"};

  LikelihoodCost cost(l, y, n_obs);
  double c0 = 0;
  if (warm && cost.Evaluate(warm->data(), &c0)) u = *warm;
  if (!cost.Evaluate(u.data(), &c0)) return {nullptr, spec.Label() + ": inadmissible start"};
  ParamVector lower{}, upper{};
  for (int i = 0; i < l.size; ++i) lower[i] = -kInf, upper[i] = kInf;
  lower[0] = kLower, upper[0] = kUpper;
  for (int i : {l.beta, l.gamma})
    if (i >= 0) lower[i] = 0.0, upper[i] = 1.0;
  if (l.phi >= 0) lower[l.phi] = kPhiLower, upper[l.phi] = kPhiUpper;
  // The active set only for the non-seasonal forms: on the seasonal ones (up to 29 parameters) it also finds
  // better optima, but changes many selections and made M4 hourly less accurate (MASE +10% on all 414 series).
  if (!Minimize(&cost, l.size, lower, upper, spec.season == Kind::kNone, &u)) return {nullptr, spec.Label() + ": optimizer failed"};

  // The likelihood, residual variance and final state at the optimum.
  Ring<double> last;
  double log_f = 0, sse = 0;
  const bool ok = Filter(
      l, u.data(), y, [&](int, double e) { sse += e * e; }, &log_f, &last);
  if (!ok || !std::isfinite(sse) || !std::isfinite(log_f)) return {nullptr, spec.Label() + ": no finite fit"};
  Fit fit;
  fit.spec = spec;
  fit.par = ParamsOf(l, u.data());
  fit.last = StateOf(l, last);
  fit.n_obs = n_obs;
  fit.n_params = l.size;
  fit.lik = std::max(n_obs * std::log(sse) + (spec.error == Kind::kMultiplicative ? 2 * log_f : 0.0), -1e10);
  const double np = l.size + 1.0, ny = n_obs;
  fit.aicc = fit.lik + 2 * np + 2 * np * (np + 1) / (ny - np - 1);
  fit.sigma2 = sse / (ny - l.size);
  fit.seed = ctx.seed;
  if (!std::isfinite(fit.lik)) return {nullptr, spec.Label() + ": no finite likelihood"};
  for (double v : PointForecast(spec, fit.par, fit.last, 1))
    if (!std::isfinite(v)) return {nullptr, spec.Label() + ": no finite forecast"};
  if (u_out) *u_out = u;
  return {std::make_unique<EtsModel>(std::move(fit)), {}};
}

// ETS(A,N,N) with a given alpha from l0 = y[0], for constant and very short series (R: ses() and
// HoltWintersZZ(beta = FALSE, gamma = FALSE)); sigma2 is the mean squared one-step error.
std::unique_ptr<FittedModel> SimpleSmoothing(std::span<const double> y, double alpha, const FitContext& ctx,
                                             double* sse_out) {
  Fit fit;
  fit.spec = Spec{};
  fit.par.alpha = alpha;
  double level = y[0], sse = 0;
  int n = 0;
  for (double v : y) {
    if (!std::isfinite(v)) continue;
    sse += (v - level) * (v - level);
    ++n;
    level += alpha * (v - level);
  }
  fit.last.level = level;
  fit.sigma2 = sse / n;
  fit.n_obs = n;
  fit.n_params = 2;
  fit.lik = kNaN;
  fit.aicc = kNaN;
  fit.seed = ctx.seed;
  if (sse_out) *sse_out = sse;
  return std::make_unique<EtsModel>(std::move(fit));
}

// Golden-section search of alpha in [0, 1] on the SSE (R optimises it with L-BFGS-B).
std::unique_ptr<FittedModel> TinySmoothing(std::span<const double> y, const FitContext& ctx) {
  auto sse = [&](double a) {
    double s = 0;
    SimpleSmoothing(y, a, ctx, &s);
    return s;
  };
  const double g = (std::sqrt(5.0) - 1) / 2;
  double a = 0, b = 1, c = b - g * (b - a), d = a + g * (b - a);
  double fc = sse(c), fd = sse(d);
  for (int i = 0; i < 40; ++i) {
    if (fc < fd) {
      b = d, d = c, fd = fc, c = b - g * (b - a), fc = sse(c);
    } else {
      a = c, c = d, fc = fd, d = a + g * (b - a), fd = sse(d);
    }
  }
  return SimpleSmoothing(y, std::clamp((a + b) / 2, kLower, 1.0), ctx, nullptr);
}

bool IsConstant(std::span<const double> y) {
  double first = kNaN;
  for (double v : y) {
    if (!std::isfinite(v)) continue;
    if (std::isnan(first)) first = v;
    if (v != first) return false;
  }
  return true;
}

// The forms R's ets() tries, in its order.
std::vector<Spec> Candidates(std::span<const double> y, int m) {
  bool positive = true;
  for (double v : y)
    if (std::isfinite(v) && v <= 0) positive = false;
  const bool seasonal = m > 1 && m <= kMaxPeriod && y.size() > static_cast<size_t>(m);
  std::vector<Spec> specs;
  for (Kind error : {Kind::kAdditive, Kind::kMultiplicative}) {
    if (error == Kind::kMultiplicative && !positive) continue;
    for (Kind trend : {Kind::kNone, Kind::kAdditive}) {
      for (Kind season : {Kind::kNone, Kind::kAdditive, Kind::kMultiplicative}) {
        if (season != Kind::kNone && !seasonal) continue;
        if (error == Kind::kAdditive && season == Kind::kMultiplicative) continue;
        for (bool damped : {true, false}) {
          if (trend == Kind::kNone && damped) continue;
          specs.push_back(Spec{error, trend, season, damped, season == Kind::kNone ? 1 : m});
        }
      }
    }
  }
  return specs;
}

class Ets final : public Method {
 public:
  std::string_view name() const override { return "ets"; }
  int MinObservations(const FitContext&) const override { return 3; }
  double RelativeCost() const override { return 200.0; }

  FitOutcome Fit(std::span<const double> y, const FitContext& ctx) const override {
    const int n_obs = CountFinite(y);
    if (n_obs < 3 || !std::isfinite(y.front()))
      return {nullptr, "ets needs 3 observations, the first one finite"};
    if (IsConstant(y)) return {SimpleSmoothing(y, 0.99999, ctx, nullptr), {}};
    // R: n <= npars + 4 with npars = 2 (l0 and alpha) for model "ZZZ": simple smoothing on the SSE.
    if (y.size() <= 6) return {TinySmoothing(y, ctx), {}};
    FitOutcome best{nullptr, "ets: no model could be fitted"};
    double best_aicc = std::numeric_limits<double>::infinity();
    // Optima of the additive-error forms, by (trend, damped, season): a multiplicative-error form with the
    // same components has the same parameters and its optimum is usually near, so it starts there (fewer
    // iterations than from R's starting values).
    std::array<ParamVector, 12> additive_optimum;
    std::array<bool, 12> have{};
    for (const Spec& spec : Candidates(y, ctx.PrimaryPeriod())) {
      const int key = (spec.trend == Kind::kNone ? 0
                       : spec.damped             ? 1
                                                 : 2) *
                          3 +
                      static_cast<int>(spec.season);
      const bool additive = spec.error == Kind::kAdditive;
      ParamVector u;
      FitOutcome fit = Estimate(y, spec, ctx, !additive && have[key] ? &additive_optimum[key] : nullptr, &u);
      if (!fit.model) continue;
      if (additive) additive_optimum[key] = u, have[key] = true;
      const double aicc = static_cast<const EtsModel&>(*fit.model).fit().aicc;
      if (aicc < best_aicc) {
        best_aicc = aicc;
        best = std::move(fit);
      }
    }
    return best;
  }

  std::unique_ptr<FittedModel> Load(ByteReader* in) const override {
    ets::Fit fit;
    Kind kinds[3];
    for (Kind& k : kinds) {
      const uint8_t v = in->GetU8();
      if (v > 2) throw std::runtime_error("ets: corrupt model form in saved model");
      k = static_cast<Kind>(v);
    }
    fit.spec.error = kinds[0];
    fit.spec.trend = kinds[1];
    fit.spec.season = kinds[2];
    fit.spec.damped = in->GetU8() != 0;
    const int64_t m = in->GetI64();
    if (m < 1 || m > kMaxPeriod) throw std::runtime_error("ets: corrupt period in saved model");
    fit.spec.m = static_cast<int>(m);
    fit.par.alpha = in->GetF64();
    fit.par.beta = in->GetF64();
    fit.par.gamma = in->GetF64();
    fit.par.phi = in->GetF64();
    fit.last.level = in->GetF64();
    fit.last.trend = in->GetF64();
    fit.last.season = in->GetF64s();
    const size_t want = fit.spec.season == Kind::kNone ? 0 : static_cast<size_t>(m);
    if (fit.last.season.size() != want)
      throw std::runtime_error("ets: corrupt seasonal state in saved model");
    fit.sigma2 = in->GetF64();
    fit.lik = in->GetF64();
    fit.aicc = in->GetF64();
    fit.n_obs = static_cast<int>(in->GetI64());
    fit.n_params = static_cast<int>(in->GetI64());
    fit.seed = in->GetU64();
    return std::make_unique<EtsModel>(std::move(fit));
  }
};

}  // namespace

std::string Spec::Label() const {
  std::string s = "ETS(";
  s += KindChar(error);
  s += ',';
  s += KindChar(trend);
  if (damped) s += 'd';
  s += ',';
  s += KindChar(season);
  return s + ")";
}

FitOutcome FitForm(std::span<const double> y, const Spec& spec, const FitContext& ctx) {
  if (spec.season != Kind::kNone && (spec.m < 2 || spec.m > kMaxPeriod))
    return {nullptr, "ets: seasonal period must be in [2, 24]"};
  if (CountFinite(y) < 3 || !std::isfinite(y.front())) return {nullptr, "ets needs 3 observations"};
  const bool mult = spec.error == Kind::kMultiplicative || spec.season == Kind::kMultiplicative;
  for (double v : y)
    if (mult && std::isfinite(v) && v <= 0)
      return {nullptr, spec.Label() + ": multiplicative forms need positive data"};
  Spec s = spec;
  if (s.season == Kind::kNone) s.m = 1;
  if (s.trend == Kind::kNone) s.damped = false;
  return Estimate(y, s, ctx);
}

const Fit* FitOf(const FittedModel& model) {
  const auto* ets = dynamic_cast<const EtsModel*>(&model);
  return ets ? &ets->fit() : nullptr;
}

std::vector<double> PointForecast(const Spec& spec, const Params& par, const State& state, int h) {
  std::vector<double> f(std::max(h, 0));
  const int m = spec.season == Kind::kNone ? 1 : spec.m;
  double phistar = spec.trend != Kind::kNone ? par.phi : 0.0;
  for (int i = 0; i < h; ++i) {
    f[i] = state.level + phistar * state.trend;
    const int j = (m - 1 - i % m);
    if (spec.season == Kind::kAdditive) f[i] += state.season[j];
    if (spec.season == Kind::kMultiplicative) f[i] *= state.season[j];
    if (spec.trend != Kind::kNone) phistar += std::pow(par.phi, i + 2.0);
  }
  return f;
}

std::vector<double> Simulate(const Spec& spec, const Params& par, const State& initial, int n, double sigma,
                             uint64_t seed) {
  const int m = spec.season == Kind::kNone ? 1 : spec.m;
  StepState x = ToStep(spec, initial);
  NormalRng rng(seed);
  std::vector<double> y(std::max(n, 0));
  for (double& v : y) {
    const double f = OneStep(spec, par, x, m);
    const double e = sigma * rng.Next();
    v = spec.error == Kind::kMultiplicative ? f * (1 + e) : f + e;
    Update(spec, par, &x, m, v);
  }
  return y;
}

double Lik(std::span<const double> y, const Spec& spec, const Params& par, const State& initial) {
  const int m = spec.season == Kind::kNone ? 1 : spec.m;
  StepState x = ToStep(spec, initial);
  double sse = 0, log_f = 0;
  int n = 0;
  for (double v : y) {
    const double f = OneStep(spec, par, x, m);
    if (std::isfinite(v)) {
      const double e = spec.error == Kind::kMultiplicative ? (v - f) / f : v - f;
      sse += e * e;
      log_f += std::log(std::abs(f));
      ++n;
    }
    Update(spec, par, &x, m, std::isfinite(v) ? v : f);
  }
  return n * std::log(sse) + (spec.error == Kind::kMultiplicative ? 2 * log_f : 0.0);
}

bool Admissible(const Spec& spec, const Params& par) {
  return AdmissibleImpl(spec, par.alpha, par.beta, par.gamma, spec.damped ? par.phi : 1.0);
}

}  // namespace ets

const Method& EtsMethod() {
  static const ets::Ets m;
  return m;
}

}  // namespace mm
