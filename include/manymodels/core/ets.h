// Exponential smoothing state space models (ETS) as R's forecast::ets() fits them (Hyndman et al. 2002,
// 2008): error A/M x trend N/A/Ad x season N/A/M, estimated by maximum likelihood, chosen by AICc, with
// 80/95% prediction intervals (analytic for additive error, simulated sample paths for multiplicative error).
//
// The method "ets" tries the model forms R's ets() tries by default (model = "ZZZ", restrict = TRUE, no
// multiplicative trend): no additive error with multiplicative season, no multiplicative error when the data
// has a value <= 0, no seasonal form when the period is 1, above 24, or the series is not longer than a
// cycle. Differences from R: missing values are skipped inside the recursion (state carried forward, step
// left out of the likelihood) instead of keeping the longest stretch without them; the optimiser is Ceres'
// Levenberg-Marquardt on an equivalent least-squares form of the likelihood instead of Nelder-Mead.
//
// Update (FittedModel::Update) runs the same recursion on from the last state with the fitted parameters (every
// error / trend / season form); a missing value is replaced by its one-step forecast, as in the fit. sigma2, the
// information criteria and the simulation seed stay as fitted. Multiplicative forms refuse a new value <= 0.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "manymodels/core/model.h"

namespace mm {

const Method& EtsMethod();

namespace ets {

enum class Kind : uint8_t { kNone = 0, kAdditive = 1, kMultiplicative = 2 };

// One model form, e.g. ETS(M,Ad,M) with period 12.
struct Spec {
  Kind error = Kind::kAdditive;
  Kind trend = Kind::kNone;  // kNone or kAdditive (R's default excludes multiplicative trend)
  Kind season = Kind::kNone;
  bool damped = false;        // only with a trend
  int m = 1;                  // seasonal period; 1 when season is kNone
  std::string Label() const;  // "ETS(M,Ad,M)"
};

// Smoothing parameters; beta, gamma unused without trend / season, phi = 1 when not damped.
struct Params {
  double alpha = 0.5, beta = 0.0, gamma = 0.0, phi = 1.0;
};

// A state vector. season[0] is the most recent seasonal index and season[m-1] the oldest, the one the next
// observation uses (R's order). Multiplicative seasonal indices average 1, additive ones 0.
struct State {
  double level = 0.0, trend = 0.0;
  std::vector<double> season;
};

// Everything a fitted model needs to forecast.
struct Fit {
  Spec spec;
  Params par;
  State last;           // state after the last observation
  double sigma2 = 0.0;  // residual variance (relative errors for multiplicative error), R's sigma2
  double lik = 0.0;     // R's "lik": n log(SSE) [+ 2 sum log|yhat|]; -2 log-likelihood up to a constant
  double aicc = 0.0;
  int n_obs = 0;      // finite observations used
  int n_params = 0;   // estimated parameters (smoothing + initial states)
  uint64_t seed = 0;  // for simulated intervals
};

// Fits one given form (no selection). The outcome's model is an "ets" FittedModel.
FitOutcome FitForm(std::span<const double> y, const Spec& spec, const FitContext& ctx);

// The fitted details of a model the "ets" method produced; null for any other model.
const Fit* FitOf(const FittedModel& model);

// n values simulated from a form starting at `initial`, with N(0, sigma^2) errors (relative errors for
// multiplicative error). Deterministic in `seed`. For tests and recovery checks.
std::vector<double> Simulate(const Spec& spec, const Params& par, const State& initial, int n, double sigma,
                             uint64_t seed);

// Point forecasts of a form from a state, h steps ahead.
std::vector<double> PointForecast(const Spec& spec, const Params& par, const State& state, int h);

// R's "lik" of a form with given parameters and initial state on y: n log(SSE) [+ 2 sum log|yhat|], over the
// finite values of y. Lower is better; the fit minimises it.
double Lik(std::span<const double> y, const Spec& spec, const Params& par, const State& initial);

// R's admissible(): the parameters give a forecastable model (roots of the characteristic polynomial of a
// seasonal form inside the unit circle).
bool Admissible(const Spec& spec, const Params& par);

}  // namespace ets
}  // namespace mm
