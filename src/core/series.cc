#include "manymodels/core/series.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mm {

IndexRange ObservedRange(std::span<const double> y) {
  size_t b = 0, e = y.size();
  while (b < e && !std::isfinite(y[b])) ++b;
  while (e > b && !std::isfinite(y[e - 1])) --e;
  return {b, e};
}

int64_t LastObservedPeriod(int64_t start, std::span<const double> y) {
  const IndexRange obs = ObservedRange(y);
  return start + static_cast<int64_t>(obs.size() ? obs.end : y.size()) - 1;
}

namespace {

PeriodSeries Combine(const std::vector<PeriodSeries>& members, bool average) {
  PeriodSeries out;
  if (members.empty()) return out;
  int64_t lo = members[0].start, hi = members[0].end();
  for (const auto& m : members) lo = std::min(lo, m.start), hi = std::max(hi, m.end());
  out.start = lo;
  out.values.assign(static_cast<size_t>(hi - lo), std::numeric_limits<double>::quiet_NaN());
  std::vector<double> count(average ? out.values.size() : 0, 0.0);
  for (const auto& m : members) {
    double* dst = out.values.data() + (m.start - lo);
    for (size_t i = 0; i < m.values.size(); ++i) {
      const double v = m.values[i];
      if (std::isnan(v)) continue;
      dst[i] = std::isnan(dst[i]) ? v : dst[i] + v;
      if (average) ++count[static_cast<size_t>(m.start - lo) + i];
    }
  }
  if (average)
    for (size_t i = 0; i < out.values.size(); ++i)
      if (count[i] > 1) out.values[i] /= count[i];
  return out;
}

}  // namespace

int CountFinite(std::span<const double> y) {
  int n = 0;
  for (double v : y) n += std::isfinite(v) ? 1 : 0;
  return n;
}

PeriodSeries SumSeries(const std::vector<PeriodSeries>& members) { return Combine(members, false); }
PeriodSeries MeanSeries(const std::vector<PeriodSeries>& members) { return Combine(members, true); }

uint64_t SeriesSeed(uint64_t run_seed, std::string_view key) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  uint64_t z = h ^ (run_seed + 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace mm
