// Regular time series on a grid of integer periods (see calendar.h); NaN marks a missing period.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace mm {

struct PeriodSeries {
  int64_t start = 0;           // period index of values[0]
  std::vector<double> values;  // one per period; NaN = missing
  int64_t end() const { return start + static_cast<int64_t>(values.size()); }
};

// [begin, end) of the part between the first and last finite value; begin == end when there is none.
struct IndexRange {
  size_t begin = 0, end = 0;
  size_t size() const { return end - begin; }
};
IndexRange ObservedRange(std::span<const double> y);
// The period of the last observation of a series whose y[0] is period `start` (its forecast origin); with no
// observation at all, its last period.
int64_t LastObservedPeriod(int64_t start, std::span<const double> y);

// How many values are finite (observed).
int CountFinite(std::span<const double> y);

// Sum of several series over the union of their periods. A period is the sum of the members that have a
// value there, and NaN only where every member is missing (a store's sales are the sum of the items sold).
PeriodSeries SumSeries(const std::vector<PeriodSeries>& members);
// The same alignment, averaging instead of summing (for covariates such as price over a group of items).
PeriodSeries MeanSeries(const std::vector<PeriodSeries>& members);

// A 64-bit seed for one series, mixed from the run seed and the series key text (FNV-1a then splitmix64),
// the same on every rank and thread.
uint64_t SeriesSeed(uint64_t run_seed, std::string_view key);

}  // namespace mm
