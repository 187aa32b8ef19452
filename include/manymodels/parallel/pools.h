// train --pool-by: the series of a group (a "pool": the items of a store) are fitted jointly (core/pooled.h),
// as their models (--models pooled) or as a member of auto's pool (--models auto). A rank fits, on demand,
// the pool of every series it is given, reading all the pool's series from the lake (also those another rank
// fits: a pool split between ranks or batches is fitted whole by each, from the same data in the same order
// with one Ceres thread, so identically), and keeps the pools of its latest batch for the next (groups are
// contiguous in key order when the pool columns lead the key; otherwise a pool may be fitted again for a
// later batch, with the same result).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "manymodels/core/pooled.h"
#include "manymodels/io/keys.h"
#include "manymodels/io/lake.h"

namespace mm {

struct PooledSeries {
  SeriesResult result;      // --models pooled: the series' model (FitPooledGroup)
  int64_t last_period = 0;  // the series' last observed period (its forecast origin)
  FittedMember member;      // --models auto: the pooled member of its pool (PooledMembers; empty: none)
};

class PoolFitter {
 public:
  // `pool_by`: key columns of the lake (throws std::invalid_argument naming one that is not); `covariates`:
  // the lake covariates the models use; `options`: everything but the group's name and the covariates' names.
  // `auto_windows`: 0 fits each pool's models (--models pooled: FitPooledGroup); above 0, the pooled member
  // of auto's pool with forecasts of that many validation windows (--models auto: PooledMembers).
  PoolFitter(const LakeReader& lake, const std::vector<std::string>& pool_by,
             const std::vector<size_t>& covariates, const PoolOptions& options, int auto_windows = 0);
  // Fits, with up to `threads` threads, every pool holding one of `series` (lake indices) that is not kept
  // yet, then keeps only those pools. Adds the seconds spent reading the lake and fitting.
  void Prepare(const std::vector<int64_t>& series, int threads, double* read_seconds, double* fit_seconds);
  // The result of a series of the last Prepare.
  const PooledSeries& Result(int64_t series) const;
  size_t pools() const { return pools_.size(); }

 private:
  const LakeReader& lake_;
  std::vector<size_t> covariates_;
  PoolOptions options_;
  int auto_windows_;
  Grouping pools_;
  std::vector<int64_t> pool_of_;                         // by series
  std::map<int64_t, std::vector<PooledSeries>> fitted_;  // by pool: its members' results, in member order
};

}  // namespace mm
