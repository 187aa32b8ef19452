// score: production models brought up to the lake's new observations (FittedModel::Update, no refit) and
// forecasting --horizon steps. Rank 0 matches the production registry's keys (rows of status `production`)
// with the lake's series (both sorted by key: one merge walk), splits the matched keys into contiguous ranges
// by cost (new points to filter), and broadcasts the plan. Each rank reads its keys' production rows (only
// those models' bytes) and lake series a batch at a time, updates and forecasts with its threads, and sends the
// forecasts to rank 0, whose writer thread puts them into their final rows of the predictions file (the same
// file whatever the layout). The production registry is only read.
//
// A model whose Update fails (a model saved before updates existed, a value the model cannot take) forecasts
// as saved, from its own last period, and is counted and listed; one whose bytes cannot be read gets NaN
// forecasts and is counted and listed as failed. Neither stops the run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "manymodels/parallel/communicator.h"
#include "manymodels/parallel/train.h"

namespace mm {

struct ScoreOptions {
  std::string lake, production, predictions;
  std::string run_id;  // empty: VERSION@PERIOD, the newest production version scored and the lake's last period
  int horizon = 0;
  int threads = 0;
  int64_t batch = 512;
  Schedule schedule = Schedule::kStatic;
  bool progress = true;
  double progress_every = 0;
  std::string options_text, command_line;
};

struct ScoreSummary {
  std::string run_id;
  int64_t production_keys = 0;    // keys with a production row
  int64_t lake_series = 0;
  int64_t scored = 0;             // production keys found in the lake: the predictions' series
  int64_t updated = 0;            // of which brought up to the lake by Update
  int64_t new_periods = 0;        // periods the updates filtered, in all
  int64_t as_saved = 0;           // of which Update failed: forecast as saved (from the model's last period)
  int64_t failed = 0;             // of which the model could not be read: NaN forecasts
  int64_t not_in_production = 0;  // lake series without a production model
  int64_t not_in_lake = 0;        // production models whose key is not in the lake
  // The first few of each (key text, and for as_saved / failed the reason).
  std::vector<std::string> not_in_production_keys, not_in_lake_keys, as_saved_keys, failed_keys;
  std::vector<std::string> versions;  // rank 0: the model version of each predictions series, for SQL
  std::string newest_version;
  double seconds = 0;
  std::vector<RankReport> ranks;
  Schedule schedule = Schedule::kStatic;
};

// Collective. `after_write` runs on rank 0 once the predictions file is in place (the SQL table), before the
// ranks part; an exception from it ends the job (exit 1). The summary is complete on rank 0 only.
ScoreSummary Score(const ScoreOptions& options, Communicator& comm,
                   const std::function<void(const ScoreSummary&)>& after_write = {});

}  // namespace mm
