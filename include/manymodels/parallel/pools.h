// train --pool-by: the series of a group (a "pool": the items of a store) are fitted jointly (core/pooled.h),
// as their models (--models pooled) or as a member of auto's pool (--models auto: then every series of the
// pool is validated here too, and auto decides for each with the pool's judgement, GroupJudgement). A rank
// fits, on demand, the pool of every series it is given, reading all the pool's series from the lake (also
// those another rank fits: a pool split between ranks or batches is fitted whole by each, from the same data
// in the same order with one Ceres thread, so identically), and keeps the pools of its latest batch for the
// next (groups are contiguous in key order when the pool columns lead the key; otherwise a pool may be fitted
// again for a later batch, with the same result).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "manymodels/core/pooled.h"
#include "manymodels/core/series.h"
#include "manymodels/io/keys.h"
#include "manymodels/io/lake.h"

namespace mm {

struct PooledSeries {
  SeriesResult result;      // --models pooled: the series' model (FitPooledGroup)
  int64_t last_period = 0;  // the series' last observed period (its forecast origin)
  // --models auto: the series validated with the pooled member in its pool (PooledMembers), and its pool's
  // judgement over all the pool's series (GroupJudgement); for DecideSeries.
  SeriesValidation validation;
  std::shared_ptr<const GroupEvidence> evidence;
};

// --models auto: validates one series (ValidateSeries with its options) from its target and covariate columns
// as read from the lake (`series`: its lake index), with `member` (its pooled member) in auto's pool.
using SeriesValidator =
    std::function<SeriesValidation(int64_t series, const PeriodSeries& target,
                                   const std::vector<PeriodSeries>& covariates, FittedMember member)>;

class PoolFitter {
 public:
  // `pool_by`: key columns of the lake (throws std::invalid_argument naming one that is not, and the option:
  // --pool-by, or --judge-by without a joint fit); `covariates`:
  // the lake covariates the models use; `options`: everything but the group's name and the covariates' names.
  // `auto_windows`: 0 fits each pool's models (--models pooled: FitPooledGroup); above 0, the pooled member
  // of auto's pool with forecasts of that many validation windows (--models auto: PooledMembers), then
  // every series of the pool validated with it (Prepare's `validate`) and the pool's judgement over them.
  // `joint` false (--judge-by, auto_windows above 0): no joint fit, the series validated and judged alone.
  PoolFitter(const LakeReader& lake, const std::vector<std::string>& pool_by,
             const std::vector<size_t>& covariates, const PoolOptions& options, int auto_windows = 0,
             bool joint = true);
  // Fits, with up to `threads` threads, every pool holding one of `series` (lake indices) that is not kept
  // yet, then keeps only those pools. Adds the seconds spent reading the lake and fitting.
  // `validate`: needed with auto_windows above 0.
  void Prepare(const std::vector<int64_t>& series, int threads, double* read_seconds, double* fit_seconds,
               const SeriesValidator& validate = {});
  // The result of a series of the last Prepare (its validation may be moved out once).
  PooledSeries& Result(int64_t series);
  size_t pools() const { return pools_.size(); }

 private:
  const LakeReader& lake_;
  std::vector<size_t> covariates_;
  PoolOptions options_;
  int auto_windows_;
  bool joint_;
  Grouping pools_;
  std::vector<int64_t> pool_of_;                         // by series
  std::map<int64_t, std::vector<PooledSeries>> fitted_;  // by pool: its members' results, in member order
};

}  // namespace mm
