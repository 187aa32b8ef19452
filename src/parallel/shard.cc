#include "manymodels/parallel/shard.h"

#include <algorithm>
#include <stdexcept>

namespace mm {

std::vector<ShardRange> PlanShards(const std::vector<double>& costs, int parts) {
  if (parts < 1) throw std::invalid_argument("PlanShards: parts must be at least 1");
  double total = 0;
  for (double c : costs) {
    if (!(c >= 0)) throw std::invalid_argument("PlanShards: negative or NaN cost");
    total += c;
  }
  std::vector<ShardRange> plan(static_cast<size_t>(parts));
  size_t i = 0;
  double prefix = 0;
  for (int r = 0; r < parts; ++r) {
    plan[r].begin = i;
    if (r == parts - 1) {
      i = costs.size();
    } else {
      const double target = total * (r + 1) / parts;
      // Take items while the prefix stays closer to the target with the item than without it.
      while (i < costs.size() && prefix + costs[i] / 2 <= target) prefix += costs[i++];
    }
    plan[r].end = i;
  }
  return plan;
}

std::vector<ShardRange> Intersect(const std::vector<ShardRange>& ranges, ShardRange within) {
  std::vector<ShardRange> out;
  for (const ShardRange& r : ranges) {
    const ShardRange cut{std::max(r.begin, within.begin), std::min(r.end, within.end)};
    if (cut.begin < cut.end) out.push_back(cut);
  }
  return out;
}

std::vector<ShardRange> NotDone(const std::vector<bool>& done) {
  std::vector<ShardRange> out;
  for (size_t i = 0; i < done.size();) {
    if (done[i]) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < done.size() && !done[j]) ++j;
    out.push_back({i, j});
    i = j;
  }
  return out;
}

RangeQueue::RangeQueue(std::vector<ShardRange> ranges) {
  for (const ShardRange& r : ranges) {
    if (r.begin >= r.end) continue;
    if (!ranges_.empty() && r.begin < ranges_.back().end)
      throw std::invalid_argument("RangeQueue: ranges not sorted and disjoint");
    ranges_.push_back(r);
    left_ += r.size();
  }
}

bool RangeQueue::Take(size_t most, ShardRange* piece) {
  if (next_ == ranges_.size()) return false;
  ShardRange& front = ranges_[next_];
  const size_t n = std::min(std::max<size_t>(most, 1), front.size());
  *piece = {front.begin, front.begin + n};
  front.begin += n;
  left_ -= n;
  if (front.begin == front.end) ++next_;
  return true;
}

}  // namespace mm
