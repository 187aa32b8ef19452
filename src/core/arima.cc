#include "manymodels/core/arima.h"

#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <complex>
#include <cstring>
#include <functional>
#include <limits>
#include <sstream>

#include "manymodels/core/fourier.h"
#include "manymodels/core/series.h"

namespace mm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kKappa = 1e6;  // prior variance of the differenced states, as stats::arima
constexpr double kLog2Pi = 1.8378770664093453;

bool IsConstant(std::span<const double> y) {
  double first = kNaN;
  for (double v : y) {
    if (!std::isfinite(v)) continue;
    if (std::isnan(first)) first = v;
    else if (v != first) return false;
  }
  return true;
}

// ---------------------------------------------------------------- parameter transforms (R's arima.c)

// PACF in (-inf, inf) (through tanh) to AR coefficients by Durbin-Levinson.
void PartransInPlace(int p, const double* raw, double* out) {
  double work[64];
  for (int j = 0; j < p; ++j) work[j] = out[j] = std::tanh(raw[j]);
  for (int j = 1; j < p; ++j) {
    const double a = out[j];
    for (int k = 0; k < j; ++k) work[k] -= a * out[j - k - 1];
    for (int k = 0; k < j; ++k) out[k] = work[k];
  }
}

// The inverse; returns false when the AR part is not stationary (a partial autocorrelation is not in (-1, 1)).
bool InvPartrans(int p, const double* phi, double* out) {
  double work[64];
  for (int j = 0; j < p; ++j) work[j] = out[j] = phi[j];
  for (int j = p - 1; j > 0; --j) {
    const double a = out[j];
    if (!(std::abs(a) < 1)) return false;
    for (int k = 0; k < j; ++k) work[k] = (out[k] + a * out[j - k - 1]) / (1 - a * a);
    for (int k = 0; k < j; ++k) out[k] = work[k];
  }
  for (int j = 0; j < p; ++j) {
    if (!(std::abs(out[j]) < 1)) return false;
    out[j] = std::atanh(out[j]);
  }
  return true;
}

bool ArStationary(std::span<const double> phi) {
  if (phi.empty()) return true;
  double tmp[64];
  return InvPartrans(static_cast<int>(phi.size()), phi.data(), tmp);
}

// Roots of 1 + c[0] z + ... + c[k-1] z^k (trailing zeros dropped).
std::vector<std::complex<double>> PolyRoots(std::span<const double> c) {
  int k = static_cast<int>(c.size());
  while (k > 0 && c[k - 1] == 0) --k;
  if (k == 0) return {};
  Eigen::MatrixXd companion = Eigen::MatrixXd::Zero(k, k);
  // z^k + (c[k-2]/c[k-1]) z^(k-1) + ... + 1/c[k-1] = 0
  for (int j = 0; j < k; ++j) companion(0, j) = -(j + 1 < k ? c[k - 2 - j] : 1.0) / c[k - 1];
  for (int i = 1; i < k; ++i) companion(i, i - 1) = 1;
  Eigen::EigenSolver<Eigen::MatrixXd> es(companion, false);
  std::vector<std::complex<double>> roots(k);
  for (int i = 0; i < k; ++i) roots[i] = es.eigenvalues()[i];
  return roots;
}

// R's maInvert: reflects roots of 1 + theta(z) inside the unit circle.
std::vector<double> MaInvert(const std::vector<double>& ma) {
  const int q = static_cast<int>(ma.size());
  int q0 = q;
  while (q0 > 0 && ma[q0 - 1] == 0) --q0;
  if (q0 == 0) return ma;
  auto roots = PolyRoots(std::span<const double>(ma.data(), q0));
  bool any_inside = false;
  for (auto& r : roots) any_inside |= std::abs(r) < 1;
  if (!any_inside) return ma;
  std::vector<double> out(q, 0.0);
  if (q0 == 1) {
    out[0] = 1 / ma[0];
    return out;
  }
  for (auto& r : roots)
    if (std::abs(r) < 1) r = 1.0 / r;
  std::vector<std::complex<double>> x = {1.0};
  for (auto& r : roots) {  // x <- c(x, 0) - c(0, x) / r
    std::vector<std::complex<double>> nx(x.size() + 1, 0.0);
    for (size_t i = 0; i < x.size(); ++i) nx[i] += x[i], nx[i + 1] -= x[i] / r;
    x = std::move(nx);
  }
  for (int i = 0; i < q0; ++i) out[i] = x[i + 1].real();
  return out;
}

// Smallest root modulus of 1 + sign * (c[0] z + ...); +inf when there is none.
double MinRootModulus(std::span<const double> c, double sign) {
  std::vector<double> s(c.begin(), c.end());
  for (double& v : s) v *= sign;
  double best = kInf;
  for (auto& r : PolyRoots(s)) best = std::min(best, std::abs(r));
  return best;
}

// ---------------------------------------------------------------- the model in state-space form

struct Spec {
  ArimaOrder o;
  int ncxreg = 0;       // 0, or 1 for an intercept (d + D = 0) or a drift (d + D = 1)
  bool drift = false;   // the regressor is the time index 1..n rather than 1
  int ncov = 0;         // covariates after it (regression with ARIMA errors)
  int narma() const { return o.p + o.q + o.P + o.Q; }
  int nxreg() const { return ncxreg + ncov; }
  int npar() const { return narma() + nxreg(); }
};

std::vector<double> DifferencePolynomial(const ArimaOrder& o) {  // Delta as stats::arima: -coef[-1]
  std::vector<double> poly = {1.0};
  auto mul = [&](int lag) {
    std::vector<double> out(poly.size() + lag, 0.0);
    for (size_t i = 0; i < poly.size(); ++i) out[i] += poly[i], out[i + lag] -= poly[i];
    poly = std::move(out);
  };
  for (int i = 0; i < o.d; ++i) mul(1);
  for (int i = 0; i < o.D; ++i) mul(o.m);
  std::vector<double> delta(poly.size() - 1);
  for (size_t i = 1; i < poly.size(); ++i) delta[i - 1] = -poly[i];
  return delta;
}

// Expands (ar, ma, sar, sma) in `par` to the full phi and theta polynomials (R's ARIMA_transPars),
// optionally mapping the AR parts through the PACF transform first.
void ExpandPars(const Spec& s, const double* par, bool transform, std::vector<double>* phi,
                std::vector<double>* theta) {
  const ArimaOrder& o = s.o;
  double ar[64], sar[64];
  if (transform) {
    PartransInPlace(o.p, par, ar);
    PartransInPlace(o.P, par + o.p + o.q, sar);
  } else {
    std::copy(par, par + o.p, ar);
    std::copy(par + o.p + o.q, par + o.p + o.q + o.P, sar);
  }
  const double* ma = par + o.p;
  const double* sma = par + o.p + o.q + o.P;
  phi->assign(o.p + o.m * o.P, 0.0);
  theta->assign(o.q + o.m * o.Q, 0.0);
  for (int i = 0; i < o.p; ++i) (*phi)[i] = ar[i];
  for (int j = 0; j < o.P; ++j) {
    (*phi)[(j + 1) * o.m - 1] += sar[j];
    for (int i = 0; i < o.p; ++i) (*phi)[(j + 1) * o.m + i] -= ar[i] * sar[j];
  }
  for (int i = 0; i < o.q; ++i) (*theta)[i] = ma[i];
  for (int j = 0; j < o.Q; ++j) {
    (*theta)[(j + 1) * o.m - 1] += sma[j];
    for (int i = 0; i < o.q; ++i) (*theta)[(j + 1) * o.m + i] += ma[i] * sma[j];
  }
}

// Buffers reused by every likelihood evaluation of one fit (no allocation inside the filter loop).
struct Work {
  std::vector<double> a, anew, M, P, Pnew, Pprev, mm, psi, gamma, sys, rhs, x, resid;
  std::vector<double> fa, fanew, fphi, fth, fP, fPnew, fPprev;  // ArmaKalmanLike's padded buffers
  // ArmaKalmanGrad's history (per step) and adjoints
  std::vector<double> hv, hF, ha0, hM, hPc, abar, anbar, Pbar, Pnbar, S, tmpr;
  void Resize(int rd, int r, int n) {
    a.assign(rd, 0.0);
    anew.assign(rd, 0.0);
    M.assign(rd, 0.0);
    P.assign(rd * rd, 0.0);
    Pnew.assign(rd * rd, 0.0);
    Pprev.assign(rd * rd, 0.0);
    mm.assign(rd * rd, 0.0);
    psi.assign(r + 1, 0.0);
    gamma.assign(r + 1, 0.0);
    x.resize(n);
    resid.resize(n);
  }
};

// Stationary covariance of the ARMA state (Harvey form, r = max(p, q + 1)) into P (leading dimension ld),
// from the ARMA autocovariances. Same matrix as R's getQ0 (Gardner et al. 1980), computed directly:
// state[i] = sum_k phi[i+k+1] y[t-1-k] + theta[i+k] e[t-k]. Returns false if the AR part is singular.
bool StationaryCovariance(const std::vector<double>& phi, const std::vector<double>& theta, int r, int ld,
                          Work* w, double* P) {
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  auto ph = [&](int k) { return (k >= 1 && k <= p) ? phi[k - 1] : 0.0; };
  auto th = [&](int k) { return k == 0 ? 1.0 : (k <= q ? theta[k - 1] : 0.0); };
  double* psi = w->psi.data();
  double* gamma = w->gamma.data();
  for (int j = 0; j <= r; ++j) {
    double s = th(j);
    for (int k = 1; k <= std::min(j, p); ++k) s += ph(k) * psi[j - k];
    psi[j] = s;
  }
  if (p == 0) {
    for (int h = 0; h <= r; ++h) {
      double s = 0;
      for (int j = h; j <= q; ++j) s += th(j) * th(j - h);
      gamma[h] = s;
    }
  } else {
    const int k1 = p + 1;
    w->sys.assign(k1 * k1, 0.0);
    w->rhs.assign(k1, 0.0);
    double* A = w->sys.data();
    double* b = w->rhs.data();
    for (int k = 0; k <= p; ++k) {
      A[k * k1 + k] += 1;
      for (int j = 1; j <= p; ++j) A[k * k1 + std::abs(k - j)] -= ph(j);
      double s = 0;
      for (int j = k; j <= q; ++j) s += th(j) * psi[j - k];
      b[k] = s;
    }
    // Gaussian elimination with partial pivoting.
    for (int c = 0; c < k1; ++c) {
      int piv = c;
      for (int i = c + 1; i < k1; ++i)
        if (std::abs(A[i * k1 + c]) > std::abs(A[piv * k1 + c])) piv = i;
      if (!(std::abs(A[piv * k1 + c]) > 1e-12)) return false;
      if (piv != c) {
        for (int j = 0; j < k1; ++j) std::swap(A[c * k1 + j], A[piv * k1 + j]);
        std::swap(b[c], b[piv]);
      }
      for (int i = c + 1; i < k1; ++i) {
        const double f = A[i * k1 + c] / A[c * k1 + c];
        if (f == 0) continue;
        for (int j = c; j < k1; ++j) A[i * k1 + j] -= f * A[c * k1 + j];
        b[i] -= f * b[c];
      }
    }
    for (int c = k1 - 1; c >= 0; --c) {
      double s = b[c];
      for (int j = c + 1; j < k1; ++j) s -= A[c * k1 + j] * b[j];
      b[c] = s / A[c * k1 + c];
    }
    for (int h = 0; h <= std::min(p, r); ++h) gamma[h] = b[h];
    for (int h = p + 1; h <= r; ++h) {
      double s = 0;
      for (int j = 1; j <= p; ++j) s += ph(j) * gamma[h - j];
      for (int j = h; j <= q; ++j) s += th(j) * psi[j - h];
      gamma[h] = s;
    }
  }
  // P solves P = T P T' + R R'. Its first column is known from the autocovariances: P(0,0) = gamma(0) and
  // P(i+1,0) = Cov(state[i+1], y[t]) = sum_k phi[i+k+2] gamma(k+1) + theta[i+k+1] psi(k). The rest follows
  // from the fixed point entry by entry, P(i,j) = th_i th_j + phi_i phi_j P00 + P(i+1,j+1) + phi_i P(j+1,0)
  // + phi_j P(i+1,0), filled from the bottom-right corner: O(r^2) instead of the O(r^4) double sum.
  P[0] = gamma[0];
  for (int i = 0; i + 1 < r; ++i) {
    double s = 0;
    for (int k = 0; k <= r - 2 - i; ++k) s += ph(i + k + 2) * gamma[k + 1] + th(i + k + 1) * psi[k];
    P[i + 1] = s;
  }
  const double p00 = P[0];
  auto u = [&](int i) { return i + 1 < r ? P[i + 1] : 0.0; };
  for (int j = r - 1; j >= 1; --j)
    for (int i = r - 1; i >= j; --i) {
      double v = th(i) * th(j) + ph(i + 1) * ph(j + 1) * p00 + ph(i + 1) * u(j) + ph(j + 1) * u(i);
      if (i + 1 < r) v += P[i + 1 + ld * (j + 1)];
      P[i + ld * j] = v;
    }
  for (int j = 0; j < r; ++j)
    for (int i = j + 1; i < r; ++i) P[j + ld * i] = P[i + ld * j];
  return std::isfinite(P[0]);
}

struct LikeSums {
  double ssq = 0, sumlog = 0;
  int nu = 0;
  bool ok = false;
};

