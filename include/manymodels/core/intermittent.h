// Intermittent-demand methods for mostly-zero, non-negative series.
//
// "croston": Croston (1972) as R's forecast::croston(): the non-zero demands and the intervals between them
//   (the first interval counted from the start of the series) are each smoothed by simple exponential
//   smoothing started at their first value; the forecast is size / interval, flat over the horizon.
// "sba": the Syntetos-Boylan approximation, Croston's forecast times (1 - alpha / 2).
// "tsb": Teunter-Syntetos-Babai (2011): the demand probability is smoothed every period (beta) and the size
// at
//   each demand (alpha); started at the first demand with size = that demand and probability = 1 / its
//   interval; the forecast is probability * size.
//
// Smoothing constants: R uses a fixed alpha = 0.1. Here each method picks its constants from the grid
// {0.05, 0.1, ..., 0.3} (alpha, and beta for tsb) by the in-sample MSE of its one-step forecasts, ties to the
// smaller constant; with fewer than 3 scored periods it keeps 0.1. FitIntermittent() takes fixed constants.
//
// Intervals: the point forecast plus empirical quantiles (type 7) of the in-sample one-step errors, clipped
// at zero and made to contain the mean; the same for every step ahead (they do not widen with the horizon).
//
// A missing period (NaN) is dropped: it is neither a demand nor a zero, and the interval clock skips it.
// Negative values are an error. A series with no demand at all gets a zero forecast with zero-width intervals
// (Label "...(no demand)").
//
// Update (FittedModel::Update): the same smoothing run on over the new observations with the fitted constants (the
// interval clock continues from the last demand; a missing period is dropped); the bounds move with the mean by the
// fitted error quantiles. Refused (an error, refit): a first demand for a model fitted with none, and new
// observations for a model saved before updates existed (it lacks the interval clock and the error quantiles).
#pragma once

#include <span>

#include "manymodels/core/model.h"

namespace mm {

const Method& CrostonMethod();
const Method& SbaMethod();
const Method& TsbMethod();

enum class IntermittentKind { kCroston, kSba, kTsb };

struct IntermittentParams {
  double alpha = 0.1;  // demand size (and, for croston / sba, interval) smoothing, in (0, 1]
  double beta = 0.1;   // tsb demand-probability smoothing, in (0, 1]
};

// Fits with the given constants (no search).
FitOutcome FitIntermittent(IntermittentKind kind, std::span<const double> y,
                           const IntermittentParams& params);

// Share of zeros among the observations (NaN skipped); 0 when there are none.
double ZeroShare(std::span<const double> y);

// What `--models auto` treats as intermittent demand: more than 30% zeros among the observations.
inline bool IsIntermittent(std::span<const double> y) { return ZeroShare(y) > 0.3; }

}  // namespace mm
