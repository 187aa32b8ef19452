// A saved model brought up to a series' newest observations without refitting: what `score` does for every key
// and `serve` for each key it loads. One place for the decision of which periods are new, which covariates the
// update and the forecast see, and what happens when the model cannot be read or updated.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "manymodels/core/model.h"

namespace mm {

struct CurrentModel {
  enum Outcome : uint8_t { kUpdated = 0, kAsSaved = 1, kFailed = 2 };
  // Updated through the new observations, or as saved when the update failed; null when the bytes cannot be
  // read (kFailed).
  std::unique_ptr<FittedModel> model;
  int64_t last_period = 0;  // the forecast origin: the last period the model has seen
  int64_t new_periods = 0;  // observations the update filtered (kUpdated)
  Outcome outcome = kUpdated;
  std::string note;         // why the update or the load failed
  // `horizon` steps from the origin: the model's forecast, or NaN everywhere when there is no model. At most the
  // horizon given to UpToDate (the covariates the model knows run that far).
  Forecast Predict(int horizon) const;
};

// The model saved as `params`, which has seen the series up to `model_last_period`, brought up to the series
// `columns` (target first, then the covariates in the order of `covariate_names`; all of equal length, starting
// at period `start`; target NaN past the last observation, where rows hold known future covariates only), so
// that it can forecast up to `horizon` steps past the series' last observation. Never throws for bad bytes or
// data: the outcome says what happened.
CurrentModel UpToDate(const std::vector<uint8_t>& params, int64_t model_last_period, int64_t start,
                      const std::vector<std::span<const double>>& columns,
                      const std::vector<std::string>& covariate_names, int horizon);

}  // namespace mm