// The same likelihood sums by the Chandrasekhar recursions (Morf, Sidhu & Kailath 1974), for the optimiser's
// function values on data without gaps. From the stationary start the change of the predicted covariance has
// rank one, P[t+1] - P[t] = m[t] w[t] w[t]', so F = P(0,0) and K = T P e1 follow in O(r) per step instead of
// the O(r^2) covariance update:
//   F' = F + m w0^2,  K' = K + m w0 T w,  w' = T w - K w0 / F,  m' = m F / F',  with w = K, m = -1 / F at t = 1.
// The filter is held steady once the covariance change |m| max(w)^2 is below 1e-12 (1 + F) (ArmaKalmanLike tests
// the filtered covariance against 1e-10); the two objectives agreed within 1e-9 on the tourism series tried.
LikeSums ArmaChandrasekharLike(std::span<const double> x, const std::vector<double>& phi,
                               const std::vector<double>& theta, Work* w) {
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  const int r = std::max(p, q + 1), ld = r + 1;
  const int n = static_cast<int>(x.size());
  LikeSums out;
  if (static_cast<int>(w->psi.size()) != r + 1 || static_cast<int>(w->a.size()) != r) w->Resize(r, r, n);
  w->fa.assign(ld, 0.0);
  w->fanew.assign(ld, 0.0);
  w->fphi.assign(ld, 0.0);
  w->fth.assign(ld, 0.0);
  w->fPnew.assign(ld * ld, 0.0);
  w->fP.assign(3 * ld, 0.0);
  double* a = w->fa.data();  // the predicted state
  double* ph = w->fphi.data();
  double* Q0 = w->fPnew.data();
  double* K = w->fP.data();
  double* W = K + ld;
  double* TW = W + ld;
  for (int i = 0; i < p; ++i) ph[i] = phi[i];
  if (!StationaryCovariance(phi, theta, r, ld, w, Q0)) return out;
  double F = Q0[0];
  for (int i = 0; i < r; ++i) K[i] = Q0[i + 1] + ph[i] * Q0[0];  // T Q0 e1 (Q0 padded with a zero row)
  for (int i = 0; i < r; ++i) W[i] = K[i];
  double m = -1 / F;
  bool steady = false;
  for (int l = 0; l < n; ++l) {
    const double v = x[l] - a[0];
    if (F < 1e4) {
      out.nu++;
      out.ssq += v * v / F;
      out.sumlog += std::log(F);
    }
    const double a0 = a[0], g = v / F;
    for (int i = 0; i < r; ++i) a[i] = a[i + 1] + ph[i] * a0 + K[i] * g;
    if (steady) continue;
    const double w0 = W[0];
    double wmax = 0;
    for (int i = 0; i < r; ++i) {
      TW[i] = W[i + 1] + ph[i] * w0;
      wmax = std::max(wmax, std::abs(W[i]));
    }
    const double Fn = F + m * w0 * w0;
    for (int i = 0; i < r; ++i) {
      W[i] = TW[i] - K[i] * w0 / F;
      K[i] += m * w0 * TW[i];
    }
    const double change = std::abs(m) * wmax * wmax;
    m = m * F / Fn;
    F = Fn;
    steady = change <= 1e-12 * (1 + F);
  }
  out.ok = true;
  return out;
}

// The filtered covariance P = Pnew - M M' / gain on the lower triangle (leading dimension ld), copied to Pprev
// as well, with the largest change from the previous Pprev and the largest entry (the steady-state test).
inline void FilteredCovariance(const double* Pnew, const double* M, double gain, int r, int ld, double* P,
                               double* Pprev, double* change, double* size) {
  // Max reductions in 4 lanes of a GCC/Clang vector type: a scalar max chain was the filter's bottleneck.
  typedef double V4 __attribute__((vector_size(32)));
  V4 ch = {0, 0, 0, 0}, sz = {0, 0, 0, 0};
  const V4 vgain = {gain, gain, gain, gain};
  double chs = 0, szs = 0;
  for (int j = 0; j < r; ++j) {
    const double mj = M[j];
    const V4 vmj = {mj, mj, mj, mj};
    const double* pn = Pnew + ld * j;
    double* pj = P + ld * j;
    double* pp = Pprev + ld * j;
    int i = j;
    for (; i + 4 <= r; i += 4) {
      V4 vpn, vm, vpp;
      std::memcpy(&vpn, pn + i, sizeof(V4));
      std::memcpy(&vm, M + i, sizeof(V4));
      std::memcpy(&vpp, pp + i, sizeof(V4));
      const V4 v = vpn - vm * vmj / vgain;
      V4 dv = v - vpp, av = v;
      dv = dv < 0 ? -dv : dv;
      av = av < 0 ? -av : av;
      ch = ch < dv ? dv : ch;
      sz = sz < av ? av : sz;
      std::memcpy(pj + i, &v, sizeof(V4));
      std::memcpy(pp + i, &v, sizeof(V4));
    }
    for (; i < r; ++i) {
      const double v = pn[i] - M[i] * mj / gain;
      chs = std::max(chs, std::abs(v - pp[i]));
      szs = std::max(szs, std::abs(v));
      pj[i] = v;
      pp[i] = v;
    }
  }
  *change = std::max({chs, ch[0], ch[1], ch[2], ch[3]});
  *size = std::max({szs, sz[0], sz[1], sz[2], sz[3]});
}

// KalmanLike without differenced states (d = 0), the form every likelihood evaluation of the optimiser uses.
// Same recursion and steady-state rule, arranged for speed: only the lower triangle of the symmetric P is
// updated, phi and theta are padded to r (and P and a by one zero row/column) so the column updates have no
// branches and vectorise. Equal to the general code up to rounding. Leaves the full last P and a in w.
LikeSums ArmaKalmanLike(std::span<const double> x, const std::vector<double>& phi,
                        const std::vector<double>& theta, Work* w, bool residuals) {
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  const int r = std::max(p, q + 1), ld = r + 1;
  const int n = static_cast<int>(x.size());
  LikeSums out;
  if (static_cast<int>(w->a.size()) != r || static_cast<int>(w->psi.size()) != r + 1) w->Resize(r, r, n);
  if (static_cast<int>(w->resid.size()) < n) w->resid.resize(n), w->x.resize(n);
  w->fa.assign(ld, 0.0);
  w->fanew.assign(ld, 0.0);
  w->fphi.assign(ld, 0.0);
  w->fth.assign(ld, 0.0);
  w->fP.assign(ld * ld, 0.0);
  w->fPnew.assign(ld * ld, 0.0);
  w->fPprev.assign(ld * ld, 0.0);
  double* a = w->fa.data();
  double* anew = w->fanew.data();
  double* ph = w->fphi.data();
  double* th = w->fth.data();
  double* P = w->fP.data();
  double* Pnew = w->fPnew.data();
  double* Pprev = w->fPprev.data();
  for (int i = 0; i < p; ++i) ph[i] = phi[i];
  th[0] = 1;
  for (int i = 0; i < q; ++i) th[i + 1] = theta[i];
  if (!StationaryCovariance(phi, theta, r, ld, w, Pnew)) return out;
  bool steady = false, have_prev = false;
  double gain = 0;
  const double* M = Pnew;  // the first column of the predicted covariance (Z = e1)
  for (int l = 0; l < n; ++l) {
    if (steady && !std::isfinite(x[l])) steady = false, have_prev = false;
    const double a0 = a[0];
    for (int i = 0; i < r; ++i) anew[i] = a[i + 1] + ph[i] * a0;
    if (l > 0 && !steady) {
      const double p00 = P[0];
      const double* u = P + 1;  // u[i] = P(i+1, 0); u[r-1] is the zero padding
      for (int j = 0; j < r; ++j) {
        const double thj = th[j], phj = ph[j], uj = u[j];
        const double* src = P + 1 + ld * (j + 1);  // P(i+1, j+1)
        double* dst = Pnew + ld * j;
        for (int i = j; i < r; ++i) {
          double tmp = th[i] * thj;
          tmp += ph[i] * phj * p00;
          tmp += src[i];
          tmp += ph[i] * uj;
          tmp += phj * u[i];
          dst[i] = tmp;
        }
      }
    }
    if (std::isfinite(x[l])) {
      const double resid0 = x[l] - anew[0];
      if (!steady) gain = M[0];
      if (gain < 1e4) {
        out.nu++;
        out.ssq += resid0 * resid0 / gain;
        out.sumlog += std::log(gain);
      }
      if (residuals) w->resid[l] = resid0 / std::sqrt(gain);
      for (int i = 0; i < r; ++i) a[i] = anew[i] + M[i] * resid0 / gain;
      if (!steady) {
        double change = 0, size = 0;
        FilteredCovariance(Pnew, M, gain, r, ld, P, Pprev, &change, &size);
        steady = have_prev && change <= 1e-10 * (1 + size);
        have_prev = true;
      }
    } else {
      std::copy(anew, anew + r, a);
      for (int j = 0; j < r; ++j) std::copy(Pnew + ld * j + j, Pnew + ld * j + r, P + ld * j + j);
      if (residuals) w->resid[l] = kNaN;
    }
  }
  for (int i = 0; i < r; ++i) w->a[i] = a[i];
  for (int j = 0; j < r; ++j)
    for (int i = j; i < r; ++i) w->P[i + r * j] = w->P[j + r * i] = P[i + ld * j];
  out.ok = true;
  return out;
}

