// "fourier": a decomposable regression for series with several cycles and covariates — a piecewise-linear
// trend (changepoints spread over the history, their slope changes shrunk by a ridge penalty), Fourier terms
// for every cycle in FitContext::season_lengths (fractional cycles such as 365.25 or 52.18 welcome), and the
// covariates of FitContext with their known future values. Non-negative series without many zeros are fitted
// on log1p(y), so cycles and covariates act multiplicatively; there a covariate whose values are all positive (a
// price) enters as its logarithm, its coefficient an elasticity, and one with zeros (a promotion indicator, a
// display share) as it is, a lift. A covariate unknown in forecast periods carries its last known value
// forward, and the fit's note says so. The problem is linear in its coefficients,
// so it is solved exactly by penalised least squares (Eigen), not iteratively.
//
// Update (FittedModel::Update): coefficients, changepoints and sigma fixed; the time index moves on by the number
// of new periods (their values do not enter a regression with fixed coefficients), and the covariates' future
// values are taken from UpdateContext (by name; unknown values carry the last known one forward). A covariate the
// model uses that the context lacks is an error.
#pragma once

#include "manymodels/core/model.h"

namespace mm {

const Method& FourierMethod();

}  // namespace mm
