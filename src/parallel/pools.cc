#include "manymodels/parallel/pools.h"

#include <algorithm>
#include <stdexcept>

#include "manymodels/core/series.h"
#include "manymodels/parallel/driver.h"

namespace mm {

PoolFitter::PoolFitter(const LakeReader& lake, const std::vector<std::string>& pool_by,
                       const std::vector<size_t>& covariates, const PoolOptions& options, int auto_windows,
                       bool joint)
    : lake_(lake), covariates_(covariates), options_(options), auto_windows_(auto_windows), joint_(joint) {
  if (!joint_ && auto_windows_ <= 0) throw std::logic_error("PoolFitter: without a joint fit it only judges");
  const LakeIndex& ix = lake.index();
  const std::vector<std::string> names = ix.keys.Names();
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  const std::string option = joint_ ? "--pool-by" : "--judge-by";
  if (pool_by.empty()) throw std::invalid_argument(option + " names no key column");
  for (const auto& c : pool_by)
    if (std::find(names.begin(), names.end(), c) == names.end())
      throw std::invalid_argument(option + ": '" + c + "' is not a key column of the lake (keys: " + known +
                                  ")");
  pools_ = GroupSeries(ix.keys, pool_by);
  pool_of_.assign(ix.num_series(), 0);
  for (size_t p = 0; p < pools_.size(); ++p)
    for (int64_t k = pools_.member_offsets[p]; k < pools_.member_offsets[p + 1]; ++k)
      pool_of_[static_cast<size_t>(pools_.members[static_cast<size_t>(k)])] = static_cast<int64_t>(p);
  options_.covariate_names.clear();
  for (size_t c : covariates) options_.covariate_names.push_back(ix.covariates[c]);
}

void PoolFitter::Prepare(const std::vector<int64_t>& series, int threads, double* read_seconds,
                         double* fit_seconds, const SeriesValidator& validate) {
  if (auto_windows_ > 0 && !validate) throw std::logic_error("PoolFitter: --models auto needs a validator");
  std::vector<int64_t> needed;
  for (int64_t s : series) needed.push_back(pool_of_.at(static_cast<size_t>(s)));
  std::sort(needed.begin(), needed.end());
  needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
  std::map<int64_t, std::vector<PooledSeries>> kept;
  std::vector<int64_t> todo;
  for (int64_t p : needed) {
    if (auto it = fitted_.find(p); it != fitted_.end())
      kept.emplace(p, std::move(it->second));
    else
      todo.push_back(p);
  }
  fitted_ = std::move(kept);
  if (todo.empty()) return;

  // Every member of the pools to fit, in one read; member k of a pool is wanted[at[k]].
  const auto t0 = DriverClock::now();
  std::vector<int64_t> wanted;
  for (int64_t p : todo)
    wanted.insert(wanted.end(), pools_.members.begin() + pools_.member_offsets[p],
                  pools_.members.begin() + pools_.member_offsets[p + 1]);
  std::sort(wanted.begin(), wanted.end());
  const auto columns = ReadSeriesRuns(lake_, wanted, covariates_);
  *read_seconds += Since(t0);

  const auto t1 = DriverClock::now();
  const LakeIndex& ix = lake_.index();
  std::vector<std::vector<PooledSeries>> results(todo.size());
  std::vector<std::vector<FittedMember>> pooled_members(todo.size());  // --models auto
  const auto n = static_cast<int64_t>(todo.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t p = todo[static_cast<size_t>(i)];
    std::vector<PoolMember> members;
    for (int64_t k = pools_.member_offsets[p]; k < pools_.member_offsets[p + 1]; ++k) {
      const int64_t s = pools_.members[static_cast<size_t>(k)];
      const auto w = static_cast<size_t>(std::lower_bound(wanted.begin(), wanted.end(), s) - wanted.begin());
      PoolMember m;
      m.start = ix.start[static_cast<size_t>(s)];
      m.y = columns[0][w];
      for (size_t c = 0; c < covariates_.size(); ++c) m.covariates.emplace_back(columns[1 + c][w]);
      members.push_back(std::move(m));
    }
    PoolOptions o = options_;
    o.group = pools_.keys.Describe(static_cast<size_t>(p));
    auto& out = results[static_cast<size_t>(i)];
    if (auto_windows_ > 0) {
      if (joint_) pooled_members[static_cast<size_t>(i)] = PooledMembers(members, o, auto_windows_);
      out.resize(members.size());
      continue;
    }
    std::vector<SeriesResult> fits = FitPooledGroup(members, o);
    for (size_t k = 0; k < members.size(); ++k) {
      out.push_back({});
      out.back().result = std::move(fits[k]);
      out.back().last_period = LastObservedPeriod(members[k].start, members[k].y);
    }
  }
  if (auto_windows_ > 0) {
    // Every series of these pools validated with its pooled member, then each pool's judgement over them.
    std::vector<std::pair<size_t, size_t>> series_of;  // (pool, member)
    for (size_t i = 0; i < todo.size(); ++i)
      for (size_t k = 0; k < results[i].size(); ++k) series_of.emplace_back(i, k);
    const auto m = static_cast<int64_t>(series_of.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int64_t j = 0; j < m; ++j) {
      const auto [i, k] = series_of[static_cast<size_t>(j)];
      const int64_t s = pools_.members[static_cast<size_t>(pools_.member_offsets[todo[i]]) + k];
      const auto w = static_cast<size_t>(std::lower_bound(wanted.begin(), wanted.end(), s) - wanted.begin());
      const PeriodSeries target{ix.start[static_cast<size_t>(s)], columns[0][w]};
      std::vector<PeriodSeries> x;
      for (size_t c = 0; c < covariates_.size(); ++c) x.push_back({target.start, columns[1 + c][w]});
      PooledSeries& out = results[i][k];
      out.last_period = LastObservedPeriod(target.start, target.values);
      out.validation = validate(
          s, target, x, k < pooled_members[i].size() ? std::move(pooled_members[i][k]) : FittedMember{});
    }
    for (auto& pool : results) {
      std::vector<SeriesValidation> validations;
      for (PooledSeries& p : pool) validations.push_back(std::move(p.validation));
      auto evidence = std::make_shared<const GroupEvidence>(GroupJudgement(validations));
      for (size_t k = 0; k < pool.size(); ++k) {
        pool[k].validation = std::move(validations[k]);
        pool[k].evidence = evidence;
      }
    }
  }
  for (size_t i = 0; i < todo.size(); ++i) fitted_.emplace(todo[i], std::move(results[i]));
  *fit_seconds += Since(t1);
}

PooledSeries& PoolFitter::Result(int64_t series) {
  const int64_t p = pool_of_.at(static_cast<size_t>(series));
  const auto it = fitted_.find(p);
  if (it == fitted_.end()) throw std::logic_error("PoolFitter: series not prepared");
  const auto first = pools_.members.begin() + pools_.member_offsets[p];
  const auto k =
      std::lower_bound(first, pools_.members.begin() + pools_.member_offsets[p + 1], series) - first;
  return it->second.at(static_cast<size_t>(k));
}

}  // namespace mm