// The objective 0.5 (log(ssq / nu) + sumlog / nu) of ArmaKalmanLike (same recursion, same steady-state rule)
// and its exact gradient by reverse mode (the adjoint of the filter): with respect to the padded phi[0..r),
// theta padded as th[0..r) (th[0] = 1), the data x, and the lower triangle of the initial covariance Q0
// (column-major, leading dimension r). One forward and one backward pass cost about three likelihood
// evaluations, where a central-difference gradient costs two per parameter. Only for data without gaps.
// Returns false when the likelihood is undefined.
bool ArmaKalmanGrad(std::span<const double> x, const std::vector<double>& phi, const std::vector<double>& theta,
                    Work* w, double* f, std::vector<double>* dph, std::vector<double>* dth,
                    std::vector<double>* dx, std::vector<double>* dq0) {
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  const int r = std::max(p, q + 1), ld = r + 1;
  const int n = static_cast<int>(x.size());
  if (static_cast<int>(w->psi.size()) != r + 1 || static_cast<int>(w->a.size()) != r) w->Resize(r, r, n);
  if (static_cast<int>(w->resid.size()) < n) w->resid.resize(n), w->x.resize(n);
  w->fa.assign(ld, 0.0);
  w->fanew.assign(ld, 0.0);
  w->fphi.assign(ld, 0.0);
  w->fth.assign(ld, 0.0);
  w->fP.assign(ld * ld, 0.0);
  w->fPnew.assign(ld * ld, 0.0);
  w->fPprev.assign(ld * ld, 0.0);
  w->hv.resize(n);
  w->hF.resize(n);
  w->ha0.resize(n);
  w->hM.resize(static_cast<size_t>(n) * r);
  w->hPc.resize(static_cast<size_t>(n) * r);
  double* a = w->fa.data();
  double* anew = w->fanew.data();
  double* ph = w->fphi.data();
  double* th = w->fth.data();
  double* P = w->fP.data();
  double* Pnew = w->fPnew.data();
  double* Pprev = w->fPprev.data();
  for (int i = 0; i < p; ++i) ph[i] = phi[i];
  th[0] = 1;
  for (int i = 0; i < q; ++i) th[i + 1] = theta[i];
  if (!StationaryCovariance(phi, theta, r, ld, w, Pnew)) return false;
  bool steady = false, have_prev = false;
  int last = n - 1;  // the last step that computed its own covariance; later steps reuse its gain
  double gain = 0, ssq = 0, sumlog = 0;
  int nu = 0;
  const double* M = Pnew;
  for (int l = 0; l < n; ++l) {
    if (!std::isfinite(x[l])) return false;
    const double a0 = a[0];
    w->ha0[l] = a0;
    for (int i = 0; i < r; ++i) anew[i] = a[i + 1] + ph[i] * a0;
    if (l > 0 && !steady) {
      const double p00 = P[0];
      const double* u = P + 1;
      for (int j = 0; j < r; ++j) {
        const double thj = th[j], phj = ph[j], uj = u[j];
        const double* src = P + 1 + ld * (j + 1);
        double* dst = Pnew + ld * j;
        for (int i = j; i < r; ++i) dst[i] = th[i] * thj + ph[i] * phj * p00 + src[i] + ph[i] * uj + phj * u[i];
      }
    }
    const double v = x[l] - anew[0];
    if (!steady) gain = M[0];
    w->hv[l] = v;
    w->hF[l] = gain;
    if (gain < 1e4) {
      nu++;
      ssq += v * v / gain;
      sumlog += std::log(gain);
    }
    for (int i = 0; i < r; ++i) a[i] = anew[i] + M[i] * v / gain;
    if (!steady) {
      std::copy(M, M + r, w->hM.data() + static_cast<size_t>(l) * r);
      double change = 0, size = 0;
      FilteredCovariance(Pnew, M, gain, r, ld, P, Pprev, &change, &size);
      std::copy(P, P + r, w->hPc.data() + static_cast<size_t>(l) * r);
      steady = have_prev && change <= 1e-10 * (1 + size);
      have_prev = true;
      if (steady) last = l;
    }
  }
  if (nu == 0 || !(ssq > 0)) return false;
  *f = 0.5 * (std::log(ssq / nu) + sumlog / nu);
  if (!std::isfinite(*f)) return false;
  const double c1 = 0.5 / ssq, c2 = 0.5 / nu;

  // Backward pass. abar: adjoint of the filtered state after step l; Pbar (lower): of the filtered P.
  dph->assign(r, 0.0);
  dth->assign(r, 0.0);
  dx->assign(n, 0.0);
  w->abar.assign(ld, 0.0);
  w->anbar.assign(ld, 0.0);
  w->Pbar.assign(ld * ld, 0.0);
  w->Pnbar.assign(ld * ld, 0.0);
  w->S.assign(r * r, 0.0);
  w->tmpr.assign(ld, 0.0);
  double* abar = w->abar.data();
  double* anbar = w->anbar.data();
  double* Pbar = w->Pbar.data();
  double* Pnbar = w->Pnbar.data();
  double* S = w->S.data();
  double* Mbar = w->tmpr.data();
  double Mfz_F = 0;  // frozen-gain adjoints gathered over the steady steps
  std::vector<double> Mfz(r, 0.0);
  for (int l = n - 1; l >= 0; --l) {
    const bool frozen = l > last;
    const double* Ml = w->hM.data() + static_cast<size_t>(frozen ? last : l) * r;
    const double F = w->hF[l], v = w->hv[l];
    double mab = 0;
    for (int i = 0; i < r; ++i) mab += Ml[i] * abar[i];
    double vbar = mab / F;
    double Fbar = -mab * v / (F * F);
    for (int i = 0; i < r; ++i) Mbar[i] = abar[i] * v / F;
    if (F < 1e4) {
      vbar += c1 * 2 * v / F;
      Fbar += -c1 * v * v / (F * F) + c2 / F;
    }
    (*dx)[l] += vbar;
    for (int i = 0; i < r; ++i) anbar[i] = abar[i];
    anbar[0] -= vbar;
    // an = T a_prev
    const double a0 = w->ha0[l];
    double s0 = 0;
    for (int i = 0; i < r; ++i) {
      (*dph)[i] += anbar[i] * a0;
      s0 += ph[i] * anbar[i];
    }
    for (int i = r - 1; i >= 1; --i) abar[i] = anbar[i - 1];
    abar[0] = s0;
    if (frozen) {
      for (int i = 0; i < r; ++i) Mfz[i] += Mbar[i];
      Mfz_F += Fbar;
      continue;
    }
    if (l == last) {
      for (int i = 0; i < r; ++i) Mbar[i] += Mfz[i];
      Fbar += Mfz_F;
    }
    // P_l = Pn - M M' / F (its adjoint Pbar is zero at `last`, whose P is never used)
    for (int i = 0; i < r; ++i) {  // (S_P M)_i with S_P the symmetrised lower Pbar
      double sm = 0;
      for (int j = 0; j <= i; ++j) sm += Pbar[i + ld * j] * Ml[j];
      for (int k = i; k < r; ++k) sm += Pbar[k + ld * i] * Ml[k];
      Mbar[i] -= sm / F;
    }
    double mpm = 0;
    for (int j = 0; j < r; ++j)
      for (int i = j; i < r; ++i) mpm += Pbar[i + ld * j] * Ml[i] * Ml[j];
    Fbar += mpm / (F * F);
    for (int j = 0; j < r; ++j)
      for (int i = j; i < r; ++i) Pnbar[i + ld * j] = Pbar[i + ld * j];
    for (int i = 0; i < r; ++i) Pnbar[i] += Mbar[i];  // M = Pn(:, 0)
    Pnbar[0] += Fbar;                                  // F = Pn(0, 0)
    if (l == 0) {
      dq0->assign(r * r, 0.0);
      for (int j = 0; j < r; ++j)
        for (int i = j; i < r; ++i) (*dq0)[i + r * j] = Pnbar[i + ld * j];
      break;
    }
    // Pn = T P_prev T' + th th' on the lower triangle; S = symmetrised Pnbar with a doubled diagonal.
    for (int j = 0; j < r; ++j) {
      S[j + r * j] = 2 * Pnbar[j + ld * j];
      for (int i = j + 1; i < r; ++i) S[i + r * j] = S[j + r * i] = Pnbar[i + ld * j];
    }
    const double* Pc = w->hPc.data() + static_cast<size_t>(l - 1) * r;  // column 0 of P_prev
    const double p00 = Pc[0];
    double phsph = 0;
    for (int i = 0; i < r; ++i) {
      double sth = 0, sph = 0, sw = 0;
      for (int k = 0; k < r; ++k) {
        const double sik = S[i + r * k];
        const double uk = k + 1 < r ? Pc[k + 1] : 0.0;
        sth += sik * th[k];
        sph += sik * ph[k];
        sw += sik * (ph[k] * p00 + uk);
      }
      (*dth)[i] += sth;
      (*dph)[i] += sw;
      phsph += ph[i] * sph;
      w->anew[i] = sph;  // (S ph)_i, reused below
    }
    std::fill(Pbar, Pbar + ld * ld, 0.0);
    for (int j = 0; j + 1 < r; ++j)
      for (int i = j; i + 1 < r; ++i) Pbar[i + 1 + ld * (j + 1)] = Pnbar[i + ld * j];
    Pbar[0] = 0.5 * phsph;
    for (int k = 0; k + 1 < r; ++k) Pbar[k + 1] += w->anew[k];
  }
  return true;
}

// R's ARIMA_Like: the Kalman filter over x with initial state 0 and covariance Q0 (+ kappa on the differenced
// states). One addition for speed: once the filtered covariance stops changing (max change <= 1e-10 of its
// size) the gain is held fixed and P is no longer propagated, until a missing value. Leaves the last filtered state in w->a and w->P; fills w->resid with standardized innovations when
// `residuals`.
LikeSums KalmanLike(std::span<const double> x, const std::vector<double>& phi, const std::vector<double>& theta,
                    const std::vector<double>& delta, Work* w, bool residuals) {
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  const int d = static_cast<int>(delta.size());
  const int r = std::max(p, q + 1), rd = r + d;
  const int n = static_cast<int>(x.size());
  if (d == 0) return ArmaKalmanLike(x, phi, theta, w, residuals);
  LikeSums out;
  if (static_cast<int>(w->a.size()) != rd || static_cast<int>(w->psi.size()) != r + 1)
    w->Resize(rd, r, n);
  double* a = w->a.data();
  double* anew = w->anew.data();
  double* M = w->M.data();
  double* P = w->P.data();
  double* Pnew = w->Pnew.data();
  double* mm = w->mm.data();
  std::fill(a, a + rd, 0.0);
  std::fill(Pnew, Pnew + rd * rd, 0.0);
  if (!StationaryCovariance(phi, theta, r, rd, w, Pnew)) return out;
  for (int i = r; i < rd; ++i) Pnew[i + rd * i] = kKappa;
  auto th = [&](int k) { return k == 0 ? 1.0 : (k <= q ? theta[k - 1] : 0.0); };
  double* Pprev = w->Pprev.data();
  bool steady = false, have_prev = false;
  double gain = 0;

  for (int l = 0; l < n; ++l) {
    if (steady && !std::isfinite(x[l])) steady = false, have_prev = false;
    for (int i = 0; i < r; ++i) {
      double tmp = (i < r - 1) ? a[i + 1] : 0.0;
      if (i < p) tmp += phi[i] * a[0];
      anew[i] = tmp;
    }
    if (d > 0) {
      for (int i = r + 1; i < rd; ++i) anew[i] = a[i - 1];
      double tmp = a[0];
      for (int i = 0; i < d; ++i) tmp += delta[i] * a[r + i];
      anew[r] = tmp;
    }
    if (l > 0 && !steady) {
      if (d == 0) {
        for (int i = 0; i < r; ++i) {
          const double vi = th(i);
          for (int j = 0; j < r; ++j) {
            double tmp = vi * th(j);
            if (i < p && j < p) tmp += phi[i] * phi[j] * P[0];
            if (i < r - 1 && j < r - 1) tmp += P[i + 1 + r * (j + 1)];
            if (i < p && j < r - 1) tmp += phi[i] * P[j + 1];
            if (j < p && i < r - 1) tmp += phi[j] * P[i + 1];
            Pnew[i + r * j] = tmp;
          }
        }
      } else {
        for (int i = 0; i < r; ++i)  // mm = T P
          for (int j = 0; j < rd; ++j) {
            double tmp = 0.0;
            if (i < p) tmp += phi[i] * P[rd * j];
            if (i < r - 1) tmp += P[i + 1 + rd * j];
            mm[i + rd * j] = tmp;
          }
        for (int j = 0; j < rd; ++j) {
          double tmp = P[rd * j];
          for (int k = 0; k < d; ++k) tmp += delta[k] * P[r + k + rd * j];
          mm[r + rd * j] = tmp;
        }
        for (int i = 1; i < d; ++i)
          for (int j = 0; j < rd; ++j) mm[r + i + rd * j] = P[r + i - 1 + rd * j];
        for (int i = 0; i < r; ++i)  // Pnew = mm T'
          for (int j = 0; j < rd; ++j) {
            double tmp = 0.0;
            if (i < p) tmp += phi[i] * mm[j];
            if (i < r - 1) tmp += mm[rd * (i + 1) + j];
            Pnew[j + rd * i] = tmp;
          }
        for (int j = 0; j < rd; ++j) {
          double tmp = mm[j];
          for (int k = 0; k < d; ++k) tmp += delta[k] * mm[rd * (r + k) + j];
          Pnew[j + rd * r] = tmp;
        }
        for (int i = 1; i < d; ++i)
          for (int j = 0; j < rd; ++j) Pnew[j + rd * (r + i)] = mm[rd * (r + i - 1) + j];
        for (int i = 0; i <= q; ++i)
          for (int j = 0; j <= q; ++j) Pnew[i + rd * j] += th(i) * th(j);
      }
    }
    if (std::isfinite(x[l])) {
      double resid0 = x[l] - anew[0];
      for (int i = 0; i < d; ++i) resid0 -= delta[i] * anew[r + i];
      if (!steady) {
        for (int i = 0; i < rd; ++i) {
          double tmp = Pnew[i];
          for (int j = 0; j < d; ++j) tmp += Pnew[i + rd * (r + j)] * delta[j];
          M[i] = tmp;
        }
        gain = M[0];
        for (int j = 0; j < d; ++j) gain += delta[j] * M[r + j];
      }
      if (gain < 1e4) {
        out.nu++;
        out.ssq += resid0 * resid0 / gain;
        out.sumlog += std::log(gain);
      }
      if (residuals) w->resid[l] = resid0 / std::sqrt(gain);
      for (int i = 0; i < rd; ++i) a[i] = anew[i] + M[i] * resid0 / gain;
      if (!steady) {
        double change = 0, size = 0;
        for (int i = 0; i < rd; ++i)
          for (int j = 0; j < rd; ++j) {
            const double v = Pnew[i + rd * j] - M[i] * M[j] / gain;
            P[i + rd * j] = v;
            change = std::max(change, std::abs(v - Pprev[i + rd * j]));
            size = std::max(size, std::abs(v));
            Pprev[i + rd * j] = v;
          }
        steady = have_prev && change <= 1e-10 * (1 + size);
        have_prev = true;
      }
    } else {
      std::copy(anew, anew + rd, a);
      std::copy(Pnew, Pnew + rd * rd, P);
      if (residuals) w->resid[l] = kNaN;
    }
  }
  out.ok = true;
  return out;
}

// R's ARIMA_CSS: conditional sum of squares of the differenced series after `ncond` values. Differs from R in
// one way: a missing innovation counts as 0 in later MA terms (R lets it turn every later residual into NaN).
double CssVariance(std::span<const double> x, const ArimaOrder& o, const std::vector<double>& phi,
                   const std::vector<double>& theta, int ncond, std::vector<double>* wbuf,
                   std::vector<double>* resid) {
  const int n = static_cast<int>(x.size());
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  std::vector<double>& w = *wbuf;
  w.assign(x.begin(), x.end());
  for (int i = 0; i < o.d; ++i)
    for (int l = n - 1; l > 0; --l) w[l] -= w[l - 1];
  for (int i = 0; i < o.D; ++i)
    for (int l = n - 1; l >= o.m; --l) w[l] -= w[l - o.m];
  // Seasonal polynomials are mostly zeros: with finite data the zero terms change nothing and are skipped
  // (kept when something is not finite, where 0 * NaN matters; the dense pass below then decides).
  bool finite = true;
  for (int l = 0; l < n && finite; ++l) finite = std::isfinite(w[l]);
  int iphi[512], ith[512];
  int np = 0, nq = 0;
  if (finite && p <= 512 && q <= 512) {
    for (int j = 0; j < p; ++j)
      if (phi[j] != 0) iphi[np++] = j;
    for (int j = 0; j < q; ++j)
      if (theta[j] != 0) ith[nq++] = j;
    resid->assign(n, 0.0);
    double ssq = 0;
    for (int l = ncond; l < n; ++l) {
      double tmp = w[l];
      for (int k = 0; k < np; ++k) tmp -= phi[iphi[k]] * w[l - iphi[k] - 1];
      const int jmax = std::min(l - ncond, q);
      for (int k = 0; k < nq && ith[k] < jmax; ++k) tmp -= theta[ith[k]] * (*resid)[l - ith[k] - 1];
      (*resid)[l] = tmp;
      ssq += tmp * tmp;
    }
    if (std::isfinite(ssq) && n > ncond) return ssq / (n - ncond);
  }
  resid->assign(n, 0.0);
  double ssq = 0;
  int nu = 0;
  for (int l = ncond; l < n; ++l) {
    double tmp = w[l];
    for (int j = 0; j < p; ++j) tmp -= phi[j] * w[l - j - 1];
    const int jmax = std::min(l - ncond, q);
    for (int j = 0; j < jmax; ++j) tmp -= theta[j] * (*resid)[l - j - 1];
    if (std::isnan(tmp)) {
      (*resid)[l] = 0;
      continue;
    }
    (*resid)[l] = tmp;
    ++nu;
    ssq += tmp * tmp;
  }
  return nu > 0 ? ssq / nu : kNaN;
}

