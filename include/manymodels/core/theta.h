// The Theta family for non-intermittent series.
//
// "theta" is the standard Theta method of Assimakopoulos & Nikolopoulos (2000) as R's forecast::thetaf()
// (forecast 8.20) computes it: a 90% autocorrelation test at lag m, classical multiplicative decomposition
// when it fires, simple exponential smoothing of the adjusted series (alpha and the initial level by least
// squares, as ets(model = "ANN", opt.crit = "mse")), plus half the slope of the linear trend, reseasonalised;
// the intervals are thetaf's SES intervals, sigma * sqrt(1 + i * alpha^2) around the reseasonalised mean.
//
// "otm" and "dotm" are the optimised and the dynamic optimised Theta models of Fiorucci, Pellegrini, Louzada,
// Petropoulos & Koehler (IJF 2016): the theta coefficient (>= 1), alpha and the initial level chosen by
// in-sample MSE, with the regression coefficients fixed (otm) or updated recursively each period (dotm). They
// use the same seasonality test and decomposition as "theta" and the same form of interval.
//
// All three interpolate missing values linearly before fitting.
//
// Update (FittedModel::Update): new values are deseasonalised by the saved indices and smoothed into the SES level
// with the fitted alpha; the forecast origin moves on by the closed form's recursion. theta and otm keep their
// drift (theta line) as fitted; dotm runs its regression on, so its drift moves (a dotm saved before updates
// existed lacks that state and refuses to update). A missing new value is replaced by its one-step forecast.
// alpha, theta, sigma and the seasonal indices stay as fitted.
#pragma once

#include <span>
#include <vector>

#include "manymodels/core/model.h"

namespace mm {

const Method& ThetaMethod();
const Method& OptimizedThetaMethod();
const Method& DynamicOptimizedThetaMethod();

// thetaf's seasonality test: with r_k the sample autocorrelations, the series is seasonal at lag m when m >
// 1, n > 2m, the series is not constant and |r_m| > 1.645 * sqrt((1 + 2 * sum_{k<m} r_k^2) / n). `x` must be
// free of NaN.
bool ThetaSeasonalityTest(std::span<const double> x, int m);

// The seasonal figure of R's decompose(type = "multiplicative"): m indices averaging 1, index i for the
// positions t = i, i + m, ... of `x` (0-based). `x` must be free of NaN and longer than 2m; the result may
// hold non-finite values when the centred moving average reaches zero.
std::vector<double> MultiplicativeSeasonalFigure(std::span<const double> x, int m);

}  // namespace mm
