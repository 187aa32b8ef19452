// "fourier": a decomposable regression for series with several cycles and covariates — a piecewise-linear
// trend (changepoints spread over the history, their slope changes shrunk by a ridge penalty), Fourier terms
// for every cycle in FitContext::season_lengths that fits twice in the history (in validation's fits: twice
// in the whole history, FitContext::form_history; fractional cycles such as 365.25 or 52.18 welcome), and the
// covariates of FitContext with their known future values. Non-negative series without many zeros are fitted
// on log1p(y), so cycles and covariates act multiplicatively; there a covariate whose values are all positive
// (a price) enters as its logarithm, its coefficient an elasticity, and one with zeros (a promotion
// indicator, a display share) as it is, a lift. A covariate unknown in forecast periods carries its last
// known value forward, and the fit's note says so. The problem is linear in its coefficients: penalised least
// squares (Eigen), then reweighted to Huber's M-estimate, so that gross outliers (an ATM out of cash, a store
// shut, a mistyped value) do not pull the cycles and the level (kHuber in fourier.cc); its residual spread,
// and so its intervals, still count them. Its errors are then taken as ARIMA(1,1,1) (a local level plus a
// decaying transient, fitted to the residuals as they are, so that it follows a real shift; ErrorsAtEnd in
// fourier.cc): a level shift late in the history that the shrunk changepoints do not follow moves the
// forecasts' level, and a spell of errors at the end moves the first forecasts.
//
// Update (FittedModel::Update): coefficients, changepoints and sigma fixed; the time index moves on by the
// number of new periods (their values do not enter a regression with fixed coefficients; the errors'
// transient decays over them), and the covariates' future values are taken from UpdateContext (by name;
// unknown values carry the last known one forward). A covariate the model uses that the context lacks is an
// error.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "manymodels/core/model.h"

namespace mm {

const Method& FourierMethod();
// "fourier-notrend": the same regression without the slope and changepoints (the level, cycles and
// covariates; the errors' local level still follows a shift). On short histories with covariates (a
// retailer's year of weeks) a fitted trend is the part most likely not to go on; `auto` weighs the two on the
// validation windows where there are covariates (select.h, AutoPool).
const Method& FourierNoTrendMethod();

// Shared with the pooled model (pooled.h), a regression on time, cycles and covariates too.
// Harmonics used for a cycle of length m (m/2 at most; 6 for cycles up to 12, else 10).
int FourierTerms(double m);
// Whether a regression on covariates fits y on the log1p scale (fourier, and arima with covariates): no
// negative value and fewer than a tenth zeros among the finite ones, so that cycles and covariates act
// multiplicatively. There a covariate whose values are all positive enters as its logarithm (an elasticity),
// see EntersAsLog.
bool FitsOnLogScale(std::span<const double> y);
// Whether covariate values x (history and forecast periods, gaps filled) enter a log1p-scale regression as
// their logarithm: all positive (a price), not an indicator or share with zeros (a lift).
bool EntersAsLog(std::span<const double> x);
// What a fit's note says when covariate `name` (values x, aligned with the history of n periods) has no value
// in some of the `horizon` periods after it: "METHOD: NAME unknown in K of the H forecast periods: its last
// known value carried forward"; empty when all are known.
std::string UnknownFutureNote(std::span<const double> x, size_t n, size_t horizon, std::string_view method,
                              const std::string& name);
// Covariate j's name in `ctx`, or "x<j>" when it has none.
std::string CovariateName(const FitContext& ctx, size_t j);
// x cut or extended to `length` values, gaps (NaN, and the part past x's end) carrying the last known value
// forward, and the first known value back over the start; all NaN when x knows no value.
std::vector<double> FilledCovariate(std::span<const double> x, size_t length);
// FittedModel::Update's covariates for a model using the covariates `names` (found in ctx by name, or by position
// "x<j>" when ctx has no names) that held `held[j]` after its old end: per covariate, the ctx.horizon values after
// the k new periods, unknown ones carrying the last known value forward (the first value held when none is
// known); where positive[j] is set (a covariate entered as its logarithm), a value that is not positive counts
// as unknown. Returns the error naming a covariate that ctx lacks, else empty.
std::string CovariatesAfterUpdate(const UpdateContext& ctx, const std::vector<std::string>& names,
                                  const std::vector<std::vector<double>>& held, const std::vector<uint8_t>& positive,
                                  size_t k, std::string_view method, std::vector<std::vector<double>>* future);

}  // namespace mm