// ---------------------------------------------------------------- optimisation (R's optim BFGS)

// Central-difference gradient in scaled coordinates, as optim's fmingr without an analytic gradient.
template <class F>
bool NumGrad(F& fn, std::vector<double>& xs, const std::vector<double>& scale, std::vector<double>* g,
             std::vector<double>* tmp) {
  const size_t n = xs.size();
  constexpr double eps = 1e-3;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) (*tmp)[j] = xs[j] * scale[j];
    (*tmp)[i] = (xs[i] + eps) * scale[i];
    const double f1 = fn(*tmp);
    (*tmp)[i] = (xs[i] - eps) * scale[i];
    const double f2 = fn(*tmp);
    (*g)[i] = (f1 - f2) / (2 * eps);
    if (!std::isfinite((*g)[i])) return false;
  }
  return true;
}

// An analytic gradient in original units: false where it is not available at that point.
using GradFn = std::function<bool(const std::vector<double>&, std::vector<double>*)>;

// The gradient in scaled coordinates: analytic when given (and defined there), else NumGrad.
template <class F>
bool AnyGrad(F& fn, const GradFn* agrad, std::vector<double>& xs, const std::vector<double>& scale,
             std::vector<double>* g, std::vector<double>* tmp) {
  if (agrad && *agrad) {
    const size_t n = xs.size();
    std::vector<double> par(n);
    for (size_t i = 0; i < n; ++i) par[i] = xs[i] * scale[i];
    bool ok = (*agrad)(par, g);
    for (size_t i = 0; ok && i < n; ++i) {
      (*g)[i] *= scale[i];
      ok = std::isfinite((*g)[i]);
    }
    if (ok) return true;
  }
  return NumGrad(fn, xs, scale, g, tmp);
}

// R's vmmin (variable metric, Nash 1990) with optim's defaults (maxit 100, reltol 1e-8) on fn(par), where the
// search runs in par / parscale. Returns false where optim would stop with an error (non-finite start or
// gradient). `par` holds the best point on return and `fmin` its value.
template <class F>
bool Vmmin(F&& fn, std::vector<double>* par, const std::vector<double>& parscale, double* fmin,
           int maxit = 100, const GradFn* agrad = nullptr) {
  const int n = static_cast<int>(par->size());
  constexpr double stepredn = 0.2, acctol = 0.0001, reltest = 10.0, reltol = 1e-8;
  std::vector<double> b(n), g(n), t(n), X(n), c(n), tmp(n), B(n * n);
  for (int i = 0; i < n; ++i) b[i] = (*par)[i] / parscale[i];
  auto eval = [&](const std::vector<double>& xs) {
    for (int i = 0; i < n; ++i) tmp[i] = xs[i] * parscale[i];
    return fn(tmp);
  };
  std::vector<double> gtmp(n);
  auto grad = [&](std::vector<double>& xs, std::vector<double>* gg) {
    return AnyGrad(fn, agrad, xs, parscale, gg, &gtmp);
  };
  if (n == 0) {
    *fmin = fn(*par);
    return std::isfinite(*fmin);
  }
  double f = eval(b);
  if (!std::isfinite(f)) return false;
  *fmin = f;
  int funcount = 1, gradcount = 1, iter = 1, ilast = gradcount, count = 0;
  if (!grad(b, &g)) return false;
  if (maxit <= 0) return true;
  do {
    if (ilast == gradcount)
      for (int i = 0; i < n; ++i)
        for (int j = 0; j <= i; ++j) B[i * n + j] = (i == j) ? 1.0 : 0.0;
    for (int i = 0; i < n; ++i) X[i] = b[i], c[i] = g[i];
    double gradproj = 0.0;
    for (int i = 0; i < n; ++i) {
      double s = 0.0;
      for (int j = 0; j <= i; ++j) s -= B[i * n + j] * g[j];
      for (int j = i + 1; j < n; ++j) s -= B[j * n + i] * g[j];
      t[i] = s;
      gradproj += s * g[i];
    }
    if (gradproj < 0.0) {
      double steplength = 1.0;
      bool accpoint = false;
      do {
        count = 0;
        for (int i = 0; i < n; ++i) {
          b[i] = X[i] + steplength * t[i];
          if (reltest + X[i] == reltest + b[i]) ++count;
        }
        if (count < n) {
          f = eval(b);
          ++funcount;
          accpoint = std::isfinite(f) && (f <= *fmin + gradproj * steplength * acctol);
          if (!accpoint) steplength *= stepredn;
        }
      } while (!(count == n || accpoint));
      const bool enough = std::abs(f - *fmin) > reltol * (std::abs(*fmin) + reltol);
      if (!enough) {
        count = n;
        *fmin = f;
      }
      if (count < n) {
        *fmin = f;
        if (!grad(b, &g)) return false;
        ++gradcount;
        ++iter;
        double D1 = 0.0;
        for (int i = 0; i < n; ++i) {
          t[i] *= steplength;
          c[i] = g[i] - c[i];
          D1 += t[i] * c[i];
        }
        if (D1 > 0) {
          double D2 = 0.0;
          for (int i = 0; i < n; ++i) {
            double s = 0.0;
            for (int j = 0; j <= i; ++j) s += B[i * n + j] * c[j];
            for (int j = i + 1; j < n; ++j) s += B[j * n + i] * c[j];
            X[i] = s;
            D2 += s * c[i];
          }
          D2 = 1.0 + D2 / D1;
          for (int i = 0; i < n; ++i)
            for (int j = 0; j <= i; ++j) B[i * n + j] += (D2 * t[i] * t[j] - X[i] * c[j] - t[i] * X[j]) / D1;
        } else {
          ilast = gradcount;
        }
      } else if (ilast < gradcount) {
        count = 0;
        ilast = gradcount;
      }
    } else {
      count = 0;
      if (ilast == gradcount) count = n;
      else ilast = gradcount;
    }
    if (iter >= maxit) break;
    if (gradcount - ilast > 2 * n) ilast = gradcount;
  } while (count != n || ilast != gradcount);
  (void)funcount;
  for (int i = 0; i < n; ++i) (*par)[i] = b[i] * parscale[i];
  return true;
}

// optim's numerical Hessian (optimhess) in original units, symmetrized. False if a gradient is not finite.
template <class F>
bool NumHessian(F&& fn, const std::vector<double>& par, const std::vector<double>& parscale, Eigen::MatrixXd* H,
                const GradFn* agrad = nullptr) {
  const int n = static_cast<int>(par.size());
  std::vector<double> xs(n), g1(n), g2(n), tmp(n);
  for (int i = 0; i < n; ++i) xs[i] = par[i] / parscale[i];
  H->resize(n, n);
  for (int i = 0; i < n; ++i) {
    const double eps = 1e-3 / parscale[i];
    xs[i] += eps;
    if (!AnyGrad(fn, agrad, xs, parscale, &g1, &tmp)) return false;
    xs[i] -= 2 * eps;
    if (!AnyGrad(fn, agrad, xs, parscale, &g2, &tmp)) return false;
    xs[i] += eps;
    for (int j = 0; j < n; ++j) (*H)(i, j) = (g1[j] - g2[j]) / (2 * eps * parscale[i] * parscale[j]);
  }
  *H = 0.5 * (*H + H->transpose()).eval();
  return true;
}

// auto.arima's checkarima: the model is rejected when a coefficient variance, diag(A' H^-1 A), is negative
// or the Hessian is singular (R's solve() fails and the fit errors).
bool VarianceOk(const Eigen::MatrixXd& H, const Eigen::MatrixXd& A) {
  if (H.rows() == 0) return true;
  Eigen::FullPivLU<Eigen::MatrixXd> lu(H);
  if (!lu.isInvertible()) return false;
  const Eigen::MatrixXd X = lu.solve(A);
  const Eigen::VectorXd v = (A.transpose() * X).diagonal();
  for (int i = 0; i < v.size(); ++i)
    if (!(v[i] >= 0)) return false;
  return true;
}

// ---------------------------------------------------------------- one fit (stats::arima + myarima)

struct Fit {
  Spec spec;
  std::vector<double> coef;  // ar, ma, sar, sma, xreg (untransformed)
  std::vector<double> phi, theta, delta;
  double sigma2 = kNaN;  // adjusted as auto.arima
  double loglik = kNaN, aic = kInf, aicc = kInf, ic = kInf;
  int n = 0;  // length of the series fitted (for the drift's future time index)
  std::vector<double> a, P;  // the last filtered state, for forecasting
  std::string error;
  bool ok() const { return error.empty(); }
};

// The covariates of a regression with ARIMA errors over the history: one column each, finite.
using CovariateColumns = std::vector<std::vector<double>>;

Spec MakeSpec(const ArimaOrder& o, bool constant, const CovariateColumns* cov = nullptr) {
  Spec s;
  s.o = o;
  const int nd = o.d + o.D;
  if (constant && nd == 0) s.ncxreg = 1;
  if (constant && nd == 1) s.ncxreg = 1, s.drift = true;
  s.ncov = cov ? static_cast<int>(cov->size()) : 0;
  return s;
}

