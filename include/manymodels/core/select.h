// Model selection for one series: hold out the last `horizon` points (or K rolling windows of `horizon`
// points: origins n-h, n-2h, ..., n-Kh), forecast each window with every candidate from the data before its
// origin, and rank them by mean validation MAE (ties go to the earlier candidate). A candidate is fitted for
// the oldest window and brought up to the later ones by FittedModel::Update while at most a fifth of its
// data is new since its fit, else fitted again (select.cc, kMaxRollShare; Method::ValidatedByUpdate). Then
// either the best is refitted on the whole history, or, with an ensemble, the best k are, and their forecasts
// are combined (median or mean per step). Candidates that cannot be fitted are skipped and the reason kept in
// a note; a series nothing can fit is reported failed, never thrown. Series far from unit magnitude are
// fitted in scaled units (FitScaleExponent, model.h): the saved model, forecast and metrics are in the
// series' own units.
//
// `auto` chooses the candidates by the series' nature (AutoPool) and, with `weigh_evidence`, decides per
// series from at least 4 validation windows: members whose mean validation MAE is above 1.5x the best's are
// dropped, the others weighted by (best / own)^6 (a weighted mean; one member left is used alone), and the
// note says what was decided and from which errors. The median of three beat picking one by one holdout's
// error (noisy, and the pick's own error is biased low), but threw away a far better member where there was
// one; the rule and its two constants were measured on five data sets (bench/ACCURACY.md). Validation scores
// point forecasts (FittedModel::PredictMean). With `weigh_evidence`, the intervals of what was decided are
// calibrated on the windows' errors of that rule (weights from the other windows; calibrate.h), and the note
// gives the factors. A history never below zero is forecast non-negative (NonNegativeModel, model.h), its
// validation forecasts clipped alike. Members fitted elsewhere (SelectOptions::fitted_members: train
// --pool-by's joint fit of the series' group) join auto's pool with their forecasts of the same windows and
// are weighed by the same rule; one chosen is used as it was fitted (it is not refitted here). With a group's
// judgement (DecideSeries, GroupJudgement: train --pool-by or --judge-by), each member's error relative to
// the series' best is weighed as the geometric mean of its own and the group's.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "manymodels/core/ensemble.h"
#include "manymodels/core/metrics.h"
#include "manymodels/core/model.h"

