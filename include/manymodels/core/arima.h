// Seasonal ARIMA(p,d,q)(P,D,Q)m with automatic order selection as R's forecast::auto.arima (Hyndman &
// Khandakar 2008, forecast >= 8.x defaults): d by repeated KPSS tests (level, alpha 0.05), D by the STL
// seasonal strength heuristic (nsdiffs(test = "seas"), strength > 0.64), then the stepwise search over
// p, q <= 5 and P, Q <= 2 by AICc, with a constant (mean when d + D = 0, drift when d + D = 1).
//
// Estimation follows R's stats::arima: conditional sum of squares for starting values, then the exact
// Gaussian likelihood from a Kalman filter on the state-space form of Gardner et al. / Harvey (differences
// kept in the state with a diffuse prior, kappa = 1e6; missing values skip the update step), AR parts kept
// stationary by the PACF (tanh) transform, MA parts inverted to invertibility, minimised by a port of R's
// BFGS (optim's vmmin; R differences the objective centrally, here the gradients are exact: the adjoint of
// the Kalman filter and of the CSS recursion). Forecast variances come from the same state-space form, so
// intervals are the psi-weight intervals of predict.Arima.
//
// With covariates (FitContext::covariates) it is a regression with ARIMA errors, as auto.arima(xreg = ): the
// regression coefficients are estimated jointly with the ARMA ones (starting from least squares on the
// differenced series, their gradients exact like the rest), and forecasts add the regression on the
// covariates' future values (unknown ones carry the last known value forward). As fourier (FitsOnLogScale), a
// non-negative series without many zeros is then fitted on log1p(y), a covariate whose values are all
// positive (a price) entering as its logarithm (its coefficient an elasticity) and one with zeros (a
// promotion) as it is (a relative lift); forecasts and bounds come back through expm1. Without covariates the
// series is fitted as it is, as R's.
//
// Update (FittedModel::Update) runs the fit's Kalman filter on from the last filtered state and covariance
// with the coefficients fixed (missing values skip the update step, as in the fit); the differenced states
// and the drift's time index move on; sigma2 stays as fitted. A model with covariates takes their values for
// the new periods and the forecast's from UpdateContext, by name.
//
// Deliberate differences from R are listed in bench/ARIMA.md and at the functions that make them.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "manymodels/core/model.h"

namespace mm {

struct ArimaOrder {
  int p = 0, d = 0, q = 0;  // non-seasonal AR order, differences, MA order
  int P = 0, D = 0, Q = 0;  // seasonal AR order, seasonal differences, seasonal MA order
  int m = 1;                // seasonal period; P = D = Q = 0 when m = 1
};

// How the coefficients are estimated, as stats::arima's `method`.
enum class ArimaEstimation { kCss, kCssMl, kMl };

// What a fitted ARIMA model holds, for tests and reports.
struct ArimaInfo {
  ArimaOrder order;
  bool constant = false;  // a mean (d + D = 0) or a drift (d + D = 1) term
  std::vector<double> ar, ma, sar, sma;
  double constant_coef = 0;  // the mean, or the drift per period
  double sigma2 = 0;         // innovation variance (auto.arima's degrees-of-freedom adjusted value)
  double loglik = 0, aic = 0, aicc = 0;
};

struct ArimaOptions {
  int max_p = 5, max_q = 5, max_P = 2, max_Q = 2, max_d = 2, max_D = 1;
  bool stepwise_approximation = true;  // as auto.arima: CSS during the search when n > 150 or m > 12
  // Longest history used: older observations are dropped (a cost cap for 10^4-series runs; R has none).
  int max_length = 2000;
};

// Fits one given order (stats::arima with auto.arima's bookkeeping: AICc, adjusted sigma2, root checks).
// `constant` adds a mean when d + D = 0 or a drift when d + D = 1, and is ignored otherwise.
FitOutcome FitArimaOrder(std::span<const double> y, const ArimaOrder& order, bool constant,
                         ArimaEstimation estimation = ArimaEstimation::kCssMl);

// Covariates for a regression with ARIMA errors (auto.arima(xreg = )): each column aligned with y and running
// `horizon` periods past its end with the known future values (NaN: unknown, the last known value carried
// forward). Columns constant over the history are left out (they would be the mean).
struct ArimaCovariates {
  std::vector<std::span<const double>> columns;
  std::vector<std::string> names;  // as FitContext::covariate_names; may be empty (x0, x1, ...)
  int horizon = 0;
};

// The automatic method (auto.arima defaults) with options; ArimaMethod() uses the defaults and the context's
// covariates. With covariates the differences are chosen on the residuals of the series' regression on them,
// and every candidate order is fitted with their coefficients estimated jointly with the ARMA ones (as
// stats::arima with xreg); the forecast adds the regression on their future values.
FitOutcome FitAutoArima(std::span<const double> y, int period, const ArimaOptions& options = {},
                        const ArimaCovariates* covariates = nullptr);

// Details of a model made by the functions above (or loaded); null for any other model.
const ArimaInfo* GetArimaInfo(const FittedModel& model);

// Unit-root and seasonality tests as forecast::ndiffs(test = "kpss") and nsdiffs(test = "seas").
double KpssStatistic(std::span<const double> x);  // level stationarity, lag trunc(3 sqrt(n) / 13)
int KpssDiffs(std::span<const double> x, int max_d = 2);
double SeasonalStrength(std::span<const double> x, int period);  // STL, s.window = 11
int SeasonalDiffs(std::span<const double> x, int period, int max_D = 1);

const Method& ArimaMethod();

}  // namespace mm