// `offset` is the approximate AIC offset auto.arima uses with CSS; only read when estimation is kCss.
// checkarima's variance test costs a numerical Hessian, so it runs only when the fit would beat `ic_to_beat`
// (a rejected model that would lose anyway changes nothing).
// `cov` holds spec.ncov covariate columns over y (regression with ARIMA errors).
Fit FitOrder(std::span<const double> y, const Spec& spec, ArimaEstimation est, double offset,
             bool check_variance, double ic_to_beat = kInf, const CovariateColumns* cov = nullptr) {
  Fit fit;
  fit.spec = spec;
  const ArimaOrder& o = spec.o;
  const int n = static_cast<int>(y.size());
  fit.n = n;
  const int narma = spec.narma(), npar = spec.npar();
  fit.delta = DifferencePolynomial(o);
  const int nfinite = CountFinite(y);
  const int n_used = nfinite - static_cast<int>(fit.delta.size());
  if (n_used <= 0) {
    fit.error = "too few non-missing observations";
    return fit;
  }
  if (est == ArimaEstimation::kCssMl && nfinite < n) est = ArimaEstimation::kMl;

  // The regressors: the constant (1 or t) first when there is one, then the covariates.
  const int nx = spec.nxreg();
  std::vector<std::vector<double>> xreg;
  std::vector<double> init(npar, 0.0), parscale(npar, 1.0);
  if (nx > 0) {
    if (spec.ncxreg) {
      xreg.emplace_back(n);
      for (int t = 0; t < n; ++t) xreg[0][t] = spec.drift ? t + 1.0 : 1.0;
    }
    for (int j = 0; j < spec.ncov; ++j) xreg.push_back((*cov)[static_cast<size_t>(j)]);
    // Starting values and scales from least squares on the differenced series, as stats::arima.
    auto diff = [](std::vector<double>& v, int lag) {
      for (size_t t = v.size(); t-- > static_cast<size_t>(lag);) v[t] -= v[t - lag];
      v.erase(v.begin(), v.begin() + std::min<size_t>(lag, v.size()));
    };
    std::vector<double> dx(y.begin(), y.end());
    std::vector<std::vector<double>> dr = xreg;
    for (int i = 0; i < o.d; ++i) {
      diff(dx, 1);
      for (auto& c : dr) diff(c, 1);
    }
    for (int i = 0; i < o.D; ++i) {
      diff(dx, o.m);
      for (auto& c : dr) diff(c, o.m);
    }
    if (dx.size() <= 1) dx.assign(y.begin(), y.end()), dr = xreg;
    if (nx == 1) {
      double sxy = 0, sxx = 0;
      int cnt = 0;
      for (size_t t = 0; t < dx.size(); ++t)
        if (std::isfinite(dx[t])) sxy += dx[t] * dr[0][t], sxx += dr[0][t] * dr[0][t], ++cnt;
      const double beta = sxx > 0 ? sxy / sxx : 0.0;
      double rss = 0;
      for (size_t t = 0; t < dx.size(); ++t)
        if (std::isfinite(dx[t])) rss += (dx[t] - beta * dr[0][t]) * (dx[t] - beta * dr[0][t]);
      const double se = (cnt > 1 && sxx > 0) ? std::sqrt(rss / (cnt - 1) / sxx) : 0.0;
      init[narma] = beta;
      parscale[narma] = se > 0 ? 10 * se : 1.0;  // R would divide by zero here; its caller never gets here
    } else {
      Eigen::MatrixXd xtx = Eigen::MatrixXd::Zero(nx, nx);
      Eigen::VectorXd xty = Eigen::VectorXd::Zero(nx), row(nx);
      int cnt = 0;
      for (size_t t = 0; t < dx.size(); ++t) {
        if (!std::isfinite(dx[t])) continue;
        for (int j = 0; j < nx; ++j) row(j) = dr[static_cast<size_t>(j)][t];
        xtx.selfadjointView<Eigen::Lower>().rankUpdate(row);
        xty += dx[t] * row;
        ++cnt;
      }
      xtx.triangularView<Eigen::Upper>() = xtx.transpose();
      const Eigen::LDLT<Eigen::MatrixXd> ldlt(xtx);
      const Eigen::VectorXd beta = ldlt.solve(xty);
      double rss = 0;
      for (size_t t = 0; t < dx.size(); ++t) {
        if (!std::isfinite(dx[t])) continue;
        double e = dx[t];
        for (int j = 0; j < nx; ++j) e -= beta(j) * dr[static_cast<size_t>(j)][t];
        rss += e * e;
      }
      const Eigen::MatrixXd inv = ldlt.solve(Eigen::MatrixXd::Identity(nx, nx));
      for (int j = 0; j < nx; ++j) {
        const double v = cnt > nx ? rss / (cnt - nx) * inv(j, j) : 0.0;
        init[narma + j] = std::isfinite(beta(j)) ? beta(j) : 0.0;
        parscale[narma + j] = std::isfinite(v) && v > 0 ? 10 * std::sqrt(v) : 1.0;
      }
    }
  }

  Work w;
  std::vector<double> phi, theta, xadj(n), wbuf, cres;
  auto adjust = [&](const double* par) {
    std::copy(y.begin(), y.end(), xadj.begin());
    for (int j = 0; j < nx; ++j) {
      const double beta = par[narma + j];
      const std::vector<double>& col = xreg[static_cast<size_t>(j)];
      for (int t = 0; t < n; ++t) xadj[t] -= beta * col[t];
    }
  };
  const int ncond_css = o.d + o.D * o.m + o.p + o.P * o.m;
  auto css_fn = [&](const std::vector<double>& par) {
    ExpandPars(spec, par.data(), false, &phi, &theta);
    adjust(par.data());
    const double s2 = CssVariance(xadj, o, phi, theta, ncond_css, &wbuf, &cres);
    return 0.5 * std::log(s2);
  };
  // The exact gradient of css_fn by reverse mode through the residual recursion (finite data only; the
  // expansion of the seasonal products is bilinear and differenced centrally, which is exact up to rounding).
  std::vector<double> ebar, wbar, cphb, cthb, dreg, phi_p, theta_p, phi_m, theta_m;
  GradFn css_grad;
  if (nfinite == n) css_grad = [&](const std::vector<double>& par, std::vector<double>* g) {
    ExpandPars(spec, par.data(), false, &phi, &theta);
    adjust(par.data());
    const double s2 = CssVariance(xadj, o, phi, theta, ncond_css, &wbuf, &cres);
    if (!std::isfinite(s2) || !(s2 > 0)) return false;
    const int pf = static_cast<int>(phi.size()), qf = static_cast<int>(theta.size());
    const double c = 0.5 / (s2 * (n - ncond_css));  // d f / d ssq with f = 0.5 log(ssq / nu)
    const std::vector<double>& wv = wbuf;
    const std::vector<double>& e = cres;
    ebar.assign(n, 0.0);
    wbar.assign(n, 0.0);
    cphb.assign(pf, 0.0);
    cthb.assign(qf, 0.0);
    for (int l = n - 1; l >= ncond_css; --l) {
      const double eb = ebar[l] + 2 * c * e[l];
      wbar[l] += eb;
      for (int j = 0; j < pf; ++j) {
        if (phi[j] != 0) wbar[l - j - 1] -= phi[j] * eb;
        cphb[j] -= eb * wv[l - j - 1];
      }
      const int jmax = std::min(l - ncond_css, qf);
      for (int j = 0; j < jmax; ++j) {
        ebar[l - j - 1] -= theta[j] * eb;
        cthb[j] -= eb * e[l - j - 1];
      }
    }
    g->assign(npar, 0.0);
    std::vector<double> pp = par;
    constexpr double h = 1e-6;
    for (int k = 0; k < narma; ++k) {
      pp[k] = par[k] + h;
      ExpandPars(spec, pp.data(), false, &phi_p, &theta_p);
      pp[k] = par[k] - h;
      ExpandPars(spec, pp.data(), false, &phi_m, &theta_m);
      pp[k] = par[k];
      double gk = 0;
      for (int i = 0; i < pf; ++i) gk += cphb[i] * (phi_p[i] - phi_m[i]);
      for (int i = 0; i < qf; ++i) gk += cthb[i] * (theta_p[i] - theta_m[i]);
      (*g)[k] = gk / (2 * h);
    }
    for (int j = 0; j < nx; ++j) {  // w = the differenced y - beta * xreg, differenced as CssVariance does
      dreg = xreg[static_cast<size_t>(j)];
      for (int i = 0; i < o.d; ++i)
        for (int l = n - 1; l > 0; --l) dreg[l] -= dreg[l - 1];
      for (int i = 0; i < o.D; ++i)
        for (int l = n - 1; l >= o.m; --l) dreg[l] -= dreg[l - o.m];
      double gb = 0;
      for (int l = 0; l < n; ++l) gb -= wbar[l] * dreg[l];
      (*g)[narma + j] = gb;
    }
    return true;
  };
  // With nothing missing, the optimiser works on the differenced series with a stationary ARMA state (r
  // states instead of r + d + D*m): R's diffuse likelihood equals this one up to O(1 / kappa). The final
  // filter below runs on the full state, which forecasting needs.
  const bool difference_first = nfinite == n && !fit.delta.empty();
  const std::vector<double> no_delta;
  std::vector<double> dxadj;
  Work wd;
  auto ml_fn = [&](const std::vector<double>& par) {
    ExpandPars(spec, par.data(), true, &phi, &theta);
    adjust(par.data());
    if (difference_first) {
      const int nd = static_cast<int>(fit.delta.size());
      dxadj.resize(n - nd);
      for (int t = nd; t < n; ++t) {
        double v = xadj[t];
        for (int i = 0; i < nd; ++i) v -= fit.delta[i] * xadj[t - 1 - i];
        dxadj[t - nd] = v;
      }
      const LikeSums s = ArmaChandrasekharLike(dxadj, phi, theta, &wd);
      if (!s.ok) return DBL_MAX;
      if (s.nu == 0) return kNaN;
      return 0.5 * (std::log(s.ssq / s.nu) + s.sumlog / s.nu);
    }
    const LikeSums s = nfinite == n && fit.delta.empty() ? ArmaChandrasekharLike(xadj, phi, theta, &wd)
                                                         : KalmanLike(xadj, phi, theta, fit.delta, &w, false);
    if (!s.ok) return DBL_MAX;
    if (s.nu == 0) return kNaN;
    return 0.5 * (std::log(s.ssq / s.nu) + s.sumlog / s.nu);
  };

  // The exact gradient of ml_fn: the filter's adjoint (ArmaKalmanGrad) chained through the parameter
  // expansion and the initial covariance by central differences of those cheap maps. Without gaps only.
  Work wg, wq;
  std::vector<double> gph, gth, gx, gq0, q_p, q_m, gxs;
  GradFn ml_grad;
  if (nfinite == n) ml_grad = [&](const std::vector<double>& par, std::vector<double>* g) {
    ExpandPars(spec, par.data(), true, &phi, &theta);
    adjust(par.data());
    const int nd = static_cast<int>(fit.delta.size());
    gxs.resize(n - nd);
    for (int t = nd; t < n; ++t) {
      double v = xadj[t];
      for (int i = 0; i < nd; ++i) v -= fit.delta[i] * xadj[t - 1 - i];
      gxs[t - nd] = v;
    }
    double fval;
    if (!ArmaKalmanGrad(gxs, phi, theta, &wg, &fval, &gph, &gth, &gx, &gq0)) return false;
    const int r = std::max(static_cast<int>(phi.size()), static_cast<int>(theta.size()) + 1);
    g->assign(npar, 0.0);
    std::vector<double> pp = par;
    constexpr double h = 1e-6;
    wq.Resize(r, r, 0);
    q_p.assign(r * r, 0.0);
    q_m.assign(r * r, 0.0);
    for (int k = 0; k < narma; ++k) {
      pp[k] = par[k] + h;
      ExpandPars(spec, pp.data(), true, &phi_p, &theta_p);
      if (!StationaryCovariance(phi_p, theta_p, r, r, &wq, q_p.data())) return false;
      pp[k] = par[k] - h;
      ExpandPars(spec, pp.data(), true, &phi_m, &theta_m);
      if (!StationaryCovariance(phi_m, theta_m, r, r, &wq, q_m.data())) return false;
      pp[k] = par[k];
      double gk = 0;
      for (size_t i = 0; i < phi.size(); ++i) gk += gph[i] * (phi_p[i] - phi_m[i]);
      for (size_t i = 0; i < theta.size(); ++i) gk += gth[i + 1] * (theta_p[i] - theta_m[i]);
      for (int j = 0; j < r; ++j)
        for (int i = j; i < r; ++i) gk += gq0[i + r * j] * (q_p[i + r * j] - q_m[i + r * j]);
      (*g)[k] = gk / (2 * h);
    }
    for (int j = 0; j < nx; ++j) {  // x = diff(y - beta * xreg)
      const std::vector<double>& col = xreg[static_cast<size_t>(j)];
      double gb = 0;
      for (int t = nd; t < n; ++t) {
        double dr = col[t];
        for (int i = 0; i < nd; ++i) dr -= fit.delta[i] * col[t - 1 - i];
        gb -= gx[t - nd] * dr;
      }
      (*g)[narma + j] = gb;
    }
    return true;
  };

  double value = kNaN;
  std::vector<double> coef = init, ml_raw;
  std::vector<double> resid;
  if (est == ArimaEstimation::kCss || est == ArimaEstimation::kCssMl) {
    if (ncond_css >= n) {
      fit.error = "too few observations for the conditional sum of squares";
      return fit;
    }
    std::vector<double> par = init;
    double fmin = kNaN;
    if (!Vmmin(css_fn, &par, parscale, &fmin, 100, &css_grad)) {
      fit.error = "CSS optimisation failed (non-finite objective)";
      return fit;
    }
    if (est == ArimaEstimation::kCss) {
      coef = par;
      value = fmin;
      ExpandPars(spec, coef.data(), false, &fit.phi, &fit.theta);
      adjust(coef.data());
      const double s2 = CssVariance(xadj, o, fit.phi, fit.theta, ncond_css, &wbuf, &cres);
      fit.sigma2 = s2;
      resid = cres;
      KalmanLike(xadj, fit.phi, fit.theta, fit.delta, &w, false);  // the state for forecasting
    } else {
      init = par;  // vmmin reports convergence even at maxit; R keeps these only when converged, as here
      if (!ArStationary(std::span<const double>(init.data(), o.p))) {
        fit.error = "non-stationary AR part from CSS";
        return fit;
      }
      if (!ArStationary(std::span<const double>(init.data() + o.p + o.q, o.P))) {
        fit.error = "non-stationary seasonal AR part from CSS";
        return fit;
      }
    }
  }
  if (est != ArimaEstimation::kCss) {
    // Transformed start (R's ARIMA_Invtrans and maInvert).
    std::vector<double> raw = init;
    if (!InvPartrans(o.p, init.data(), raw.data()) ||
        !InvPartrans(o.P, init.data() + o.p + o.q, raw.data() + o.p + o.q)) {
      fit.error = "non-stationary AR start";
      return fit;
    }
    auto invert_ma = [&](std::vector<double>* v) {
      for (auto [off, len] : {std::pair{o.p, o.q}, std::pair{o.p + o.q + o.P, o.Q}}) {
        if (!len) continue;
        std::vector<double> ma(v->begin() + off, v->begin() + off + len);
        ma = MaInvert(ma);
        std::copy(ma.begin(), ma.end(), v->begin() + off);
      }
    };
    invert_ma(&raw);
    double fmin = kNaN;
    if (!Vmmin(ml_fn, &raw, parscale, &fmin, 100, &ml_grad)) {
      fit.error = "ML optimisation failed (non-finite likelihood)";
      return fit;
    }
    std::vector<double> inverted = raw;
    invert_ma(&inverted);
    if (inverted != raw) {
      raw = inverted;
      fmin = ml_fn(raw);
    }
    value = fmin;
    coef = raw;
    PartransInPlace(o.p, raw.data(), coef.data());
    PartransInPlace(o.P, raw.data() + o.p + o.q, coef.data() + o.p + o.q);
    ExpandPars(spec, coef.data(), false, &fit.phi, &fit.theta);
    adjust(coef.data());
    const LikeSums s = KalmanLike(xadj, fit.phi, fit.theta, fit.delta, &w, true);
    if (!s.ok || s.nu == 0) {
      fit.error = "likelihood undefined at the estimate";
      return fit;
    }
    fit.sigma2 = s.ssq / n_used;
    resid = w.resid;
    ml_raw = raw;
  }
  fit.coef = coef;
  fit.a = w.a;
  fit.P = w.P;
  if (!std::isfinite(value)) {
    fit.error = "non-finite objective";
    return fit;
  }
  // stats::arima's likelihood and auto.arima's information criteria.
  const double twice_nll = 2 * n_used * value + n_used + n_used * kLog2Pi;
  fit.loglik = -0.5 * twice_nll;
  const int nstar = nfinite - o.d - o.D * o.m;
  const int k = npar + 1;
  fit.aic = est == ArimaEstimation::kCss ? offset + nstar * std::log(fit.sigma2) + 2 * k
                                         : twice_nll + 2 * npar + 2;
  if (!std::isfinite(fit.aic)) fit.aic = kInf;
  fit.aicc = fit.aic + 2.0 * k * (k + 1) / (nstar - k - 1);
  fit.ic = nfinite <= 3 ? fit.aic : fit.aicc;
  if (std::isnan(fit.ic)) fit.ic = kInf;
  double ss = 0;
  for (double v : resid)
    if (std::isfinite(v)) ss += v * v;
  fit.sigma2 = ss / (nstar - k + 1);
  // Unit roots: the fitted AR or MA polynomial with a root within 1.01 of the unit circle is not accepted.
  double minroot = 2;
  auto trimmed = [](const std::vector<double>& v) {
    size_t last = 0;
    for (size_t i = 0; i < v.size(); ++i)
      if (std::abs(v[i]) > 1e-8) last = i + 1;
    return std::vector<double>(v.begin(), v.begin() + last);
  };
  if (o.p + o.P > 0) minroot = std::min(minroot, MinRootModulus(trimmed(fit.phi), -1));
  if (o.q + o.Q > 0) minroot = std::min(minroot, MinRootModulus(trimmed(fit.theta), 1));
  if (minroot < 1.01) fit.ic = kInf;
  if (check_variance && npar > 0 && fit.ic < ic_to_beat) {
    Eigen::MatrixXd H;
    bool ok;
    if (est == ArimaEstimation::kCss) {
      ok = NumHessian(css_fn, coef, parscale, &H) && VarianceOk(H, Eigen::MatrixXd::Identity(npar, npar));
    } else {
      const std::vector<double>& raw = ml_raw;
      Eigen::MatrixXd A = Eigen::MatrixXd::Identity(npar, npar);  // R's ARIMA_Gradtrans
      for (auto [off, len] : {std::pair{0, o.p}, std::pair{o.p + o.q, o.P}}) {
        if (!len) continue;
        double w1[64], w2[64], w3[64];
        std::copy(raw.begin() + off, raw.begin() + off + len, w1);
        PartransInPlace(len, w1, w2);
        for (int i = 0; i < len; ++i) {
          w1[i] += 1e-3;
          PartransInPlace(len, w1, w3);
          for (int j = 0; j < len; ++j) A(off + i, off + j) = (w3[j] - w2[j]) / 1e-3;
          w1[i] -= 1e-3;
        }
      }
      ok = NumHessian(ml_fn, raw, parscale, &H) && VarianceOk(H, A);
    }
    if (!ok) fit.error = "coefficient covariance not positive (checkarima)";
  }
  return fit;
}

