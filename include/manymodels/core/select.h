// Model selection for one series: hold out the last `horizon` points (or K rolling windows of `horizon`
// points: origins n-h, n-2h, ..., n-Kh), fit every candidate before each origin, and rank them by mean
// validation MAE (ties go to the earlier candidate). Then either the best is refitted on the whole history, or,
// with an ensemble, the best k are, and their forecasts are combined (median or mean per step). Candidates
// that cannot be fitted are skipped and the reason kept in a note; a series nothing can fit is reported
// failed, never thrown. Series far from unit magnitude are fitted in scaled units (FitScaleExponent, model.h):
// the saved model, forecast and metrics are in the series' own units.
//
// `auto` chooses the candidates by the series' nature (AutoPool) and combines them by default: on the M4 and
// tourism benchmarks the median of three diverse models beats choosing one per series by its holdout error,
// whose noise on short holdouts costs more than it gains (bench/ACCURACY.md).
#pragma once

#include <string>
#include <vector>

#include "manymodels/core/ensemble.h"
#include "manymodels/core/metrics.h"
#include "manymodels/core/model.h"

namespace mm {

struct SelectOptions {
  bool automatic = false;                 // candidates from AutoPool(y), followed by `candidates`
  std::vector<const Method*> candidates;  // in order of preference
  FitContext context;                     // horizon, cycles, seed, covariates (history + horizon)
  int backtest_windows = 1;               // rolling validation windows of `horizon` points each
  // auto's default: keep the members, one or several, and the weights its validation windows support (at least
  // 3 windows where the history allows; see FitSeries). Takes precedence over `ensemble`, which serves when
  // there is nothing to validate on.
  bool weigh_evidence = false;
  bool ensemble = false;                  // combine the best `ensemble_size` instead of taking the best
  Combination combination = Combination::kMedian;
  int ensemble_size = 3;
  // Long histories are cut to their most recent `max_history` periods before anything is fitted (0: never).
  // The covariates are cut alike. n_obs counts the observations in what is kept.
  size_t max_history = 0;
};

// The default cap of SelectOptions::max_history for these cycles: three of the longest cycle, at least 1000.
size_t DefaultMaxHistory(const std::vector<double>& season_lengths);

struct SeriesResult {
  bool failed = false;
  std::string method;  // chosen method name ("" when failed)
  std::string label;   // e.g. "SNaive(7)"
  Metrics metrics = Metrics::Undefined();  // validation metrics, averaged over the windows
  int64_t n_obs = 0;           // finite observations in the history
  std::string note;            // why a candidate was skipped or a fallback taken; empty when all went well
  std::vector<uint8_t> model;  // SaveModel bytes of the refitted model
  Forecast forecast;           // horizon steps; NaN when failed
};

// The candidates of `auto` for `y` (the history the models will see) and the context:
//   mostly zeros (IsIntermittent)                          croston, sba, tsb
//   two or more cycles that fit twice in the history, or
//   covariates that vary                                   ets, fourier, snaive
//   otherwise                                              ets, dotm, snaive (naive when there is no cycle)
std::vector<const Method*> AutoPool(std::span<const double> y, const FitContext& ctx);

// `--models`: "auto" and/or a comma list of method names (auto,arima adds arima to the pool).
struct ModelChoice {
  bool automatic = false;
  std::vector<const Method*> methods;  // the named ones, in order
};
// Throws std::invalid_argument naming an unknown method.
ModelChoice ResolveModels(const std::string& spec);

// `y` is the history with no leading or trailing NaN.
SeriesResult FitSeries(std::span<const double> y, const SelectOptions& options);

}  // namespace mm