namespace mm {

// A member of auto's pool fitted outside FitSeries (train --pool-by: the group's joint fit, core/pooled.h):
// its point forecasts of the validation windows and its model of the whole history, both in the series' own
// units. It is validated on the same windows as the others and weighed by the same rule; it must forecast
// every window the others are scored on (windows[k] for k below their count), else it is left out with a
// note.
struct FittedMember {
  const Method* method = nullptr;            // what it is (its name in notes; never fitted by FitSeries)
  std::vector<std::vector<double>> windows;  // [k]: the forecast of y[n - (k+1) h, n - k h), the latest first
  std::vector<uint8_t> model;                // SaveModel bytes, fitted on the whole history
};

struct SelectOptions {
  bool automatic = false;                 // candidates from AutoPool(y), followed by `candidates`
  std::vector<const Method*> candidates;  // in order of preference
  FitContext context;                     // horizon, cycles, seed, covariates (history + horizon)
  int backtest_windows = 1;               // rolling validation windows of `horizon` points each
  // auto's default: keep the members, one or several, and the weights its validation windows support (at
  // least 4 windows where the history allows; see FitSeries). Takes precedence over `ensemble`, which serves
  // only when no validated member has a finite error; with nothing validated the first candidate that fits is
  // taken.
  bool weigh_evidence = false;
  bool ensemble = false;                  // combine the best `ensemble_size` instead of taking the best
  Combination combination = Combination::kMedian;
  int ensemble_size = 3;
  // Long histories are cut to their most recent `max_history` periods before anything is fitted (0: never).
  // The covariates are cut alike. n_obs counts the observations in what is kept.
  size_t max_history = 0;
  // With `automatic` and `weigh_evidence`: members fitted elsewhere, added to the pool after AutoPool's.
  std::vector<FittedMember> fitted_members;
};

// How many validation windows FitSeries asks for with these options (it may get fewer: a short history).
int ValidationWindows(const SelectOptions& options);
// FitSeries' rule for its validation windows: a model fitted on `fitted` periods is brought forward to a
// window `since` periods after them (true), or fitted again for it (false).
bool RollsForward(double fitted, double since);

// The default cap of SelectOptions::max_history for these cycles: three of the longest cycle, at least 1000.
size_t DefaultMaxHistory(const std::vector<double>& season_lengths);

struct SeriesResult {
  bool failed = false;
  std::string method;  // chosen method name ("" when failed)
  std::string label;   // e.g. "SNaive(7)"
  Metrics metrics = Metrics::Undefined();  // validation metrics, averaged over the windows
  int64_t n_obs = 0;           // finite observations in the history
  // auto's decision and the validation errors behind it (weigh_evidence); why a candidate was skipped or a
  // fallback taken. Otherwise empty when all went well.
  std::string note;
  std::vector<uint8_t> model;  // SaveModel bytes of the refitted model
  Forecast forecast;           // horizon steps; NaN when failed
};

// The candidates of `auto` for `y` (the history the models will see) and the context:
//   mostly zeros (IsIntermittent)                          croston, sba, tsb
//   covariates that vary                                   ets, fourier, fourier-notrend, snaive
//   two or more cycles, one at least fitting twice         ets, fourier, snaive
//   otherwise                                              ets, dotm, snaive (naive when there is no cycle)
std::vector<const Method*> AutoPool(std::span<const double> y, const FitContext& ctx);

// `--models`: "auto" and/or a comma list of method names (auto,arima adds arima to the pool).
struct ModelChoice {
  bool automatic = false;
  std::vector<const Method*> methods;  // the named ones, in order
};
// Throws std::invalid_argument naming an unknown method.
ModelChoice ResolveModels(const std::string& spec);

// `y` is the history with no leading or trailing NaN. The same as DecideSeries(ValidateSeries(y, options)).
SeriesResult FitSeries(std::span<const double> y, const SelectOptions& options);

// FitSeries in two steps, so that a group's validations can be pooled (GroupJudgement) before each of its
// series decides: the validation (the windows, every candidate's forecasts of them; everything it needs is
// copied in, so `y` and the options' covariates may go), then the decision and the refit.
struct ValidationState;
struct SeriesValidation {
  SeriesValidation();
  SeriesValidation(SeriesValidation&&) noexcept;
  SeriesValidation& operator=(SeriesValidation&&) noexcept;
  ~SeriesValidation();
  std::unique_ptr<ValidationState> state;
  // Each validated candidate's mean validation MAE (in the units fitted; infinite: not validated), best
  // first.
  std::vector<std::pair<const Method*, double>> scores;
};
SeriesValidation ValidateSeries(std::span<const double> y, const SelectOptions& options);

// auto's judgement pooled over a group of series (train --models auto --pool-by or --judge-by): for each
// member of the pool, the geometric mean over the group's series of its mean validation error divided by the
// best member's on the same series. One window of one series is noisy evidence, and a series' own best is flattered by
// having been chosen on it; the group's series, sharing a pattern, tell which members serve that pattern.
struct GroupEvidence {
  std::vector<std::pair<const Method*, double>> relative;  // the least first
  int series = 0;                                          // the series that gave evidence
};
// Over the validations of a group's series (those with a finite, positive best error).
GroupEvidence GroupJudgement(std::span<const SeriesValidation> validations);

// Consumes `validation`. With `group` (auto only), each member's relative error on this series enters the
// weight rule as the geometric mean of its own and the group's (half the series' evidence, half the group's);
// the note gives the group's figures.
SeriesResult DecideSeries(SeriesValidation validation, const GroupEvidence* group);

}  // namespace mm