// ---------------------------------------------------------------- the fitted model

// The covariates of a regression with ARIMA errors as a fitted model keeps them: coefficients, names, and the
// values of the periods after the last observation (the forecast's, as given; the last one repeats further
// out). A model fitted on log1p(y) (log_y) takes the covariates marked in log_x as their logarithms.
struct Regressors {
  std::vector<double> coef;
  std::vector<std::string> names;
  std::vector<std::vector<double>> future;
  bool log_y = false;
  std::vector<uint8_t> log_x;
  bool Log(size_t j) const { return j < log_x.size() && log_x[j]; }
  // Covariate j's value x as it enters the regression.
  double X(size_t j, double x) const { return Log(j) ? std::log(x) : x; }
  double At(size_t step) const {  // the covariates' part of the mean at forecast step `step` (0-based)
    double v = 0;
    for (size_t j = 0; j < coef.size(); ++j)
      if (!future[j].empty()) v += coef[j] * X(j, future[j][std::min(step, future[j].size() - 1)]);
    return v;
  }
  std::string Name(size_t j) const {
    if (!Log(j)) return names[j];
    std::string s = "log(";  // not "log(" + ...: GCC 12 warns (-Wrestrict) on that wrongly
    s += names[j];
    return s += ")";
  }
};

class ArimaModel : public FittedModel {
 public:
  ArimaModel(ArimaInfo info, std::vector<double> phi, std::vector<double> theta, std::vector<double> delta,
             std::vector<double> a, std::vector<double> P, double n, Regressors reg = {})
      : info_(std::move(info)), phi_(std::move(phi)), theta_(std::move(theta)), delta_(std::move(delta)),
        a_(std::move(a)), P_(std::move(P)), n_(n), reg_(std::move(reg)) {}

  std::string_view method() const override { return "arima"; }
  std::string Label() const override {
    const ArimaOrder& o = info_.order;
    std::string s = "ARIMA(" + std::to_string(o.p) + "," + std::to_string(o.d) + "," + std::to_string(o.q) + ")";
    if (o.P + o.D + o.Q > 0)
      s += "(" + std::to_string(o.P) + "," + std::to_string(o.D) + "," + std::to_string(o.Q) + ")[" +
           std::to_string(o.m) + "]";
    if (info_.constant) s += (o.d + o.D == 0) ? " with mean" : " with drift";
    if (!reg_.coef.empty()) {
      s += " + xreg(";
      for (size_t j = 0; j < reg_.names.size(); ++j) s += (j ? "," : ""), s += reg_.Name(j);
      s += ")";
    }
    if (reg_.log_y) s += " on log1p";
    return s;
  }

  // KalmanForecast plus the regression part, as predict.Arima; back from the log1p scale (quantiles map
  // through expm1; the mean is the median there) for a model fitted on it.
  Forecast Predict(int h) const override {
    const StateSpace ss = Matrices();
    const int rd = static_cast<int>(a_.size());
    Eigen::VectorXd a = Eigen::Map<const Eigen::VectorXd>(a_.data(), rd);
    Eigen::MatrixXd P = Eigen::Map<const Eigen::MatrixXd>(P_.data(), rd, rd);
    std::vector<double> mean(h), se(h);
    for (int l = 0; l < h; ++l) {
      a = ss.T * a;
      P = ss.T * P * ss.T.transpose() + ss.V;
      mean[l] = ss.Z.dot(a) + Regression(n_ + l + 1) + reg_.At(static_cast<size_t>(l));
      se[l] = std::sqrt(std::max(0.0, ss.Z.dot(P * ss.Z)) * info_.sigma2);
    }
    Forecast f = NormalForecast(mean, se);
    if (reg_.log_y)
      for (auto* v : {&f.mean, &f.lo80, &f.hi80, &f.lo95, &f.hi95})
        for (double& z : *v) z = std::expm1(z);
    return f;
  }

  // The Kalman filter of the fit (KalmanLike: predict with T and V, then update with the observation less the
  // regression part; a missing value skips the update) run on from the last filtered state and covariance,
  // with the same matrices Predict uses. Coefficients, the mean or drift, sigma2 and the information criteria
  // stay as fitted; the differenced states move on with the data and the drift's time index with the periods.
  // A model on the log1p scale takes the new values there (a negative one is an error) and a covariate it
  // takes as a logarithm counts a value that is not positive as unknown.
  FitOutcome Update(std::span<const double> v, const UpdateContext& ctx) const override {
    if (std::string err = CheckUpdateValues(v, method()); !err.empty()) return {nullptr, err};
    if (reg_.log_y && std::any_of(v.begin(), v.end(), [](double z) { return z < 0; }))
      return {nullptr, "arima: a negative value for a model fitted on the log1p scale"};
    if (v.empty() && ctx.covariates.empty()) return {std::make_unique<ArimaModel>(*this), {}};  // nothing new
    // The covariates over the new periods and the forecast's, from the context by name; unknown values carry
    // the last known one forward (the first from the value the model held for the period after its data).
    const size_t k = v.size(), h = static_cast<size_t>(std::max(1, ctx.horizon));
    std::vector<std::vector<double>> x(reg_.coef.size());
    for (size_t j = 0; j < x.size(); ++j) {
      size_t col = ctx.covariates.size();
      for (size_t c = 0; c < ctx.covariate_names.size() && c < ctx.covariates.size(); ++c)
        if (ctx.covariate_names[c] == reg_.names[j]) col = c;
      if (col == ctx.covariates.size())
        return {nullptr, "arima: the update has no values of the covariate '" + reg_.names[j] + "' the model uses"};
      const std::span<const double> src = ctx.covariates[col];
      double last = reg_.future[j].empty() ? 0.0 : reg_.future[j].front();
      for (size_t i = 0; i < k + h; ++i) {
        if (i < src.size() && std::isfinite(src[i]) && (!reg_.Log(j) || src[i] > 0)) last = src[i];
        x[j].push_back(last);
      }
    }
    const StateSpace ss = Matrices();
    const int rd = static_cast<int>(a_.size());
    Eigen::VectorXd a = Eigen::Map<const Eigen::VectorXd>(a_.data(), rd);
    Eigen::MatrixXd P = Eigen::Map<const Eigen::MatrixXd>(P_.data(), rd, rd);
    double n = n_;
    for (size_t i = 0; i < k; ++i) {
      const double y = reg_.log_y ? std::log1p(v[i]) : v[i];
      n += 1;
      a = ss.T * a;
      P = ss.T * P * ss.T.transpose() + ss.V;
      if (!std::isfinite(y)) continue;
      const Eigen::VectorXd M = P * ss.Z;
      const double gain = ss.Z.dot(M);
      if (!(gain > 0) || !std::isfinite(gain))
        return {nullptr, "arima: the filter's prediction variance is not positive"};
      double covariates = 0;
      for (size_t j = 0; j < x.size(); ++j) covariates += reg_.coef[j] * reg_.X(j, x[j][i]);
      const double resid = y - Regression(n) - covariates - ss.Z.dot(a);
      a += M * (resid / gain);
      P -= M * M.transpose() / gain;
    }
    if (!a.allFinite() || !P.allFinite()) return {nullptr, "arima: the filtered state is not finite"};
    Regressors reg = reg_;
    for (size_t j = 0; j < x.size(); ++j) reg.future[j].assign(x[j].begin() + static_cast<std::ptrdiff_t>(k), x[j].end());
    return {std::make_unique<ArimaModel>(info_, phi_, theta_, delta_, std::vector<double>(a.data(), a.data() + rd),
                                         std::vector<double>(P.data(), P.data() + rd * rd), n, std::move(reg)),
            {}};
  }

  void Save(ByteWriter* out) const override {
    const ArimaOrder& o = info_.order;
    for (int v : {o.p, o.d, o.q, o.P, o.D, o.Q, o.m, info_.constant ? 1 : 0}) out->PutI64(v);
    for (const auto* v : {&info_.ar, &info_.ma, &info_.sar, &info_.sma, &phi_, &theta_, &delta_, &a_, &P_})
      out->PutF64s(*v);
    for (double v : {info_.constant_coef, info_.sigma2, info_.loglik, info_.aic, info_.aicc, n_}) out->PutF64(v);
    out->PutF64s(reg_.coef);
    for (size_t j = 0; j < reg_.coef.size(); ++j) {
      out->PutString(reg_.names[j]);
      out->PutF64s(reg_.future[j]);
    }
    out->PutU8(reg_.log_y ? 1 : 0);
    for (size_t j = 0; j < reg_.coef.size(); ++j) out->PutU8(reg_.Log(j) ? 1 : 0);
  }

  static std::unique_ptr<FittedModel> Load(ByteReader* in) {
    ArimaInfo info;
    ArimaOrder& o = info.order;
    for (int* v : {&o.p, &o.d, &o.q, &o.P, &o.D, &o.Q, &o.m}) *v = static_cast<int>(in->GetI64());
    info.constant = in->GetI64() != 0;
    info.ar = in->GetF64s();
    info.ma = in->GetF64s();
    info.sar = in->GetF64s();
    info.sma = in->GetF64s();
    auto phi = in->GetF64s(), theta = in->GetF64s(), delta = in->GetF64s(), a = in->GetF64s(), P = in->GetF64s();
    for (double* v : {&info.constant_coef, &info.sigma2, &info.loglik, &info.aic, &info.aicc}) *v = in->GetF64();
    const double n = in->GetF64();
    Regressors reg;  // models saved before covariates end here
    if (!in->AtEnd()) {
      reg.coef = in->GetF64s();
      for (size_t j = 0; j < reg.coef.size(); ++j) {
        reg.names.push_back(in->GetString());
        reg.future.push_back(in->GetF64s());
      }
    }
    // On the log1p scale, and which covariates enter as logarithms (models saved before end here: neither).
    reg.log_y = !in->AtEnd() && in->GetU8() != 0;
    for (size_t j = 0; j < reg.coef.size(); ++j) reg.log_x.push_back(in->AtEnd() ? 0 : in->GetU8());
    const size_t rd = std::max(phi.size(), theta.size() + 1) + delta.size();
    if (a.size() != rd || P.size() != rd * rd || info.ar.size() != static_cast<size_t>(o.p) ||
        info.ma.size() != static_cast<size_t>(o.q) || info.sar.size() != static_cast<size_t>(o.P) ||
        info.sma.size() != static_cast<size_t>(o.Q))
      throw std::runtime_error("arima: inconsistent saved model");
    return std::make_unique<ArimaModel>(std::move(info), std::move(phi), std::move(theta), std::move(delta),
                                        std::move(a), std::move(P), n, std::move(reg));
  }

  std::string Describe() const override {
    std::string s;
    auto add = [&](const std::string& name, const std::vector<double>& v) {
      for (size_t i = 0; i < v.size(); ++i) s += (s.empty() ? "" : ", ") + name + std::to_string(i + 1) + "=" + FormatParameter(v[i]);
    };
    add("ar", info_.ar);
    add("ma", info_.ma);
    add("sar", info_.sar);
    add("sma", info_.sma);
    if (info_.constant)
      s += (s.empty() ? "" : ", ") + std::string(info_.order.d + info_.order.D == 0 ? "mean=" : "drift=") +
           FormatParameter(info_.constant_coef);
    for (size_t j = 0; j < reg_.coef.size(); ++j)
      s += (s.empty() ? "" : ", ") + reg_.Name(j) + "=" + FormatParameter(reg_.coef[j]);
    s += (s.empty() ? "" : ", ") + std::string("sigma2=") + FormatParameter(info_.sigma2) + ", aicc=" + FormatParameter(info_.aicc);
    if (reg_.log_y) s += " (log1p scale)";
    return s;
  }

