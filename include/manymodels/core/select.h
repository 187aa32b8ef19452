// Model selection for one series: hold out the last `horizon` points (or K rolling windows of `horizon`
// points: origins n-h, n-2h, ..., n-Kh), fit every candidate before each origin, and choose the one with the
// lowest mean validation MAE (ties go to the earlier candidate); optionally the mean or median of the best k
// competes too. The choice is then refitted on the whole history and forecasts. Candidates that cannot be
// fitted are skipped and the reason kept in a note; a series nothing can fit is reported failed, never thrown.
#pragma once

#include <string>
#include <vector>

#include "manymodels/core/ensemble.h"
#include "manymodels/core/metrics.h"
#include "manymodels/core/model.h"

namespace mm {

struct SelectOptions {
  std::vector<const Method*> candidates;  // in order of preference
  FitContext context;                     // horizon, cycles, seed, covariates (history + horizon)
  int backtest_windows = 1;               // rolling validation windows of `horizon` points each
  bool ensemble = false;                  // let a combination of the best `ensemble_size` compete
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

// The candidates `--models auto` tries on a series with these cycles (before CandidatesFor narrows them).
std::vector<const Method*> AutoCandidates(const FitContext& ctx);

// The candidates FitSeries tries on `y`. When they include both an intermittent-demand method (croston, sba,
// tsb) and a Theta method (theta, otm, dotm), as `auto` does, a mostly-zero series (IsIntermittent) keeps only
// the former and any other series only the latter; the rest of the list is kept as it is.
std::vector<const Method*> CandidatesFor(std::span<const double> y, const std::vector<const Method*>& candidates);

// Resolves "auto" or a comma list of method names. Throws std::invalid_argument naming an unknown method.
std::vector<const Method*> ResolveModels(const std::string& spec, const FitContext& ctx);

// `y` is the history with no leading or trailing NaN.
SeriesResult FitSeries(std::span<const double> y, const SelectOptions& options);

}  // namespace mm