  const ArimaInfo& info() const { return info_; }

 private:
  // The state-space form: state transition T, innovation covariance V = R R', observation vector Z.
  struct StateSpace {
    Eigen::MatrixXd T, V;
    Eigen::VectorXd Z;
  };
  StateSpace Matrices() const {
    const int p = static_cast<int>(phi_.size()), q = static_cast<int>(theta_.size());
    const int d = static_cast<int>(delta_.size()), r = std::max(p, q + 1), rd = r + d;
    StateSpace ss;
    ss.T = Eigen::MatrixXd::Zero(rd, rd);
    for (int i = 0; i < p; ++i) ss.T(i, 0) = phi_[i];
    for (int i = 0; i + 1 < r; ++i) ss.T(i, i + 1) = 1;
    if (d > 0) {
      ss.T(r, 0) = 1;
      for (int i = 0; i < d; ++i) ss.T(r, r + i) = delta_[i];
      for (int i = 1; i < d; ++i) ss.T(r + i, r + i - 1) = 1;
    }
    Eigen::VectorXd R = Eigen::VectorXd::Zero(rd);
    ss.Z = Eigen::VectorXd::Zero(rd);
    R(0) = 1;
    for (int i = 0; i < q; ++i) R(i + 1) = theta_[i];
    ss.Z(0) = 1;
    for (int i = 0; i < d; ++i) ss.Z(r + i) = delta_[i];
    ss.V = R * R.transpose();
    return ss;
  }
  // The regression part at 1-based time index t: the mean, or the drift times t.
  double Regression(double t) const {
    if (!info_.constant) return 0.0;
    return info_.constant_coef * ((info_.order.d + info_.order.D == 0) ? 1.0 : t);
  }

  ArimaInfo info_;
  std::vector<double> phi_, theta_, delta_, a_, P_;
  double n_;  // observations fitted: the drift's time index of the last one
  Regressors reg_;
};

// `reg` without coefficients: its names and future values for f's covariates.
std::unique_ptr<FittedModel> MakeModel(const Fit& f, Regressors reg = {}) {
  ArimaInfo info;
  const ArimaOrder& o = f.spec.o;
  info.order = o;
  info.constant = f.spec.ncxreg > 0;
  auto part = [&](int off, int len) { return std::vector<double>(f.coef.begin() + off, f.coef.begin() + off + len); };
  info.ar = part(0, o.p);
  info.ma = part(o.p, o.q);
  info.sar = part(o.p + o.q, o.P);
  info.sma = part(o.p + o.q + o.P, o.Q);
  info.constant_coef = info.constant ? f.coef[f.spec.narma()] : 0.0;
  info.sigma2 = f.sigma2;
  info.loglik = f.loglik;
  info.aic = f.aic;
  info.aicc = f.aicc;
  reg.coef.assign(f.coef.begin() + f.spec.narma() + f.spec.ncxreg, f.coef.end());
  if (f.spec.ncov == 0) reg = {};
  return std::make_unique<ArimaModel>(std::move(info), f.phi, f.theta, f.delta, f.a, f.P, f.n, std::move(reg));
}

}  // namespace

FitOutcome FitArimaOrder(std::span<const double> y, const ArimaOrder& order, bool constant,
                         ArimaEstimation estimation) {
  ArimaOrder o = order;
  if (o.m <= 1) o.m = 1, o.P = o.D = o.Q = 0;
  if (o.p > 60 || o.P * o.m + o.p > 400 || o.q > 60) return {nullptr, "ARIMA order too large"};
  Fit f = FitOrder(y, MakeSpec(o, constant), estimation, 0.0, false);
  if (!f.ok()) return {nullptr, f.error};
  return {MakeModel(f), {}};
}

const ArimaInfo* GetArimaInfo(const FittedModel& model) {
  const auto* m = dynamic_cast<const ArimaModel*>(&model);
  return m ? &m->info() : nullptr;
}


// ---------------------------------------------------------------- differencing tests

double KpssStatistic(std::span<const double> x) {
  const int n = static_cast<int>(x.size());
  if (n < 2) return kNaN;
  const int lag = static_cast<int>(std::trunc(3 * std::sqrt(static_cast<double>(n)) / 13));
  double mean = 0;
  for (double v : x) mean += v;
  mean /= n;
  std::vector<double> e(n);
  for (int t = 0; t < n; ++t) e[t] = x[t] - mean;
  double s = 0, num = 0, s2 = 0;
  for (int t = 0; t < n; ++t) s += e[t], num += s * s, s2 += e[t] * e[t];
  num /= static_cast<double>(n) * n;
  s2 /= n;
  double den = s2;
  for (int l = 1; l <= lag; ++l) {
    double c = 0;
    for (int t = l; t < n; ++t) c += e[t] * e[t - l];
    den += 2.0 / n * (1 - l / (lag + 1.0)) * c;
  }
  return num / den;
}

// ndiffs(test = "kpss", alpha = 0.05): difference while the statistic exceeds the 5% critical value 0.463.
int KpssDiffs(std::span<const double> x0, int max_d) {
  std::vector<double> x;
  for (double v : x0)
    if (std::isfinite(v)) x.push_back(v);
  if (IsConstant(x)) return 0;
  constexpr double kCritical = 0.463;
  auto test = [&](const std::vector<double>& v) {
    const double s = KpssStatistic(v);
    return std::isnan(s) ? -1 : (s > kCritical ? 1 : 0);
  };
  int d = 0;
  int dodiff = test(x);
  if (dodiff < 0) return 0;
  while (dodiff == 1 && d < max_d) {
    ++d;
    for (size_t t = x.size(); t-- > 1;) x[t] -= x[t - 1];
    x.erase(x.begin());
    if (IsConstant(x)) return d;
    dodiff = test(x);
    if (dodiff < 0) return d - 1;
  }
  return d;
}

namespace {

// One loess estimate at xs (1-based positions nleft..nright of y), as STL's stlest.
bool LoessAt(const std::vector<double>& y, int n, int len, int degree, double xs, int nleft, int nright,
             std::vector<double>& w, double* ys) {
  const double range = n - 1.0;
  double h = std::max(xs - nleft, nright - xs);
  if (len > n) h += (len - n) / 2;
  const double h9 = 0.999 * h, h1 = 0.001 * h;
  double a = 0;
  for (int j = nleft; j <= nright; ++j) {
    w[j - 1] = 0;
    const double r = std::abs(j - xs);
    if (r <= h9) {
      w[j - 1] = r <= h1 ? 1 : std::pow(1 - std::pow(r / h, 3), 3);
      a += w[j - 1];
    }
  }
  if (a <= 0) return false;
  for (int j = nleft; j <= nright; ++j) w[j - 1] /= a;
  if (h > 0 && degree > 0) {
    a = 0;
    for (int j = nleft; j <= nright; ++j) a += w[j - 1] * j;
    double b = xs - a, c = 0;
    for (int j = nleft; j <= nright; ++j) c += w[j - 1] * (j - a) * (j - a);
    if (std::sqrt(c) > 0.001 * range) {
      b /= c;
      for (int j = nleft; j <= nright; ++j) w[j - 1] *= b * (j - a) + 1;
    }
  }
  double s = 0;
  for (int j = nleft; j <= nright; ++j) s += w[j - 1] * y[j - 1];
  *ys = s;
  return true;
}

// STL's stless with jump 1 (a loess estimate at every point; R's stl interpolates between every
// ceiling(window / 10)-th point).
std::vector<double> LoessSmooth(const std::vector<double>& y, int len, int degree) {
  const int n = static_cast<int>(y.size());
  std::vector<double> out(n), w(n);
  if (n < 2) return y;
  int nleft = 1, nright = n;
  if (len < n) nright = len;
  const int nsh = (len + 1) / 2;
  for (int i = 1; i <= n; ++i) {
    if (len < n && i > nsh && nright != n) ++nleft, ++nright;
    double ys;
    out[i - 1] = LoessAt(y, n, len, degree, i, nleft, nright, w, &ys) ? ys : y[i - 1];
  }
  return out;
}

std::vector<double> MovingAverage(const std::vector<double>& x, int len) {
  const int n = static_cast<int>(x.size()), nn = n - len + 1;
  std::vector<double> out(std::max(nn, 0));
  if (nn <= 0) return out;
  double v = 0;
  for (int i = 0; i < len; ++i) v += x[i];
  out[0] = v / len;
  for (int j = 1; j < nn; ++j) v += x[j + len - 1] - x[j - 1], out[j] = v / len;
  return out;
}

int NextOdd(double x) {
  int v = static_cast<int>(std::lround(x));
  return v % 2 == 0 ? v + 1 : v;
}

// stl(x, s.window = 11, robust = FALSE) with R's other defaults; returns seasonal and trend.
void Stl(const std::vector<double>& y, int np, std::vector<double>* season, std::vector<double>* trend) {
  const int n = static_cast<int>(y.size());
  const int ns = 11, isdeg = 0, itdeg = 1, ildeg = 1;
  const int nt = NextOdd(std::ceil(1.5 * np / (1 - 1.5 / ns)));
  const int nl = NextOdd(np);
  trend->assign(n, 0.0);
  season->assign(n, 0.0);
  std::vector<double> C(n + 2 * np), wv(n);
  for (int iter = 0; iter < 2; ++iter) {
    std::vector<double> detr(n);
    for (int i = 0; i < n; ++i) detr[i] = y[i] - (*trend)[i];
    for (int j = 0; j < np; ++j) {  // cycle-subseries smoothing, extended one cycle at each end
      std::vector<double> sub;
      for (int i = j; i < n; i += np) sub.push_back(detr[i]);
      const int k = static_cast<int>(sub.size());
      std::vector<double> sm = LoessSmooth(sub, ns, isdeg);
      std::vector<double> ww(k);
      double ys;
      const double first = LoessAt(sub, k, ns, isdeg, 0, 1, std::min(ns, k), ww, &ys) ? ys : sm[0];
      const double last = LoessAt(sub, k, ns, isdeg, k + 1, std::max(1, k - ns + 1), k, ww, &ys) ? ys : sm[k - 1];
      C[j] = first;
      for (int m = 0; m < k; ++m) C[(m + 1) * np + j] = sm[m];
      if ((k + 1) * np + j < n + 2 * np) C[(k + 1) * np + j] = last;
    }
    std::vector<double> L = LoessSmooth(MovingAverage(MovingAverage(MovingAverage(C, np), np), 3), nl, ildeg);
    for (int i = 0; i < n; ++i) (*season)[i] = C[np + i] - L[i];
    for (int i = 0; i < n; ++i) wv[i] = y[i] - (*season)[i];
    *trend = LoessSmooth(wv, nt, itdeg);
  }
}

double Variance(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / (static_cast<double>(v.size()) - 1);
}

}  // namespace

// forecast's seas.heuristic: the strength of the STL seasonal component, in [0, 1]. Missing values are filled
// by linear interpolation (R's na.interp uses an STL fit for seasonal series).
double SeasonalStrength(std::span<const double> x0, int period) {
  const int n = static_cast<int>(x0.size());
  if (period < 2 || n <= 2 * period) return kNaN;
  std::vector<double> x(x0.begin(), x0.end());
  int last = -1;
  for (int t = 0; t < n; ++t) {
    if (!std::isfinite(x[t])) continue;
    if (last < 0) {
      for (int u = 0; u < t; ++u) x[u] = x[t];
    } else {
      for (int u = last + 1; u < t; ++u) x[u] = x[last] + (x[t] - x[last]) * (u - last) / (t - last);
    }
    last = t;
  }
  if (last < 0) return kNaN;
  for (int u = last + 1; u < n; ++u) x[u] = x[last];
  std::vector<double> season, trend;
  Stl(x, period, &season, &trend);
  std::vector<double> rem(n), rs(n);
  for (int t = 0; t < n; ++t) rem[t] = x[t] - season[t] - trend[t], rs[t] = rem[t] + season[t];
  const double vs = Variance(rs);
  if (!(vs > 0)) return 0;
  return std::max(0.0, std::min(1.0, 1 - Variance(rem) / vs));
}

// nsdiffs(test = "seas", max.D): seasonal differences while the seasonal strength exceeds 0.64.
int SeasonalDiffs(std::span<const double> x0, int period, int max_D) {
  if (period < 2 || IsConstant(x0) || static_cast<int>(x0.size()) <= 2 * period) return 0;
  std::vector<double> x(x0.begin(), x0.end());
  auto test = [&](const std::vector<double>& v) {
    const double s = SeasonalStrength(v, period);
    return std::isfinite(s) && s > 0.64;
  };
  int D = 0;
  bool dodiff = test(x);
  while (dodiff && D < max_D) {
    ++D;
    std::vector<double> dx(x.size() - period);
    for (size_t t = 0; t < dx.size(); ++t) dx[t] = x[t + period] - x[t];
    x = std::move(dx);
    if (IsConstant(x)) return D;
    dodiff = static_cast<int>(x.size()) >= 2 * period && D < max_D && test(x);
  }
  return D;
}

// ---------------------------------------------------------------- auto.arima (stepwise)

FitOutcome FitAutoArima(std::span<const double> y_all, int period, const ArimaOptions& opt,
                        const ArimaCovariates* covariates) {
  std::span<const double> y = y_all;
  if (opt.max_length > 0 && static_cast<int>(y.size()) > opt.max_length) {
    y = y.subspan(y.size() - opt.max_length);
    while (!y.empty() && !std::isfinite(y.front())) y = y.subspan(1);
  }
  const int n = static_cast<int>(y.size());
  // Covariates (a regression with ARIMA errors): those that vary over the history kept, over the periods y
  // kept, gaps carried forward (and back before the first known value); their forecast-period values go to
  // the model.
  CovariateColumns cov_history;
  Regressors reg;
  std::string note;  // covariates unknown in forecast periods
  if (covariates) {
    const size_t start = y_all.size() - y.size(), horizon = static_cast<size_t>(std::max(0, covariates->horizon));
    for (size_t j = 0; j < covariates->columns.size(); ++j) {
      const std::span<const double> src = covariates->columns[j];
      const std::vector<double> v =
          FilledCovariate(src.subspan(std::min(start, src.size())), static_cast<size_t>(n) + horizon);
      if (v.empty() || !std::isfinite(v.front())) continue;
      const auto history_end = v.begin() + n;
      if (std::all_of(v.begin(), history_end, [&](double z) { return z == v.front(); })) continue;
      cov_history.emplace_back(v.begin(), history_end);
      reg.future.emplace_back(history_end, v.end());
      reg.names.push_back(j < covariates->names.size() && !covariates->names[j].empty() ? covariates->names[j]
                                                                                         : "x" + std::to_string(j));
      const std::string unknown =
          UnknownFutureNote(src, static_cast<size_t>(n) + start, horizon, "arima", reg.names.back());
      if (!unknown.empty()) note += (note.empty() ? "" : "; ") + unknown;
      reg.log_x.push_back(EntersAsLog(v) ? 1 : 0);
    }
  }
  const CovariateColumns* cov = cov_history.empty() ? nullptr : &cov_history;
  // With covariates, as fourier: a non-negative series (few zeros) on the log1p scale, so a price taken as
  // its logarithm has an elasticity for its coefficient and an indicator a relative lift (R's auto.arima on
  // log volume with log price, the arimax of ../shared/peers/r_xreg_peer.R). Without covariates the series as
  // it is, as R's.
  std::vector<double> log_y;
  reg.log_y = cov && FitsOnLogScale(y);
  if (reg.log_y) {
    for (double v : y) log_y.push_back(std::log1p(v));
    y = log_y;
    for (size_t j = 0; j < cov_history.size(); ++j)
      if (reg.log_x[j])
        for (double& z : cov_history[j]) z = std::log(z);
  } else {
    reg.log_x.assign(reg.log_x.size(), 0);
  }
  const int serieslength = CountFinite(y);
  if (serieslength == 0) return {nullptr, "all data are missing"};
  if (IsConstant(y)) {  // auto.arima: ARIMA(0,0,0) with the mean fixed
    double v = 0;
    for (double x : y)
      if (std::isfinite(x)) v = x;
    Fit f;
    f.spec = MakeSpec(ArimaOrder{}, true);
    f.coef = {v};
    f.phi = {};
    f.theta = {};
    f.n = n;
    f.a = {0.0};
    f.P = {0.0};
    f.sigma2 = 0;
    f.loglik = kInf;
    f.aic = f.aicc = -kInf;
    return {MakeModel(f), {}};
  }
  // With covariates the differences are chosen on the residuals of the series' regression on them (with an
  // intercept), as auto.arima does.
  std::vector<double> residual;
  if (cov) {
    const int k = static_cast<int>(cov->size()) + 1;
    Eigen::MatrixXd xtx = Eigen::MatrixXd::Zero(k, k);
    Eigen::VectorXd xty = Eigen::VectorXd::Zero(k), row(k);
    for (int t = 0; t < n; ++t) {
      if (!std::isfinite(y[t])) continue;
      row(0) = 1;
      for (int j = 1; j < k; ++j) row(j) = (*cov)[static_cast<size_t>(j - 1)][t];
      xtx.selfadjointView<Eigen::Lower>().rankUpdate(row);
      xty += y[t] * row;
    }
    xtx.triangularView<Eigen::Upper>() = xtx.transpose();
    const Eigen::VectorXd beta = xtx.ldlt().solve(xty);
    residual.assign(y.begin(), y.end());
    for (int t = 0; t < n; ++t) {
      if (!std::isfinite(y[t])) continue;
      residual[t] -= beta(0);
      for (int j = 1; j < k; ++j) residual[t] -= beta(j) * (*cov)[static_cast<size_t>(j - 1)][t];
    }
    if (!beta.allFinite()) residual.assign(y.begin(), y.end());
  }
  const std::span<const double> xx = cov ? std::span<const double>(residual) : y;
  int m = std::max(1, period);
  if (m > 350) m = 1;  // R's arima cannot handle very long cycles either (it warns and proceeds slowly)
  int max_p = std::min(opt.max_p, serieslength / 3), max_q = std::min(opt.max_q, serieslength / 3);
  int max_P = std::min(opt.max_P, serieslength / 3 / m), max_Q = std::min(opt.max_Q, serieslength / 3 / m);
  int D = 0;
  if (m == 1) {
    max_P = max_Q = 0;
  } else if (n > 2 * m) {
    D = SeasonalDiffs(xx, m, opt.max_D);
  }
  std::vector<double> dx(xx.begin(), xx.end());
  if (D > 0) {
    std::vector<double> t(n - m);
    for (int i = 0; i < n - m; ++i) t[i] = dx[i + m] - dx[i];
    dx = std::move(t);
  }
  const int d = KpssDiffs(dx, opt.max_d);
  {
    std::vector<double> ddx = dx;
    for (int i = 0; i < d && !ddx.empty(); ++i) {
      for (size_t t = ddx.size(); t-- > 1;) ddx[t] -= ddx[t - 1];
      ddx.erase(ddx.begin());
    }
    if (CountFinite(ddx) == 0) return {nullptr, "not enough data after differencing"};
    if (IsConstant(ddx)) {  // auto.arima: constant after differencing
      ArimaOrder o{0, d, 0, 0, D, 0, m};
      if (d + D == 1) {
        Fit f = FitOrder(y, MakeSpec(o, true, cov), ArimaEstimation::kCssMl, 0, false, kInf, cov);
        if (f.ok()) return {MakeModel(f, reg), {}};
      }
      Fit f = FitOrder(y, MakeSpec(o, false, cov), ArimaEstimation::kCssMl, 0, false, kInf, cov);
      if (f.ok()) return {MakeModel(f, reg), {}};
      return {nullptr, "constant after differencing and no ARIMA(0,d,0) fits: " + f.error};
    }
  }
  if (m > 1) {
    if (max_P > 0) max_p = std::min(max_p, m - 1);
    if (max_Q > 0) max_q = std::min(max_q, m - 1);
  }
  const bool approximation = opt.stepwise_approximation && (n > 150 || m > 12);
  double offset = 0;
  if (approximation) {
    Fit f = FitOrder(y, MakeSpec(ArimaOrder{1, d, 0, 0, D, 0, m}, true, cov), ArimaEstimation::kCssMl, 0, false,
                     kInf, cov);
    if (f.ok()) {
      // -2 loglik - n log(sigma2) with stats::arima's unadjusted sigma2
      const int nstar = serieslength - d - D * m, k = f.spec.npar() + 1;
      const double raw_sigma2 = f.sigma2 * (nstar - k + 1) / (serieslength - static_cast<double>(f.delta.size()));
      offset = -2 * f.loglik - serieslength * std::log(raw_sigma2);
    }
  }
  const bool allowdrift = d + D == 1, allowmean = d + D == 0;
  bool constant = allowdrift || allowmean;
  const ArimaEstimation est = approximation ? ArimaEstimation::kCss : ArimaEstimation::kCssMl;

  struct Tried {
    int p, q, P, Q;
    bool c;
    double ic;
  };
  std::vector<Tried> results;
  Fit best;
  best.ic = kInf;
  best.error = "no model fitted";
  auto seen = [&](int p, int q, int P, int Q, bool c) {
    for (const auto& t : results)
      if (t.p == p && t.q == q && t.P == P && t.Q == Q && t.c == c) return true;
    return false;
  };
  // Fits a candidate; true when it beats the best so far (which it then becomes).
  auto attempt = [&](int p, int q, int P, int Q, bool c) {
    Fit f = FitOrder(y, MakeSpec(ArimaOrder{p, d, q, P, D, Q, m}, c, cov), est, offset, true, best.ic, cov);
    const double ic = f.ok() ? f.ic : kInf;
    results.push_back({p, q, P, Q, c, ic});
    if (ic < best.ic) {
      best = std::move(f);
      return true;
    }
    return false;
  };
  const bool tiny = n < 10;
  int p = std::min(tiny ? 1 : 2, max_p), q = std::min(tiny ? 1 : 2, max_q);
  int P = std::min(tiny ? 0 : 1, max_P), Q = std::min(tiny ? 0 : 1, max_Q);
  attempt(p, q, P, Q, constant);
  if (attempt(0, 0, 0, 0, constant)) p = q = P = Q = 0;
  if (max_p > 0 || max_P > 0) {
    const int p1 = max_p > 0, P1 = (m > 1) && (max_P > 0);
    if (attempt(p1, 0, P1, 0, constant)) p = p1, P = P1, q = Q = 0;
  }
  if (max_q > 0 || max_Q > 0) {
    const int q1 = max_q > 0, Q1 = (m > 1) && (max_Q > 0);
    if (attempt(0, q1, 0, Q1, constant)) p = P = 0, q = q1, Q = Q1;
  }
  if (constant && attempt(0, 0, 0, 0, false)) p = q = P = Q = 0;  // R keeps `constant` here

  constexpr size_t kMaxModels = 94;
  size_t startk = 0;
  while (startk < results.size() && results.size() < kMaxModels) {
    startk = results.size();
    struct Move {
      int dp, dq, dP, dQ;
    };
    static constexpr Move kMoves[] = {{0, 0, -1, 0}, {0, 0, 0, -1}, {0, 0, 1, 0},  {0, 0, 0, 1},
                                      {0, 0, -1, -1}, {0, 0, -1, 1}, {0, 0, 1, -1}, {0, 0, 1, 1},
                                      {-1, 0, 0, 0}, {0, -1, 0, 0}, {1, 0, 0, 0},  {0, 1, 0, 0},
                                      {-1, -1, 0, 0}, {-1, 1, 0, 0}, {1, -1, 0, 0}, {1, 1, 0, 0}};
    bool improved = false;
    for (const Move& mv : kMoves) {
      const int np = p + mv.dp, nq = q + mv.dq, nP = P + mv.dP, nQ = Q + mv.dQ;
      if (np < 0 || nq < 0 || nP < 0 || nQ < 0 || np > max_p || nq > max_q || nP > max_P || nQ > max_Q) continue;
      if (seen(np, nq, nP, nQ, constant)) continue;
      if (attempt(np, nq, nP, nQ, constant)) {
        p = np, q = nq, P = nP, Q = nQ;
        improved = true;
        break;
      }
    }
    if (improved) continue;
    if ((allowdrift || allowmean) && !seen(p, q, P, Q, !constant)) {
      if (attempt(p, q, P, Q, !constant)) constant = !constant;
    }
  }

  if (approximation && std::isfinite(best.ic)) {
    // Refit by exact likelihood, going down the list by the approximate criterion until one is accepted.
    std::vector<size_t> order(results.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return results[a].ic < results[b].ic; });
    bool found = false;
    for (size_t i : order) {
      const Tried& t = results[i];
      if (!std::isfinite(t.ic)) break;
      Fit f = FitOrder(y, MakeSpec(ArimaOrder{t.p, d, t.q, t.P, D, t.Q, m}, t.c, cov), ArimaEstimation::kCssMl, 0,
                       true, kInf, cov);
      if (f.ok() && std::isfinite(f.ic)) {
        best = std::move(f);
        found = true;
        break;
      }
    }
    if (!found) best.ic = kInf;
  }
  if (!std::isfinite(best.ic) || !best.ok()) return {nullptr, "no suitable ARIMA model found"};
  return {MakeModel(best, std::move(reg)), {}, std::move(note)};
}

// ---------------------------------------------------------------- the Method

namespace {

class Arima : public Method {
 public:
  std::string_view name() const override { return "arima"; }
  int MinObservations(const FitContext&) const override { return 3; }
  // With the context's covariates: a regression with ARIMA errors, as auto.arima(xreg = ).
  FitOutcome Fit(std::span<const double> y, const FitContext& ctx) const override {
    if (ctx.covariates.empty()) return FitAutoArima(y, ctx.PrimaryPeriod());
    const ArimaCovariates cov{ctx.covariates, ctx.covariate_names, ctx.horizon};
    return FitAutoArima(y, ctx.PrimaryPeriod(), {}, &cov);
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override { return ArimaModel::Load(in); }
  // Measured on tourism (bench/ARIMA.md), train time per series relative to naive (0.08 ms): about 110x on
  // yearly series, about 13000x on quarterly ones (stepwise search, up to ~30 BFGS fits) before the analytic
  // gradients and the faster filter, which made a fit about 6.7x cheaper (forecast_bench CPU time). Seasonal
  // series dominate a mixed run, hence a figure nearer the seasonal cost.
  double RelativeCost() const override { return 750.0; }
};

}  // namespace

const Method& ArimaMethod() {
  static const Arima m;
  return m;
}

}  // namespace mm
